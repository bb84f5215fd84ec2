/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container lifecycle through servin-monitor: the overlay root, the monitor process, and the
 * connection to its control socket. End of file on that connection means the container exited. */
#include "sv-container-private.h"

#include "sv-build-config.h"
#include "sv-container-spec.h"
#include "sv-engine-error.h"
#include "sv-overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gio/gunixfdmessage.h>
#include <gio/gunixsocketaddress.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long the monitor may take to create the container (runtime create included). */
#define CREATE_TIMEOUT_MS 60000
/* How many attaches may wait for the start of one container, each holding a descriptor. */
#define SV_CONTAINER_MAX_PENDING_ATTACHES 16
/* How long a forced removal waits for the monitor to finish after SIGKILL. */
#define REAP_TIMEOUT_SECONDS 15

static void read_next_reply (SvContainer *self);

static int remove_tree_errno;

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  if (remove (path) != 0 && errno != ENOENT)
    {
      remove_tree_errno = errno;
      return -1;
    }
  return 0;
}

/* Remove @path and everything below it without crossing into other file systems, so a
 * still-mounted container root is never emptied. */
gboolean
sv_remove_tree (const char *path, GError **error)
{
  remove_tree_errno = 0;
  if (nftw (path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
    {
      int saved_errno = remove_tree_errno != 0 ? remove_tree_errno : errno;

      if (saved_errno == ENOENT)
        return TRUE;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot remove %s: %s", path,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static char *
state_path (SvContainer *self, const char *name)
{
  return g_build_filename (self->state_dir, name, NULL);
}

/* A program of this project: from the build tree when SERVIN_BUILD_ROOT is set (tests),
 * else from LIBEXECDIR. */
static char *
find_project_program (const char *build_subdir, const char *name, GError **error)
{
  const char *build_root = g_getenv ("SERVIN_BUILD_ROOT");
  g_autofree char *path = NULL;

  if (build_root != NULL && *build_root != '\0')
    path = g_build_filename (build_root, build_subdir, name, NULL);
  else
    path = g_build_filename (SV_LIBEXECDIR, name, NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                   "%s not found at %s: install Servin or set SERVIN_BUILD_ROOT to a build tree",
                   name, path);
      return NULL;
    }
  return g_steal_pointer (&path);
}

static char *
find_runtime (SvContainer *self, GError **error)
{
  const char *runtime = sv_config_get_runtime (self->config);
  g_autofree char *path = NULL;

  if (runtime == NULL || *runtime == '\0' || g_str_equal (runtime, "servin-runtime"))
    return find_project_program ("engine/runtime", "servin-runtime", error);

  if (g_path_is_absolute (runtime))
    path = g_strdup (runtime);
  else
    path = g_find_program_in_path (runtime);
  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                   "OCI runtime %s not found: install it or set the runtime option", runtime);
      return NULL;
    }
  return g_steal_pointer (&path);
}

static gboolean
make_folder (const char *path, int mode, GError **error)
{
  if (g_mkdir_with_parents (path, mode) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot create folder %s: %s",
                   path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  int dir_fd;
  const char *target;
  const char *options;
  int saved_errno;
} RelativeMount;

/* Runs in a thread of its own that unshares its working folder from the rest of the process,
 * so the relative paths in the options resolve against dir_fd while other threads keep
 * theirs. */
static gpointer
mount_relative_thread (gpointer data)
{
  RelativeMount *mount_data = data;

  if (unshare (CLONE_FS) != 0 || fchdir (mount_data->dir_fd) != 0
      || mount ("overlay", mount_data->target, "overlay", 0, mount_data->options) != 0)
    mount_data->saved_errno = errno;
  return NULL;
}

/* Returns the layers of the container top first, as overlayfs lowerdir wants them, after
 * making sure that each has its link under DATA_ROOT/l. */
static char **
link_layers (SvContainer *self, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = g_strv_length (self->diff_ids); i > 0; i--)
    {
      g_autofree char *link
          = sv_layer_store_link_layer (self->layers, self->diff_ids[i - 1], error);

      if (link == NULL)
        {
          g_prefix_error (error, "cannot mount the root of container %s: ", self->name);
          return NULL;
        }
      g_strv_builder_add (builder, self->diff_ids[i - 1]);
    }
  return g_strv_builder_end (builder);
}

/* Mount the image layers as overlayfs lowerdirs at STATE/rootfs, with the container's writable
 * upper and work folders under its data folder. The options name every folder relative to
 * DATA_ROOT (see sv-overlay.h), because absolute paths fit only a few dozen layers in the
 * page that mount(2) copies. */
static gboolean
mount_rootfs (SvContainer *self, GError **error)
{
  const char *data_root = sv_config_get_data_root (self->config);
  g_autofree char *rootfs = state_path (self, "rootfs");
  g_autofree char *upper = g_build_filename (self->dir, "upper", NULL);
  g_autofree char *work = g_build_filename (self->dir, "work", NULL);
  g_autofree char *empty = g_build_filename (self->dir, "empty", NULL);
  g_autofree char *expected_dir = g_build_filename (data_root, "containers", self->id, NULL);
  g_auto (GStrv) top_first = NULL;
  g_autofree char *options = NULL;
  g_auto (SvFd) root_fd = -1;
  RelativeMount mount_data = { 0 };

  if (strcmp (self->dir, expected_dir) != 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot mount the root of container %s: its folder %s is not %s", self->name,
                   self->dir, expected_dir);
      return FALSE;
    }
  if (!make_folder (rootfs, 0755, error) || !make_folder (upper, 0755, error)
      || !make_folder (work, 0700, error))
    return FALSE;

  /* An image without layers still needs one lowerdir. */
  if (self->diff_ids[0] == NULL && !make_folder (empty, 0755, error))
    return FALSE;

  top_first = link_layers (self, error);
  if (top_first == NULL)
    return FALSE;
  options = sv_overlay_build_options ((const char *const *)top_first, self->id, error);
  if (options == NULL)
    {
      g_prefix_error (error, "cannot mount the root of container %s: ", self->name);
      return FALSE;
    }

  root_fd = open (data_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot open data root %s: %s",
                   data_root, g_strerror (saved_errno));
      return FALSE;
    }
  mount_data.dir_fd = root_fd;
  mount_data.target = rootfs;
  mount_data.options = options;
  g_thread_join (g_thread_new ("sv-mount", mount_relative_thread, &mount_data));
  if (mount_data.saved_errno != 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot mount the overlay root of container %s at %s: %s", self->name, rootfs,
                   g_strerror (mount_data.saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* Unmount the container root and remove the bundle and monitor state folder. */
void
sv_container_release_runtime_state (SvContainer *self)
{
  g_autofree char *rootfs = state_path (self, "rootfs");
  g_autoptr (GError) error = NULL;

  if (umount2 (rootfs, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    g_warning ("cannot unmount the root of container %s at %s: %s", self->id, rootfs,
               g_strerror (errno));
  if (!sv_remove_tree (self->state_dir, &error))
    g_warning ("cannot remove the runtime state of container %s: %s", self->id, error->message);
}

/* Read one line from @fd, waiting at most @timeout_ms for all of it. Returns NULL at end of
 * file without a line. */
static char *
read_sync_line (int fd, int timeout_ms, GError **error)
{
  g_autoptr (GString) line = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      char c;
      ssize_t n;

      if (left_ms <= 0 || poll (&pfd, 1, left_ms) == 0)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                       "servin-monitor did not report within %d seconds", timeout_ms / 1000);
          return NULL;
        }
      n = read (fd, &c, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return line->len > 0 ? g_string_free (g_steal_pointer (&line), FALSE) : NULL;
      if (c == '\n')
        return g_string_free (g_steal_pointer (&line), FALSE);
      g_string_append_c (line, c);
    }
}

static char *
read_monitor_log_tail (SvContainer *self)
{
  g_autofree char *path = state_path (self, "monitor.log");
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL) || *contents == '\0')
    return g_strdup ("no output");
  g_strstrip (contents);
  return g_strdup (contents + (strlen (contents) > 500 ? strlen (contents) - 500 : 0));
}

