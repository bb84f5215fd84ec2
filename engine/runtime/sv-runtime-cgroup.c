/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-runtime-cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sv-engine-error.h"
#include "sv-runtime-devices.h"

/* Controller names that can appear among the super options of a v1 cgroup mount. */
static const char *const v1_controllers[] = {
  "cpuset",     "cpu",      "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls",
  "perf_event", "net_prio", "hugetlb", "pids",  "rdma",   "misc",    NULL,
};

static void
sv_cgroup_hierarchy_free (SvCgroupHierarchy *hierarchy)
{
  g_free (hierarchy->mount_point);
  g_free (hierarchy->mount_root);
  g_free (hierarchy->options);
  g_free (hierarchy->own_path);
  g_free (hierarchy);
}

/* Undoes the octal escapes (\040 for a space) that mountinfo uses in paths. */
char *
sv_mountinfo_unescape (const char *field)
{
  GString *out = g_string_new (NULL);

  for (const char *p = field; *p; p++)
    {
      if (p[0] == '\\' && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2])
          && g_ascii_isdigit (p[3]))
        {
          g_string_append_c (out, (p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
          p += 3;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* Returns the v1 controllers among a mount's super options, comma-separated. */
static char *
controllers_from_options (const char *super_options)
{
  g_auto (GStrv) options = g_strsplit (super_options, ",", -1);
  g_autoptr (GString) controllers = g_string_new (NULL);

  for (guint i = 0; options[i]; i++)
    if (g_strv_contains (v1_controllers, options[i]) || g_str_has_prefix (options[i], "name="))
      g_string_append_printf (controllers, "%s%s", controllers->len ? "," : "", options[i]);
  return controllers->len ? g_strdup (controllers->str) : NULL;
}

/* Whether two comma-separated controller lists share a controller. */
static gboolean
controllers_overlap (const char *a, const char *b)
{
  g_auto (GStrv) list_a = g_strsplit (a, ",", -1);
  g_auto (GStrv) list_b = g_strsplit (b, ",", -1);

  for (guint i = 0; list_a[i]; i++)
    if (*list_a[i] && g_strv_contains ((const char *const *)list_b, list_a[i]))
      return TRUE;
  return FALSE;
}

/* Fills in own_path of each hierarchy from /proc/self/cgroup. */
static gboolean
read_own_cgroups (GPtrArray *layout, GError **error)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/cgroup", &contents, NULL, error))
    {
      g_prefix_error (error, "cannot find this process's cgroups: ");
      return FALSE;
    }
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], ":", 3);

      if (g_strv_length (fields) != 3)
        continue;
      for (guint j = 0; j < layout->len; j++)
        {
          SvCgroupHierarchy *h = g_ptr_array_index (layout, j);
          gboolean match = h->unified ? (*fields[1] == '\0' && g_str_equal (fields[0], "0"))
                                      : controllers_overlap (fields[1], h->options);

          if (match && h->own_path == NULL)
            h->own_path = g_strdup (fields[2]);
        }
    }
  return TRUE;
}

GPtrArray *
sv_cgroup_detect_layout (GError **error)
{
  g_autoptr (GPtrArray) layout
      = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_cgroup_hierarchy_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/mountinfo", &contents, NULL, error))
    {
      g_prefix_error (error, "cannot find the cgroup mounts: ");
      return NULL;
    }

  /* A mountinfo line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
   */
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", -1);
      guint n = g_strv_length (fields), dash = 0;
      SvCgroupHierarchy *h;
      gboolean unified;

      for (guint j = 6; j < n; j++)
        if (g_str_equal (fields[j], "-"))
          {
            dash = j;
            break;
          }
      if (dash == 0 || dash + 1 >= n)
        continue;
      unified = g_str_equal (fields[dash + 1], "cgroup2");
      if (!unified && !g_str_equal (fields[dash + 1], "cgroup"))
        continue;
      /* The same hierarchy can be mounted more than once, and the first mount is used. */
      if (g_hash_table_contains (seen, fields[2]))
        continue;
      g_hash_table_add (seen, g_strdup (fields[2]));

      h = g_new0 (SvCgroupHierarchy, 1);
      h->unified = unified;
      h->mount_root = sv_mountinfo_unescape (fields[3]);
      h->mount_point = sv_mountinfo_unescape (fields[4]);
      if (!unified)
        {
          h->options = controllers_from_options (dash + 3 < n ? fields[dash + 3] : "");
          if (h->options == NULL)
            {
              sv_cgroup_hierarchy_free (h);
              continue;
            }
        }
      g_ptr_array_add (layout, h);
    }

  if (!read_own_cgroups (layout, error))
    return NULL;
  for (guint i = 0; i < layout->len; i++)
    {
      SvCgroupHierarchy *h = g_ptr_array_index (layout, i);
      if (h->own_path == NULL)
        h->own_path = g_strdup (h->mount_root);
    }
  return g_steal_pointer (&layout);
}

