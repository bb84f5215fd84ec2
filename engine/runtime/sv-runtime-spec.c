/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-runtime-spec.h"

#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "sv-engine-error.h"
#include "sv-runtime-hooks.h"

/* Capability names in the order of their numbers in <linux/capability.h>. */
static const char *const capability_names[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
};

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

static const struct
{
  const char *name;
  int flag;
} namespace_names[] = {
  { "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
  { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },     { "cgroup", CLONE_NEWCGROUP },
};

/* Mount options that set (clear == FALSE) or clear a mount(2) flag. */
static const struct
{
  const char *name;
  gboolean clear;
  unsigned long flag;
} mount_flag_names[] = {
  { "ro", FALSE, MS_RDONLY },
  { "rw", TRUE, MS_RDONLY },
  { "nosuid", FALSE, MS_NOSUID },
  { "suid", TRUE, MS_NOSUID },
  { "nodev", FALSE, MS_NODEV },
  { "dev", TRUE, MS_NODEV },
  { "noexec", FALSE, MS_NOEXEC },
  { "exec", TRUE, MS_NOEXEC },
  { "sync", FALSE, MS_SYNCHRONOUS },
  { "async", TRUE, MS_SYNCHRONOUS },
  { "dirsync", FALSE, MS_DIRSYNC },
  { "remount", FALSE, MS_REMOUNT },
  { "mand", FALSE, MS_MANDLOCK },
  { "nomand", TRUE, MS_MANDLOCK },
  { "atime", TRUE, MS_NOATIME },
  { "noatime", FALSE, MS_NOATIME },
  { "diratime", TRUE, MS_NODIRATIME },
  { "nodiratime", FALSE, MS_NODIRATIME },
  { "relatime", FALSE, MS_RELATIME },
  { "norelatime", TRUE, MS_RELATIME },
  { "strictatime", FALSE, MS_STRICTATIME },
  { "nostrictatime", TRUE, MS_STRICTATIME },
  { "bind", FALSE, MS_BIND },
  { "rbind", FALSE, MS_BIND | MS_REC },
  { "defaults", FALSE, 0 },
};

static const struct
{
  const char *name;
  unsigned long flags;
} propagation_names[] = {
  { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
  { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
  { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
  { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* Device nodes every container gets, as runc creates them. */
static const struct
{
  const char *path;
  unsigned int major, minor;
} default_devices[] = {
  { "/dev/null", 1, 3 },   { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
  { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

int
sv_capability_from_name (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (capability_names); i++)
    if (g_ascii_strcasecmp (name, capability_names[i]) == 0)
      return i;
  return -1;
}

static void
sv_mount_free (SvMount *mount)
{
  g_free (mount->source);
  g_free (mount->destination);
  g_free (mount->type);
  g_free (mount->data);
  g_free (mount);
}

static void
sv_device_free (SvDevice *device)
{
  g_free (device->path);
  g_free (device);
}

static void
clear_namespace_path (gpointer data)
{
  SvNamespacePath *ns = data;
  g_free (ns->path);
}

void
sv_runtime_spec_free (SvRuntimeSpec *spec)
{
  g_free (spec->bundle);
  g_free (spec->config_path);
  g_free (spec->oci_version);
  g_free (spec->rootfs);
  g_strfreev (spec->args);
  g_strfreev (spec->env);
  g_free (spec->cwd);
  g_clear_pointer (&spec->additional_gids, g_array_unref);
  g_clear_pointer (&spec->rlimits, g_array_unref);
  g_free (spec->hostname);
  g_free (spec->domainname);
  g_clear_pointer (&spec->mounts, g_ptr_array_unref);
  g_clear_pointer (&spec->devices, g_ptr_array_unref);
  g_clear_pointer (&spec->namespace_paths, g_array_unref);
  g_strfreev (spec->masked_paths);
  g_strfreev (spec->readonly_paths);
  g_clear_pointer (&spec->sysctl_keys, g_ptr_array_unref);
  g_clear_pointer (&spec->sysctl_values, g_ptr_array_unref);
  g_clear_pointer (&spec->resources.device_rules, g_array_unref);
  g_free (spec->resources.cpuset_cpus);
  g_free (spec->resources.cpuset_mems);
  g_free (spec->cgroups_path);
  g_clear_object (&spec->parser);
  g_free (spec);
}

/* Typed member lookups. Each returns FALSE with an error naming the member when it has the
 * wrong JSON type, and TRUE with the output untouched when the member is absent or null. */

static gboolean
get_node (JsonObject *object, const char *where, const char *name, JsonNodeType type,
          const char *type_name, JsonNode **out, GError **error)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_TYPE (node) != type)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json: %s%s%s must be %s", where, *where ? "." : "", name,
                   type_name);
      return FALSE;
    }
  *out = node;
  return TRUE;
}

static gboolean
get_object (JsonObject *object, const char *where, const char *name, JsonObject **out,
            GError **error)
{
  JsonNode *node;

  if (!get_node (object, where, name, JSON_NODE_OBJECT, "an object", &node, error))
    return FALSE;
  *out = node ? json_node_get_object (node) : NULL;
  return TRUE;
}

static gboolean
get_array (JsonObject *object, const char *where, const char *name, JsonArray **out, GError **error)
{
  JsonNode *node;

  if (!get_node (object, where, name, JSON_NODE_ARRAY, "an array", &node, error))
    return FALSE;
  *out = node ? json_node_get_array (node) : NULL;
  return TRUE;
}

static gboolean
get_string (JsonObject *object, const char *where, const char *name, const char **out,
            GError **error)
{
  JsonNode *node;

  if (!get_node (object, where, name, JSON_NODE_VALUE, "a string", &node, error))
    return FALSE;
  if (node && json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json: %s.%s must be a string", where, name);
      return FALSE;
    }
  if (node)
    *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
get_int (JsonObject *object, const char *where, const char *name, gint64 *out, gboolean *has,
         GError **error)
{
  JsonNode *node;

  if (!get_node (object, where, name, JSON_NODE_VALUE, "a number", &node, error))
    return FALSE;
  if (node && json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json: %s.%s must be an integer", where, name);
      return FALSE;
    }
  if (node)
    *out = json_node_get_int (node);
  if (has)
    *has = node != NULL;
  return TRUE;
}

static gboolean
get_bool (JsonObject *object, const char *where, const char *name, gboolean *out, GError **error)
{
  JsonNode *node;

  if (!get_node (object, where, name, JSON_NODE_VALUE, "a boolean", &node, error))
    return FALSE;
  if (node && json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json: %s.%s must be true or false", where, name);
      return FALSE;
    }
  if (node)
    *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
get_strv (JsonObject *object, const char *where, const char *name, char ***out, GError **error)
{
  JsonArray *array;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (!get_array (object, where, name, &array, error))
    return FALSE;
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid config.json: %s.%s must be an array of strings", where, name);
          return FALSE;
        }
      g_strv_builder_add (builder, json_node_get_string (node));
    }
  *out = g_strv_builder_end (builder);
  return TRUE;
}

/* Turns a list of capability names into a bit set, skipping names this kernel lacks as runc
 * does, because images written for newer kernels list them. */
static gboolean
parse_capability_set (JsonObject *caps, const char *name, guint64 *out, GError **error)
{
  g_auto (GStrv) names = NULL;

  *out = 0;
  if (!get_strv (caps, "process.capabilities", name, &names, error))
    return FALSE;
  for (guint i = 0; names[i]; i++)
    {
      int cap = sv_capability_from_name (names[i]);

      if (cap < 0)
        {
          g_warning ("ignoring unknown capability %s in process.capabilities.%s", names[i], name);
          continue;
        }
      *out |= G_GUINT64_CONSTANT (1) << cap;
    }
  return TRUE;
}

static gboolean
parse_user (SvRuntimeSpec *spec, JsonObject *user, GError **error)
{
  gint64 uid = 0, gid = 0, umask_value = 0;
  JsonArray *gids;

  if (!get_int (user, "process.user", "uid", &uid, NULL, error)
      || !get_int (user, "process.user", "gid", &gid, NULL, error)
      || !get_int (user, "process.user", "umask", &umask_value, &spec->has_umask, error)
      || !get_array (user, "process.user", "additionalGids", &gids, error))
    return FALSE;
  if (uid < 0 || uid > G_MAXUINT32 - 1 || gid < 0 || gid > G_MAXUINT32 - 1)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json: process.user uid %" G_GINT64_FORMAT
                   " or gid %" G_GINT64_FORMAT " is out of range",
                   uid, gid);
      return FALSE;
    }
  spec->uid = uid;
  spec->gid = gid;
  spec->umask = umask_value & 07777;

  spec->additional_gids = g_array_new (FALSE, FALSE, sizeof (gid_t));
  for (guint i = 0; gids && i < json_array_get_length (gids); i++)
    {
      JsonNode *node = json_array_get_element (gids, i);
      gid_t value;

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64
          || json_node_get_int (node) < 0)
        {
          g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                               "invalid config.json: process.user.additionalGids must be an "
                               "array of group ids");
          return FALSE;
        }
      value = json_node_get_int (node);
      g_array_append_val (spec->additional_gids, value);
    }
  return TRUE;
}

