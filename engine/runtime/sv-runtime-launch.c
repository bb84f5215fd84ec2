/* SPDX-License-Identifier: GPL-2.0-or-later */

/* create, run and exec: the commands that read config.json, built into servin-runtime-create.so. */
#include "sv-runtime-container.h"
#include "sv-runtime-module.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gmodule.h>

#include "sv-engine-error.h"
#include "sv-runtime-cgroup.h"
#include "sv-runtime-child.h"
#include "sv-runtime-hooks.h"
#include "sv-runtime-seccomp.h"
#include "sv-runtime-spec.h"
#include "sv-runtime-state.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A container being created: what servin-runtime prepares before clone, and what it must undo
 * if creation fails. */
typedef struct
{
  const SvCreateOptions *options;
  SvRuntimeSpec *spec;
  char *folder;
  GPtrArray *layout;        /* SvCgroupHierarchy */
  GPtrArray *cgroup_leaves; /* char * */
  GArray *namespace_fds;    /* SvNamespaceFd */
  GArray *cgroup_mounts;    /* SvCgroupMount */
  GPtrArray *strings;       /* strings the above point into */
  GPtrArray *sysctl_paths;
  GPtrArray *cgroup_join_files;
  int unified_fd; /* the cgroup2 leaf, for clone3(CLONE_INTO_CGROUP), or -1 */
  GBytes *seccomp;
  unsigned int seccomp_flags;
  int state_dir_fd;
  int sync_fd;
  int console_fd;
  char *rootfs_mount;
  pid_t pid;
  gboolean reaped;
} SvLaunch;