/* Run servin-monitor, which detaches at once and reports on the sync pipe whether the
 * runtime created the container. */
static gboolean
spawn_monitor (SvContainer *self, const char *monitor, const char *runtime, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *log = state_path (self, "monitor.log");
  g_autofree char *runtime_root
      = g_build_filename (sv_config_get_runtime_state (self->config), "runtime", NULL);
  g_autofree char *line = NULL;
  g_auto (SvFd) read_fd = -1;
  int fds[2];

  if (pipe2 (fds, O_CLOEXEC) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot create a pipe: %s",
                   g_strerror (saved_errno));
      return FALSE;
    }
  read_fd = fds[0];

  g_ptr_array_add (argv, g_strdup (monitor));
  g_ptr_array_add (argv, g_strdup ("--id"));
  g_ptr_array_add (argv, g_strdup (self->id));
  g_ptr_array_add (argv, g_strdup ("--bundle"));
  g_ptr_array_add (argv, g_strdup (self->state_dir));
  g_ptr_array_add (argv, g_strdup ("--state"));
  g_ptr_array_add (argv, g_strdup (self->state_dir));
  g_ptr_array_add (argv, g_strdup ("--log"));
  g_ptr_array_add (argv, g_strdup (self->log_path));
  g_ptr_array_add (argv, g_strdup ("--runtime"));
  g_ptr_array_add (argv, g_strdup (runtime));
  g_ptr_array_add (argv, g_strdup ("--runtime-root"));
  g_ptr_array_add (argv, g_strdup (runtime_root));
  g_ptr_array_add (argv, g_strdup ("--sync-fd"));
  g_ptr_array_add (argv, g_strdup ("3"));
  if (json_object_get_boolean_member_with_default (self->container_config, "OpenStdin", FALSE))
    g_ptr_array_add (argv, g_strdup ("--stdin"));
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdin_file_path (launcher, "/dev/null");
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, error);
  g_subprocess_launcher_close (launcher);
  if (process == NULL)
    {
      g_prefix_error (error, "cannot run %s: ", monitor);
      return FALSE;
    }

  /* The first monitor process exits once the detached one runs. */
  if (!g_subprocess_wait_check (process, NULL, error))
    {
      g_autofree char *output = read_monitor_log_tail (self);
      g_prefix_error (error, "servin-monitor failed for container %s (%s): ", self->name, output);
      return FALSE;
    }

  line = read_sync_line (read_fd, CREATE_TIMEOUT_MS, error);
  if (line == NULL)
    {
      g_autofree char *output = read_monitor_log_tail (self);
      if (error != NULL && *error == NULL)
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                     "servin-monitor of container %s exited without a status: %s", self->name,
                     output);
      return FALSE;
    }
  if (!g_str_equal (line, "ok"))
    {
      const char *message = g_str_has_prefix (line, "error ") ? line + 6 : line;
      g_autofree char *monitor_prefix = g_strdup_printf ("cannot create container %s: ", self->id);

      /* The monitor names the container by id; the name given here is what users know. */
      if (g_str_has_prefix (message, monitor_prefix))
        message += strlen (monitor_prefix);
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot create container %s: %s",
                   self->name, message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
connect_monitor (SvContainer *self, GError **error)
{
  g_autofree char *ctl_path = state_path (self, "ctl");
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (ctl_path);
  GSocketConnection *connection;

  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, error);
  if (connection == NULL)
    {
      g_prefix_error (error, "cannot connect to the monitor of container %s at %s: ", self->name,
                      ctl_path);
      return FALSE;
    }
  self->ctl = connection;
  self->ctl_in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (self->ctl_in, G_DATA_STREAM_NEWLINE_TYPE_LF);
  self->ctl_cancellable = g_cancellable_new ();
  return TRUE;
}