static gboolean
parse_rlimits (SvRuntimeSpec *spec, JsonArray *rlimits, GError **error)
{
  spec->rlimits = g_array_new (FALSE, FALSE, sizeof (SvRlimit));
  for (guint i = 0; rlimits && i < json_array_get_length (rlimits); i++)
    {
      JsonObject *entry = json_array_get_object_element (rlimits, i);
      const char *type = NULL;
      gint64 soft = 0, hard = 0;
      SvRlimit rlimit = { .resource = -1 };

      if (entry == NULL)
        {
          g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                               "invalid config.json: process.rlimits must be an array of objects");
          return FALSE;
        }
      if (!get_string (entry, "process.rlimits", "type", &type, error)
          || !get_int (entry, "process.rlimits", "soft", &soft, NULL, error)
          || !get_int (entry, "process.rlimits", "hard", &hard, NULL, error))
        return FALSE;
      for (guint j = 0; type && j < G_N_ELEMENTS (rlimit_names); j++)
        if (g_str_equal (type, rlimit_names[j].name))
          rlimit.resource = rlimit_names[j].resource;
      if (rlimit.resource < 0)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid config.json: unknown rlimit type %s; use a name such as "
                       "RLIMIT_NOFILE",
                       type ? type : "(missing)");
          return FALSE;
        }
      /* JSON carries unsigned 64-bit limits, and the maximum wraps to -1, which is RLIM_INFINITY.
       */
      rlimit.limit.rlim_cur = (rlim_t)soft;
      rlimit.limit.rlim_max = (rlim_t)hard;
      g_array_append_val (spec->rlimits, rlimit);
    }
  return TRUE;
}

