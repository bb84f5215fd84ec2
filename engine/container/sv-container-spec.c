/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-container-spec.h"

#include "sv-container-seccomp.h"
#include "sv-engine-error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Docker's default capability set for a container without --cap-add or --cap-drop. */
static const char *const default_capabilities[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
  NULL,
};

/* Docker's masked and read-only paths of /proc and /sys. */
static const char *const masked_paths[] = {
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
  NULL,
};

static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const char *const namespaces[] = {
  "mount", "pid", "uts", "ipc", "network", "cgroup", NULL,
};

/* Keys of the create options and the GVariant type each must have. */
static const struct
{
  const char *key;
  const char *type;
} option_types[] = {
  { "Image", "s" },          { "Cmd", "as" },         { "Entrypoint", "as" },
  { "Env", "as" },           { "WorkingDir", "s" },   { "User", "s" },
  { "Hostname", "s" },       { "Labels", "a{ss}" },   { "Tty", "b" },
  { "OpenStdin", "b" },      { "AutoRemove", "b" },   { "Memory", "x" },
  { "MemorySwap", "x" },     { "PidsLimit", "x" },    { "NanoCpus", "x" },
  { "CpuShares", "x" },      { "Ulimits", "aa{sv}" }, { "IgnoreUnsupportedLimits", "b" },
  { "SeccompProfile", "s" },
};

void
sv_container_user_clear (SvContainerUser *user)
{
  g_clear_pointer (&user->additional_gids, g_array_unref);
  g_clear_pointer (&user->home, g_free);
}

static JsonArray *
strv_to_array (const char *const *strv)
{
  JsonArray *array = json_array_new ();

  for (gsize i = 0; strv != NULL && strv[i] != NULL; i++)
    json_array_add_string_element (array, strv[i]);
  return array;
}

static char **
array_to_strv (JsonArray *array)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  guint n = array != NULL ? json_array_get_length (array) : 0;

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (node));
    }
  return g_strv_builder_end (builder);
}

/* The string array at @key of @object, or NULL when it is absent or null. */
static JsonArray *
get_array_member (JsonObject *object, const char *key)
{
  JsonNode *node;

  if (object == NULL || !json_object_has_member (object, key))
    return NULL;
  node = json_object_get_member (object, key);
  return JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static const char *
get_string_member (JsonObject *object, const char *key)
{
  JsonNode *node;

  if (object == NULL || !json_object_has_member (object, key))
    return NULL;
  node = json_object_get_member (object, key);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
check_option_types (GVariant *options, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      gboolean known = FALSE;

      for (gsize i = 0; i < G_N_ELEMENTS (option_types); i++)
        {
          if (!g_str_equal (key, option_types[i].key))
            continue;
          known = TRUE;
          if (!g_variant_is_of_type (value, G_VARIANT_TYPE (option_types[i].type)))
            {
              g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "invalid container option %s: expected type %s, got %s", key,
                           option_types[i].type, g_variant_get_type_string (value));
              g_variant_unref (value);
              return FALSE;
            }
        }
      if (!known)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "unknown container option %s", key);
          g_variant_unref (value);
          return FALSE;
        }
    }
  return TRUE;
}

/* The kernel's limit on the length of one argument or environment string, MAX_ARG_STRLEN. */
#define MAX_ARG_STRING (32 * 4096)

/* Merge environment entries by name: @run's entries replace the image's and new names go last.
 * A table from name to position keeps this linear in the number of entries. */
static JsonArray *
merge_env (JsonArray *image_env, GVariant *run_env, GError **error)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) positions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) image_strv = array_to_strv (image_env);
  g_autofree const char **run_strv = NULL;
  JsonArray *array;

  for (gsize i = 0; image_strv[i] != NULL; i++)
    {
      const char *eq = strchr (image_strv[i], '=');

      if (eq != NULL)
        g_hash_table_replace (positions, g_strndup (image_strv[i], eq - image_strv[i]),
                              GUINT_TO_POINTER (entries->len));
      g_ptr_array_add (entries, g_strdup (image_strv[i]));
    }

  if (run_env != NULL)
    run_strv = g_variant_get_strv (run_env, NULL);
  for (gsize i = 0; run_strv != NULL && run_strv[i] != NULL; i++)
    {
      const char *eq = strchr (run_strv[i], '=');
      g_autofree char *name = NULL;
      gpointer position;

      if (eq == NULL || eq == run_strv[i])
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid environment entry \"%s\": expected NAME=VALUE", run_strv[i]);
          return NULL;
        }
      name = g_strndup (run_strv[i], eq - run_strv[i]);
      if (g_hash_table_lookup_extended (positions, name, NULL, &position))
        {
          guint index = GPOINTER_TO_UINT (position);

          g_free (entries->pdata[index]);
          entries->pdata[index] = g_strdup (run_strv[i]);
        }
      else
        {
          g_hash_table_insert (positions, g_steal_pointer (&name), GUINT_TO_POINTER (entries->len));
          g_ptr_array_add (entries, g_strdup (run_strv[i]));
        }
    }

  array = json_array_new ();
  for (guint i = 0; i < entries->len; i++)
    json_array_add_string_element (array, entries->pdata[i]);
  return array;
}

