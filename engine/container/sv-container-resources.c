/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-container-resources.h"

#include "sv-engine-error.h"

#include <string.h>
#include <unistd.h>

/* Docker's ulimit names (--ulimit NAME=SOFT[:HARD]) and the rlimit each sets. */
static const struct
{
  const char *name;
  int resource;
  const char *oci_name;
} rlimit_names[] = {
  { "core", RLIMIT_CORE, "RLIMIT_CORE" },
  { "cpu", RLIMIT_CPU, "RLIMIT_CPU" },
  { "data", RLIMIT_DATA, "RLIMIT_DATA" },
  { "fsize", RLIMIT_FSIZE, "RLIMIT_FSIZE" },
  { "locks", RLIMIT_LOCKS, "RLIMIT_LOCKS" },
  { "memlock", RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK" },
  { "msgqueue", RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE" },
  { "nice", RLIMIT_NICE, "RLIMIT_NICE" },
  { "nofile", RLIMIT_NOFILE, "RLIMIT_NOFILE" },
  { "nproc", RLIMIT_NPROC, "RLIMIT_NPROC" },
  { "rss", RLIMIT_RSS, "RLIMIT_RSS" },
  { "rtprio", RLIMIT_RTPRIO, "RLIMIT_RTPRIO" },
  { "rttime", RLIMIT_RTTIME, "RLIMIT_RTTIME" },
  { "sigpending", RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING" },
  { "stack", RLIMIT_STACK, "RLIMIT_STACK" },
};

/* The OCI name ("RLIMIT_NOFILE") of @resource, or NULL for an unknown one. */
const char *
sv_container_rlimit_to_name (int resource)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rlimit_names); i++)
    if (rlimit_names[i].resource == resource)
      return rlimit_names[i].oci_name;
  return NULL;
}

static int
rlimit_from_docker_name (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rlimit_names); i++)
    if (g_str_equal (rlimit_names[i].name, name))
      return rlimit_names[i].resource;
  return -1;
}

/* The folder of this process's own cgroup in the hierarchy mounted at @mount_point, whose
 * mountinfo root is @mount_root. @controller is NULL for cgroup2. */
static char *
own_cgroup_folder (const char *mount_point, const char *mount_root, const char *controller)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/cgroup", &contents, NULL, NULL))
    return g_strdup (mount_point);
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], ":", 3);
      g_auto (GStrv) controllers = NULL;
      const char *path;

      if (g_strv_length (fields) != 3)
        continue;
      controllers = g_strsplit (fields[1], ",", -1);
      if (controller == NULL ? *fields[1] != '\0'
                             : !g_strv_contains ((const char *const *)controllers, controller))
        continue;
      path = fields[2];
      if (!g_str_equal (mount_root, "/") && g_str_has_prefix (path, mount_root))
        path += strlen (mount_root);
      return g_build_filename (mount_point, path, NULL);
    }
  return g_strdup (mount_point);
}

static gboolean
folder_has (const char *folder, const char *name)
{
  g_autofree char *path = g_build_filename (folder, name, NULL);
  return access (path, F_OK) == 0;
}

static void
detect_v1 (SvCgroupSupport *support, const char *mount_point, const char *mount_root,
           const char *super_options)
{
  g_auto (GStrv) options = g_strsplit (super_options, ",", -1);
  const char *const *opts = (const char *const *)options;

  if (g_strv_contains (opts, "memory"))
    {
      g_autofree char *folder = own_cgroup_folder (mount_point, mount_root, "memory");
      support->memory = TRUE;
      support->memory_swap = folder_has (folder, "memory.memsw.limit_in_bytes");
    }
  if (g_strv_contains (opts, "pids"))
    support->pids = TRUE;
  if (g_strv_contains (opts, "cpu"))
    {
      g_autofree char *folder = own_cgroup_folder (mount_point, mount_root, "cpu");
      support->cpu_shares = folder_has (folder, "cpu.shares");
      support->cpu_quota = folder_has (folder, "cpu.cfs_quota_us");
    }
}