/* Kills and reaps the container process if it was started, then removes everything created. */
static void
sv_launch_free (SvLaunch *launch)
{
  if (launch->pid > 0 && !launch->reaped)
    {
      kill (launch->pid, SIGKILL);
      while (waitpid (launch->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  for (guint i = 0; launch->namespace_fds && i < launch->namespace_fds->len; i++)
    close (g_array_index (launch->namespace_fds, SvNamespaceFd, i).fd);
  if (launch->state_dir_fd >= 0)
    close (launch->state_dir_fd);
  if (launch->unified_fd >= 0)
    close (launch->unified_fd);
  if (launch->sync_fd >= 0)
    close (launch->sync_fd);
  if (launch->console_fd >= 0)
    close (launch->console_fd);

  /* Descriptors are closed before the folders are removed, because on ext4 the last close of an
   * already removed folder took milliseconds in measurements. */
  if (launch->cgroup_leaves)
    {
      g_ptr_array_add (launch->cgroup_leaves, NULL);
      sv_cgroup_remove ((const char *const *)launch->cgroup_leaves->pdata, NULL);
    }
  if (launch->folder)
    sv_runtime_state_remove_folder (launch->folder);
  g_clear_pointer (&launch->spec, sv_runtime_spec_free);
  g_free (launch->folder);
  g_free (launch->rootfs_mount);
  g_clear_pointer (&launch->layout, g_ptr_array_unref);
  g_clear_pointer (&launch->cgroup_leaves, g_ptr_array_unref);
  g_clear_pointer (&launch->namespace_fds, g_array_unref);
  g_clear_pointer (&launch->cgroup_mounts, g_array_unref);
  g_clear_pointer (&launch->strings, g_ptr_array_unref);
  g_clear_pointer (&launch->sysctl_paths, g_ptr_array_unref);
  g_clear_pointer (&launch->cgroup_join_files, g_ptr_array_unref);
  g_clear_pointer (&launch->seccomp, g_bytes_unref);
  g_free (launch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvLaunch, sv_launch_free)

/* Marks the container as created, so that freeing the launch undoes nothing. */
static void
sv_launch_commit (SvLaunch *launch)
{
  g_clear_pointer (&launch->cgroup_leaves, g_ptr_array_unref);
  g_clear_pointer (&launch->folder, g_free);
  launch->reaped = TRUE;
}

static gboolean
make_state_folder (SvLaunch *launch, GError **error)
{
  const SvCreateOptions *options = launch->options;
  g_autofree char *folder = NULL;
  g_autofree char *fifo = NULL;

  if (!sv_runtime_id_is_valid (options->id))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid container id %s: use letters, digits, _ + - and .", options->id);
      return FALSE;
    }
  if (g_mkdir_with_parents (options->root, 0711) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create the state folder %s: %s", options->root,
                   g_strerror (saved_errno));
      return FALSE;
    }
  folder = g_build_filename (options->root, options->id, NULL);
  if (mkdir (folder, 0711) < 0)
    {
      int saved_errno = errno;

      if (saved_errno == EEXIST)
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                     "container %s already exists in %s; delete it first or pick another id",
                     options->id, options->root);
      else
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                     "cannot create the state folder %s: %s", folder, g_strerror (saved_errno));
      return FALSE;
    }
  launch->folder = g_steal_pointer (&folder);

  fifo = g_build_filename (launch->folder, "exec.fifo", NULL);
  if (mkfifo (fifo, 0600) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot create %s: %s", fifo,
                   g_strerror (saved_errno));
      return FALSE;
    }
  launch->state_dir_fd = open (launch->folder, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (launch->state_dir_fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot open %s: %s",
                   launch->folder, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static const char *
keep_string (SvLaunch *launch, char *string)
{
  g_ptr_array_add (launch->strings, string);
  return string;
}

/* Lists what a "cgroup" mount in the container shows: each hierarchy, or the cgroup2 root. */
static void
prepare_cgroup_mounts (SvLaunch *launch)
{
  launch->cgroup_mounts = g_array_new (FALSE, TRUE, sizeof (SvCgroupMount));
  for (guint i = 0; i < launch->layout->len; i++)
    {
      SvCgroupHierarchy *h = g_ptr_array_index (launch->layout, i);
      SvCgroupMount m = { 0 };

      m.name = keep_string (launch, g_path_get_basename (h->mount_point));
      m.fstype = h->unified ? "cgroup2" : "cgroup";
      if (h->unified)
        m.options = NULL;
      else if (g_str_has_prefix (h->options, "name="))
        m.options = keep_string (launch, g_strconcat ("none,", h->options, NULL));
      else
        m.options = h->options;
      m.host_folder = g_ptr_array_index (launch->cgroup_leaves, i);
      g_array_append_val (launch->cgroup_mounts, m);
    }
}

static gboolean
prepare_cgroups (SvLaunch *launch, GError **error)
{
  const char *path = launch->spec->cgroups_path;

  launch->layout = sv_cgroup_detect_layout (error);
  if (launch->layout == NULL)
    return FALSE;
  if (path == NULL || *path == '\0')
    path = launch->options->id;
  launch->cgroup_leaves = sv_cgroup_create (launch->layout, path, &launch->spec->resources,
                                            launch->spec->devices, error);
  if (launch->cgroup_leaves == NULL)
    return FALSE;
  prepare_cgroup_mounts (launch);

  launch->cgroup_join_files = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < launch->layout->len; i++)
    {
      SvCgroupHierarchy *h = g_ptr_array_index (launch->layout, i);
      const char *leaf = g_ptr_array_index (launch->cgroup_leaves, i);

      if (!h->unified)
        g_ptr_array_add (launch->cgroup_join_files, g_build_filename (leaf, "tasks", NULL));
      else if (launch->unified_fd < 0)
        launch->unified_fd = open (leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
  g_ptr_array_add (launch->cgroup_join_files, NULL);
  return TRUE;
}

/* Opens the namespaces to join. A pid namespace is joined here, because setns(CLONE_NEWPID)
 * only affects children created afterwards. */
static gboolean
prepare_namespaces (SvLaunch *launch, GError **error)
{
  GArray *paths = launch->spec->namespace_paths;

  launch->namespace_fds = g_array_new (FALSE, FALSE, sizeof (SvNamespaceFd));
  for (guint i = 0; i < paths->len; i++)
    {
      SvNamespacePath *ns = &g_array_index (paths, SvNamespacePath, i);
      SvNamespaceFd entry = { .fd = open (ns->path, O_RDONLY | O_CLOEXEC), .type = ns->type };

      if (entry.fd < 0)
        {
          int saved_errno = errno;
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                       "cannot open namespace %s from linux.namespaces: %s", ns->path,
                       g_strerror (saved_errno));
          return FALSE;
        }
      if (ns->type == CLONE_NEWPID)
        {
          int rc = setns (entry.fd, CLONE_NEWPID);
          int saved_errno = errno;

          close (entry.fd);
          if (rc < 0)
            {
              g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                           "cannot join pid namespace %s: %s", ns->path, g_strerror (saved_errno));
              return FALSE;
            }
          continue;
        }
      g_array_append_val (launch->namespace_fds, entry);
    }
  return TRUE;
}

static int
read_last_cap (void)
{
  g_autofree char *contents = NULL;

  if (!g_file_get_contents ("/proc/sys/kernel/cap_last_cap", &contents, NULL, NULL))
    return 40;
  return atoi (contents);
}

static const char *
find_path_env (SvRuntimeSpec *spec)
{
  for (guint i = 0; spec->env[i]; i++)
    if (g_str_has_prefix (spec->env[i], "PATH="))
      return spec->env[i] + strlen ("PATH=");
  return DEFAULT_PATH;
}

/* Checks that process.terminal and --console-socket go together, and connects the socket. */
static gboolean
connect_console (gboolean terminal, const char *path, int *console_fd, GError **error)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };

  if (terminal && path == NULL)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "process.terminal is true, so servin-runtime needs --console-socket to "
                           "hand over the terminal; set terminal to false to use plain stdio");
      return FALSE;
    }
  if (!terminal && path)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "--console-socket needs process.terminal set to true in config.json");
      return FALSE;
    }
  if (path == NULL)
    return TRUE;
  if (strlen (path) >= sizeof address.sun_path)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "console socket path %s is too long for a unix socket", path);
      return FALSE;
    }
  strcpy (address.sun_path, path);
  *console_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*console_fd < 0 || connect (*console_fd, (struct sockaddr *)&address, sizeof address) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot connect to console socket %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* Returns the mount point of the mount that contains path, which is the longest mount point
 * that is path or one of its parents. */