static gboolean
parse_process (SvRuntimeSpec *spec, JsonObject *root, GError **error)
{
  JsonObject *process, *user, *caps, *console_size;
  JsonArray *rlimits;
  gint64 height = 0, width = 0;
  const char *cwd = NULL;
  gint64 oom = 0;

  if (!get_object (root, "", "process", &process, error))
    return FALSE;
  if (process == NULL)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "invalid config.json: the process object is missing");
      return FALSE;
    }
  if (!get_bool (process, "process", "terminal", &spec->terminal, error)
      || !get_strv (process, "process", "args", &spec->args, error)
      || !get_strv (process, "process", "env", &spec->env, error)
      || !get_string (process, "process", "cwd", &cwd, error)
      || !get_bool (process, "process", "noNewPrivileges", &spec->no_new_privileges, error)
      || !get_int (process, "process", "oomScoreAdj", &oom, &spec->has_oom_score_adj, error)
      || !get_object (process, "process", "user", &user, error)
      || !get_object (process, "process", "capabilities", &caps, error)
      || !get_array (process, "process", "rlimits", &rlimits, error))
    return FALSE;
  if (spec->args[0] == NULL)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "invalid config.json: process.args is empty; give the command to run");
      return FALSE;
    }
  if (cwd == NULL || !g_path_is_absolute (cwd))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json: process.cwd %s must be an absolute path",
                   cwd ? cwd : "(missing)");
      return FALSE;
    }
  spec->cwd = g_strdup (cwd);
  spec->oom_score_adj = oom;

  if (!parse_user (spec, user, error) || !parse_rlimits (spec, rlimits, error))
    return FALSE;

  if (!get_object (process, "process", "consoleSize", &console_size, error)
      || !get_int (console_size, "process.consoleSize", "height", &height, NULL, error)
      || !get_int (console_size, "process.consoleSize", "width", &width, NULL, error))
    return FALSE;
  spec->console_height = CLAMP (height, 0, G_MAXUINT16);
  spec->console_width = CLAMP (width, 0, G_MAXUINT16);

  spec->has_capabilities = caps != NULL;
  if (caps
      && (!parse_capability_set (caps, "bounding", &spec->cap_bounding, error)
          || !parse_capability_set (caps, "effective", &spec->cap_effective, error)
          || !parse_capability_set (caps, "permitted", &spec->cap_permitted, error)
          || !parse_capability_set (caps, "inheritable", &spec->cap_inheritable, error)
          || !parse_capability_set (caps, "ambient", &spec->cap_ambient, error)))
    return FALSE;
  return TRUE;
}