/* Controllers of cgroup2 count only where no v1 hierarchy has them, as in a hybrid layout. */
static void
detect_v2 (SvCgroupSupport *v2, const char *mount_point, const char *mount_root)
{
  g_autofree char *folder = own_cgroup_folder (mount_point, mount_root, NULL);
  g_autofree char *path = g_build_filename (folder, "cgroup.controllers", NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) controllers = NULL;
  const char *const *list;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return;
  controllers = g_strsplit_set (g_strstrip (contents), " ", -1);
  list = (const char *const *)controllers;
  v2->memory = g_strv_contains (list, "memory");
  /* NOTE: the root cgroup has no memory.swap.max to check, so a process there assumes that
   * the kernel accounts swap. */
  v2->memory_swap
      = v2->memory && (folder_has (folder, "memory.swap.max") || g_str_equal (folder, mount_point));
  v2->pids = g_strv_contains (list, "pids");
  v2->cpu_shares = v2->cpu_quota = g_strv_contains (list, "cpu");
}

/* Detect which limits this process's cgroups can enforce for containers created beneath
 * them, from /proc/self/mountinfo and the files of its own cgroup in each hierarchy. */
void
sv_container_resources_detect_support (SvCgroupSupport *support)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  SvCgroupSupport v2 = { 0 };

  memset (support, 0, sizeof *support);
  if (!g_file_get_contents ("/proc/self/mountinfo", &contents, NULL, NULL))
    return;

  /* A line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER. */
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", -1);
      guint n = g_strv_length (fields);
      guint sep = 6;
      g_autofree char *root = NULL, *mount_point = NULL;

      while (sep < n && !g_str_equal (fields[sep], "-"))
        sep++;
      if (sep + 3 >= n)
        continue;
      root = g_strcompress (fields[3]);
      mount_point = g_strcompress (fields[4]);
      if (g_str_equal (fields[sep + 1], "cgroup"))
        detect_v1 (support, mount_point, root, fields[sep + 3]);
      else if (g_str_equal (fields[sep + 1], "cgroup2"))
        detect_v2 (&v2, mount_point, root);
    }

  if (!support->memory)
    {
      support->memory = v2.memory;
      support->memory_swap = v2.memory_swap;
    }
  support->pids = support->pids || v2.pids;
  if (!support->cpu_shares && !support->cpu_quota)
    {
      support->cpu_shares = v2.cpu_shares;
      support->cpu_quota = v2.cpu_quota;
    }
}

static gboolean invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

static gboolean
read_ulimit (GVariant *entry, JsonArray *ulimits, GError **error)
{
  const char *name = NULL;
  gint64 soft = 0, hard = 0;
  JsonObject *object;

  if (!g_variant_lookup (entry, "Name", "&s", &name)
      || !g_variant_lookup (entry, "Soft", "x", &soft)
      || !g_variant_lookup (entry, "Hard", "x", &hard))
    return invalid (error, "invalid container option Ulimits: each entry needs Name (s), Soft (x) "
                           "and Hard (x)");
  if (rlimit_from_docker_name (name) < 0)
    return invalid (error,
                    "invalid ulimit name \"%s\": use core, cpu, data, fsize, locks, "
                    "memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, "
                    "sigpending or stack",
                    name);
  if (soft < 0 || hard < 0)
    return invalid (error,
                    "invalid ulimit %s=%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
                    ": limits cannot be negative",
                    name, soft, hard);
  if (soft > hard)
    return invalid (error,
                    "invalid ulimit %s=%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
                    ": the soft limit must not exceed the hard limit",
                    name, soft, hard);

  object = json_object_new ();
  json_object_set_string_member (object, "Name", name);
  json_object_set_int_member (object, "Soft", soft);
  json_object_set_int_member (object, "Hard", hard);
  json_array_add_object_element (ulimits, object);
  return TRUE;
}