static char *
find_mount_point (const char *path)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  char *best = NULL;

  if (!g_file_get_contents ("/proc/self/mountinfo", &contents, NULL, NULL))
    return NULL;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", 6);
      g_autofree char *point = NULL;
      size_t len;

      if (g_strv_length (fields) < 5)
        continue;
      point = sv_mountinfo_unescape (fields[4]);
      len = strlen (point);
      if ((g_str_equal (point, "/")
           || (g_str_has_prefix (path, point) && (path[len] == '/' || path[len] == '\0')))
          && (best == NULL || strlen (best) <= len))
        {
          g_free (best);
          best = g_steal_pointer (&point);
        }
    }
  return best;
}

static SvLaunch *
sv_launch_prepare (const SvCreateOptions *options, GError **error)
{
  g_autoptr (SvLaunch) launch = g_new0 (SvLaunch, 1);

  launch->options = options;
  launch->state_dir_fd = -1;
  launch->sync_fd = -1;
  launch->unified_fd = -1;
  launch->console_fd = -1;
  launch->strings = g_ptr_array_new_with_free_func (g_free);
  launch->spec = sv_runtime_spec_load (options->bundle, error);
  if (launch->spec == NULL)
    return NULL;

  launch->sysctl_paths = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < launch->spec->sysctl_keys->len; i++)
    {
      char *path
          = g_strconcat ("/proc/sys/", g_ptr_array_index (launch->spec->sysctl_keys, i), NULL);
      g_strdelimit (path + strlen ("/proc/sys/"), ".", '/');
      g_ptr_array_add (launch->sysctl_paths, path);
    }
  g_ptr_array_add (launch->sysctl_paths, NULL);

  if (launch->spec->rootfs_propagation & MS_SHARED)
    launch->rootfs_mount = find_mount_point (launch->spec->rootfs);
  if (launch->spec->seccomp)
    {
      launch->seccomp = sv_seccomp_load_program (launch->spec->seccomp, options->root,
                                                 &launch->seccomp_flags, error);
      if (launch->seccomp == NULL)
        return NULL;
    }

  if (!connect_console (launch->spec->terminal, options->console_socket, &launch->console_fd, error)
      || !make_state_folder (launch, error) || !prepare_cgroups (launch, error)
      || !prepare_namespaces (launch, error))
    return NULL;
  return g_steal_pointer (&launch);
}