static gboolean
parse_root (SvRuntimeSpec *spec, JsonObject *root, GError **error)
{
  JsonObject *root_object;
  const char *path = NULL;

  if (!get_object (root, "", "root", &root_object, error)
      || !get_string (root_object, "root", "path", &path, error)
      || !get_bool (root_object, "root", "readonly", &spec->root_readonly, error))
    return FALSE;
  if (path == NULL || *path == '\0')
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json in %s: root.path is missing; set it to the root "
                   "filesystem folder, for example \"rootfs\"",
                   spec->bundle);
      return FALSE;
    }
  if (g_path_is_absolute (path))
    spec->rootfs = g_canonicalize_filename (path, NULL);
  else
    spec->rootfs = g_canonicalize_filename (path, spec->bundle);
  if (!g_file_test (spec->rootfs, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                   "root filesystem %s from root.path is not a folder", spec->rootfs);
      return FALSE;
    }
  return TRUE;
}

/* Splits a mount's options into flags, propagation and the data string the filesystem reads. */
static void
parse_mount_options (SvMount *mount, char **options)
{
  g_autoptr (GString) data = g_string_new (NULL);
  unsigned long flags = 0;

  for (guint i = 0; options && options[i]; i++)
    {
      gboolean known = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS (mount_flag_names) && !known; j++)
        if (g_str_equal (options[i], mount_flag_names[j].name))
          {
            if (mount_flag_names[j].clear)
              flags &= ~mount_flag_names[j].flag;
            else
              flags |= mount_flag_names[j].flag;
            known = TRUE;
          }
      for (guint j = 0; j < G_N_ELEMENTS (propagation_names) && !known; j++)
        if (g_str_equal (options[i], propagation_names[j].name))
          {
            mount->propagation = propagation_names[j].flags;
            known = TRUE;
          }
      if (!known)
        g_string_append_printf (data, "%s%s", data->len ? "," : "", options[i]);
    }

  mount->bind = (flags & MS_BIND) || g_strcmp0 (mount->type, "bind") == 0;
  if (mount->bind)
    {
      unsigned long extra = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);

      mount->flags = MS_BIND | (flags & MS_REC);
      mount->remount_flags = extra ? (MS_BIND | MS_REMOUNT | extra) : 0;
    }
  else
    mount->flags = flags;
  mount->data = data->len ? g_strdup (data->str) : NULL;
}

static gboolean
parse_mounts (SvRuntimeSpec *spec, JsonObject *root, GError **error)
{
  JsonArray *mounts;

  if (!get_array (root, "", "mounts", &mounts, error))
    return FALSE;
  spec->mounts = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_mount_free);
  for (guint i = 0; mounts && i < json_array_get_length (mounts); i++)
    {
      JsonObject *entry = json_array_get_object_element (mounts, i);
      const char *destination = NULL, *source = NULL, *type = NULL;
      g_auto (GStrv) options = NULL;
      SvMount *mount;

      if (entry == NULL || !get_string (entry, "mounts", "destination", &destination, error)
          || !get_string (entry, "mounts", "source", &source, error)
          || !get_string (entry, "mounts", "type", &type, error)
          || !get_strv (entry, "mounts", "options", &options, error))
        {
          if (error && *error == NULL)
            g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                                 "invalid config.json: mounts must be an array of objects");
          return FALSE;
        }
      if (destination == NULL || !g_path_is_absolute (destination))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid config.json: mount destination %s must be an absolute path",
                       destination ? destination : "(missing)");
          return FALSE;
        }

      mount = g_new0 (SvMount, 1);
      g_ptr_array_add (spec->mounts, mount);
      mount->destination = g_canonicalize_filename (destination, "/");
      mount->type = g_strdup (type ? type : "none");
      parse_mount_options (mount, options);
      if (mount->bind && source && !g_path_is_absolute (source))
        mount->source = g_canonicalize_filename (source, spec->bundle);
      else
        mount->source = g_strdup (source ? source : mount->type);
      if (mount->bind)
        {
          struct stat st;

          if (stat (mount->source, &st) < 0)
            {
              int saved_errno = errno;

              g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                           "cannot use bind mount source %s for %s: %s", mount->source,
                           mount->destination, g_strerror (saved_errno));
              return FALSE;
            }
          mount->source_is_dir = S_ISDIR (st.st_mode);
        }
    }
  return TRUE;
}

