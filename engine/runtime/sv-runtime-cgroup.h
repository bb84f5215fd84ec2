/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "sv-runtime-spec.h"

G_BEGIN_DECLS

/* One mounted cgroup hierarchy: a v1 hierarchy with its controllers, or the cgroup2 mount. */
typedef struct
{
  char *mount_point; /* /sys/fs/cgroup/memory */
  char *mount_root;  /* the cgroup mounted there, "/" unless the host itself is a container */
  char *options;     /* v1 controllers, "cpu,cpuacct" or "name=systemd"; NULL for cgroup2 */
  char *own_path;    /* this process's cgroup in the hierarchy, from /proc/self/cgroup */
  gboolean unified;
} SvCgroupHierarchy;

GPtrArray *sv_cgroup_detect_layout (GError **error);
char *sv_mountinfo_unescape (const char *field);

GPtrArray *sv_cgroup_create (GPtrArray *layout, const char *cgroups_path,
                             const SvResources *resources, GPtrArray *devices, GError **error);
gboolean sv_cgroup_remove (const char *const *paths, GError **error);
GArray *sv_cgroup_list_pids (const char *const *paths);
gboolean sv_cgroup_is_frozen (const char *const *paths);
gboolean sv_cgroup_freeze (const char *const *paths, gboolean freeze, GError **error);
gboolean sv_cgroup_update (const char *const *paths, const SvResources *resources, GError **error);

G_END_DECLS