/* Check that the process arguments and environment fit what execve accepts, so a container
 * that cannot start fails at create. Each string may have at most MAX_ARG_STRLEN bytes. All of
 * them with their pointers must fit in ARG_MAX, less room for the entries the spec adds. */
static gboolean
check_exec_size (JsonObject *config, GError **error)
{
  g_auto (GStrv) args = sv_container_spec_get_args (config);
  g_auto (GStrv) env = array_to_strv (get_array_member (config, "Env"));
  long arg_max = sysconf (_SC_ARG_MAX);
  gsize limit = arg_max > 0 ? (gsize)arg_max : 131072;
  gsize total = 0;

  /* PATH, HOSTNAME, TERM and HOME, added when the spec is generated. */
  limit = limit > 8192 ? limit - 8192 : limit;
  for (gsize i = 0; args[i] != NULL; i++)
    {
      gsize length = strlen (args[i]) + 1;

      if (length > MAX_ARG_STRING)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid command: argument %" G_GSIZE_FORMAT " is %" G_GSIZE_FORMAT
                       " bytes long, more than the kernel's limit of %d",
                       i + 1, length - 1, MAX_ARG_STRING - 1);
          return FALSE;
        }
      total += length + sizeof (char *);
    }
  for (gsize i = 0; env[i] != NULL; i++)
    {
      gsize length = strlen (env[i]) + 1;

      if (length > MAX_ARG_STRING)
        {
          const char *eq = strchr (env[i], '=');
          g_autofree char *name = g_strndup (env[i], eq != NULL ? (gsize)(eq - env[i]) : 64);

          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid environment entry %s: it is %" G_GSIZE_FORMAT
                       " bytes long, more than the kernel's limit of %d",
                       name, length - 1, MAX_ARG_STRING - 1);
          return FALSE;
        }
      total += length + sizeof (char *);
    }
  if (total > limit)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid environment and command: together they take %" G_GSIZE_FORMAT
                   " bytes, more than the %" G_GSIZE_FORMAT " bytes a process may start with",
                   total, limit);
      return FALSE;
    }
  return TRUE;
}

/* Docker's hostname rule: RFC 1123 labels of letters, digits and '-', not starting or ending
 * with '-', 1 to 63 characters each, 64 characters in all (the kernel's HOST_NAME_MAX). */
static gboolean
check_hostname (const char *hostname, GError **error)
{
  g_auto (GStrv) labels = g_strsplit (hostname, ".", -1);
  const char *why = NULL;

  if (strlen (hostname) > 64)
    why = "it is longer than 64 characters";
  for (gsize i = 0; why == NULL && labels[i] != NULL; i++)
    {
      gsize length = strlen (labels[i]);

      if (length == 0 || length > 63)
        why = "each part between dots must have 1 to 63 characters";
      else if (labels[i][0] == '-' || labels[i][length - 1] == '-')
        why = "a part must not start or end with '-'";
      for (gsize j = 0; why == NULL && j < length; j++)
        if (!g_ascii_isalnum (labels[i][j]) && labels[i][j] != '-')
          why = "it may contain only letters, digits, '-' and '.'";
    }
  if (why == NULL)
    return TRUE;
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
               "invalid hostname \"%s\": %s", hostname, why);
  return FALSE;
}

/* Labels are stored as KEY=VALUE strings, so a key must not be empty or contain '='. */
static gboolean
check_labels (GVariant *run_labels, GError **error)
{
  GVariantIter iter;
  const char *key, *value;

  if (run_labels == NULL)
    return TRUE;
  g_variant_iter_init (&iter, run_labels);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    if (*key == '\0' || strchr (key, '=') != NULL)
      {
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                     "invalid label key \"%s\": a key must not be empty or contain '='", key);
        return FALSE;
      }
  return TRUE;
}

static JsonObject *
merge_labels (JsonObject *image_config, GVariant *run_labels)
{
  JsonObject *labels = json_object_new ();
  JsonNode *node = image_config != NULL && json_object_has_member (image_config, "Labels")
                       ? json_object_get_member (image_config, "Labels")
                       : NULL;
  GVariantIter iter;
  const char *key, *value;

  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *image_labels = json_node_get_object (node);
      g_autoptr (GList) members = json_object_get_members (image_labels);

      for (GList *l = members; l != NULL; l = l->next)
        {
          const char *v = get_string_member (image_labels, l->data);
          const char *k = l->data;

          /* The record cannot store such a key, so it is dropped here and rejected per run. */
          if (v != NULL && *k != '\0' && strchr (k, '=') == NULL)
            json_object_set_string_member (labels, k, v);
        }
    }
  if (run_labels != NULL)
    {
      g_variant_iter_init (&iter, run_labels);
      while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
        json_object_set_string_member (labels, key, value);
    }
  return labels;
}