static gboolean
parse_device (JsonObject *entry, SvDevice *device, GError **error)
{
  const char *path = NULL, *type = NULL;
  gint64 major = 0, minor = 0, file_mode = 0666, uid = 0, gid = 0;
  gboolean has_mode = FALSE;

  if (!get_string (entry, "linux.devices", "path", &path, error)
      || !get_string (entry, "linux.devices", "type", &type, error)
      || !get_int (entry, "linux.devices", "major", &major, NULL, error)
      || !get_int (entry, "linux.devices", "minor", &minor, NULL, error)
      || !get_int (entry, "linux.devices", "fileMode", &file_mode, &has_mode, error)
      || !get_int (entry, "linux.devices", "uid", &uid, NULL, error)
      || !get_int (entry, "linux.devices", "gid", &gid, NULL, error))
    return FALSE;
  if (path == NULL || !g_path_is_absolute (path) || type == NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json: linux.devices entry %s needs an absolute path and a "
                   "type",
                   path ? path : "(missing)");
      return FALSE;
    }
  if (!has_mode)
    file_mode = 0666;

  if (g_str_equal (type, "c") || g_str_equal (type, "u"))
    device->mode = S_IFCHR;
  else if (g_str_equal (type, "b"))
    device->mode = S_IFBLK;
  else if (g_str_equal (type, "p"))
    device->mode = S_IFIFO;
  else
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json: device %s has unknown type %s; use c, b, u or p", path,
                   type);
      return FALSE;
    }
  device->mode |= file_mode & 07777;
  device->path = g_canonicalize_filename (path, "/");
  device->rdev = makedev (major, minor);
  device->uid = uid;
  device->gid = gid;
  return TRUE;
}

static gboolean
parse_devices (SvRuntimeSpec *spec, JsonObject *linux_object, GError **error)
{
  JsonArray *devices;
  gboolean dev_is_bind = FALSE;

  if (!get_array (linux_object, "linux", "devices", &devices, error))
    return FALSE;
  spec->devices = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_device_free);
  for (guint i = 0; devices && i < json_array_get_length (devices); i++)
    {
      JsonObject *entry = json_array_get_object_element (devices, i);
      SvDevice *device = g_new0 (SvDevice, 1);

      g_ptr_array_add (spec->devices, device);
      if (entry == NULL || !parse_device (entry, device, error))
        {
          if (error && *error == NULL)
            g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                                 "invalid config.json: linux.devices must be an array of objects");
          return FALSE;
        }
    }

  /* A /dev bound from the host already has its nodes. */
  for (guint i = 0; i < spec->mounts->len; i++)
    {
      SvMount *mount = g_ptr_array_index (spec->mounts, i);
      if (mount->bind && g_str_equal (mount->destination, "/dev"))
        dev_is_bind = TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (default_devices) && !dev_is_bind; i++)
    {
      gboolean listed = FALSE;
      SvDevice *device;

      for (guint j = 0; j < spec->devices->len; j++)
        if (g_str_equal (((SvDevice *)g_ptr_array_index (spec->devices, j))->path,
                         default_devices[i].path))
          listed = TRUE;
      if (listed)
        continue;
      device = g_new0 (SvDevice, 1);
      device->path = g_strdup (default_devices[i].path);
      device->mode = S_IFCHR | 0666;
      device->rdev = makedev (default_devices[i].major, default_devices[i].minor);
      g_ptr_array_add (spec->devices, device);
    }
  return TRUE;
}