static gboolean
check_limits (gint64 memory, gint64 swap, gint64 pids, gint64 nano_cpus, gint64 shares,
              GError **error)
{
  gint64 max_nano_cpus = MAX (sysconf (_SC_NPROCESSORS_ONLN), 1) * (gint64)1000000000;

  if (memory != 0 && memory < SV_CONTAINER_MIN_MEMORY)
    return invalid (error,
                    "invalid Memory %" G_GINT64_FORMAT ": the minimum memory limit is 6 MiB "
                    "(6291456 bytes)",
                    memory);
  if (swap < -1)
    return invalid (error,
                    "invalid MemorySwap %" G_GINT64_FORMAT ": give bytes or -1 for "
                    "unlimited swap",
                    swap);
  if (swap > 0 && memory == 0)
    return invalid (error, "invalid MemorySwap %" G_GINT64_FORMAT ": it needs a Memory limit too",
                    swap);
  if (swap > 0 && swap < memory)
    return invalid (error,
                    "invalid MemorySwap %" G_GINT64_FORMAT ": the memory plus swap limit "
                    "must be at least the Memory limit %" G_GINT64_FORMAT,
                    swap, memory);
  if (pids < -1)
    return invalid (error,
                    "invalid PidsLimit %" G_GINT64_FORMAT ": give a number of processes, "
                    "or 0 or -1 for no limit",
                    pids);
  if (nano_cpus < 0 || (nano_cpus > 0 && nano_cpus < 10000000) || nano_cpus > max_nano_cpus)
    return invalid (error,
                    "invalid NanoCpus %" G_GINT64_FORMAT ": the range of CPUs is from "
                    "0.01 to %" G_GINT64_FORMAT " (the number of CPUs here)",
                    nano_cpus, max_nano_cpus / 1000000000);
  if (shares < 0 || shares > 262144)
    return invalid (error,
                    "invalid CpuShares %" G_GINT64_FORMAT ": give a weight from 2 to "
                    "262144, or 0 for the default",
                    shares);
  if (shares == 1)
    return invalid (error, "invalid CpuShares 1: the minimum weight is 2");
  return TRUE;
}

/* Check the resource fields of Create's @options (their types are checked already) and
 * return them as the resource fields of Docker's HostConfig. Zero means "not set" for each,
 * as in the Docker Engine API. */
JsonObject *
sv_container_resources_from_options (GVariant *options, GError **error)
{
  g_autoptr (JsonObject) host_config = json_object_new ();
  g_autoptr (GVariant) ulimits = NULL;
  g_autoptr (JsonArray) ulimit_array = json_array_new ();
  gint64 memory = 0, swap = 0, pids = 0, nano_cpus = 0, shares = 0;
  gboolean ignore = FALSE;
  GVariantIter iter;
  GVariant *entry;

  g_variant_lookup (options, "Memory", "x", &memory);
  g_variant_lookup (options, "MemorySwap", "x", &swap);
  g_variant_lookup (options, "PidsLimit", "x", &pids);
  g_variant_lookup (options, "NanoCpus", "x", &nano_cpus);
  g_variant_lookup (options, "CpuShares", "x", &shares);
  g_variant_lookup (options, "IgnoreUnsupportedLimits", "b", &ignore);
  if (memory < 0)
    {
      invalid (error, "invalid Memory %" G_GINT64_FORMAT ": give bytes, or 0 for no limit", memory);
      return NULL;
    }
  if (!check_limits (memory, swap, pids, nano_cpus, shares, error))
    return NULL;

  ulimits = g_variant_lookup_value (options, "Ulimits", G_VARIANT_TYPE ("aa{sv}"));
  if (ulimits != NULL)
    {
      g_variant_iter_init (&iter, ulimits);
      while ((entry = g_variant_iter_next_value (&iter)) != NULL)
        {
          gboolean ok = read_ulimit (entry, ulimit_array, error);

          g_variant_unref (entry);
          if (!ok)
            return NULL;
        }
    }

  json_object_set_int_member (host_config, "Memory", memory);
  json_object_set_int_member (host_config, "MemorySwap", swap);
  json_object_set_int_member (host_config, "PidsLimit", pids > 0 ? pids : 0);
  json_object_set_int_member (host_config, "NanoCpus", nano_cpus);
  json_object_set_int_member (host_config, "CpuShares", shares);
  json_object_set_array_member (host_config, "Ulimits", g_steal_pointer (&ulimit_array));
  json_object_set_boolean_member (host_config, "IgnoreUnsupportedLimits", ignore);
  return g_steal_pointer (&host_config);
}