static void
set_strv_or_null (JsonObject *config, const char *key, JsonArray *array)
{
  if (array != NULL)
    json_object_set_array_member (config, key, array);
  else
    json_object_set_null_member (config, key);
}

/* Merge the per-run @options (a{sv} with Docker's field names) over the image's config the way
 * docker create does: an Entrypoint given per run drops the image's Cmd unless Cmd is given
 * too, per-run Env entries replace the image's of the same name, and the hostname defaults to
 * the first 12 characters of @id. Returns a Docker "Config" object. */
JsonObject *
sv_container_spec_merge_config (JsonObject *image_config, GVariant *options, const char *id,
                                GError **error)
{
  g_autoptr (JsonObject) config = json_object_new ();
  g_autoptr (GVariant) cmd = NULL, entrypoint = NULL, env = NULL, labels = NULL;
  const char *image = NULL, *working_dir = NULL, *user = NULL, *hostname = NULL;
  gboolean tty = FALSE, open_stdin = FALSE;
  JsonArray *env_array;

  if (!check_option_types (options, error))
    return NULL;

  cmd = g_variant_lookup_value (options, "Cmd", G_VARIANT_TYPE_STRING_ARRAY);
  entrypoint = g_variant_lookup_value (options, "Entrypoint", G_VARIANT_TYPE_STRING_ARRAY);
  env = g_variant_lookup_value (options, "Env", G_VARIANT_TYPE_STRING_ARRAY);
  labels = g_variant_lookup_value (options, "Labels", G_VARIANT_TYPE ("a{ss}"));
  g_variant_lookup (options, "Image", "&s", &image);
  g_variant_lookup (options, "WorkingDir", "&s", &working_dir);
  g_variant_lookup (options, "User", "&s", &user);
  g_variant_lookup (options, "Hostname", "&s", &hostname);
  g_variant_lookup (options, "Tty", "b", &tty);
  g_variant_lookup (options, "OpenStdin", "b", &open_stdin);

  if (image != NULL)
    json_object_set_string_member (config, "Image", image);

  if (!check_labels (labels, error))
    return NULL;
  if (hostname != NULL && *hostname != '\0' && !check_hostname (hostname, error))
    return NULL;

  if (entrypoint != NULL)
    {
      g_autofree const char **strv = g_variant_get_strv (entrypoint, NULL);
      /* As in docker, an Entrypoint of one empty string resets the image's. */
      gboolean reset = strv[0] == NULL || (*strv[0] == '\0' && strv[1] == NULL);
      set_strv_or_null (config, "Entrypoint", reset ? NULL : strv_to_array (strv));
    }
  else
    {
      JsonArray *array = get_array_member (image_config, "Entrypoint");
      set_strv_or_null (config, "Entrypoint", array != NULL ? json_array_ref (array) : NULL);
    }

  if (cmd != NULL)
    {
      g_autofree const char **strv = g_variant_get_strv (cmd, NULL);
      set_strv_or_null (config, "Cmd", strv_to_array (strv));
    }
  else if (entrypoint == NULL)
    {
      JsonArray *array = get_array_member (image_config, "Cmd");
      set_strv_or_null (config, "Cmd", array != NULL ? json_array_ref (array) : NULL);
    }
  else
    json_object_set_null_member (config, "Cmd");

  env_array = merge_env (get_array_member (image_config, "Env"), env, error);
  if (env_array == NULL)
    return NULL;
  json_object_set_array_member (config, "Env", env_array);

  if (working_dir == NULL || *working_dir == '\0')
    working_dir = get_string_member (image_config, "WorkingDir");
  if (working_dir == NULL || *working_dir == '\0')
    working_dir = "/";
  if (!g_path_is_absolute (working_dir))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid working directory \"%s\": it must be an absolute path", working_dir);
      return NULL;
    }
  json_object_set_string_member (config, "WorkingDir", working_dir);

  if (user == NULL || *user == '\0')
    user = get_string_member (image_config, "User");
  json_object_set_string_member (config, "User", user != NULL ? user : "");

  if (hostname == NULL || *hostname == '\0')
    {
      g_autofree char *short_id = g_strndup (id, 12);
      json_object_set_string_member (config, "Hostname", short_id);
    }
  else
    json_object_set_string_member (config, "Hostname", hostname);

  json_object_set_object_member (config, "Labels", merge_labels (image_config, labels));
  json_object_set_boolean_member (config, "Tty", tty);
  json_object_set_boolean_member (config, "OpenStdin", open_stdin);
  if (get_string_member (image_config, "StopSignal") != NULL)
    json_object_set_string_member (config, "StopSignal",
                                   get_string_member (image_config, "StopSignal"));

  if (!check_exec_size (config, error))
    return NULL;
  return g_steal_pointer (&config);
}