static gboolean
parse_namespaces (SvRuntimeSpec *spec, JsonObject *linux_object, GError **error)
{
  JsonArray *namespaces;

  if (!get_array (linux_object, "linux", "namespaces", &namespaces, error))
    return FALSE;
  spec->namespace_paths = g_array_new (FALSE, FALSE, sizeof (SvNamespacePath));
  g_array_set_clear_func (spec->namespace_paths, clear_namespace_path);
  for (guint i = 0; namespaces && i < json_array_get_length (namespaces); i++)
    {
      JsonObject *entry = json_array_get_object_element (namespaces, i);
      const char *type = NULL, *path = NULL;
      int flag = 0;

      if (entry == NULL || !get_string (entry, "linux.namespaces", "type", &type, error)
          || !get_string (entry, "linux.namespaces", "path", &path, error))
        {
          if (error && *error == NULL)
            g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                                 "invalid config.json: linux.namespaces must be an array of "
                                 "objects");
          return FALSE;
        }
      for (guint j = 0; type && j < G_N_ELEMENTS (namespace_names); j++)
        if (g_str_equal (type, namespace_names[j].name))
          flag = namespace_names[j].flag;
      if (flag == 0)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                       "namespace type %s in linux.namespaces is not supported by "
                       "servin-runtime; use pid, network, mount, ipc, uts or cgroup",
                       type ? type : "(missing)");
          return FALSE;
        }
      if (path && *path)
        {
          SvNamespacePath ns = { .type = flag, .path = g_strdup (path) };
          g_array_append_val (spec->namespace_paths, ns);
        }
      else
        spec->clone_flags |= flag;
    }
  if (!(spec->clone_flags & CLONE_NEWNS))
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                           "linux.namespaces has no new mount namespace; servin-runtime needs "
                           "one to set up the root filesystem");
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_device_rule (JsonObject *entry, SvDeviceRule *rule, GError **error)
{
  const char *where = "linux.resources.devices";
  const char *type = "a", *access = "rwm";
  gint64 major = -1, minor = -1;
  gboolean has_major = FALSE, has_minor = FALSE;

  if (!get_bool (entry, where, "allow", &rule->allow, error)
      || !get_string (entry, where, "type", &type, error)
      || !get_string (entry, where, "access", &access, error)
      || !get_int (entry, where, "major", &major, &has_major, error)
      || !get_int (entry, where, "minor", &minor, &has_minor, error))
    return FALSE;
  if (strlen (type) != 1 || !strchr ("acb", *type) || strlen (access) > 3
      || strspn (access, "rwm") != strlen (access))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json: device rule with type %s and access %s; use type a, c "
                   "or b and access made of r, w and m",
                   type, access);
      return FALSE;
    }
  rule->type = *type;
  rule->major = has_major && major >= 0 ? major : -1;
  rule->minor = has_minor && minor >= 0 ? minor : -1;
  rule->access = 0;
  for (const char *p = access; *p; p++)
    {
      if (*p == 'r')
        rule->access |= SV_DEVICE_READ;
      else if (*p == 'w')
        rule->access |= SV_DEVICE_WRITE;
      else
        rule->access |= SV_DEVICE_MKNOD;
    }
  /* An empty access string means all access, and the kernel ignores the access of type a. */
  if (rule->access == 0 || rule->type == 'a')
    rule->access = SV_DEVICE_ALL;
  return TRUE;
}

static gboolean
parse_device_rules (SvRuntimeSpec *spec, JsonObject *resources, GError **error)
{
  JsonArray *rules;

  spec->resources.device_rules = g_array_new (FALSE, TRUE, sizeof (SvDeviceRule));
  if (!get_array (resources, "linux.resources", "devices", &rules, error))
    return FALSE;
  for (guint i = 0; rules && i < json_array_get_length (rules); i++)
    {
      JsonObject *entry = json_array_get_object_element (rules, i);
      SvDeviceRule rule = { 0 };

      if (entry == NULL)
        {
          g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                               "invalid config.json: linux.resources.devices must be an array of "
                               "objects");
          return FALSE;
        }
      if (!parse_device_rule (entry, &rule, error))
        return FALSE;
      g_array_append_val (spec->resources.device_rules, rule);
    }
  return TRUE;
}