/* Receives the container process's first message: ready, or the error that ended it. */
static gboolean
wait_for_child (SvLaunch *launch, GError **error)
{
  SvChildMessage message = { 0 };
  ssize_t n;
  int status = 0;

  do
    n = recv (launch->sync_fd, &message, sizeof message, 0);
  while (n < 0 && errno == EINTR);

  if (n == sizeof message && message.kind == SV_CHILD_READY)
    return TRUE;

  if (waitpid (launch->pid, &status, 0) == launch->pid)
    launch->reaped = TRUE;
  if (n == sizeof message && message.kind == SV_CHILD_ERROR)
    {
      message.text[sizeof message.text - 1] = '\0';
      if (message.errnum)
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "%s: %s", message.text,
                     g_strerror (message.errnum));
      else
        g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, message.text);
      return FALSE;
    }
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
               "the container process exited during setup (wait status %d)", status);
  return FALSE;
}

static char *
format_now (void)
{
  struct timespec now;
  g_autoptr (GDateTime) time = NULL;
  g_autofree char *seconds = NULL;

  clock_gettime (CLOCK_REALTIME, &now);
  time = g_date_time_new_from_unix_utc (now.tv_sec);
  seconds = g_date_time_format (time, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%09ldZ", seconds, now.tv_nsec);
}

static gboolean
write_pid_file (const char *path, pid_t pid, GError **error)
{
  g_autofree char *value = g_strdup_printf ("%d", (int)pid);

  if (path == NULL)
    return TRUE;
  if (!g_file_set_contents_full (path, value, -1, G_FILE_SET_CONTENTS_NONE, 0644, error))
    {
      g_prefix_error (error, "cannot write the pid file: ");
      return FALSE;
    }
  return TRUE;
}

static char *
json_text (JsonNode *node)
{
  return node ? json_to_string (node, FALSE) : NULL;
}

static char *
array_text (JsonArray *array)
{
  g_autoptr (JsonNode) node = array ? json_node_init_array (json_node_alloc (), array) : NULL;
  return json_text (node);
}

static SvRuntimeState *
launch_state (SvLaunch *launch)
{
  SvRuntimeState *state = g_new0 (SvRuntimeState, 1);

  state->id = g_strdup (launch->options->id);
  state->folder = g_strdup (launch->folder);
  state->pid = launch->pid;
  state->start_time = sv_process_start_time (launch->pid, NULL);
  state->bundle = g_strdup (launch->spec->bundle);
  state->rootfs = g_strdup (launch->spec->rootfs);
  state->created = format_now ();
  state->oci_version = g_strdup (launch->spec->oci_version);
  g_ptr_array_add (launch->cgroup_leaves, NULL);
  state->cgroup_paths = g_strdupv ((char **)launch->cgroup_leaves->pdata);
  g_ptr_array_remove_index (launch->cgroup_leaves, launch->cgroup_leaves->len - 1);
  if (launch->spec->annotations)
    {
      g_autoptr (JsonNode) node
          = json_node_init_object (json_node_alloc (), launch->spec->annotations);
      state->annotations = json_text (node);
    }
  state->poststart = array_text (launch->spec->hooks_poststart);
  state->poststop = array_text (launch->spec->hooks_poststop);
  return state;
}

static gboolean
save_state (SvLaunch *launch, GError **error)
{
  g_autoptr (SvRuntimeState) state = launch_state (launch);

  return sv_runtime_state_save (state, error)
         && write_pid_file (launch->options->pid_file, launch->pid, error);
}

/* Runs the hooks in hooks_json, a JSON array as the state file keeps it. */
static gboolean
run_hooks_text (const char *hooks_json, const char *name, const char *state_json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, hooks_json, -1, error))
    {
      g_prefix_error (error, "invalid %s hooks in the container state: ", name);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return TRUE;
  return sv_hooks_run (json_node_get_array (root), name, state_json, error);
}

/* Runs hooks of a kind that must not stop the container: a failure is only a warning. */
static void
run_hooks_warning (SvRuntimeState *state, const char *hooks_json, const char *name,
                   const char *status)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;

  if (hooks_json == NULL)
    return;
  json = sv_runtime_state_to_json (state, status, FALSE);
  if (!run_hooks_text (hooks_json, name, json, &error))
    g_warning ("container %s: %s", state->id, error->message);
}

/* Runs the prestart and createRuntime hooks while the container process waits in its new
 * namespaces, then lets it go on. */