/* Close the connection to the monitor without waiting for its replies. */
void
sv_container_disconnect (SvContainer *self)
{
  if (self->ctl_cancellable != NULL)
    g_cancellable_cancel (self->ctl_cancellable);
  g_clear_object (&self->ctl_cancellable);
  g_clear_object (&self->ctl_in);
  if (self->ctl != NULL)
    g_io_stream_close (G_IO_STREAM (self->ctl), NULL, NULL);
  g_clear_object (&self->ctl);
  g_queue_clear_full (&self->ctl_requests, g_free);
}

/* Send one request line, with @fd passed in SCM_RIGHTS when it is not -1. The reply is read
 * in order by the caller or by the reply loop. */
static gboolean
send_request (SvContainer *self, const char *request, int fd, GError **error)
{
  g_autofree char *line = g_strconcat (request, "\n", NULL);
  g_autoptr (GSocketControlMessage) message = NULL;
  GOutputVector vector = { line, strlen (line) };
  GSocket *socket;
  gssize sent;

  if (self->ctl == NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_RUNNING,
                   "container %s has no monitor connection", self->name);
      return FALSE;
    }
  socket = g_socket_connection_get_socket (self->ctl);
  if (fd >= 0)
    {
      message = g_unix_fd_message_new ();
      if (!g_unix_fd_message_append_fd (G_UNIX_FD_MESSAGE (message), fd, error))
        return FALSE;
    }
  sent = g_socket_send_message (socket, NULL, &vector, 1, message != NULL ? &message : NULL,
                                message != NULL ? 1 : 0, 0, NULL, error);
  if (sent < 0)
    {
      g_prefix_error (error, "cannot send \"%s\" to the monitor of container %s: ", request,
                      self->name);
      return FALSE;
    }
  if ((gsize)sent != vector.size)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot send \"%s\" to the monitor of container %s: short write", request,
                   self->name);
      return FALSE;
    }
  return TRUE;
}

/* Send a request and read its reply while no reply loop runs (during start and recovery).
 * @reply gets the text after "ok", and end of file gives NULL without an error. */
static gboolean
request_sync (SvContainer *self, const char *request, int fd, char **reply, GError **error)
{
  g_autofree char *line = NULL;
  g_autoptr (GError) local_error = NULL;

  *reply = NULL;
  if (!send_request (self, request, fd, error))
    return FALSE;
  line = g_data_input_stream_read_line (self->ctl_in, NULL, NULL, &local_error);
  if (line == NULL)
    {
      if (local_error != NULL)
        g_debug ("monitor of container %s: %s", self->id, local_error->message);
      return TRUE;
    }
  if (g_str_equal (line, "ok") || g_str_has_prefix (line, "ok "))
    {
      *reply = g_strdup (g_str_equal (line, "ok") ? "" : line + 3);
      return TRUE;
    }
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "%s failed for container %s: %s",
               request, self->name, g_str_has_prefix (line, "error ") ? line + 6 : line);
  return FALSE;
}

/* Send a request whose reply the reply loop reads and only logs when it is an error. */
static gboolean
request_async (SvContainer *self, const char *request, int fd, GError **error)
{
  if (!send_request (self, request, fd, error))
    return FALSE;
  g_queue_push_tail (&self->ctl_requests, g_strdup (request));
  return TRUE;
}

static int
read_pid_named (SvContainer *self, const char *name)
{
  g_autofree char *path = state_path (self, name);
  g_autofree char *contents = NULL;
  guint64 pid = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  g_strstrip (contents);
  if (!g_ascii_string_to_unsigned (contents, 10, 1, G_MAXINT, &pid, NULL))
    return 0;
  return (int)pid;
}

static int
read_pid_file (SvContainer *self)
{
  return read_pid_named (self, "container.pid");
}

/* Whether @pid runs (a zombie does not count) and /proc/PID/FILE contains @needle. The
 * needle separates this container's processes from others that got a reused pid. */