/* The process arguments of a merged config: Entrypoint followed by Cmd. */
char **
sv_container_spec_get_args (JsonObject *config)
{
  g_auto (GStrv) entrypoint = array_to_strv (get_array_member (config, "Entrypoint"));
  g_auto (GStrv) cmd = array_to_strv (get_array_member (config, "Cmd"));
  GStrvBuilder *builder = g_strv_builder_new ();

  g_strv_builder_addv (builder, (const char **)entrypoint);
  g_strv_builder_addv (builder, (const char **)cmd);
  return g_strv_builder_end (builder);
}

typedef enum
{
  LOOKUP_CONTINUE, /* not in this layer: look in the layer below */
  LOOKUP_FOUND,
  LOOKUP_HIDDEN, /* deleted or hidden by this layer: the merged tree has no such file */
  LOOKUP_LINK,   /* a component is a symbolic link in this layer: resolve its target again */
} LookupResult;

/* How many symbolic links one lookup follows before it gives up, as the kernel's ELOOP. */
#define MAX_LINK_HOPS 40

/* The largest /etc/passwd or /etc/group read from an image. */
#define MAX_DATABASE_SIZE (4 * 1024 * 1024)

static gboolean
is_whiteout_device (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && major (st->st_rdev) == 0 && minor (st->st_rdev) == 0;
}

static gboolean
is_opaque_dir (const char *dir)
{
  char value[2] = { 0 };
  g_autofree char *marker = g_build_filename (dir, ".wh..wh..opq", NULL);

  if (lgetxattr (dir, "trusted.overlay.opaque", value, 1) == 1 && value[0] == 'y')
    return TRUE;
  if (lgetxattr (dir, "user.overlay.opaque", value, 1) == 1 && value[0] == 'y')
    return TRUE;
  return g_file_test (marker, G_FILE_TEST_EXISTS);
}

/* Look up the relative @components in one layer folder. Whiteouts are either overlayfs
 * character devices 0:0 or the tar form ".wh.NAME"; opaque folders carry the overlay xattr or
 * a ".wh..wh..opq" entry. A symbolic link is never followed here: LOOKUP_LINK gives its
 * index in @link_index and its target in @link_target. */
static LookupResult
lookup_in_layer (const char *layer, char **components, gsize *link_index, char **link_target)
{
  g_autofree char *dir = g_strdup (layer);
  gboolean parent_opaque = FALSE;

  for (gsize i = 0; components[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dir, components[i], NULL);
      g_autofree char *wh_name = g_strconcat (".wh.", components[i], NULL);
      g_autofree char *wh_path = g_build_filename (dir, wh_name, NULL);
      gboolean last = components[i + 1] == NULL;
      struct stat st;

      if (lstat (wh_path, &st) == 0)
        return LOOKUP_HIDDEN;
      if (lstat (path, &st) != 0)
        return parent_opaque ? LOOKUP_HIDDEN : LOOKUP_CONTINUE;
      if (is_whiteout_device (&st))
        return LOOKUP_HIDDEN;
      if (S_ISLNK (st.st_mode))
        {
          *link_target = g_file_read_link (path, NULL);
          if (*link_target == NULL)
            return LOOKUP_HIDDEN;
          *link_index = i;
          return LOOKUP_LINK;
        }
      if (last)
        return S_ISREG (st.st_mode) ? LOOKUP_FOUND : LOOKUP_HIDDEN;
      if (!S_ISDIR (st.st_mode))
        return LOOKUP_HIDDEN;

      parent_opaque = is_opaque_dir (path);
      g_free (dir);
      dir = g_steal_pointer (&path);
    }
  return LOOKUP_CONTINUE;
}

/* Append the components of @path to @out, dropping empty ones and "." and taking ".." back
 * one step, never above the container root. */
static void
add_components (GPtrArray *out, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);

  for (gsize i = 0; parts[i] != NULL; i++)
    {
      if (*parts[i] == '\0' || g_str_equal (parts[i], "."))
        continue;
      if (g_str_equal (parts[i], ".."))
        {
          if (out->len > 0)
            g_ptr_array_remove_index (out, out->len - 1);
          continue;
        }
      g_ptr_array_add (out, g_strdup (parts[i]));
    }
}

/* Find @path (relative to the container root) in the merged view of @layer_paths (top layer
 * first), following symbolic links inside that view the way the kernel would inside the
 * container: an absolute target starts again at the container root, ".." stops there. On
 * success, @out_layer is the layer that contains the regular file and @out_relative its path
 * inside that layer, which has no symbolic link in it. Returns FALSE without @error when no
 * layer has the file or a higher layer deleted it. */