static gboolean
run_creation_hooks (SvLaunch *launch, GError **error)
{
  g_autoptr (SvRuntimeState) state = launch_state (launch);
  g_autofree char *json = sv_runtime_state_to_json (state, "creating", FALSE);
  char go = 0;

  if (!sv_hooks_run (launch->spec->hooks_prestart, "prestart", json, error)
      || !sv_hooks_run (launch->spec->hooks_create_runtime, "createRuntime", json, error))
    return FALSE;
  if (send (launch->sync_fd, &go, 1, MSG_NOSIGNAL) != 1)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot resume the container process after its hooks: %s",
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* Clones the container process, fork-like: it gets a copy of this memory and continues on a
 * copy of this stack. clone3 puts it straight into its cgroup2 cgroup, which avoids the slow
 * global lock that moving a process there later takes. A new cgroup namespace is created by
 * the child once it is in all its cgroups. */
static pid_t
clone_container (SvLaunch *launch, SvChildContext *ctx)
{
  guint64 flags = (launch->spec->clone_flags & ~CLONE_NEWCGROUP);
  struct clone_args args = { .flags = flags, .exit_signal = SIGCHLD };
  pid_t pid;

  ctx->cgroup_join_files = (char **)launch->cgroup_join_files->pdata;
  if (launch->unified_fd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = launch->unified_fd;
      pid = syscall (SYS_clone3, &args, sizeof args);
      if (pid >= 0 || (errno != ENOSYS && errno != E2BIG))
        return pid;

      /* Kernels before 5.7 lack clone3, so the child joins cgroup2 through cgroup.procs. */
      g_ptr_array_remove_index (launch->cgroup_join_files, launch->cgroup_join_files->len - 1);
      for (guint i = 0; i < launch->layout->len; i++)
        if (((SvCgroupHierarchy *)g_ptr_array_index (launch->layout, i))->unified)
          g_ptr_array_add (launch->cgroup_join_files,
                           g_build_filename (g_ptr_array_index (launch->cgroup_leaves, i),
                                             "cgroup.procs", NULL));
      g_ptr_array_add (launch->cgroup_join_files, NULL);
      ctx->cgroup_join_files = (char **)launch->cgroup_join_files->pdata;
    }
  return syscall (SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
}

/* Clones the container process into its namespaces and waits until it is set up. With
 * wait_for_start it then blocks on the exec fifo, and without it goes on to exec. */
static gboolean
sv_launch_spawn (SvLaunch *launch, gboolean wait_for_start, GError **error)
{
  SvChildContext ctx = { 0 };
  int pair[2];

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create the sync socket: %s", g_strerror (saved_errno));
      return FALSE;
    }
  launch->sync_fd = pair[0];

  ctx.spec = launch->spec;
  ctx.sync_fd = pair[1];
  ctx.state_dir_fd = wait_for_start ? launch->state_dir_fd : -1;
  ctx.log_fd = launch->options->log_fd;
  ctx.log_json = launch->options->log_json;
  ctx.preserve_fds = launch->options->preserve_fds;
  ctx.console_fd = launch->console_fd;
  ctx.exec_pidfd = -1;
  ctx.wait_for_hooks = launch->spec->hooks_prestart || launch->spec->hooks_create_runtime;
  ctx.namespaces = (SvNamespaceFd *)launch->namespace_fds->data;
  ctx.n_namespaces = launch->namespace_fds->len;
  ctx.cgroup_mounts = (SvCgroupMount *)launch->cgroup_mounts->data;
  ctx.n_cgroup_mounts = launch->cgroup_mounts->len;
  ctx.sysctl_paths = (char **)launch->sysctl_paths->pdata;
  ctx.path_env = find_path_env (launch->spec);
  ctx.rootfs_mount = launch->rootfs_mount;
  ctx.last_cap = MIN (read_last_cap (), 63);
  if (launch->seccomp)
    ctx.seccomp_program = g_bytes_get_data (launch->seccomp, &ctx.seccomp_length);
  ctx.seccomp_flags = launch->seccomp_flags;

  launch->pid = clone_container (launch, &ctx);
  if (launch->pid == 0)
    {
      close (pair[0]);
      sv_child_run (&ctx);
    }
  close (pair[1]);
  if (launch->pid < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot clone the container process: %s", g_strerror (saved_errno));
      return FALSE;
    }
  if (ctx.wait_for_hooks && !run_creation_hooks (launch, error))
    return FALSE;

  return wait_for_child (launch, error);
}

gboolean
sv_container_create (const SvCreateOptions *options, GError **error)
{
  g_autoptr (SvLaunch) launch = sv_launch_prepare (options, error);

  if (launch == NULL || !sv_launch_spawn (launch, TRUE, error) || !save_state (launch, error))
    return FALSE;
  sv_launch_commit (launch);
  return TRUE;
}

static volatile sig_atomic_t forward_pid;
static volatile sig_atomic_t pending_signal;

static void
forward_signal (int signal_number)
{
  if (forward_pid > 0)
    kill (forward_pid, signal_number);
  else
    pending_signal = signal_number;
}

/* Catches the usual job-control signals before the process is cloned, so one that
 * arrives while the container starts up is kept for the container instead of killing
 * the runtime and leaving the container behind. The clone's copy of the handler is
 * reset by its exec. */
static void
catch_signals_to_forward (void)
{
  static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
  struct sigaction action = { .sa_handler = forward_signal };

  forward_pid = 0;
  pending_signal = 0;
  for (guint i = 0; i < G_N_ELEMENTS (forwarded); i++)
    sigaction (forwarded[i], &action, NULL);
}

/* Passes caught signals on to @pid from now on, starting with one caught meanwhile. */
static void
forward_signals_to (pid_t pid)
{
  forward_pid = pid;
  if (pending_signal != 0)
    kill (pid, pending_signal);
}

/* Waits for the process and returns its exit code, or 128 + signal as a shell reports it. */
static int
wait_exit_status (pid_t pid)
{
  int status = 0;

  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  forward_pid = 0;
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return WEXITSTATUS (status);
}

gboolean
sv_container_run (const SvCreateOptions *options, gboolean detach, int *exit_status, GError **error)
{
  g_autoptr (SvLaunch) launch = sv_launch_prepare (options, error);
  g_autoptr (SvRuntimeState) state = NULL;
  SvChildMessage message = { 0 };
  ssize_t n;

  *exit_status = 1;
  if (launch == NULL)
    return FALSE;
  if (!detach)
    catch_signals_to_forward ();
  if (!sv_launch_spawn (launch, FALSE, error))
    return FALSE;
  if (!detach)
    forward_signals_to (launch->pid);

  /* Remove the fifo first, so that the container reads as running from the start. */
  {
    g_autofree char *fifo = g_build_filename (launch->folder, "exec.fifo", NULL);
    unlink (fifo);
  }
  if (!save_state (launch, error))
    return FALSE;

  /* The socket closes on exec, so a message before that is an error from the last steps. */
  do
    n = recv (launch->sync_fd, &message, sizeof message, 0);
  while (n < 0 && errno == EINTR);
  if (n == sizeof message && message.kind == SV_CHILD_ERROR)
    {
      message.text[sizeof message.text - 1] = '\0';
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "%s%s%s", message.text,
                   message.errnum ? ": " : "", message.errnum ? g_strerror (message.errnum) : "");
      return FALSE;
    }

  state = launch_state (launch);
  run_hooks_warning (state, state->poststart, "poststart", "running");
  if (detach)
    {
      sv_launch_commit (launch);
      *exit_status = 0;
      return TRUE;
    }
  *exit_status = wait_exit_status (launch->pid);
  launch->reaped = TRUE;
  run_hooks_warning (state, state->poststop, "poststop", "stopped");
  return TRUE;
}