static gboolean
process_matches (int pid, const char *file, const char *needle, gsize needle_len)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", pid, file);
  g_autofree char *stat = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  const char *paren;

  if (pid <= 0 || !g_file_get_contents (stat_path, &stat, NULL, NULL))
    return FALSE;
  paren = strrchr (stat, ')');
  if (paren == NULL || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X')
    return FALSE;
  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  return memmem (contents, length, needle, needle_len) != NULL;
}

/* Whether @pid is this container's init: it runs in a cgroup named after the container id. */
static gboolean
container_is_alive (SvContainer *self, int pid)
{
  return process_matches (pid, "cgroup", self->id, strlen (self->id));
}

/* Whether @pid is this container's monitor: its arguments name the container's state folder. */
static gboolean
monitor_is_alive (SvContainer *self, int pid)
{
  return process_matches (pid, "cmdline", self->state_dir, strlen (self->state_dir) + 1);
}

/* Read STATE/exit ({"exit_code":N,"signal":S,"finished_at":"RFC3339"}, plus "oom_killed":true
 * after an OOM kill) left by the monitor. Sets self->oom_killed. */
static gboolean
read_exit_file (SvContainer *self, int *exit_code, guint64 *finished_at)
{
  g_autofree char *path = state_path (self, "exit");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) time = NULL;
  JsonNode *root;
  JsonObject *object;
  const char *finished;

  if (!json_parser_load_from_file (parser, path, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("cannot read the exit status of container %s from %s: %s", self->id, path,
                   error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || !json_object_has_member (json_node_get_object (root), "exit_code"))
    {
      g_warning ("invalid exit status file %s of container %s: exit_code is missing", path,
                 self->id);
      return FALSE;
    }
  object = json_node_get_object (root);
  *exit_code = json_object_get_int_member (object, "exit_code");
  self->oom_killed = json_object_get_boolean_member_with_default (object, "oom_killed", FALSE);
  finished = json_object_get_string_member_with_default (object, "finished_at", NULL);
  time = finished != NULL ? g_date_time_new_from_iso8601 (finished, NULL) : NULL;
  *finished_at = time != NULL ? g_date_time_to_unix (time) : g_get_real_time () / G_USEC_PER_SEC;
  return TRUE;
}

static void
disconnect_cancellable (GTask *task)
{
  gulong handler_id = GPOINTER_TO_SIZE (g_task_get_task_data (task));

  if (handler_id != 0)
    g_cancellable_disconnect (g_task_get_cancellable (task), handler_id);
  g_task_set_task_data (task, NULL, NULL);
}

/* Complete a cancelled wait or stop on its own context, unless the exit completed it first. */
static gboolean
complete_cancelled_task (gpointer user_data)
{
  GTask *task = user_data;
  SvContainer *self = g_task_get_source_object (task);
  GList **list
      = g_task_get_source_tag (task) == sv_container_wait_async ? &self->waiters : &self->stoppers;
  GList *link = g_list_find (*list, task);

  if (link == NULL)
    return G_SOURCE_REMOVE;
  *list = g_list_delete_link (*list, link);
  disconnect_cancellable (task);
  g_task_return_error_if_cancelled (task);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/* Runs in the cancelling thread, maybe inside g_cancellable_cancel () on the task's own
 * context, where disconnecting would deadlock. So the completion always goes through an idle. */
static void
on_task_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, complete_cancelled_task, g_object_ref (task), g_object_unref);
  g_source_attach (source, g_task_get_context (task));
  g_source_unref (source);
}

/* Keep @task in @list until the exit, or until its cancellable is cancelled. */
static void
queue_task (GList **list, GTask *task)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  gulong handler_id;

  *list = g_list_append (*list, task);
  if (cancellable == NULL)
    return;
  handler_id = g_cancellable_connect (cancellable, G_CALLBACK (on_task_cancelled), task, NULL);
  g_task_set_task_data (task, GSIZE_TO_POINTER (handler_id), NULL);
}

static void
complete_tasks (GList **tasks, gboolean is_wait, int exit_code, const GError *error)
{
  GList *list = g_steal_pointer (tasks);

  for (GList *l = list; l != NULL; l = l->next)
    {
      GTask *task = l->data;

      disconnect_cancellable (task);
      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else if (is_wait)
        g_task_return_int (task, exit_code);
      else
        g_task_return_boolean (task, TRUE);
    }
  g_list_free_full (list, g_object_unref);
}

void
sv_container_fail_waiters (SvContainer *self, const GError *error)
{
  complete_tasks (&self->waiters, TRUE, 0, error);
  complete_tasks (&self->stoppers, FALSE, 0, error);
}

/* Record the exit: state, code and time saved, root unmounted, waiters and stoppers
 * completed, then the exit function (the store's AutoRemove) runs. */