static gboolean
find_in_layers (const char *const *layer_paths, const char *path, const char **out_layer,
                char **out_relative, GError **error)
{
  g_autoptr (GPtrArray) components = g_ptr_array_new_with_free_func (g_free);

  add_components (components, path);
  for (guint hops = 0; hops <= MAX_LINK_HOPS; hops++)
    {
      g_autofree char *link_target = NULL;
      gsize link_index = 0;
      gboolean next = FALSE;

      if (components->len == 0)
        return FALSE;
      g_ptr_array_add (components, NULL);

      for (gsize i = 0; !next && layer_paths != NULL && layer_paths[i] != NULL; i++)
        {
          switch (lookup_in_layer (layer_paths[i], (char **)components->pdata, &link_index,
                                   &link_target))
            {
            case LOOKUP_FOUND:
              *out_layer = layer_paths[i];
              *out_relative = g_strjoinv ("/", (char **)components->pdata);
              return TRUE;
            case LOOKUP_HIDDEN:
              return FALSE;
            case LOOKUP_LINK:
              next = TRUE;
              break;
            case LOOKUP_CONTINUE:
              break;
            }
        }
      if (!next)
        return FALSE;

      /* Replace the components up to the link with its target and keep the rest. */
      {
        g_autoptr (GPtrArray) resolved = g_ptr_array_new_with_free_func (g_free);

        g_ptr_array_remove_index (components, components->len - 1);
        if (!g_path_is_absolute (link_target))
          for (gsize i = 0; i < link_index; i++)
            g_ptr_array_add (resolved, g_strdup (components->pdata[i]));
        add_components (resolved, link_target);
        for (guint i = link_index + 1; i < components->len; i++)
          add_components (resolved, components->pdata[i]);
        g_ptr_array_unref (components);
        components = g_steal_pointer (&resolved);
      }
    }
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
               "cannot look up /%s in the image: more than %d symbolic links on the way", path,
               MAX_LINK_HOPS);
  return FALSE;
}

/* The host path of @path (relative to the container root) in the merged view of
 * @layer_paths (top layer first), or NULL when no layer has it or a higher layer deleted it.
 * Symbolic links are followed inside the merged view, never onto the host. */
char *
sv_container_spec_find_layer_file (const char *const *layer_paths, const char *path)
{
  const char *layer = NULL;
  g_autofree char *relative = NULL;

  if (!find_in_layers (layer_paths, path, &layer, &relative, NULL))
    return NULL;
  return g_build_filename (layer, relative, NULL);
}

/* Read a regular file of at most MAX_DATABASE_SIZE bytes at @relative inside @layer. The open
 * refuses symbolic links and paths out of the layer, and does not block on a FIFO. */
static char *
read_layer_file (const char *layer, const char *relative, const char *path, GError **error)
{
  struct open_how how = {
    .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  g_auto (SvFd) layer_fd = open (layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_auto (SvFd) fd = -1;
  g_autoptr (GByteArray) contents = g_byte_array_new ();
  struct stat st;

  if (layer_fd >= 0)
    do
      fd = syscall (SYS_openat2, layer_fd, relative, &how, sizeof how);
    while (fd < 0 && errno == EAGAIN);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot open /%s of the image in layer %s: %s", path, layer, g_strerror (errsv));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "cannot read /%s of the image: it is not a regular file", path);
      return NULL;
    }
  for (;;)
    {
      guint8 buffer[65536];
      ssize_t n = read (fd, buffer, sizeof buffer);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                       "cannot read /%s of the image: %s", path, g_strerror (errsv));
          return NULL;
        }
      if (n == 0)
        break;
      if (contents->len + (gsize)n > MAX_DATABASE_SIZE)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "cannot read /%s of the image: it is larger than %d MiB", path,
                       MAX_DATABASE_SIZE / (1024 * 1024));
          return NULL;
        }
      g_byte_array_append (contents, buffer, n);
    }
  g_byte_array_append (contents, (const guint8 *)"", 1);
  return (char *)g_byte_array_free (g_steal_pointer (&contents), FALSE);
}

/* Read the colon-separated lines of /etc/passwd or /etc/group from the merged layers into
 * @entries. A missing file gives no lines. */
static gboolean
read_database (const char *const *layer_paths, const char *path, guint min_fields,
               GPtrArray *entries, GError **error)
{
  const char *layer = NULL;
  g_autofree char *relative = NULL;
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GError *local_error = NULL;

  if (!find_in_layers (layer_paths, path, &layer, &relative, &local_error))
    {
      if (local_error == NULL)
        return TRUE;
      g_propagate_error (error, local_error);
      return FALSE;
    }
  contents = read_layer_file (layer, relative, path, error);
  if (contents == NULL)
    return FALSE;

  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      char **fields;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      fields = g_strsplit (lines[i], ":", -1);
      if (g_strv_length (fields) < min_fields)
        {
          g_strfreev (fields);
          continue;
        }
      g_ptr_array_add (entries, fields);
    }
  return TRUE;
}

static gboolean
parse_id (const char *text, guint32 *out)
{
  guint64 value;

  if (text == NULL || *text == '\0'
      || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32 - 1, &value, NULL))
    return FALSE;
  *out = value;
  return TRUE;
}

/* Find a passwd (name:x:uid:gid:gecos:home:shell) or group (name:x:gid:members) entry by name,
 * or by number when @number_field is set and @text is numeric. */
