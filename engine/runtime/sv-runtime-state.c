/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-runtime-state.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "sv-engine-error.h"
#include "sv-runtime-cgroup.h"

void
sv_runtime_state_free (SvRuntimeState *state)
{
  g_free (state->id);
  g_free (state->folder);
  g_free (state->bundle);
  g_free (state->rootfs);
  g_free (state->created);
  g_free (state->oci_version);
  g_strfreev (state->cgroup_paths);
  g_clear_pointer (&state->annotations, json_node_unref);
  g_clear_pointer (&state->poststart, json_node_unref);
  g_clear_pointer (&state->poststop, json_node_unref);
  g_free (state);
}

/* Container ids name folders, so they follow runc's rule: letters, digits and _ + - . only. */
gboolean
sv_runtime_id_is_valid (const char *id)
{
  if (id == NULL || *id == '\0' || strlen (id) > 1024 || g_str_equal (id, ".")
      || g_str_equal (id, ".."))
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("_+-.", *p))
      return FALSE;
  return TRUE;
}

/* Returns field 22 (starttime) of /proc/PID/stat, or 0 if the process does not exist. When
 * run_state is given it receives field 3, the state letter ('Z' for a zombie). */
guint64
sv_process_start_time (pid_t pid, char *run_state)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int)pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after_name;

  if (pid <= 0 || !g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  /* The command name in field 2 may contain spaces and parentheses, so it ends at the last ')'. */
  after_name = strrchr (contents, ')');
  if (after_name == NULL)
    return 0;
  fields = g_strsplit (after_name + 2, " ", -1);
  if (g_strv_length (fields) < 20)
    return 0;
  if (run_state)
    *run_state = fields[0][0];
  return g_ascii_strtoull (fields[19], NULL, 10);
}

gboolean
sv_runtime_state_is_alive (SvRuntimeState *state)
{
  char run_state = '?';
  guint64 start_time = sv_process_start_time (state->pid, &run_state);

  return start_time != 0 && start_time == state->start_time && run_state != 'Z' && run_state != 'X';
}

/* "created" until start removes the exec fifo, then "running" (or "paused" while frozen) until
 * the init process exits. */
const char *
sv_runtime_state_status (SvRuntimeState *state)
{
  g_autofree char *fifo = g_build_filename (state->folder, "exec.fifo", NULL);

  if (!sv_runtime_state_is_alive (state))
    return "stopped";
  if (g_file_test (fifo, G_FILE_TEST_EXISTS))
    return "created";
  if (sv_cgroup_is_frozen ((const char *const *)state->cgroup_paths))
    return "paused";
  return "running";
}

/* Builds the state object: for the state command and hooks with a status, or for state.json
 * without a status but with the fields servin-runtime keeps for itself. */