/* Applies the command line of `exec` to the process taken from config.json. */
static gboolean
apply_exec_options (SvRuntimeSpec *spec, const SvExecOptions *options, GError **error)
{
  if (options->process_file && !sv_runtime_spec_load_process (spec, options->process_file, error))
    return FALSE;
  if (options->args && options->args[0])
    {
      g_strfreev (spec->args);
      spec->args = g_strdupv (options->args);
    }
  else if (options->process_file == NULL)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "exec needs a command after the container id, or --process FILE");
      return FALSE;
    }
  if (options->cwd)
    {
      g_free (spec->cwd);
      spec->cwd = g_strdup (options->cwd);
    }
  for (guint i = 0; options->env && options->env[i]; i++)
    {
      g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

      g_strv_builder_addv (builder, (const char **)spec->env);
      g_strv_builder_add (builder, options->env[i]);
      g_strfreev (spec->env);
      spec->env = g_strv_builder_end (builder);
    }
  if (options->user)
    {
      g_auto (GStrv) ids = g_strsplit (options->user, ":", 2);
      guint64 uid = 0, gid = 0;

      if (!g_ascii_string_to_unsigned (ids[0], 10, 0, G_MAXUINT32 - 1, &uid, NULL)
          || (ids[1] && !g_ascii_string_to_unsigned (ids[1], 10, 0, G_MAXUINT32 - 1, &gid, NULL)))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid --user %s; give UID or UID:GID as numbers", options->user);
          return FALSE;
        }
      spec->uid = uid;
      spec->gid = ids[1] ? gid : 0;
    }
  for (guint i = 0; options->additional_gids && options->additional_gids[i]; i++)
    {
      guint64 value;
      gid_t gid;

      if (!g_ascii_string_to_unsigned (options->additional_gids[i], 10, 0, G_MAXUINT32 - 1, &value,
                                       NULL))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid --additional-gids %s; give a group id",
                       options->additional_gids[i]);
          return FALSE;
        }
      gid = value;
      g_array_append_val (spec->additional_gids, gid);
    }
  for (guint i = 0; options->capabilities && options->capabilities[i]; i++)
    {
      int cap = sv_capability_from_name (options->capabilities[i]);
      guint64 bit;

      if (cap < 0)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "unknown capability %s in --cap; use a name such as CAP_NET_ADMIN",
                       options->capabilities[i]);
          return FALSE;
        }
      bit = G_GUINT64_CONSTANT (1) << cap;
      spec->cap_bounding |= bit;
      spec->cap_effective |= bit;
      spec->cap_permitted |= bit;
      spec->cap_inheritable |= bit;
      spec->cap_ambient |= bit;
    }
  if (options->no_new_privileges)
    spec->no_new_privileges = TRUE;
  if (options->tty)
    spec->terminal = TRUE;
  return TRUE;
}