static void
finish_exit (SvContainer *self, int exit_code, guint64 finished_at)
{
  g_autoptr (SvContainer) hold = g_object_ref (self);
  g_autoptr (GError) error = NULL;

  sv_container_disconnect (self);
  g_clear_handle_id (&self->kill_timeout_id, g_source_remove);
  g_clear_handle_id (&self->liveness_id, g_source_remove);
  self->state = SV_CONTAINER_STATE_EXITED;
  self->exit_code = exit_code;
  self->finished_at = finished_at;
  self->pid = 0;
  g_atomic_int_set (&self->log_open, 0);

  /* Save before removing the state folder, so the exit code survives a crash in between. */
  if (!sv_container_save (self, &error))
    g_warning ("%s", error->message);
  sv_container_release_runtime_state (self);
  g_info ("container %s (%s) exited with code %d%s", self->id, self->name, exit_code,
          self->oom_killed ? " after the OOM killer killed a process of it" : "");
  sv_container_notify_state (self);

  complete_tasks (&self->stoppers, FALSE, exit_code, NULL);
  complete_tasks (&self->waiters, TRUE, exit_code, NULL);
  if (self->exit_func != NULL)
    self->exit_func (self, self->exit_data);
}

static void
handle_monitor_gone (SvContainer *self)
{
  int exit_code;
  guint64 finished_at;

  if (!read_exit_file (self, &exit_code, &finished_at))
    {
      g_warning ("container %s (%s): its monitor ended without an exit status; recording exit "
                 "code 255",
                 self->id, self->name);
      exit_code = 255;
      finished_at = g_get_real_time () / G_USEC_PER_SEC;
    }
  finish_exit (self, exit_code, finished_at);
}

static void
on_reply_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SvContainer) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *request = NULL;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, NULL, &error);
  /* A reply on a connection closed meanwhile (by removal or a new start) is stale. */
  if (G_DATA_INPUT_STREAM (source) != self->ctl_in
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (line == NULL)
    {
      if (error != NULL)
        g_debug ("monitor connection of container %s: %s", self->id, error->message);
      handle_monitor_gone (self);
      return;
    }

  request = g_queue_pop_head (&self->ctl_requests);
  if (!g_str_has_prefix (line, "ok"))
    g_warning ("monitor of container %s rejected \"%s\": %s", self->id,
               request != NULL ? request : "(no request)", line);
  read_next_reply (self);
}

static void
read_next_reply (SvContainer *self)
{
  g_data_input_stream_read_line_async (self->ctl_in, G_PRIORITY_DEFAULT, self->ctl_cancellable,
                                       on_reply_line, g_object_ref (self));
}

static void
send_pending_attaches (SvContainer *self)
{
  for (guint i = 0; i < self->pending_attach_fds->len; i++)
    {
      g_auto (SvFd) fd = g_array_index (self->pending_attach_fds, int, i);
      g_autoptr (GError) error = NULL;
      g_autofree char *reply = NULL;

      if (!request_sync (self, "attach", fd, &reply, &error))
        g_warning ("cannot attach to container %s: %s", self->id, error->message);
    }
  g_array_set_size (self->pending_attach_fds, 0);
}

/* Write the files bind-mounted at /etc/hostname and /etc/hosts. The hosts file names only
 * localhost because the container's network namespace has only the loopback interface. */
static gboolean
write_etc_files (SvContainer *self, GError **error)
{
  static const char hosts[] = "127.0.0.1\tlocalhost\n"
                              "::1\tlocalhost ip6-localhost ip6-loopback\n"
                              "fe00::0\tip6-localnet\n"
                              "ff00::0\tip6-mcastprefix\n"
                              "ff02::1\tip6-allnodes\n"
                              "ff02::2\tip6-allrouters\n";
  const char *hostname
      = json_object_get_string_member_with_default (self->container_config, "Hostname", self->id);
  g_autofree char *hostname_text = g_strconcat (hostname, "\n", NULL);
  g_autofree char *hostname_path = g_build_filename (self->dir, "hostname", NULL);
  g_autofree char *hosts_path = g_build_filename (self->dir, "hosts", NULL);

  if (!g_file_set_contents_full (hostname_path, hostname_text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0644, error)
      || !g_file_set_contents_full (hosts_path, hosts, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                    error))
    {
      g_prefix_error (error, "cannot write the /etc files of container %s: ", self->name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
prepare_bundle (SvContainer *self, char **monitor, char **runtime, GError **error)
{
  g_autoptr (JsonObject) spec = NULL;
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_auto (GStrv) layer_paths = NULL;
  g_autofree char *config_path = state_path (self, "config.json");

  if (!write_etc_files (self, error))
    return FALSE;
  spec = sv_container_generate_spec (self, TRUE, error);
  if (spec == NULL)
    return FALSE;
  layer_paths = sv_container_get_layer_paths (self, error);
  if (layer_paths == NULL)
    return FALSE;
  *runtime = find_runtime (self, error);
  if (*runtime == NULL)
    return FALSE;
  *monitor = find_project_program ("engine/monitor", "servin-monitor", error);
  if (*monitor == NULL)
    return FALSE;

  /* A state folder left by an earlier run is stale: its container has exited. */
  sv_container_release_runtime_state (self);
  if (!make_folder (self->state_dir, 0700, error) || !mount_rootfs (self, error))
    return FALSE;

  json_node_set_object (root, spec);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  if (!json_generator_to_file (generator, config_path, error))
    {
      g_prefix_error (error, "cannot write the runtime config of container %s: ", self->name);
      return FALSE;
    }
  return TRUE;
}

/* Mount the root, write the bundle, run servin-monitor, hand it the pending attach sockets
 * and start the container. Blocks only while the runtime creates the container. */
gboolean
sv_container_start (SvContainer *self, GError **error)
{
  g_autofree char *monitor = NULL;
  g_autofree char *runtime = NULL;
  g_autofree char *reply = NULL;
  g_autoptr (GError) start_error = NULL;

  g_return_val_if_fail (SV_IS_CONTAINER (self), FALSE);

  if (self->removing)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "container %s is being removed", self->name);
      return FALSE;
    }
  if (self->state == SV_CONTAINER_STATE_RUNNING || self->ctl != NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "container %s is already running", self->name);
      return FALSE;
    }

  if (!prepare_bundle (self, &monitor, &runtime, error)
      || !spawn_monitor (self, monitor, runtime, error) || !connect_monitor (self, error))
    {
      sv_container_release_runtime_state (self);
      return FALSE;
    }
  g_atomic_int_set (&self->log_open, 1);
  send_pending_attaches (self);

  if (!request_sync (self, "start", -1, &reply, &start_error))
    {
      /* The created container must not linger: the monitor cleans up once it is killed. */
      g_autoptr (GError) kill_error = NULL;
      if (!request_async (self, "kill 9", -1, &kill_error))
        g_warning ("%s", kill_error->message);
      read_next_reply (self);
      g_propagate_error (error, g_steal_pointer (&start_error));
      return FALSE;
    }

  self->state = SV_CONTAINER_STATE_RUNNING;
  self->exit_code = 0;
  self->oom_killed = FALSE;
  self->started_at = g_get_real_time () / G_USEC_PER_SEC;
  self->pid = read_pid_file (self);
  if (!sv_container_save (self, &start_error))
    g_warning ("%s", start_error->message);
  g_info ("started container %s (%s) with pid %d", self->id, self->name, self->pid);
  sv_container_notify_state (self);
  read_next_reply (self);
  return TRUE;
}