static gboolean
hierarchy_has (SvCgroupHierarchy *h, const char *controller)
{
  return !h->unified && controllers_overlap (h->options, controller);
}

/* The folder of the process's own cgroup, as seen below the hierarchy's mount point. */
static char *
own_folder (SvCgroupHierarchy *h)
{
  const char *relative = h->own_path;

  if (g_str_equal (h->mount_root, "/"))
    relative = h->own_path;
  else if (g_str_has_prefix (h->own_path, h->mount_root))
    relative = h->own_path + strlen (h->mount_root);
  else
    relative = "/";
  return g_build_filename (h->mount_point, relative, NULL);
}

static gboolean
write_file (const char *folder, const char *name, const char *value, GError **error)
{
  g_autofree char *path = g_build_filename (folder, name, NULL);
  g_auto (SvFd) fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0 || write (fd, value, strlen (value)) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot write %s to %s: %s",
                   value, path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* A new v1 cpuset cgroup starts with no CPUs and no memory nodes, and no process may join it
 * until it has some, so it takes its parent's. An existing folder gets them too when it has
 * none, because another create may have made it a moment ago and not filled it in yet. */
static gboolean
fill_cpuset (const char *parent, const char *child, GError **error)
{
  const char *names[] = { "cpuset.cpus", "cpuset.mems" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *own_path = g_build_filename (child, names[i], NULL);
      g_autofree char *path = g_build_filename (parent, names[i], NULL);
      g_autofree char *own = NULL;
      g_autofree char *value = NULL;

      if (g_file_get_contents (own_path, &own, NULL, NULL) && *g_strstrip (own))
        continue;
      if (!g_file_get_contents (path, &value, NULL, error))
        return FALSE;
      g_strstrip (value);
      if (*value && !write_file (child, names[i], value, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
make_folders (SvCgroupHierarchy *h, const char *base, const char *relative, char **leaf,
              GError **error)
{
  g_auto (GStrv) parts = g_strsplit (relative, "/", -1);
  g_autofree char *current = g_strdup (base);

  for (guint i = 0; parts[i]; i++)
    {
      g_autofree char *next = NULL;

      if (*parts[i] == '\0' || g_str_equal (parts[i], "."))
        continue;
      if (g_str_equal (parts[i], ".."))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid linux.cgroupsPath %s: \"..\" is not allowed", relative);
          return FALSE;
        }
      next = g_build_filename (current, parts[i], NULL);
      if (mkdir (next, 0755) < 0 && errno != EEXIST)
        {
          int saved_errno = errno;
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                       "cannot create cgroup %s: %s", next, g_strerror (saved_errno));
          return FALSE;
        }
      if (hierarchy_has (h, "cpuset") && !fill_cpuset (current, next, error))
        return FALSE;
      g_free (current);
      current = g_steal_pointer (&next);
    }
  *leaf = g_steal_pointer (&current);
  return TRUE;
}

/* Enables a cgroup2 controller in every cgroup from the mount point down to the leaf's parent,
 * which cgroup2 requires before the leaf gets the controller's files. */
static gboolean
enable_v2_controller (SvCgroupHierarchy *h, const char *leaf, const char *controller,
                      GError **error)
{
  g_autofree char *parent = g_path_get_dirname (leaf);
  g_autoptr (GPtrArray) chain = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *value = g_strconcat ("+", controller, NULL);

  while (g_str_has_prefix (parent, h->mount_point))
    {
      char *up = g_path_get_dirname (parent);
      g_ptr_array_insert (chain, 0, g_steal_pointer (&parent));
      parent = up;
    }
  for (guint i = 0; i < chain->len; i++)
    if (!write_file (g_ptr_array_index (chain, i), "cgroup.subtree_control", value, error))
      {
        g_prefix_error (error, "cannot enable the cgroup2 %s controller: ", controller);
        return FALSE;
      }
  return TRUE;
}

static gboolean
v2_has_controller (SvCgroupHierarchy *h, const char *controller)
{
  g_autofree char *path = g_build_filename (h->mount_point, "cgroup.controllers", NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) names = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  names = g_strsplit_set (g_strstrip (contents), " ", -1);
  return g_strv_contains ((const char *const *)names, controller);
}

/* Where a controller's limits go: a v1 hierarchy, or the cgroup2 mount if it has the controller.
 * Returns the index into layout, or -1. */
static int
find_controller (GPtrArray *layout, const char *controller, gboolean *unified)
{
  for (guint i = 0; i < layout->len; i++)
    if (hierarchy_has (g_ptr_array_index (layout, i), controller))
      {
        *unified = FALSE;
        return i;
      }
  for (guint i = 0; i < layout->len; i++)
    {
      SvCgroupHierarchy *h = g_ptr_array_index (layout, i);
      if (h->unified && v2_has_controller (h, controller))
        {
          *unified = TRUE;
          return i;
        }
    }
  return -1;
}

static char *
limit_string (gint64 value)
{
  return value < 0 ? g_strdup ("max") : g_strdup_printf ("%" G_GINT64_FORMAT, value);
}

static gboolean
apply_memory (GPtrArray *layout, GPtrArray *leaves, const SvResources *r, GError **error)
{
  gboolean unified;
  int i = find_controller (layout, "memory", &unified);
  const char *leaf;

  if (!r->has_memory_limit && !r->has_memory_swap && !r->has_memory_reservation)
    return TRUE;
  if (i < 0)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                           "cannot apply linux.resources.memory: no memory cgroup controller is "
                           "mounted, neither as a v1 hierarchy nor in cgroup2");
      return FALSE;
    }
  leaf = g_ptr_array_index (leaves, i);
  if (!unified)
    {
      g_autofree char *limit = g_strdup_printf ("%" G_GINT64_FORMAT, r->memory_limit);
      g_autofree char *swap = g_strdup_printf ("%" G_GINT64_FORMAT, r->memory_swap);

      if (r->has_memory_limit && !write_file (leaf, "memory.limit_in_bytes", limit, error))
        return FALSE;
      if (r->has_memory_reservation)
        {
          g_autofree char *low = g_strdup_printf ("%" G_GINT64_FORMAT, r->memory_reservation);
          if (!write_file (leaf, "memory.soft_limit_in_bytes", low, error))
            return FALSE;
        }
      if (r->has_memory_swap && !write_file (leaf, "memory.memsw.limit_in_bytes", swap, error))
        {
          g_prefix_error (error, "cannot apply linux.resources.memory.swap (is swap accounting "
                                 "enabled?): ");
          return FALSE;
        }
      return TRUE;
    }

  if (!enable_v2_controller (g_ptr_array_index (layout, i), leaf, "memory", error))
    return FALSE;
  if (r->has_memory_limit)
    {
      g_autofree char *limit = limit_string (r->memory_limit);
      if (!write_file (leaf, "memory.max", limit, error))
        return FALSE;
    }
  if (r->has_memory_reservation)
    {
      g_autofree char *low = limit_string (r->memory_reservation);
      if (!write_file (leaf, "memory.low", low, error))
        return FALSE;
    }
  if (r->has_memory_swap)
    {
      /* OCI swap is memory plus swap, but cgroup2 limits swap alone. */
      gint64 swap_only = r->memory_swap < 0 || !r->has_memory_limit || r->memory_limit < 0
                             ? -1
                             : r->memory_swap - r->memory_limit;
      g_autofree char *swap = limit_string (swap_only);

      if (!write_file (leaf, "memory.swap.max", swap, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
apply_pids (GPtrArray *layout, GPtrArray *leaves, const SvResources *r, GError **error)
{
  gboolean unified;
  int i = find_controller (layout, "pids", &unified);
  g_autofree char *limit = NULL;
  const char *leaf;

  if (!r->has_pids_limit)
    return TRUE;
  if (i < 0)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                           "cannot apply linux.resources.pids.limit: no pids cgroup controller "
                           "is mounted, neither as a v1 hierarchy nor in cgroup2");
      return FALSE;
    }
  leaf = g_ptr_array_index (leaves, i);
  if (unified && !enable_v2_controller (g_ptr_array_index (layout, i), leaf, "pids", error))
    return FALSE;
  limit = limit_string (r->pids_limit);
  return write_file (leaf, "pids.max", limit, error);
}

static gboolean
apply_cpu (GPtrArray *layout, GPtrArray *leaves, const SvResources *r, GError **error)
{
  gboolean unified;
  int i = find_controller (layout, "cpu", &unified);
  const char *leaf;

  if (!r->has_cpu_shares && !r->has_cpu_quota && !r->has_cpu_period)
    return TRUE;
  if (i < 0)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                           "cannot apply linux.resources.cpu: no cpu cgroup controller is "
                           "mounted, neither as a v1 hierarchy nor in cgroup2");
      return FALSE;
    }
  leaf = g_ptr_array_index (leaves, i);
  if (!unified)
    {
      g_autofree char *shares = g_strdup_printf ("%" G_GUINT64_FORMAT, r->cpu_shares);
      g_autofree char *period = g_strdup_printf ("%" G_GUINT64_FORMAT, r->cpu_period);
      g_autofree char *quota = g_strdup_printf ("%" G_GINT64_FORMAT, r->cpu_quota);

      return (!r->has_cpu_shares || write_file (leaf, "cpu.shares", shares, error))
             && (!r->has_cpu_period || write_file (leaf, "cpu.cfs_period_us", period, error))
             && (!r->has_cpu_quota || write_file (leaf, "cpu.cfs_quota_us", quota, error));
    }

  if (!enable_v2_controller (g_ptr_array_index (layout, i), leaf, "cpu", error))
    return FALSE;
  if (r->has_cpu_shares)
    {
      /* The conversion runc and crun use from shares (2..262144) to weight (1..10000). */
      guint64 shares = CLAMP (r->cpu_shares, 2, 262144);
      g_autofree char *weight
          = g_strdup_printf ("%" G_GUINT64_FORMAT, 1 + ((shares - 2) * 9999) / 262142);

      if (!write_file (leaf, "cpu.weight", weight, error))
        return FALSE;
    }
  if (r->has_cpu_quota || r->has_cpu_period)
    {
      g_autofree char *quota
          = r->has_cpu_quota && r->cpu_quota > 0 ? limit_string (r->cpu_quota) : g_strdup ("max");
      g_autofree char *max = g_strdup_printf ("%s %" G_GUINT64_FORMAT, quota,
                                              r->has_cpu_period ? r->cpu_period : 100000);

      if (!write_file (leaf, "cpu.max", max, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
apply_devices (GPtrArray *layout, GPtrArray *leaves, const SvResources *r, GPtrArray *devices,
               GError **error)
{
  const char *v1_folder = NULL, *v2_folder = NULL;

  for (guint i = 0; i < layout->len; i++)
    {
      SvCgroupHierarchy *h = g_ptr_array_index (layout, i);

      if (hierarchy_has (h, "devices"))
        v1_folder = g_ptr_array_index (leaves, i);
      else if (h->unified)
        v2_folder = g_ptr_array_index (leaves, i);
    }
  return sv_devices_apply (v1_folder, v2_folder, r, devices, error);
}

static gboolean
apply_cpuset (GPtrArray *layout, GPtrArray *leaves, const SvResources *r, GError **error)
{
  gboolean unified;
  int i = find_controller (layout, "cpuset", &unified);
  const char *leaf;

  if (r->cpuset_cpus == NULL && r->cpuset_mems == NULL)
    return TRUE;
  if (i < 0)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                           "cannot apply linux.resources.cpu.cpus or mems: no cpuset cgroup "
                           "controller is mounted, neither as a v1 hierarchy nor in cgroup2");
      return FALSE;
    }
  leaf = g_ptr_array_index (leaves, i);
  if (unified && !enable_v2_controller (g_ptr_array_index (layout, i), leaf, "cpuset", error))
    return FALSE;
  return (r->cpuset_cpus == NULL || write_file (leaf, "cpuset.cpus", r->cpuset_cpus, error))
         && (r->cpuset_mems == NULL || write_file (leaf, "cpuset.mems", r->cpuset_mems, error));
}

/* Creates the container's cgroup in every hierarchy and applies the resource limits. A relative
 * cgroups_path goes below this process's own cgroup, an absolute one below the hierarchy's
 * root, as runc places them. Returns the leaf folders in the order of layout. */
GPtrArray *
sv_cgroup_create (GPtrArray *layout, const char *cgroups_path, const SvResources *resources,
                  GPtrArray *devices, GError **error)
{
  g_autoptr (GPtrArray) leaves = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < layout->len; i++)
    {
      SvCgroupHierarchy *h = g_ptr_array_index (layout, i);
      g_autofree char *base
          = g_path_is_absolute (cgroups_path) ? g_strdup (h->mount_point) : own_folder (h);
      char *leaf = NULL;

      if (!make_folders (h, base, cgroups_path, &leaf, error))
        goto fail;
      g_ptr_array_add (leaves, leaf);
    }

  if (apply_memory (layout, leaves, resources, error)
      && apply_pids (layout, leaves, resources, error)
      && apply_cpu (layout, leaves, resources, error)
      && apply_cpuset (layout, leaves, resources, error)
      && apply_devices (layout, leaves, resources, devices, error))
    return g_steal_pointer (&leaves);

fail:
  g_ptr_array_add (leaves, NULL);
  sv_cgroup_remove ((const char *const *)leaves->pdata, NULL);
  return NULL;
}

/* Removes the leaf cgroups, waiting up to a second for exiting processes to leave them. */
gboolean
sv_cgroup_remove (const char *const *paths, GError **error)
{
  for (guint i = 0; paths && paths[i]; i++)
    {
      int tries = 0;

      while (rmdir (paths[i]) < 0)
        {
          int saved_errno = errno;

          if (saved_errno == ENOENT)
            break;
          if (saved_errno == EBUSY && tries++ < 200)
            {
              g_usleep (5000);
              continue;
            }
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                       "cannot remove cgroup %s: %s", paths[i], g_strerror (saved_errno));
          return FALSE;
        }
    }
  return TRUE;
}