static char **
find_entry (GPtrArray *entries, const char *text, guint number_field)
{
  guint32 number = 0;
  gboolean numeric = parse_id (text, &number);

  for (guint i = 0; i < entries->len; i++)
    {
      char **fields = entries->pdata[i];
      guint32 entry_number;

      if (numeric && parse_id (fields[number_field], &entry_number) && entry_number == number)
        return fields;
      if (!numeric && g_str_equal (fields[0], text))
        return fields;
    }
  return NULL;
}

static void
add_gid (GArray *gids, gid_t gid)
{
  for (guint i = 0; i < gids->len; i++)
    if (g_array_index (gids, gid_t, i) == gid)
      return;
  g_array_append_val (gids, gid);
}

/* Resolve a Docker user text ("", "name", "uid", "name:group", "uid:gid") against the image's
 * /etc/passwd and /etc/group. A number needs no entry: its group is the entry's or 0. A name
 * without an entry is INVALID_ARGUMENT, as in docker. Without a group given, the supplementary
 * groups are those whose member list names the user. */
gboolean
sv_container_spec_resolve_user (const char *const *layer_paths, const char *user,
                                SvContainerUser *out, GError **error)
{
  g_autoptr (GPtrArray) passwd = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  g_auto (GStrv) parts = g_strsplit (user != NULL ? user : "", ":", 2);
  const char *user_part = parts[0] != NULL && *parts[0] != '\0' ? parts[0] : "0";
  const char *group_part = parts[0] != NULL ? parts[1] : NULL;
  const char *user_name = NULL;
  char **entry;
  guint32 number = 0;

  memset (out, 0, sizeof *out);
  if (!read_database (layer_paths, "etc/passwd", 7, passwd, error)
      || !read_database (layer_paths, "etc/group", 4, groups, error))
    return FALSE;
  out->additional_gids = g_array_new (FALSE, FALSE, sizeof (gid_t));

  entry = find_entry (passwd, user_part, 2);
  if (entry != NULL)
    {
      guint32 gid = 0;
      parse_id (entry[2], &number);
      parse_id (entry[3], &gid);
      out->uid = number;
      out->gid = gid;
      out->home = g_strdup (*entry[5] != '\0' ? entry[5] : "/");
      user_name = entry[0];
    }
  else if (parse_id (user_part, &number))
    {
      out->uid = number;
      out->gid = 0;
      out->home = g_strdup ("/");
    }
  else
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "unable to find user %s: no matching entries in the image's /etc/passwd",
                   user_part);
      sv_container_user_clear (out);
      return FALSE;
    }

  if (group_part != NULL && *group_part != '\0')
    {
      entry = find_entry (groups, group_part, 2);
      if (entry != NULL)
        parse_id (entry[2], &number);
      else if (!parse_id (group_part, &number))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "unable to find group %s: no matching entries in the image's /etc/group",
                       group_part);
          sv_container_user_clear (out);
          return FALSE;
        }
      out->gid = number;
      add_gid (out->additional_gids, out->gid);
      return TRUE;
    }

  add_gid (out->additional_gids, out->gid);
  for (guint i = 0; user_name != NULL && i < groups->len; i++)
    {
      char **fields = groups->pdata[i];
      g_auto (GStrv) members = g_strsplit (fields[3], ",", -1);

      if (g_strv_contains ((const char *const *)members, user_name)
          && parse_id (fields[2], &number))
        add_gid (out->additional_gids, number);
    }
  return TRUE;
}

static void
add_mount (JsonArray *mounts, const char *destination, const char *type, const char *source,
           const char *options)
{
  JsonObject *mount = json_object_new ();
  g_auto (GStrv) option_list = g_strsplit (options, ",", -1);

  json_object_set_string_member (mount, "destination", destination);
  json_object_set_string_member (mount, "type", type);
  json_object_set_string_member (mount, "source", source);
  json_object_set_array_member (mount, "options", strv_to_array ((const char *const *)option_list));
  json_array_add_object_element (mounts, mount);
}

