/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-runtime-state.h"

#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
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
  g_free (state->annotations);
  g_free (state->poststart);
  g_free (state->poststop);
  g_free (state);
}

void
sv_runtime_state_remove_folder (const char *folder)
{
  const char *names[] = { "exec.fifo", "state" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (folder, names[i], NULL);
      unlink (path);
    }
  rmdir (folder);
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

/* Opens a pidfd of the container's init process, or returns -1 if it is no longer running. */
int
sv_runtime_state_open_pidfd (SvRuntimeState *state)
{
  int fd = syscall (SYS_pidfd_open, state->pid, 0);

  /* Check after opening, so the descriptor cannot name a process that reused the pid. */
  if (fd >= 0 && !sv_runtime_state_is_alive (state))
    {
      close (fd);
      return -1;
    }
  return fd;
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

/* Appends value as a JSON string, with the escapes RFC 8259 requires. */
void
sv_json_append_string (GString *out, const char *value)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *)value; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else if (*p == '\n')
        g_string_append (out, "\\n");
      else if (*p == '\t')
        g_string_append (out, "\\t");
      else if (*p < 0x20)
        g_string_append_printf (out, "\\u%04x", *p);
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static void
append_member (GString *out, const char *name, const char *separator, const char *raw_value,
               const char *string_value)
{
  g_string_append (out, separator);
  sv_json_append_string (out, name);
  g_string_append (out, ": ");
  if (raw_value)
    g_string_append (out, raw_value);
  else
    sv_json_append_string (out, string_value ? string_value : "");
}

/* Formats the state as runc does for `state` (pretty) and for hooks and `list` (compact). The
 * pid is 0 once the container has stopped. */
char *
sv_runtime_state_to_json (SvRuntimeState *state, const char *status, gboolean pretty)
{
  GString *out = g_string_new (pretty ? "{\n  " : "{");
  const char *separator = pretty ? ",\n  " : ",";
  g_autofree char *pid
      = g_strdup_printf ("%d", g_str_equal (status, "stopped") ? 0 : (int)state->pid);

  append_member (out, "ociVersion", "", NULL, state->oci_version);
  append_member (out, "id", separator, NULL, state->id);
  append_member (out, "pid", separator, pid, NULL);
  append_member (out, "status", separator, NULL, status);
  append_member (out, "bundle", separator, NULL, state->bundle);
  append_member (out, "rootfs", separator, NULL, state->rootfs);
  append_member (out, "created", separator, NULL, state->created);
  append_member (out, "owner", separator, NULL, "");
  if (state->annotations)
    append_member (out, "annotations", separator, state->annotations, NULL);
  g_string_append (out, pretty ? "\n}" : "}");
  return g_string_free (out, FALSE);
}

gboolean
sv_runtime_state_save (SvRuntimeState *state, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *path = g_build_filename (state->folder, "state", NULL);
  g_autofree char *temporary = g_build_filename (state->folder, "state.new", NULL);
  g_autofree char *data = NULL;
  gsize length;

  g_key_file_set_string (file, "container", "id", state->id);
  g_key_file_set_integer (file, "container", "pid", state->pid);
  g_key_file_set_uint64 (file, "container", "start-time", state->start_time);
  g_key_file_set_string (file, "container", "bundle", state->bundle);
  g_key_file_set_string (file, "container", "rootfs", state->rootfs);
  g_key_file_set_string (file, "container", "created", state->created);
  g_key_file_set_string (file, "container", "oci-version", state->oci_version);
  g_key_file_set_string_list (file, "container", "cgroup-paths",
                              (const char *const *)state->cgroup_paths,
                              state->cgroup_paths ? g_strv_length (state->cgroup_paths) : 0);
  if (state->annotations)
    g_key_file_set_string (file, "container", "annotations", state->annotations);
  if (state->poststart)
    g_key_file_set_string (file, "hooks", "poststart", state->poststart);
  if (state->poststop)
    g_key_file_set_string (file, "hooks", "poststop", state->poststop);
  data = g_key_file_to_data (file, &length, NULL);

  /* The file is written beside and renamed, so that readers see a whole file. It is not synced,
   * because after a reboot the state describes no running container anyway. */
  if (!g_file_set_contents_full (temporary, data, length, G_FILE_SET_CONTENTS_NONE, 0600, error))
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
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *path = NULL;

  if (!sv_runtime_id_is_valid (id))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid container id %s: use letters, digits, _ + - and .", id);
      return NULL;
    }
  state->id = g_strdup (id);
  state->folder = g_build_filename (root, id, NULL);
  path = g_build_filename (state->folder, "state", NULL);
  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local_error))
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

  state->pid = g_key_file_get_integer (file, "container", "pid", NULL);
  state->start_time = g_key_file_get_uint64 (file, "container", "start-time", NULL);
  state->bundle = g_key_file_get_string (file, "container", "bundle", NULL);
  state->rootfs = g_key_file_get_string (file, "container", "rootfs", NULL);
  state->created = g_key_file_get_string (file, "container", "created", NULL);
  state->oci_version = g_key_file_get_string (file, "container", "oci-version", NULL);
  state->cgroup_paths = g_key_file_get_string_list (file, "container", "cgroup-paths", NULL, NULL);
  state->annotations = g_key_file_get_string (file, "container", "annotations", NULL);
  state->poststart = g_key_file_get_string (file, "hooks", "poststart", NULL);
  state->poststop = g_key_file_get_string (file, "hooks", "poststop", NULL);
  if (state->cgroup_paths == NULL)
    state->cgroup_paths = g_new0 (char *, 1);
  if (state->bundle == NULL || state->created == NULL || state->oci_version == NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot read the state of container %s: %s lacks bundle, created or "
                   "oci-version",
                   id, path);
      return NULL;
    }
  if (state->rootfs == NULL)
    state->rootfs = g_strdup ("");
  return g_steal_pointer (&state);
}
