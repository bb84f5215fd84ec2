/* SPDX-License-Identifier: GPL-2.0-or-later */

/* The commands that work on an existing container from its state file: start, state, kill,
 * delete, pause, resume, ps and list. They need GLib only. */
#include "sv-runtime-container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sv-engine-error.h"
#include "sv-runtime-cgroup.h"
#include "sv-runtime-module.h"
#include "sv-runtime-state.h"

/* Runs hooks of a kind that must not stop the container: a failure is only a warning. The
 * hooks need servin-runtime-create.so to parse them. */
static void
run_hooks_warning (SvRuntimeState *state, const char *hooks_json, const char *name,
                   const char *status)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  const SvRuntimeModule *module;

  if (hooks_json == NULL)
    return;
  module = sv_runtime_module_load (&error);
  json = sv_runtime_state_to_json (state, status, FALSE);
  if (module == NULL || !module->run_hooks (hooks_json, name, json, &error))
    g_warning ("container %s: %s", state->id, error->message);
}

gboolean
sv_container_print_state (const char *root, const char *id, GError **error)
{
  g_autoptr (SvRuntimeState) state = sv_runtime_state_load (root, id, error);
  g_autofree char *json = NULL;

  if (state == NULL)
    return FALSE;
  json = sv_runtime_state_to_json (state, sv_runtime_state_status (state), TRUE);
  g_print ("%s\n", json);
  return TRUE;
}

gboolean
sv_container_start (const char *root, const char *id, GError **error)
{
  g_autoptr (SvRuntimeState) state = sv_runtime_state_load (root, id, error);
  g_autofree char *fifo_path = NULL;
  g_auto (SvFd) fifo = -1;
  g_auto (SvFd) pidfd = -1;
  const char *status;
  char byte;

  if (state == NULL)
    return FALSE;
  status = sv_runtime_state_status (state);
  if (!g_str_equal (status, "created"))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "cannot start container %s: it is %s, not created", id, status);
      return FALSE;
    }
  pidfd = sv_runtime_state_open_pidfd (state);
  fifo_path = g_build_filename (state->folder, "exec.fifo", NULL);
  fifo = open (fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0 || pidfd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot start container %s: %s",
                   id, g_strerror (saved_errno));
      return FALSE;
    }

  /* The container process writes one byte once it has opened the fifo. If it dies instead,
   * the pid descriptor becomes readable. */
  for (;;)
    {
      struct pollfd fds[2] = { { fifo, POLLIN, 0 }, { pidfd, POLLIN, 0 } };

      if (poll (fds, 2, -1) < 0 && errno != EINTR)
        {
          int saved_errno = errno;
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                       "cannot wait for container %s to start: %s", id, g_strerror (saved_errno));
          return FALSE;
        }
      if (fds[0].revents & POLLIN)
        break;
      if (fds[1].revents)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                       "cannot start container %s: its process exited before start", id);
          return FALSE;
        }
    }
  if (read (fifo, &byte, 1) != 1)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot start container %s: the exec fifo closed without data", id);
      return FALSE;
    }
  unlink (fifo_path);
  run_hooks_warning (state, state->poststart, "poststart", "running");
  return TRUE;
}

gboolean
sv_container_kill (const char *root, const char *id, int signal_number, gboolean all,
                   GError **error)
{
  g_autoptr (SvRuntimeState) state = sv_runtime_state_load (root, id, error);
  g_auto (SvFd) pidfd = -1;

  if (state == NULL)
    return FALSE;
  if (all)
    {
      g_autoptr (GArray) pids = sv_cgroup_list_pids ((const char *const *)state->cgroup_paths);

      for (guint i = 0; i < pids->len; i++)
        kill (g_array_index (pids, pid_t, i), signal_number);
      return TRUE;
    }

  pidfd = sv_runtime_state_open_pidfd (state);
  if (pidfd < 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_RUNNING,
                   "cannot kill container %s: it is not running", id);
      return FALSE;
    }
  if (syscall (SYS_pidfd_send_signal, pidfd, signal_number, NULL, 0) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot send signal %d to container %s: %s", signal_number, id,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* Kills the container's processes and waits up to ten seconds for its init to exit. */
static gboolean
kill_and_wait (SvRuntimeState *state, GError **error)
{
  g_autoptr (GArray) pids = sv_cgroup_list_pids ((const char *const *)state->cgroup_paths);
  g_auto (SvFd) pidfd = sv_runtime_state_open_pidfd (state);
  struct pollfd fds = { pidfd, POLLIN, 0 };

  if (pidfd >= 0)
    syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
  for (guint i = 0; i < pids->len; i++)
    kill (g_array_index (pids, pid_t, i), SIGKILL);
  /* Frozen processes only die once thawed. */
  if (sv_cgroup_is_frozen ((const char *const *)state->cgroup_paths))
    sv_cgroup_freeze ((const char *const *)state->cgroup_paths, FALSE, NULL);
  if (pidfd >= 0 && poll (&fds, 1, 10000) == 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "container %s did not exit within 10 seconds of SIGKILL", state->id);
      return FALSE;
    }
  return TRUE;
}