/* The pieces of `exec` to release: everything opened before the clone. */
typedef struct
{
  SvRuntimeSpec *spec;
  GPtrArray *join_files;
  GBytes *seccomp;
  int pidfd;
  int unified_fd;
  int console_fd;
  int sync_fd;
} SvExec;

static void
sv_exec_free (SvExec *exec)
{
  int fds[] = { exec->pidfd, exec->unified_fd, exec->console_fd, exec->sync_fd };

  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    if (fds[i] >= 0)
      close (fds[i]);
  g_clear_pointer (&exec->spec, sv_runtime_spec_free);
  g_clear_pointer (&exec->join_files, g_ptr_array_unref);
  g_clear_pointer (&exec->seccomp, g_bytes_unref);
  g_free (exec);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvExec, sv_exec_free)

/* Lists the container's cgroups to join: the v1 "tasks" files, and the cgroup2 folder that
 * clone3 places the process in. */
static void
prepare_exec_cgroups (SvExec *exec, SvRuntimeState *state)
{
  exec->join_files = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; state->cgroup_paths && state->cgroup_paths[i]; i++)
    {
      char *tasks = g_build_filename (state->cgroup_paths[i], "tasks", NULL);

      if (g_file_test (tasks, G_FILE_TEST_EXISTS))
        g_ptr_array_add (exec->join_files, tasks);
      else
        {
          g_free (tasks);
          if (exec->unified_fd < 0)
            exec->unified_fd = open (state->cgroup_paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
    }
  g_ptr_array_add (exec->join_files, NULL);
}

/* Joins the container's pid namespace, which only children created afterwards enter. */
static gboolean
join_pid_namespace (SvRuntimeState *state, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/ns/pid", (int)state->pid);
  g_auto (SvFd) fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0 || setns (fd, CLONE_NEWPID) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot join the pid namespace of container %s: %s", state->id,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static pid_t
clone_exec (SvExec *exec)
{
  struct clone_args args = { .exit_signal = SIGCHLD };

  if (exec->unified_fd >= 0)
    {
      args.flags = CLONE_INTO_CGROUP;
      args.cgroup = exec->unified_fd;
    }
  return syscall (SYS_clone3, &args, sizeof args);
}

/* Waits until the new process has exec'd, which closes the sync socket, or reports its error. */
static gboolean
wait_for_exec (SvExec *exec, pid_t pid, GError **error)
{
  SvChildMessage message = { 0 };
  ssize_t n;

  for (;;)
    {
      do
        n = recv (exec->sync_fd, &message, sizeof message, 0);
      while (n < 0 && errno == EINTR);
      if (n != sizeof message || message.kind != SV_CHILD_READY)
        break;
    }
  if (n != sizeof message)
    return TRUE;

  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  message.text[sizeof message.text - 1] = '\0';
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "%s%s%s", message.text,
               message.errnum ? ": " : "", message.errnum ? g_strerror (message.errnum) : "");
  return FALSE;
}

/* Runs a new process in a running container: in its namespaces and cgroups, with the process
 * settings of its config.json changed by options. */
gboolean
sv_container_exec (const char *root, const char *id, const SvExecOptions *options, int *exit_status,
                   GError **error)
{
  g_autoptr (SvRuntimeState) state = sv_runtime_state_load (root, id, error);
  g_autoptr (SvExec) exec = g_new0 (SvExec, 1);
  SvChildContext ctx = { 0 };
  int pair[2];
  pid_t pid;

  *exit_status = 1;
  exec->pidfd = exec->unified_fd = exec->console_fd = exec->sync_fd = -1;
  if (state == NULL)
    return FALSE;
  exec->pidfd = sv_runtime_state_open_pidfd (state);
  if (exec->pidfd < 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_RUNNING,
                   "cannot exec in container %s: it is not running", id);
      return FALSE;
    }
  exec->spec = sv_runtime_spec_load (state->bundle, error);
  if (exec->spec == NULL || !apply_exec_options (exec->spec, options, error)
      || !connect_console (exec->spec->terminal, options->console_socket, &exec->console_fd, error))
    return FALSE;
  if (exec->spec->seccomp)
    {
      exec->seccomp
          = sv_seccomp_load_program (exec->spec->seccomp, root, &ctx.seccomp_flags, error);
      if (exec->seccomp == NULL)
        return FALSE;
      ctx.seccomp_program = g_bytes_get_data (exec->seccomp, &ctx.seccomp_length);
    }
  prepare_exec_cgroups (exec, state);
  if (!join_pid_namespace (state, error))
    return FALSE;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create the sync socket: %s", g_strerror (saved_errno));
      return FALSE;
    }
  exec->sync_fd = pair[0];

  ctx.spec = exec->spec;
  ctx.sync_fd = pair[1];
  ctx.state_dir_fd = -1;
  ctx.log_fd = options->log_fd;
  ctx.log_json = options->log_json;
  ctx.preserve_fds = options->preserve_fds;
  ctx.console_fd = exec->console_fd;
  ctx.exec_pidfd = exec->pidfd;
  ctx.exec_namespaces = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
  ctx.cgroup_join_files = (char **)exec->join_files->pdata;
  ctx.path_env = find_path_env (exec->spec);
  ctx.last_cap = MIN (read_last_cap (), 63);

  if (!options->detach)
    catch_signals_to_forward ();
  pid = clone_exec (exec);
  if (pid == 0)
    {
      close (pair[0]);
      sv_child_run (&ctx);
    }
  close (pair[1]);
  if (pid < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot clone the process for exec: %s", g_strerror (saved_errno));
      return FALSE;
    }
  if (!options->detach)
    forward_signals_to (pid);
  if (!wait_for_exec (exec, pid, error))
    return FALSE;

  if (options->detach)
    {
      *exit_status = 0;
      return write_pid_file (options->pid_file, pid, error);
    }
  if (!write_pid_file (options->pid_file, pid, error))
    return FALSE;
  *exit_status = wait_exit_status (pid);
  return TRUE;
}

/* The entry points that servin-runtime looks up after loading this module. */
G_MODULE_EXPORT const SvRuntimeModule sv_runtime_module = {
  .create = sv_container_create,
  .run = sv_container_run,
  .exec = sv_container_exec,
  .run_hooks = run_hooks_text,
  .spec_template = sv_runtime_spec_template,
};