/* Lists the processes in the container's cgroup, from the first hierarchy that can be read. */
GArray *
sv_cgroup_list_pids (const char *const *paths)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (pid_t));

  for (guint i = 0; paths && paths[i]; i++)
    {
      g_autofree char *file = g_build_filename (paths[i], "cgroup.procs", NULL);
      g_autofree char *contents = NULL;
      g_auto (GStrv) lines = NULL;

      if (!g_file_get_contents (file, &contents, NULL, NULL))
        continue;
      lines = g_strsplit (contents, "\n", -1);
      for (guint j = 0; lines[j]; j++)
        {
          pid_t pid = atoi (lines[j]);
          if (pid > 0)
            g_array_append_val (pids, pid);
        }
      break;
    }
  return pids;
}

/* Finds the folder among paths that has the file name, the sign of a hierarchy's controller. */
static const char *
find_folder_with (const char *const *paths, const char *name)
{
  for (guint i = 0; paths && paths[i]; i++)
    {
      g_autofree char *file = g_build_filename (paths[i], name, NULL);

      if (g_file_test (file, G_FILE_TEST_EXISTS))
        return paths[i];
    }
  return NULL;
}

/* Whether the container's cgroup is frozen, by the v1 freezer or by cgroup2. */
gboolean
sv_cgroup_is_frozen (const char *const *paths)
{
  const char *folder = find_folder_with (paths, "freezer.state");
  g_autofree char *file = NULL;
  g_autofree char *contents = NULL;

  if (folder)
    {
      file = g_build_filename (folder, "freezer.state", NULL);
      return g_file_get_contents (file, &contents, NULL, NULL)
             && !g_str_has_prefix (contents, "THAWED");
    }
  folder = find_folder_with (paths, "cgroup.freeze");
  if (folder == NULL)
    return FALSE;
  file = g_build_filename (folder, "cgroup.freeze", NULL);
  return g_file_get_contents (file, &contents, NULL, NULL) && contents[0] == '1';
}