int
sv_container_attach (SvContainer *self, GError **error)
{
  int fds[2];

  g_return_val_if_fail (SV_IS_CONTAINER (self), -1);

  if (self->state == SV_CONTAINER_STATE_EXITED)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_RUNNING,
                   "cannot attach to container %s: it is not running", self->name);
      return -1;
    }
  if (self->state == SV_CONTAINER_STATE_RUNNING && self->ctl == NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_RUNNING,
                   "cannot attach to container %s: its monitor cannot be reached", self->name);
      return -1;
    }
  if (self->pending_attach_fds->len >= SV_CONTAINER_MAX_PENDING_ATTACHES)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "cannot attach to container %s: %d attaches already wait for its start; "
                   "start it or close one of them",
                   self->name, SV_CONTAINER_MAX_PENDING_ATTACHES);
      return -1;
    }
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create an attach socket for container %s: %s", self->name,
                   g_strerror (saved_errno));
      return -1;
    }

  if (self->state == SV_CONTAINER_STATE_CREATED || self->ctl == NULL)
    {
      g_array_append_val (self->pending_attach_fds, fds[1]);
      return fds[0];
    }
  if (!request_async (self, "attach", fds[1], error))
    {
      close (fds[0]);
      close (fds[1]);
      return -1;
    }
  close (fds[1]);
  return fds[0];
}

gboolean
sv_container_kill (SvContainer *self, int signal, GError **error)
{
  g_autofree char *request = NULL;

  g_return_val_if_fail (SV_IS_CONTAINER (self), FALSE);

  if (self->state != SV_CONTAINER_STATE_RUNNING)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_RUNNING,
                   "container %s is not running", self->name);
      return FALSE;
    }
  if (signal <= 0 || signal >= 65)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid signal %d: use a number from 1 to 64", signal);
      return FALSE;
    }
  /* Recovery keeps tracking a container whose monitor could not be reached; its init still
   * gets signals directly. */
  if (self->ctl == NULL)
    {
      if (!container_is_alive (self, self->pid) || kill (self->pid, signal) != 0)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_RUNNING,
                       "container %s is not running", self->name);
          return FALSE;
        }
      return TRUE;
    }
  request = g_strdup_printf ("kill %d", signal);
  return request_async (self, request, -1, error);
}

/* The signal that stops the container: the image's StopSignal ("SIGQUIT", "QUIT" or a
 * number), SIGTERM by default. */
static int
get_stop_signal (SvContainer *self)
{
  static const struct
  {
    const char *name;
    int number;
  } names[] = {
    { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
    { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "WINCH", SIGWINCH },
    { "PWR", SIGPWR },   { "STOP", SIGSTOP },
  };
  const char *text
      = json_object_get_string_member_with_default (self->container_config, "StopSignal", NULL);
  guint64 number;

  if (text == NULL)
    return SIGTERM;
  if (g_ascii_string_to_unsigned (text, 10, 1, 64, &number, NULL))
    return (int)number;
  if (g_str_has_prefix (text, "SIG"))
    text += 3;
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (text, names[i].name) == 0)
      return names[i].number;
  g_warning ("container %s: unknown StopSignal %s; using SIGTERM", self->id, text);
  return SIGTERM;
}

static gboolean
on_stop_timeout (gpointer user_data)
{
  SvContainer *self = user_data;
  g_autoptr (GError) error = NULL;

  self->kill_timeout_id = 0;
  if (self->state == SV_CONTAINER_STATE_RUNNING)
    {
      g_info ("container %s did not stop in time: sending SIGKILL", self->id);
      if (!sv_container_kill (self, SIGKILL, &error))
        g_warning ("%s", error->message);
    }
  return G_SOURCE_REMOVE;
}