static JsonArray *
build_mounts (const SvContainerSpecInput *input)
{
  JsonArray *mounts = json_array_new ();

  add_mount (mounts, "/proc", "proc", "proc", "nosuid,noexec,nodev");
  add_mount (mounts, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
  add_mount (mounts, "/dev/pts", "devpts", "devpts",
             "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
  add_mount (mounts, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
  add_mount (mounts, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro");
  add_mount (mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
  add_mount (mounts, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=67108864");
  if (input->etc_folder != NULL)
    {
      g_autofree char *hostname = g_build_filename (input->etc_folder, "hostname", NULL);
      g_autofree char *hosts = g_build_filename (input->etc_folder, "hosts", NULL);

      add_mount (mounts, "/etc/hostname", "bind", hostname, "rbind,rprivate");
      add_mount (mounts, "/etc/hosts", "bind", hosts, "rbind,rprivate");
    }
  return mounts;
}

static JsonObject *
build_capabilities (void)
{
  JsonObject *caps = json_object_new ();

  json_object_set_array_member (caps, "bounding", strv_to_array (default_capabilities));
  json_object_set_array_member (caps, "effective", strv_to_array (default_capabilities));
  json_object_set_array_member (caps, "permitted", strv_to_array (default_capabilities));
  return caps;
}

static void
add_device_rule (JsonArray *rules, gboolean allow, const char *type, gint64 major_number,
                 gint64 minor_number, const char *access)
{
  JsonObject *rule = json_object_new ();

  json_object_set_boolean_member (rule, "allow", allow);
  if (type != NULL)
    json_object_set_string_member (rule, "type", type);
  if (major_number >= 0)
    json_object_set_int_member (rule, "major", major_number);
  if (minor_number >= 0)
    json_object_set_int_member (rule, "minor", minor_number);
  json_object_set_string_member (rule, "access", access);
  json_array_add_object_element (rules, rule);
}

/* Docker's device cgroup rules: deny everything but the standard character devices. */
static JsonObject *
build_device_resources (void)
{
  JsonObject *resources = json_object_new ();
  JsonArray *devices = json_array_new ();

  add_device_rule (devices, FALSE, NULL, -1, -1, "rwm");
  add_device_rule (devices, TRUE, "c", 1, 3, "rwm");     /* null */
  add_device_rule (devices, TRUE, "c", 1, 5, "rwm");     /* zero */
  add_device_rule (devices, TRUE, "c", 1, 7, "rwm");     /* full */
  add_device_rule (devices, TRUE, "c", 1, 8, "rwm");     /* random */
  add_device_rule (devices, TRUE, "c", 1, 9, "rwm");     /* urandom */
  add_device_rule (devices, TRUE, "c", 5, 0, "rwm");     /* tty */
  add_device_rule (devices, TRUE, "c", 5, 1, "rwm");     /* console */
  add_device_rule (devices, TRUE, "c", 5, 2, "rwm");     /* ptmx */
  add_device_rule (devices, TRUE, "c", 136, -1, "rwm");  /* pts */
  add_device_rule (devices, TRUE, "c", 10, 200, "rwm");  /* net/tun */
  add_device_rule (devices, FALSE, "c", 10, 229, "rwm"); /* fuse */
  json_object_set_array_member (resources, "devices", devices);
  return resources;
}

static JsonObject *
build_linux (const SvContainerSpecInput *input, GError **error)
{
  static const SvCgroupSupport all_supported = { TRUE, TRUE, TRUE, TRUE, TRUE };
  g_autoptr (JsonObject) resources = build_device_resources ();
  JsonObject *linux_object;
  JsonArray *ns_array = json_array_new ();
  g_autofree char *cgroups_path = g_strdup_printf ("%s/%s", input->cgroup_parent, input->id);

  if (!sv_container_resources_build (input->host_config,
                                     input->cgroup_support ? input->cgroup_support : &all_supported,
                                     input->id, resources, error))
    return NULL;

  linux_object = json_object_new ();
  for (gsize i = 0; namespaces[i] != NULL; i++)
    {
      JsonObject *ns = json_object_new ();
      json_object_set_string_member (ns, "type", namespaces[i]);
      json_array_add_object_element (ns_array, ns);
    }
  json_object_set_array_member (linux_object, "namespaces", ns_array);
  json_object_set_string_member (linux_object, "cgroupsPath", cgroups_path);
  json_object_set_object_member (linux_object, "resources", g_steal_pointer (&resources));
  json_object_set_array_member (linux_object, "maskedPaths", strv_to_array (masked_paths));
  json_object_set_array_member (linux_object, "readonlyPaths", strv_to_array (readonly_paths));
  if (!sv_container_seccomp_add_to_linux (linux_object, input->host_config, default_capabilities,
                                          error))
    {
      json_object_unref (linux_object);
      return NULL;
    }
  return linux_object;
}

static gboolean
env_has (GPtrArray *env, const char *name)
{
  gsize len = strlen (name);

  for (guint i = 0; i < env->len; i++)
    {
      const char *entry = env->pdata[i];
      if (strncmp (entry, name, len) == 0 && entry[len] == '=')
        return TRUE;
    }
  return FALSE;
}

/* The process environment: PATH (Docker's default when unset), HOSTNAME, TERM with a terminal,
 * then the merged config's entries, then HOME from the passwd entry when unset. */
static JsonArray *
build_env (JsonObject *config, const SvContainerUser *user)
{
  g_auto (GStrv) config_env = array_to_strv (get_array_member (config, "Env"));
  g_autoptr (GPtrArray) env = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) merged = g_ptr_array_new ();
  JsonArray *array = json_array_new ();

  for (gsize i = 0; config_env[i] != NULL; i++)
    g_ptr_array_add (merged, config_env[i]);

  if (!env_has (merged, "PATH"))
    g_ptr_array_add (env, g_strdup ("PATH=" SV_CONTAINER_DEFAULT_PATH));
  if (!env_has (merged, "HOSTNAME"))
    g_ptr_array_add (env, g_strdup_printf ("HOSTNAME=%s", get_string_member (config, "Hostname")));
  if (json_object_get_boolean_member_with_default (config, "Tty", FALSE)
      && !env_has (merged, "TERM"))
    g_ptr_array_add (env, g_strdup ("TERM=xterm"));
  for (guint i = 0; i < merged->len; i++)
    g_ptr_array_add (env, g_strdup (merged->pdata[i]));
  if (!env_has (env, "HOME"))
    g_ptr_array_add (env, g_strdup_printf ("HOME=%s", user->home));

  for (guint i = 0; i < env->len; i++)
    json_array_add_string_element (array, env->pdata[i]);
  return array;
}

static JsonObject *
build_process (const SvContainerSpecInput *input, const SvContainerUser *user, char **args)
{
  JsonObject *process = json_object_new ();
  JsonObject *user_object = json_object_new ();
  JsonArray *gids = json_array_new ();

  json_object_set_int_member (user_object, "uid", user->uid);
  json_object_set_int_member (user_object, "gid", user->gid);
  for (guint i = 0; i < user->additional_gids->len; i++)
    json_array_add_int_element (gids, g_array_index (user->additional_gids, gid_t, i));
  json_object_set_array_member (user_object, "additionalGids", gids);

  /* NOTE: terminal stays false because the monitor has no console socket yet; Tty only sets
   * TERM. */
  json_object_set_boolean_member (process, "terminal", FALSE);
  json_object_set_object_member (process, "user", user_object);
  json_object_set_array_member (process, "args", strv_to_array ((const char *const *)args));
  json_object_set_array_member (process, "env", build_env (input->config, user));
  json_object_set_string_member (process, "cwd", get_string_member (input->config, "WorkingDir"));
  json_object_set_object_member (process, "capabilities", build_capabilities ());
  json_object_set_array_member (
      process, "rlimits",
      sv_container_resources_build_rlimits (input->host_config, input->host_rlimits, input->id));
  json_object_set_boolean_member (process, "noNewPrivileges", FALSE);
  return process;
}

/* Generate the OCI runtime config.json of a container from its merged config. The bundle's
 * root is "rootfs" beside config.json. Fails with INVALID_ARGUMENT when no command is set or
 * the user does not resolve, and with UNSUPPORTED when the host cannot enforce a limit of
 * input->host_config (see sv_container_resources_build). */
JsonObject *
sv_container_spec_generate (const SvContainerSpecInput *input, GError **error)
{
  g_autoptr (JsonObject) spec = json_object_new ();
  g_auto (SvContainerUser) user = { 0 };
  g_auto (GStrv) args = sv_container_spec_get_args (input->config);
  JsonObject *root = json_object_new ();
  JsonObject *linux_object;
  const char *cwd = get_string_member (input->config, "WorkingDir");

  if (args[0] == NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "no command specified for container %s: the image has no Cmd or Entrypoint, "
                   "so give a command",
                   input->id);
      json_object_unref (root);
      return NULL;
    }
  if (*args[0] == '\0')
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid command for container %s: the program name is an empty string",
                   input->id);
      json_object_unref (root);
      return NULL;
    }
  if (cwd == NULL || !g_path_is_absolute (cwd))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid working directory \"%s\": it must be an absolute path",
                   cwd != NULL ? cwd : "");
      json_object_unref (root);
      return NULL;
    }
  if (!sv_container_spec_resolve_user (input->layer_paths,
                                       get_string_member (input->config, "User"), &user, error))
    {
      json_object_unref (root);
      return NULL;
    }

  linux_object = build_linux (input, error);
  if (linux_object == NULL)
    {
      json_object_unref (root);
      return NULL;
    }

  json_object_set_string_member (spec, "ociVersion", "1.0.2");
  json_object_set_object_member (spec, "process", build_process (input, &user, args));
  json_object_set_string_member (root, "path", "rootfs");
  json_object_set_boolean_member (root, "readonly", FALSE);
  json_object_set_object_member (spec, "root", root);
  json_object_set_string_member (spec, "hostname", get_string_member (input->config, "Hostname"));
  json_object_set_array_member (spec, "mounts", build_mounts (input));
  json_object_set_object_member (spec, "linux", linux_object);
  return g_steal_pointer (&spec);
}

/* Read this process's limits, which the container's runtime inherits and, without
 * CAP_SYS_RESOURCE, cannot raise. */
void
sv_container_spec_get_host_rlimits (struct rlimit limits[RLIM_NLIMITS])
{
  for (int resource = 0; resource < RLIM_NLIMITS; resource++)
    if (getrlimit (resource, &limits[resource]) != 0)
      limits[resource].rlim_cur = limits[resource].rlim_max = RLIM_INFINITY;
}
