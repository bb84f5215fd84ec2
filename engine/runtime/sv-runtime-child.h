/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sv-runtime-spec.h"

G_BEGIN_DECLS

/* One hierarchy for a "cgroup" mount inside the container, prepared before clone. */
typedef struct
{
  const char *name;        /* folder below the mount destination, "memory" or "unified" */
  const char *fstype;      /* "cgroup" or "cgroup2" */
  const char *options;     /* mount data, "memory" or "none,name=systemd" */
  const char *host_folder; /* the container's own cgroup folder on the host */
} SvCgroupMount;

/* A namespace to join with setns(2), opened before clone. */
typedef struct
{
  int fd;
  int type;
} SvNamespaceFd;

/* Messages from the container process to servin-runtime on the sync socket. */
enum
{
  SV_CHILD_READY = 1, /* set up and about to wait for start, or to exec */
  SV_CHILD_ERROR = 2,
};

typedef struct
{
  int32_t kind;
  int32_t errnum; /* errno of the failed call, or 0 */
  char text[1024];
} SvChildMessage;

/* Everything the container process needs, prepared by servin-runtime before clone so that
 * the process itself only makes async-signal-safe calls. */
typedef struct
{
  const SvRuntimeSpec *spec;
  int sync_fd;             /* SOCK_SEQPACKET socket to servin-runtime */
  int state_dir_fd;        /* state folder with exec.fifo, or -1 to exec without waiting */
  int log_fd;              /* --log file for errors after start, or -1 */
  gboolean log_json;       /* --log-format json */
  int preserve_fds;        /* extra descriptors after stderr that the process keeps */
  int console_fd;          /* connected --console-socket that receives the terminal, or -1 */
  gboolean wait_for_hooks; /* wait for a byte on sync_fd while servin-runtime runs hooks */
  int exec_pidfd; /* for exec: pidfd of the container's init, whose namespaces to join, or -1 */
  int exec_namespaces; /* for exec: CLONE_NEW* types to join through exec_pidfd */
  SvNamespaceFd *namespaces;
  size_t n_namespaces;
  char **cgroup_join_files; /* v1 "tasks" files, and cgroup.procs of cgroup2 unless clone3 placed
                               the process there */
  SvCgroupMount *cgroup_mounts;
  size_t n_cgroup_mounts;
  char **sysctl_paths;  /* /proc/sys/... for each key in spec->sysctl_keys */
  const char *path_env; /* PATH of the container environment, to find args[0] */
  const char
      *rootfs_mount; /* mount containing the rootfs, made private when it must not be shared */
  const void *seccomp_program; /* struct sock_filter array, or NULL */
  size_t seccomp_length;       /* bytes */
  unsigned int seccomp_flags;
  int last_cap;
} SvChildContext;

G_NORETURN void sv_child_run (const SvChildContext *ctx);

G_END_DECLS