/* Freezes or thaws every process of the container and waits up to five seconds until the
 * kernel reports the new state: through the v1 freezer when there is one, else cgroup2. */
gboolean
sv_cgroup_freeze (const char *const *paths, gboolean freeze, GError **error)
{
  const char *folder = find_folder_with (paths, "freezer.state");
  const char *file, *value, *expected;
  g_autofree char *path = NULL;

  if (folder)
    {
      file = "freezer.state";
      value = freeze ? "FROZEN" : "THAWED";
      expected = value;
    }
  else if ((folder = find_folder_with (paths, "cgroup.freeze")))
    {
      file = "cgroup.freeze";
      value = freeze ? "1" : "0";
      expected = NULL;
    }
  else
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                           "cannot pause or resume: there is neither a v1 freezer hierarchy nor "
                           "cgroup2");
      return FALSE;
    }
  if (!write_file (folder, file, value, error))
    return FALSE;

  path = expected ? g_build_filename (folder, file, NULL)
                  : g_build_filename (folder, "cgroup.events", NULL);
  for (int tries = 0; tries < 1000; tries++)
    {
      g_autofree char *contents = NULL;

      if (!g_file_get_contents (path, &contents, NULL, NULL))
        break;
      if (expected ? g_str_has_prefix (contents, expected)
                   : strstr (contents, freeze ? "frozen 1" : "frozen 0") != NULL)
        return TRUE;
      g_usleep (5000);
    }
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
               "cgroup %s did not become %s within 5 seconds", folder,
               freeze ? "frozen" : "thawed");
  return FALSE;
}