/* Check that the host can enforce a requested limit. Without it the limit is an UNSUPPORTED
 * error, or a warning and no limit when the container ignores unsupported limits. */
static gboolean
check_supported (gboolean supported, gboolean ignore, const char *id, const char *field,
                 gint64 value, const char *flag, const char *what, GError **error)
{
  if (supported)
    return TRUE;
  if (ignore)
    {
      g_warning ("container %s: %s %" G_GINT64_FORMAT " (%s) not applied: the host has no %s", id,
                 field, value, flag, what);
      return FALSE;
    }
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
               "cannot apply %s %" G_GINT64_FORMAT " (%s): the host has no %s; remove the "
               "limit or set IgnoreUnsupportedLimits (servin run --ignore-unsupported-limits) "
               "to run without it",
               field, value, flag, what);
  return FALSE;
}

static gboolean
build_memory (JsonObject *host_config, const SvCgroupSupport *support, gboolean ignore,
              const char *id, JsonObject *resources, GError **error)
{
  gint64 memory = json_object_get_int_member_with_default (host_config, "Memory", 0);
  gint64 swap = json_object_get_int_member_with_default (host_config, "MemorySwap", 0);
  JsonObject *object;
  gboolean swap_ok;

  if (memory == 0 && swap == 0)
    return TRUE;
  if (memory > 0
      && !check_supported (support->memory, ignore, id, "Memory", memory, "--memory",
                           "memory cgroup controller", error))
    return ignore;

  /* -1 (unlimited) needs no swap accounting, and an unset MemorySwap gets docker's default of
   * twice the memory limit only where swap is accounted. */
  swap_ok = swap <= 0 ? TRUE
                      : check_supported (support->memory_swap, ignore, id, "MemorySwap", swap,
                                         "--memory-swap",
                                         "swap accounting (memory.memsw.limit_in_bytes)", error);
  if (!swap_ok && !ignore)
    return FALSE;

  object = json_object_new ();
  if (memory > 0)
    json_object_set_int_member (object, "limit", memory);
  if (swap > 0 && swap_ok)
    json_object_set_int_member (object, "swap", swap);
  else if (swap == -1 && support->memory_swap)
    json_object_set_int_member (object, "swap", -1);
  else if (swap == 0 && memory > 0 && support->memory_swap)
    json_object_set_int_member (object, "swap", memory * 2);
  json_object_set_object_member (resources, "memory", object);
  return TRUE;
}

static gboolean
build_cpu (JsonObject *host_config, const SvCgroupSupport *support, gboolean ignore, const char *id,
           JsonObject *resources, GError **error)
{
  gint64 nano_cpus = json_object_get_int_member_with_default (host_config, "NanoCpus", 0);
  gint64 shares = json_object_get_int_member_with_default (host_config, "CpuShares", 0);
  JsonObject *object = json_object_new ();

  if (nano_cpus > 0
      && check_supported (support->cpu_quota, ignore, id, "NanoCpus", nano_cpus, "--cpus",
                          "CPU bandwidth control (cpu.cfs_quota_us)", error))
    {
      json_object_set_int_member (object, "quota",
                                  nano_cpus * SV_CONTAINER_CPU_PERIOD / 1000000000);
      json_object_set_int_member (object, "period", SV_CONTAINER_CPU_PERIOD);
    }
  if (error != NULL && *error != NULL)
    {
      json_object_unref (object);
      return FALSE;
    }
  if (shares > 0
      && check_supported (support->cpu_shares, ignore, id, "CpuShares", shares, "--cpu-shares",
                          "cpu cgroup controller", error))
    json_object_set_int_member (object, "shares", shares);
  if (error != NULL && *error != NULL)
    {
      json_object_unref (object);
      return FALSE;
    }

  if (json_object_get_size (object) > 0)
    json_object_set_object_member (resources, "cpu", object);
  else
    json_object_unref (object);
  return TRUE;
}