/* Send the stop signal, then SIGKILL after @timeout_seconds. Finishes once the container has
 * exited. A container that is not running finishes at once, like docker stop. Cancelling
 * ends only the waiting, so the container still gets SIGKILL when the timeout passes. */
void
sv_container_stop_async (SvContainer *self, guint timeout_seconds, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  int signal = get_stop_signal (self);

  g_task_set_source_tag (task, sv_container_stop_async);
  if (self->state != SV_CONTAINER_STATE_RUNNING)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  g_info ("stopping container %s (%s) with signal %d, SIGKILL after %u s", self->id, self->name,
          signal, timeout_seconds);
  if (!sv_container_kill (self, signal, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  queue_task (&self->stoppers, g_steal_pointer (&task));
  if (self->kill_timeout_id == 0 && signal != SIGKILL)
    {
      /* Milliseconds fit in a guint only up to 49 days; longer timeouts count in seconds. */
      GSource *source = timeout_seconds <= G_MAXUINT / 1000
                            ? g_timeout_source_new (timeout_seconds * 1000)
                            : g_timeout_source_new_seconds (timeout_seconds);
      g_source_set_callback (source, on_stop_timeout, self, NULL);
      self->kill_timeout_id = g_source_attach (source, g_main_context_get_thread_default ());
      g_source_unref (source);
    }
}

gboolean
sv_container_stop_finish (SvContainer *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Finish with the exit code once the container exits, or at once when it has exited already. */
void
sv_container_wait_async (SvContainer *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, sv_container_wait_async);
  if (self->state == SV_CONTAINER_STATE_EXITED)
    {
      g_task_return_int (task, self->exit_code);
      return;
    }
  queue_task (&self->waiters, g_steal_pointer (&task));
}

int
sv_container_wait_finish (SvContainer *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), -1);
  return g_task_propagate_int (G_TASK (result), error);
}

/* Poll a container tracked without its monitor connection, and record its exit once both its
 * init and its monitor are gone. */
static gboolean
on_liveness_check (gpointer user_data)
{
  SvContainer *self = user_data;

  if (container_is_alive (self, self->pid)
      || monitor_is_alive (self, read_pid_named (self, "monitor.pid")))
    return G_SOURCE_CONTINUE;
  self->liveness_id = 0;
  handle_monitor_gone (self);
  return G_SOURCE_REMOVE;
}

/* Keep tracking a running container whose monitor connection failed, when its init or its
 * monitor still runs. The checks of cgroup and arguments tell them from processes that got
 * a reused pid. Returns FALSE when neither runs. */
static gboolean
track_without_monitor (SvContainer *self)
{
  int container_pid = read_pid_file (self);

  if (!container_is_alive (self, container_pid)
      && !monitor_is_alive (self, read_pid_named (self, "monitor.pid")))
    return FALSE;
  self->pid = container_pid;
  if (self->liveness_id == 0)
    self->liveness_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, 1, on_liveness_check,
                                                    g_object_ref (self), g_object_unref);
  return TRUE;
}

/* Reconnect to the monitor of a container recorded as created or running, or record the
 * exit that happened while no store was connected. */
void
sv_container_recover (SvContainer *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *reply = NULL;
  int exit_code;
  guint64 finished_at;

  if (self->state == SV_CONTAINER_STATE_EXITED
      || !g_file_test (self->state_dir, G_FILE_TEST_IS_DIR))
    {
      if (self->state == SV_CONTAINER_STATE_RUNNING)
        {
          g_warning ("container %s (%s) was running but has neither a monitor nor an exit "
                     "status; recording exit code 255",
                     self->id, self->name);
          finish_exit (self, 255, g_get_real_time () / G_USEC_PER_SEC);
        }
      else
        sv_container_release_runtime_state (self);
      return;
    }

  if (!connect_monitor (self, &error))
    {
      g_debug ("%s", error->message);
      if (read_exit_file (self, &exit_code, &finished_at))
        finish_exit (self, exit_code, finished_at);
      else if (self->state == SV_CONTAINER_STATE_RUNNING && track_without_monitor (self))
        g_warning ("container %s (%s) still runs, but its monitor cannot be reached (%s); "
                   "servind keeps its state and sees its exit, but cannot attach to it: remove "
                   "it with force to end it",
                   self->id, self->name, error->message);
      else if (self->state == SV_CONTAINER_STATE_RUNNING)
        {
          g_warning ("container %s (%s) was running but has neither a monitor nor an exit "
                     "status; recording exit code 255",
                     self->id, self->name);
          finish_exit (self, 255, g_get_real_time () / G_USEC_PER_SEC);
        }
      else
        sv_container_release_runtime_state (self);
      return;
    }

  if (!request_sync (self, "status", -1, &reply, &error))
    g_warning ("%s", error->message);
  if (reply == NULL)
    {
      handle_monitor_gone (self);
      return;
    }

  /* A container created but never started (servind stopped between create and start) is
   * killed; its monitor then cleans up and closes the connection. */
  if (g_str_has_prefix (reply, "created"))
    {
      g_clear_error (&error);
      if (!request_async (self, "kill 9", -1, &error))
        g_warning ("%s", error->message);
    }
  else if (g_str_has_prefix (reply, "running "))
    {
      guint64 pid;
      if (g_ascii_string_to_unsigned (reply + 8, 10, 1, G_MAXINT, &pid, NULL))
        self->pid = (int)pid;
      self->state = SV_CONTAINER_STATE_RUNNING;
    }
  g_atomic_int_set (&self->log_open, 1);
  g_info ("reconnected to the monitor of container %s (%s): %s", self->id, self->name, reply);
  read_next_reply (self);
}