static gboolean
parse_resources (SvRuntimeSpec *spec, JsonObject *linux_object, GError **error)
{
  JsonObject *resources, *memory, *pids, *cpu;
  SvResources *r = &spec->resources;
  gint64 shares = 0, period = 0;
  const char *cpus = NULL, *mems = NULL;

  if (!get_object (linux_object, "linux", "resources", &resources, error)
      || !get_object (resources, "linux.resources", "memory", &memory, error)
      || !get_object (resources, "linux.resources", "pids", &pids, error)
      || !get_object (resources, "linux.resources", "cpu", &cpu, error)
      || !get_int (memory, "linux.resources.memory", "limit", &r->memory_limit,
                   &r->has_memory_limit, error)
      || !get_int (memory, "linux.resources.memory", "swap", &r->memory_swap, &r->has_memory_swap,
                   error)
      || !get_int (pids, "linux.resources.pids", "limit", &r->pids_limit, &r->has_pids_limit, error)
      || !get_int (cpu, "linux.resources.cpu", "shares", &shares, &r->has_cpu_shares, error)
      || !get_int (cpu, "linux.resources.cpu", "quota", &r->cpu_quota, &r->has_cpu_quota, error)
      || !get_int (cpu, "linux.resources.cpu", "period", &period, &r->has_cpu_period, error)
      || !get_string (cpu, "linux.resources.cpu", "cpus", &cpus, error)
      || !get_string (cpu, "linux.resources.cpu", "mems", &mems, error)
      || !get_int (memory, "linux.resources.memory", "reservation", &r->memory_reservation,
                   &r->has_memory_reservation, error)
      || !parse_device_rules (spec, resources, error))
    return FALSE;
  r->cpu_shares = shares;
  r->cpu_period = period;
  r->cpuset_cpus = cpus && *cpus ? g_strdup (cpus) : NULL;
  r->cpuset_mems = mems && *mems ? g_strdup (mems) : NULL;

  /* runc treats zero as "not set" for these values. */
  if (r->has_memory_limit && r->memory_limit == 0)
    r->has_memory_limit = FALSE;
  if (r->has_memory_swap && r->memory_swap == 0)
    r->has_memory_swap = FALSE;
  if (r->has_pids_limit && r->pids_limit == 0)
    r->has_pids_limit = FALSE;
  if (r->has_cpu_shares && r->cpu_shares == 0)
    r->has_cpu_shares = FALSE;
  if (r->has_cpu_quota && r->cpu_quota == 0)
    r->has_cpu_quota = FALSE;
  if (r->has_cpu_period && r->cpu_period == 0)
    r->has_cpu_period = FALSE;
  if (r->has_memory_reservation && r->memory_reservation == 0)
    r->has_memory_reservation = FALSE;
  return TRUE;
}

static gboolean
parse_linux (SvRuntimeSpec *spec, JsonObject *root, GError **error)
{
  JsonObject *linux_object, *sysctl;
  const char *propagation = NULL, *cgroups_path = NULL;

  if (!get_object (root, "", "linux", &linux_object, error)
      || !get_strv (linux_object, "linux", "maskedPaths", &spec->masked_paths, error)
      || !get_strv (linux_object, "linux", "readonlyPaths", &spec->readonly_paths, error)
      || !get_string (linux_object, "linux", "rootfsPropagation", &propagation, error)
      || !get_string (linux_object, "linux", "cgroupsPath", &cgroups_path, error)
      || !get_object (linux_object, "linux", "sysctl", &sysctl, error)
      || !get_object (linux_object, "linux", "seccomp", &spec->seccomp, error)
      || !parse_namespaces (spec, linux_object, error) || !parse_devices (spec, linux_object, error)
      || !parse_resources (spec, linux_object, error))
    return FALSE;

  if (propagation && *propagation)
    {
      for (guint i = 0; i < G_N_ELEMENTS (propagation_names); i++)
        if (g_str_equal (propagation, propagation_names[i].name))
          spec->rootfs_propagation = propagation_names[i].flags;
      if (spec->rootfs_propagation == 0)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid config.json: unknown linux.rootfsPropagation %s; use private, "
                       "rprivate, slave, rslave, shared, rshared, unbindable or runbindable",
                       propagation);
          return FALSE;
        }
    }
  spec->cgroups_path = g_strdup (cgroups_path);

  spec->sysctl_keys = g_ptr_array_new_with_free_func (g_free);
  spec->sysctl_values = g_ptr_array_new_with_free_func (g_free);
  if (sysctl)
    {
      g_autoptr (GList) members = json_object_get_members (sysctl);

      for (GList *l = members; l; l = l->next)
        {
          const char *value = NULL;

          if (!get_string (sysctl, "linux.sysctl", l->data, &value, error))
            return FALSE;
          /* Keys become paths below /proc/sys, so they must not climb out of it. */
          if (strstr (l->data, "..") || strchr (l->data, '/'))
            {
              g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "invalid config.json: sysctl name %s is not valid", (char *)l->data);
              return FALSE;
            }
          g_ptr_array_add (spec->sysctl_keys, g_strdup (l->data));
          g_ptr_array_add (spec->sysctl_values, g_strdup (value ? value : ""));
        }
    }
  return TRUE;
}

/* Replaces the process of spec with the one in the JSON file path, as `exec --process` reads it:
 * an object with the members of config.json's "process". */