gboolean
sv_container_delete (const char *root, const char *id, gboolean force, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (SvRuntimeState) state = sv_runtime_state_load (root, id, &local_error);
  const char *status;

  if (state == NULL)
    {
      /* Like runc, --force also succeeds for a container that is already gone. */
      if (force && g_error_matches (local_error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  status = sv_runtime_state_status (state);
  if (g_str_equal (status, "running") && !force)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "cannot delete container %s: it is running; stop it first or use --force", id);
      return FALSE;
    }
  /* Without a pid namespace, processes can outlive the init process, so they are killed too. */
  if (!kill_and_wait (state, error))
    return FALSE;
  if (!sv_cgroup_remove ((const char *const *)state->cgroup_paths, error))
    return FALSE;
  sv_runtime_state_remove_folder (state->folder);
  run_hooks_warning (state, state->poststop, "poststop", "stopped");
  return TRUE;
}

/* Freezes (pause) or thaws (resume) all processes of a running container. */
gboolean
sv_container_pause (const char *root, const char *id, gboolean pause, GError **error)
{
  g_autoptr (SvRuntimeState) state = sv_runtime_state_load (root, id, error);
  const char *status;

  if (state == NULL)
    return FALSE;
  status = sv_runtime_state_status (state);
  if (!g_str_equal (status, pause ? "running" : "paused"))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "cannot %s container %s: it is %s", pause ? "pause" : "resume", id, status);
      return FALSE;
    }
  return sv_cgroup_freeze ((const char *const *)state->cgroup_paths, pause, error);
}

/* Prints the pids of the container's processes, as a JSON array or one per line. */
gboolean
sv_container_print_pids (const char *root, const char *id, gboolean json, GError **error)
{
  g_autoptr (SvRuntimeState) state = sv_runtime_state_load (root, id, error);
  g_autoptr (GArray) pids = NULL;
  g_autoptr (GString) out = g_string_new (json ? "[" : "PID\n");

  if (state == NULL)
    return FALSE;
  pids = sv_cgroup_list_pids ((const char *const *)state->cgroup_paths);
  for (guint i = 0; i < pids->len; i++)
    g_string_append_printf (out, json ? "%s%d" : "%s%d\n", json && i ? "," : "",
                            (int)g_array_index (pids, pid_t, i));
  if (json)
    g_string_append (out, "]\n");
  fputs (out->str, stdout);
  return TRUE;
}

/* Prints the containers in the state folder, as a JSON array of states or as a table. */
gboolean
sv_container_print_list (const char *root, gboolean json, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (root, 0, NULL);
  g_autoptr (GString) array = g_string_new ("[");
  g_autoptr (GString) table = g_string_new ("ID\tPID\tSTATUS\tBUNDLE\tCREATED\n");
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autoptr (SvRuntimeState) state = sv_runtime_state_load (root, name, NULL);
      g_autofree char *text = NULL;
      const char *status;

      if (state == NULL)
        continue;
      status = sv_runtime_state_status (state);
      g_string_append_printf (table, "%s\t%d\t%s\t%s\t%s\n", state->id,
                              g_str_equal (status, "stopped") ? 0 : (int)state->pid, status,
                              state->bundle, state->created);
      text = sv_runtime_state_to_json (state, status, FALSE);
      g_string_append_printf (array, "%s%s", array->len > 1 ? "," : "", text);
    }
  g_string_append (array, "]\n");
  fputs (json ? array->str : table->str, stdout);
  return TRUE;
}

/* Changes the resource limits of a container that has not stopped. */
gboolean
sv_container_update (const char *root, const char *id, const SvResources *resources, GError **error)
{
  g_autoptr (SvRuntimeState) state = sv_runtime_state_load (root, id, error);

  if (state == NULL)
    return FALSE;
  if (g_str_equal (sv_runtime_state_status (state), "stopped"))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_RUNNING,
                   "cannot update container %s: it has stopped", id);
      return FALSE;
    }
  if (!sv_cgroup_update ((const char *const *)state->cgroup_paths, resources, error))
    {
      g_prefix_error (error, "cannot update container %s: ", id);
      return FALSE;
    }
  return TRUE;
}