/* Delete the container from the OCI runtime with --force, which kills what is left and
 * removes its cgroups. For a container whose monitor is gone, which would have done it. */
static void
delete_from_runtime (SvContainer *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *runtime = find_runtime (self, &error);
  g_autofree char *runtime_root
      = g_build_filename (sv_config_get_runtime_state (self->config), "runtime", NULL);
  g_autofree char *output = NULL;
  int status;

  if (runtime == NULL)
    {
      g_warning ("cannot delete container %s from its runtime: %s", self->id, error->message);
      return;
    }
  {
    const char *argv[] = { runtime, "--root", runtime_root, "delete", "--force", self->id, NULL };
    if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                       &output, &status, &error)
        || !g_spawn_check_wait_status (status, &error))
      g_warning ("cannot delete container %s from %s: %s%s%s", self->id, runtime, error->message,
                 output != NULL && *output != '\0' ? ": " : "", output != NULL ? output : "");
  }
}

/* Record the SIGKILL exit of a container whose monitor is gone, so nothing else cleans up. */
static void
finish_without_monitor (SvContainer *self)
{
  int exit_code;
  guint64 finished_at;

  sv_container_disconnect (self);
  delete_from_runtime (self);
  if (!read_exit_file (self, &exit_code, &finished_at))
    {
      exit_code = 128 + SIGKILL;
      finished_at = g_get_real_time () / G_USEC_PER_SEC;
    }
  finish_exit (self, exit_code, finished_at);
}

typedef struct
{
  GCancellable *wait_cancellable;
  GSource *timeout_source;
  int monitor_pid;
  gboolean timed_out;
} ReapData;

static void
reap_data_free (ReapData *data)
{
  g_clear_object (&data->wait_cancellable);
  if (data->timeout_source != NULL)
    {
      g_source_destroy (data->timeout_source);
      g_source_unref (data->timeout_source);
    }
  g_free (data);
}

static gboolean
on_reap_timeout (gpointer user_data)
{
  ReapData *data = g_task_get_task_data (G_TASK (user_data));

  data->timed_out = TRUE;
  g_cancellable_cancel (data->wait_cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_reap_wait_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SvContainer *self = SV_CONTAINER (source);
  ReapData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  /* The timeout source holds a reference to the task until it is destroyed. */
  g_source_destroy (data->timeout_source);
  sv_container_wait_finish (self, result, &error);
  if (error != NULL && data->timed_out)
    g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                             "container %s did not exit within %d s of SIGKILL (monitor pid "
                             "%d): remove it again once it has exited",
                             self->name, REAP_TIMEOUT_SECONDS, data->monitor_pid);
  else if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

/* Kill a running container and finish once its monitor has recorded the exit and cleaned
 * up, which the end of file on the control connection shows (or, for a container tracked
 * without that connection, the liveness check). Used by forced removal, which must not leave
 * the container behind. The SIGKILL goes both through the monitor and straight to the
 * container's init, so it is not lost when the monitor drops the connection. The wait runs
 * on the main loop, and after REAP_TIMEOUT_SECONDS it finishes with an error while the record
 * stays running until the exit is seen. Without a monitor, nothing is waited for: the runtime's
 * "delete --force" (a short blocking call) kills what is left and removes the cgroups. */
void
sv_container_kill_and_reap_async (SvContainer *self, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr (GError) send_error = NULL;
  int container_pid = read_pid_file (self);
  ReapData *data;

  g_task_set_source_tag (task, sv_container_kill_and_reap_async);
  if (self->state != SV_CONTAINER_STATE_RUNNING)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (self->ctl != NULL && !send_request (self, "kill 9", -1, &send_error))
    g_debug ("%s", send_error->message);
  if (container_is_alive (self, container_pid) && kill (container_pid, SIGKILL) != 0
      && errno != ESRCH)
    g_warning ("cannot send SIGKILL to container %s (pid %d): %s", self->id, container_pid,
               g_strerror (errno));

  data = g_new0 (ReapData, 1);
  data->monitor_pid = read_pid_named (self, "monitor.pid");
  g_task_set_task_data (task, data, (GDestroyNotify)reap_data_free);
  if (self->ctl == NULL && !monitor_is_alive (self, data->monitor_pid))
    {
      finish_without_monitor (self);
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (self->ctl == NULL && self->liveness_id == 0)
    track_without_monitor (self);

  data->wait_cancellable = g_cancellable_new ();
  data->timeout_source = g_timeout_source_new (REAP_TIMEOUT_SECONDS * 1000);
  g_task_attach_source (task, data->timeout_source, on_reap_timeout);
  sv_container_wait_async (self, data->wait_cancellable, on_reap_wait_done,
                           g_steal_pointer (&task));
}

gboolean
sv_container_kill_and_reap_finish (SvContainer *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
