/* SPDX-License-Identifier: GPL-2.0-or-later */

/* OCI hooks: programs that run in the runtime's namespaces at points of the container's life,
 * each reading the container state as JSON on its stdin. */
#include "sv-runtime-hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sv-engine-error.h"

/* How much of a failed hook's output goes into the error message. */
#define OUTPUT_LIMIT 1024

static char **
string_array (JsonObject *hook, const char *name)
{
  JsonNode *node = json_object_get_member (hook, name);
  g_autoptr (GStrvBuilder) builder = NULL;
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      const char *value = json_array_get_string_element (array, i);
      if (value)
        g_strv_builder_add (builder, value);
    }
  return g_strv_builder_end (builder);
}

/* Checks that every entry of hooks.NAME has an absolute path and well-typed members. */
gboolean
sv_hooks_validate (JsonArray *hooks, const char *name, GError **error)
{
  for (guint i = 0; hooks && i < json_array_get_length (hooks); i++)
    {
      JsonObject *hook = json_array_get_object_element (hooks, i);
      JsonNode *path = hook ? json_object_get_member (hook, "path") : NULL;
      JsonNode *timeout = hook ? json_object_get_member (hook, "timeout") : NULL;

      if (path == NULL || !JSON_NODE_HOLDS_VALUE (path)
          || json_node_get_value_type (path) != G_TYPE_STRING
          || !g_path_is_absolute (json_node_get_string (path)))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid config.json: hooks.%s[%u] needs an absolute path", name, i);
          return FALSE;
        }
      if (timeout
          && (!JSON_NODE_HOLDS_VALUE (timeout) || json_node_get_value_type (timeout) != G_TYPE_INT64
              || json_node_get_int (timeout) <= 0))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid config.json: hooks.%s[%u].timeout must be a positive number of "
                       "seconds",
                       name, i);
          return FALSE;
        }
    }
  return TRUE;
}

/* Starts the hook with a pipe on stdin and another on stdout and stderr. */
static pid_t
spawn_hook (const char *path, char **args, char **env, int *input, int *output)
{
  int in[2], out[2];
  pid_t pid;

  if (pipe2 (in, O_CLOEXEC) < 0)
    return -1;
  if (pipe2 (out, O_CLOEXEC) < 0)
    {
      close (in[0]);
      close (in[1]);
      return -1;
    }
  pid = fork ();
  if (pid == 0)
    {
      /* Between fork and exec: async-signal-safe calls only. */
      if (dup2 (in[0], STDIN_FILENO) < 0 || dup2 (out[1], STDOUT_FILENO) < 0
          || dup2 (out[1], STDERR_FILENO) < 0)
        _exit (127);
      execve (path, args, env);
      _exit (127);
    }
  close (in[0]);
  close (out[1]);
  if (pid < 0)
    {
      close (in[1]);
      close (out[0]);
      return -1;
    }
  *input = in[1];
  *output = out[0];
  return pid;
}

/* Writes the state to the hook and collects its output until it exits or the timeout passes.
 * Returns the wait status, or -1 after killing a hook that ran too long. */
static int
feed_and_wait (pid_t pid, int input, int output, const char *state_json, int timeout,
               GString *collected)
{
  gint64 deadline = timeout > 0 ? g_get_monotonic_time () + timeout * G_USEC_PER_SEC : -1;
  struct sigaction ignore = { .sa_handler = SIG_IGN }, previous;
  char buffer[512];
  int status = 0;
  ssize_t n;

  /* A hook that exits without reading its stdin must not kill servin-runtime with SIGPIPE. */
  sigaction (SIGPIPE, &ignore, &previous);
  if (write (input, state_json, strlen (state_json)) < 0 && errno != EPIPE)
    g_debug ("cannot write the state to hook %d: %s", (int)pid, g_strerror (errno));
  close (input);
  sigaction (SIGPIPE, &previous, NULL);

  for (;;)
    {
      struct pollfd fd = { output, POLLIN, 0 };
      int wait_ms = deadline < 0 ? -1 : (int)MAX (0, (deadline - g_get_monotonic_time ()) / 1000);
      int ready = poll (&fd, 1, wait_ms);

      if (ready < 0 && errno == EINTR)
        continue;
      if (ready == 0)
        {
          kill (pid, SIGKILL);
          status = -1;
          break;
        }
      n = read (output, buffer, sizeof buffer);
      if (n <= 0)
        break;
      if (collected->len < OUTPUT_LIMIT)
        g_string_append_len (collected, buffer, MIN ((gsize)n, OUTPUT_LIMIT - collected->len));
    }
  close (output);

  {
    int wait_status = 0;
    while (waitpid (pid, &wait_status, 0) < 0 && errno == EINTR)
      ;
    return status < 0 ? -1 : wait_status;
  }
}

static gboolean
run_hook (JsonObject *hook, const char *name, guint index, const char *state_json, GError **error)
{
  const char *path = json_object_get_string_member (hook, "path");
  g_auto (GStrv) args = string_array (hook, "args");
  g_auto (GStrv) env = string_array (hook, "env");
  int timeout = json_object_get_int_member_with_default (hook, "timeout", 0);
  g_autoptr (GString) output = g_string_new (NULL);
  char *default_args[] = { (char *)path, NULL };
  char *empty_env[] = { NULL };
  int input, output_fd, status;
  pid_t pid;

  pid = spawn_hook (path, args && args[0] ? args : default_args, env ? env : empty_env, &input,
                    &output_fd);
  if (pid < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot run %s hook %s: %s",
                   name, path, g_strerror (saved_errno));
      return FALSE;
    }
  status = feed_and_wait (pid, input, output_fd, state_json, timeout, output);
  g_strstrip (output->str);
  if (status < 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "%s hook %s timed out after %d seconds", name, path, timeout);
      return FALSE;
    }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "%s hook %u (%s) failed with %s %d%s%s", name, index, path,
                   WIFEXITED (status) ? "exit status" : "signal",
                   WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status),
                   *output->str ? ": " : "", output->str);
      return FALSE;
    }
  return TRUE;
}

/* Runs the hooks of hooks.NAME in order and stops at the first that fails. */
gboolean
sv_hooks_run (JsonArray *hooks, const char *name, const char *state_json, GError **error)
{
  for (guint i = 0; hooks && i < json_array_get_length (hooks); i++)
    if (!run_hook (json_array_get_object_element (hooks, i), name, i, state_json, error))
      return FALSE;
  return TRUE;
}
