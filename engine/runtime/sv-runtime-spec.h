/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/resource.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* One entry of config.json "mounts", with its options already turned into mount(2) flags. */
typedef struct
{
  char *source;
  char *destination; /* absolute path inside the container */
  char *type;
  char *data;                  /* options that are not flags, joined with commas */
  unsigned long flags;         /* flags for the first mount(2) call */
  unsigned long remount_flags; /* flags for the MS_REMOUNT|MS_BIND call of a bind mount */
  unsigned long propagation;   /* MS_PRIVATE, MS_SLAVE, ... with MS_REC, or 0 */
  gboolean bind;
  gboolean source_is_dir; /* for bind mounts: create a directory, not a file, as mount point */
} SvMount;

/* One entry of linux.devices, or one of the default device nodes. */
typedef struct
{
  char *path;  /* absolute path inside the container */
  mode_t mode; /* file type bits and permissions for mknod(2) */
  dev_t rdev;
  uid_t uid;
  gid_t gid;
} SvDevice;

typedef struct
{
  int resource; /* RLIMIT_* */
  struct rlimit limit;
} SvRlimit;

/* A namespace to join by path; namespaces created anew are only bits in clone_flags. */
typedef struct
{
  int type; /* CLONE_NEW* */
  char *path;
} SvNamespacePath;

/* Access bits of a device rule, with the values of the kernel's BPF_DEVCG_ACC_* bits. */
enum
{
  SV_DEVICE_MKNOD = 1,
  SV_DEVICE_READ = 2,
  SV_DEVICE_WRITE = 4,
  SV_DEVICE_ALL = 7,
};

/* One device access rule of linux.resources.devices. */
typedef struct
{
  gboolean allow;
  char type;    /* 'a' (all), 'c' or 'b' */
  gint64 major; /* -1 for any */
  gint64 minor; /* -1 for any */
  guint access; /* SV_DEVICE_* bits */
} SvDeviceRule;

/* linux.resources values that servin-runtime applies. has_* marks the values that are set. */
typedef struct
{
  GArray *device_rules; /* SvDeviceRule */
  gboolean has_memory_limit, has_memory_swap, has_pids_limit;
  gboolean has_cpu_shares, has_cpu_quota, has_cpu_period, has_memory_reservation;
  gint64 memory_reservation;
  char *cpuset_cpus; /* linux.resources.cpu.cpus, "0-3", or NULL */
  char *cpuset_mems;
  gint64 memory_limit;
  gint64 memory_swap;
  gint64 pids_limit;
  guint64 cpu_shares;
  gint64 cpu_quota;
  guint64 cpu_period;
} SvResources;

/* The parts of an OCI runtime config.json that servin-runtime implements. */
typedef struct
{
  char *bundle; /* absolute */
  char *config_path;
  char *oci_version;
  char *rootfs; /* absolute */
  gboolean root_readonly;

  gboolean terminal;
  guint16 console_height, console_width; /* process.consoleSize, 0 when not set */
  char **args;
  char **env;
  char *cwd;
  uid_t uid;
  gid_t gid;
  GArray *additional_gids; /* gid_t */
  gboolean has_umask;
  mode_t umask;
  gboolean has_capabilities;
  guint64 cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
  gboolean no_new_privileges;
  GArray *rlimits; /* SvRlimit */
  gboolean has_oom_score_adj;
  int oom_score_adj;

  char *hostname;
  char *domainname;
  GPtrArray *mounts;  /* SvMount */
  GPtrArray *devices; /* SvDevice from linux.devices */

  int clone_flags;         /* CLONE_NEW* of the namespaces to create */
  GArray *namespace_paths; /* SvNamespacePath */
  char **masked_paths;
  char **readonly_paths;
  unsigned long rootfs_propagation;
  GPtrArray *sysctl_keys;   /* char *, "net.ipv4.ip_forward" */
  GPtrArray *sysctl_values; /* char *, same order */

  char *cgroups_path;
  SvResources resources;

  JsonObject *seccomp; /* linux.seccomp or NULL */
  JsonArray *hooks_prestart;
  JsonArray *hooks_create_runtime;
  JsonArray *hooks_poststart;
  JsonArray *hooks_poststop;
  JsonObject *annotations;

  JsonParser *parser; /* keeps the JSON objects above alive */
} SvRuntimeSpec;

SvRuntimeSpec *sv_runtime_spec_load (const char *bundle, GError **error);
gboolean sv_runtime_spec_load_process (SvRuntimeSpec *spec, const char *path, GError **error);
void sv_runtime_spec_free (SvRuntimeSpec *spec);

int sv_capability_from_name (const char *name);

extern const char sv_runtime_spec_template[];

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvRuntimeSpec, sv_runtime_spec_free)

G_END_DECLS
