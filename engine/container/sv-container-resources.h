/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/resource.h>

G_BEGIN_DECLS

/* RLIMIT_NOFILE a container gets (soft and hard) unless its Ulimits set it or the host's hard
 * limit is lower. */
#define SV_CONTAINER_DEFAULT_NOFILE 1048576

/* CPU period in microseconds that NanoCpus is converted with, as docker does. */
#define SV_CONTAINER_CPU_PERIOD 100000

/* Smallest memory limit accepted, as in dockerd (6 MiB). */
#define SV_CONTAINER_MIN_MEMORY (6 * 1024 * 1024)

/* Which resource limits the host's cgroups can enforce. */
typedef struct
{
  gboolean memory;      /* a memory controller, v1 or cgroup2 */
  gboolean memory_swap; /* memory.memsw.limit_in_bytes (v1, swap accounting) or memory.swap.max */
  gboolean pids;
  gboolean cpu_shares; /* cpu.shares (v1) or cpu.weight (cgroup2) */
  gboolean cpu_quota;  /* cpu.cfs_quota_us (v1) or cpu.max (cgroup2) */
} SvCgroupSupport;

void sv_container_resources_detect_support (SvCgroupSupport *support);
JsonObject *sv_container_resources_from_options (GVariant *options, GError **error);
gboolean sv_container_resources_build (JsonObject *host_config, const SvCgroupSupport *support,
                                       const char *id, JsonObject *resources, GError **error);
JsonArray *sv_container_resources_build_rlimits (JsonObject *host_config,
                                                 const struct rlimit *host_limits, const char *id);
const char *sv_container_rlimit_to_name (int resource);

G_END_DECLS