gboolean
sv_runtime_spec_load_process (SvRuntimeSpec *spec, const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonObject) wrapper = json_object_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (!json_parser_load_from_file (parser, path, &local_error))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "cannot read the process file %s: %s", path, local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid process file %s: the top level must be a JSON object", path);
      return FALSE;
    }

  g_clear_pointer (&spec->args, g_strfreev);
  g_clear_pointer (&spec->env, g_strfreev);
  g_clear_pointer (&spec->cwd, g_free);
  g_clear_pointer (&spec->additional_gids, g_array_unref);
  g_clear_pointer (&spec->rlimits, g_array_unref);
  spec->terminal = spec->no_new_privileges = spec->has_umask = spec->has_oom_score_adj = FALSE;
  spec->cap_bounding = spec->cap_effective = spec->cap_permitted = 0;
  spec->cap_inheritable = spec->cap_ambient = 0;
  spec->console_height = spec->console_width = 0;

  json_object_set_member (wrapper, "process", json_node_copy (root));
  if (!parse_process (spec, wrapper, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_hooks (SvRuntimeSpec *spec, JsonObject *root, GError **error)
{
  JsonObject *hooks;
  JsonArray *create_container, *start_container;

  if (!get_object (root, "", "hooks", &hooks, error)
      || !get_array (hooks, "hooks", "prestart", &spec->hooks_prestart, error)
      || !get_array (hooks, "hooks", "createRuntime", &spec->hooks_create_runtime, error)
      || !get_array (hooks, "hooks", "createContainer", &create_container, error)
      || !get_array (hooks, "hooks", "startContainer", &start_container, error)
      || !get_array (hooks, "hooks", "poststart", &spec->hooks_poststart, error)
      || !get_array (hooks, "hooks", "poststop", &spec->hooks_poststop, error)
      || !sv_hooks_validate (spec->hooks_prestart, "prestart", error)
      || !sv_hooks_validate (spec->hooks_create_runtime, "createRuntime", error)
      || !sv_hooks_validate (spec->hooks_poststart, "poststart", error)
      || !sv_hooks_validate (spec->hooks_poststop, "poststop", error))
    return FALSE;

  /* NOTE: these two kinds run inside the container's namespaces, which servin-runtime cannot
   * do yet, so configurations that use them are rejected rather than run without them. */
  if ((create_container && json_array_get_length (create_container) > 0)
      || (start_container && json_array_get_length (start_container) > 0))
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                           "hooks.createContainer and hooks.startContainer are not supported by "
                           "servin-runtime yet; use createRuntime or prestart hooks, or runc");
      return FALSE;
    }
  return TRUE;
}

SvRuntimeSpec *
sv_runtime_spec_load (const char *bundle, GError **error)
{
  g_autoptr (SvRuntimeSpec) spec = g_new0 (SvRuntimeSpec, 1);
  g_autoptr (GError) local_error = NULL;
  JsonNode *root_node;
  JsonObject *root;
  const char *version = NULL, *hostname = NULL, *domainname = NULL;

  spec->bundle = g_canonicalize_filename (bundle, NULL);
  spec->config_path = g_build_filename (spec->bundle, "config.json", NULL);
  spec->parser = json_parser_new_immutable ();
  if (!json_parser_load_from_mapped_file (spec->parser, spec->config_path, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                     "cannot read %s: %s; pass the bundle folder with --bundle", spec->config_path,
                     local_error->message);
      else if (local_error->domain == G_FILE_ERROR)
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot read %s: %s",
                     spec->config_path, local_error->message);
      else
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                     "invalid JSON in %s: %s", spec->config_path, local_error->message);
      return NULL;
    }

  root_node = json_parser_get_root (spec->parser);
  if (root_node == NULL || !JSON_NODE_HOLDS_OBJECT (root_node))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid config.json in %s: the top level must be a JSON object", spec->bundle);
      return NULL;
    }
  root = json_node_get_object (root_node);

  if (!get_string (root, "", "ociVersion", &version, error)
      || !get_string (root, "", "hostname", &hostname, error)
      || !get_string (root, "", "domainname", &domainname, error)
      || !get_object (root, "", "annotations", &spec->annotations, error)
      || !parse_root (spec, root, error) || !parse_process (spec, root, error)
      || !parse_mounts (spec, root, error) || !parse_linux (spec, root, error)
      || !parse_hooks (spec, root, error))
    return NULL;

  spec->oci_version = g_strdup (version ? version : "1.0.2");
  spec->hostname = g_strdup (hostname);
  spec->domainname = g_strdup (domainname);
  if ((spec->hostname || spec->domainname) && !(spec->clone_flags & CLONE_NEWUTS))
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "invalid config.json: hostname needs a new uts namespace in "
                           "linux.namespaces");
      return NULL;
    }
  return g_steal_pointer (&spec);
}