static JsonNode *
build_json (SvRuntimeState *state, const char *status)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  gboolean for_state_command = status != NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "ociVersion");
  json_builder_add_string_value (builder, state->oci_version);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, state->id);
  json_builder_set_member_name (builder, "pid");
  json_builder_add_int_value (builder, status && g_str_equal (status, "stopped") ? 0 : state->pid);
  if (status)
    {
      json_builder_set_member_name (builder, "status");
      json_builder_add_string_value (builder, status);
    }
  json_builder_set_member_name (builder, "bundle");
  json_builder_add_string_value (builder, state->bundle);
  json_builder_set_member_name (builder, "rootfs");
  json_builder_add_string_value (builder, state->rootfs);
  json_builder_set_member_name (builder, "created");
  json_builder_add_string_value (builder, state->created);
  json_builder_set_member_name (builder, "owner");
  json_builder_add_string_value (builder, "");
  if (state->annotations)
    {
      json_builder_set_member_name (builder, "annotations");
      json_builder_add_value (builder, json_node_copy (state->annotations));
    }
  if (!for_state_command)
    {
      json_builder_set_member_name (builder, "initStartTime");
      json_builder_add_int_value (builder, state->start_time);
      json_builder_set_member_name (builder, "cgroupPaths");
      json_builder_begin_array (builder);
      for (guint i = 0; state->cgroup_paths && state->cgroup_paths[i]; i++)
        json_builder_add_string_value (builder, state->cgroup_paths[i]);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "hooks");
      json_builder_begin_object (builder);
      if (state->poststart)
        {
          json_builder_set_member_name (builder, "poststart");
          json_builder_add_value (builder, json_node_copy (state->poststart));
        }
      if (state->poststop)
        {
          json_builder_set_member_name (builder, "poststop");
          json_builder_add_value (builder, json_node_copy (state->poststop));
        }
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* The output of `servin-runtime state`, in the fields and layout runc prints. */
char *
sv_runtime_state_to_json (SvRuntimeState *state)
{
  g_autoptr (JsonNode) node = build_json (state, sv_runtime_state_status (state));
  g_autoptr (JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  return json_generator_to_data (generator, NULL);
}

/* The state that hooks read on their stdin, with the status of the moment they run at. */
char *
sv_runtime_state_to_hook_json (SvRuntimeState *state, const char *status)
{
  g_autoptr (JsonNode) node = build_json (state, status);
  return json_to_string (node, FALSE);
}

gboolean
sv_runtime_state_save (SvRuntimeState *state, GError **error)
{
  g_autoptr (JsonNode) node = build_json (state, NULL);
  g_autofree char *data = json_to_string (node, FALSE);
  g_autofree char *path = g_build_filename (state->folder, "state.json", NULL);
  g_autofree char *temporary = g_build_filename (state->folder, "state.json.new", NULL);

  /* The file is written beside and renamed, so that readers see a whole file. It is not synced,
   * because after a reboot the state describes no running container anyway. */
  if (!g_file_set_contents_full (temporary, data, -1, G_FILE_SET_CONTENTS_NONE, 0600, error))
    {
      g_prefix_error (error, "cannot save the container state: ");
      return FALSE;
    }
  if (rename (temporary, path) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot save the container state to %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

SvRuntimeState *
sv_runtime_state_load (const char *root, const char *id, GError **error)
{
  g_autoptr (SvRuntimeState) state = g_new0 (SvRuntimeState, 1);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *path = NULL;
  JsonObject *object;
  JsonArray *paths;

  if (!sv_runtime_id_is_valid (id))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid container id %s: use letters, digits, _ + - and .", id);
      return NULL;
    }
  state->id = g_strdup (id);
  state->folder = g_build_filename (root, id, NULL);
  path = g_build_filename (state->folder, "state.json", NULL);
  if (!json_parser_load_from_file (parser, path, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                     "container %s does not exist in %s", id, root);
      else
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                     "cannot read the state of container %s from %s: %s", id, path,
                     local_error->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot read the state of container %s: %s is not a JSON object", id, path);
      return NULL;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  state->pid = json_object_get_int_member_with_default (object, "pid", 0);
  state->start_time = json_object_get_int_member_with_default (object, "initStartTime", 0);
  state->bundle = g_strdup (json_object_get_string_member_with_default (object, "bundle", ""));
  state->rootfs = g_strdup (json_object_get_string_member_with_default (object, "rootfs", ""));
  state->created = g_strdup (json_object_get_string_member_with_default (object, "created", ""));
  state->oci_version
      = g_strdup (json_object_get_string_member_with_default (object, "ociVersion", ""));
  if (json_object_has_member (object, "annotations"))
    state->annotations = json_node_copy (json_object_get_member (object, "annotations"));

  if (json_object_has_member (object, "hooks")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "hooks")))
    {
      JsonObject *hooks = json_object_get_object_member (object, "hooks");

      if (json_object_has_member (hooks, "poststart"))
        state->poststart = json_node_copy (json_object_get_member (hooks, "poststart"));
      if (json_object_has_member (hooks, "poststop"))
        state->poststop = json_node_copy (json_object_get_member (hooks, "poststop"));
    }
  paths = json_object_has_member (object, "cgroupPaths")
              ? json_object_get_array_member (object, "cgroupPaths")
              : NULL;
  state->cgroup_paths = g_new0 (char *, (paths ? json_array_get_length (paths) : 0) + 1);
  for (guint i = 0; paths && i < json_array_get_length (paths); i++)
    state->cgroup_paths[i] = g_strdup (json_array_get_string_element (paths, i));
  return g_steal_pointer (&state);
}