/* Add the limits of @host_config (from sv_container_resources_from_options) to an OCI
 * linux.resources object. A limit the host cannot enforce (@support) fails with UNSUPPORTED
 * naming it, unless the container sets IgnoreUnsupportedLimits. */
gboolean
sv_container_resources_build (JsonObject *host_config, const SvCgroupSupport *support,
                              const char *id, JsonObject *resources, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gboolean ignore;
  gint64 pids;

  if (host_config == NULL)
    return TRUE;
  ignore
      = json_object_get_boolean_member_with_default (host_config, "IgnoreUnsupportedLimits", FALSE);

  if (!build_memory (host_config, support, ignore, id, resources, &local_error)
      || !build_cpu (host_config, support, ignore, id, resources, &local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  pids = json_object_get_int_member_with_default (host_config, "PidsLimit", 0);
  if (pids > 0
      && check_supported (support->pids, ignore, id, "PidsLimit", pids, "--pids-limit",
                          "pids cgroup controller", &local_error))
    {
      JsonObject *object = json_object_new ();
      json_object_set_int_member (object, "limit", pids);
      json_object_set_object_member (resources, "pids", object);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

static void
add_rlimit (JsonArray *rlimits, int resource, guint64 soft, guint64 hard,
            const struct rlimit *host_limits, const char *id)
{
  JsonObject *object = json_object_new ();
  const char *name = sv_container_rlimit_to_name (resource);

  /* setrlimit(2) raises a hard limit only with CAP_SYS_RESOURCE in the initial user
   * namespace, which runtimes in a container often lack, and the container start fails then.
   * So the host's hard limit caps the container's. */
  if (host_limits != NULL && host_limits[resource].rlim_max != RLIM_INFINITY
      && hard > host_limits[resource].rlim_max)
    {
      guint64 host_hard = host_limits[resource].rlim_max;
      guint64 new_soft = MIN (soft, host_hard);

      g_info ("container %s: %s lowered from %" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT
              " to %" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ", the host's hard limit",
              id, name, soft, hard, new_soft, host_hard);
      soft = new_soft;
      hard = host_hard;
    }
  json_object_set_string_member (object, "type", name);
  json_object_set_int_member (object, "hard", hard);
  json_object_set_int_member (object, "soft", soft);
  json_array_add_object_element (rlimits, object);
}

/* The OCI process.rlimits of a container: its Ulimits (the last entry of a name wins) and
 * RLIMIT_NOFILE 1048576 unless they set it. With @host_limits (RLIM_NLIMITS entries of the
 * host's limits), a hard limit above the host's is lowered to it and logged. */
JsonArray *
sv_container_resources_build_rlimits (JsonObject *host_config, const struct rlimit *host_limits,
                                      const char *id)
{
  JsonArray *rlimits = json_array_new ();
  JsonNode *node = host_config != NULL ? json_object_get_member (host_config, "Ulimits") : NULL;
  JsonArray *ulimits
      = node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  guint n = ulimits != NULL ? json_array_get_length (ulimits) : 0;
  gboolean has_nofile = FALSE;

  for (guint i = 0; i < n; i++)
    {
      JsonObject *ulimit = json_array_get_object_element (ulimits, i);
      int resource = rlimit_from_docker_name (
          json_object_get_string_member_with_default (ulimit, "Name", ""));
      gboolean later = FALSE;

      for (guint j = i + 1; j < n; j++)
        if (g_strcmp0 (json_object_get_string_member_with_default (
                           json_array_get_object_element (ulimits, j), "Name", NULL),
                       json_object_get_string_member_with_default (ulimit, "Name", ""))
            == 0)
          later = TRUE;
      if (resource < 0 || later)
        continue;
      has_nofile = has_nofile || resource == RLIMIT_NOFILE;
      add_rlimit (rlimits, resource, json_object_get_int_member_with_default (ulimit, "Soft", 0),
                  json_object_get_int_member_with_default (ulimit, "Hard", 0), host_limits, id);
    }
  if (!has_nofile)
    add_rlimit (rlimits, RLIMIT_NOFILE, SV_CONTAINER_DEFAULT_NOFILE, SV_CONTAINER_DEFAULT_NOFILE,
                host_limits, id);
  return rlimits;
}