/* Writes value to the first folder in paths that has the file name. Returns FALSE with
 * *missing set when no folder has it. */
static gboolean
update_file (const char *const *paths, const char *name, const char *value, gboolean *missing,
             GError **error)
{
  const char *folder = find_folder_with (paths, name);

  *missing = folder == NULL;
  if (folder == NULL)
    return FALSE;
  return write_file (folder, name, value, error);
}

/* Writes each value to the first of several candidate files (the v1 name, then the cgroup2 one)
 * that exists, or fails naming the setting when neither does. */
static gboolean
update_any (const char *const *paths, const char *setting, const char *const *names,
            const char *const *values, GError **error)
{
  for (guint i = 0; names[i]; i++)
    {
      gboolean missing = FALSE;

      if (update_file (paths, names[i], values[i], &missing, error))
        return TRUE;
      if (!missing)
        return FALSE;
    }
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
               "cannot update %s: the container has no cgroup with %s", setting, names[0]);
  return FALSE;
}

/* Changes the limits of a running container in its existing cgroups, as `update` does. */
gboolean
sv_cgroup_update (const char *const *paths, const SvResources *r, GError **error)
{
  if (r->has_memory_limit || r->has_memory_swap)
    {
      g_autofree char *limit = g_strdup_printf ("%" G_GINT64_FORMAT, r->memory_limit);
      g_autofree char *limit_v2 = limit_string (r->memory_limit);
      g_autofree char *swap = g_strdup_printf ("%" G_GINT64_FORMAT, r->memory_swap);
      const char *limit_names[] = { "memory.limit_in_bytes", "memory.max", NULL };
      const char *limit_values[] = { limit, limit_v2 };
      /* OCI swap is memory plus swap, but cgroup2 limits swap alone. */
      g_autofree char *swap_v2
          = limit_string (r->memory_swap < 0 || !r->has_memory_limit || r->memory_limit < 0
                              ? -1
                              : r->memory_swap - r->memory_limit);
      const char *swap_names[] = { "memory.memsw.limit_in_bytes", "memory.swap.max", NULL };
      const char *swap_values[] = { swap, swap_v2 };
      gboolean swap_first = FALSE;

      /* v1 rejects a memory limit above the memory+swap limit, so a raise of both writes the
       * swap limit first. */
      if (r->has_memory_limit && r->has_memory_swap)
        {
          g_autoptr (GError) local_error = NULL;

          if (!update_any (paths, "memory", limit_names, limit_values, &local_error))
            swap_first = TRUE;
        }
      if (r->has_memory_swap && !update_any (paths, "memory swap", swap_names, swap_values, error))
        return FALSE;
      if (r->has_memory_limit && (swap_first || !r->has_memory_swap)
          && !update_any (paths, "memory", limit_names, limit_values, error))
        return FALSE;
    }
  if (r->has_memory_reservation)
    {
      g_autofree char *low = g_strdup_printf ("%" G_GINT64_FORMAT, r->memory_reservation);
      g_autofree char *low_v2 = limit_string (r->memory_reservation);
      const char *names[] = { "memory.soft_limit_in_bytes", "memory.low", NULL };
      const char *values[] = { low, low_v2 };

      if (!update_any (paths, "memory reservation", names, values, error))
        return FALSE;
    }
  if (r->has_pids_limit)
    {
      g_autofree char *limit = limit_string (r->pids_limit);
      const char *names[] = { "pids.max", NULL };
      const char *values[] = { limit };

      if (!update_any (paths, "pids limit", names, values, error))
        return FALSE;
    }
  if (r->has_cpu_shares)
    {
      guint64 shares = CLAMP (r->cpu_shares, 2, 262144);
      g_autofree char *v1 = g_strdup_printf ("%" G_GUINT64_FORMAT, r->cpu_shares);
      g_autofree char *weight
          = g_strdup_printf ("%" G_GUINT64_FORMAT, 1 + ((shares - 2) * 9999) / 262142);
      const char *names[] = { "cpu.shares", "cpu.weight", NULL };
      const char *values[] = { v1, weight };

      if (!update_any (paths, "cpu shares", names, values, error))
        return FALSE;
    }
  if (r->has_cpu_period || r->has_cpu_quota)
    {
      g_autofree char *period = g_strdup_printf ("%" G_GUINT64_FORMAT, r->cpu_period);
      g_autofree char *quota = g_strdup_printf ("%" G_GINT64_FORMAT, r->cpu_quota);
      g_autofree char *max = g_strdup_printf ("%s %" G_GUINT64_FORMAT,
                                              r->has_cpu_quota && r->cpu_quota > 0 ? quota : "max",
                                              r->has_cpu_period ? r->cpu_period : 100000);
      const char *period_names[] = { "cpu.cfs_period_us", NULL };
      const char *quota_names[] = { "cpu.cfs_quota_us", NULL };
      const char *max_names[] = { "cpu.max", NULL };
      const char *period_values[] = { period };
      const char *quota_values[] = { quota };
      const char *max_values[] = { max };

      if (find_folder_with (paths, "cpu.max"))
        {
          if (!update_any (paths, "cpu quota", max_names, max_values, error))
            return FALSE;
        }
      else if ((r->has_cpu_period
                && !update_any (paths, "cpu period", period_names, period_values, error))
               || (r->has_cpu_quota
                   && !update_any (paths, "cpu quota", quota_names, quota_values, error)))
        return FALSE;
    }
  if (r->cpuset_cpus || r->cpuset_mems)
    {
      const char *cpus_names[] = { "cpuset.cpus", NULL };
      const char *mems_names[] = { "cpuset.mems", NULL };
      const char *cpus_values[] = { r->cpuset_cpus };
      const char *mems_values[] = { r->cpuset_mems };

      if ((r->cpuset_cpus && !update_any (paths, "cpuset cpus", cpus_names, cpus_values, error))
          || (r->cpuset_mems && !update_any (paths, "cpuset mems", mems_names, mems_values, error)))
        return FALSE;
    }
  return TRUE;
}
