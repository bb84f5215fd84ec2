/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-cli.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* docker prefixes the errors of run and create with its name. */
static gboolean error_prefix = FALSE;

void
sv_cli_set_error_prefix (gboolean prefix)
{
  error_prefix = prefix;
}

/* TRUE for errors that docker reports as the daemon's: servind's own
 * errors and the lookups that docker does on the daemon side. */
static gboolean
is_daemon_error (const GError *error)
{
  return error->domain == SV_DBUS_ERROR
         || g_error_matches (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NOT_FOUND)
         || g_error_matches (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_AMBIGUOUS);
}

/* Prints @error on stderr the way docker does: "Error response from daemon:
 * MESSAGE" for servind's errors, without the D-Bus error name, and
 * "servin: MESSAGE" for the client's own. */
void
sv_cli_print_error (const GError *error)
{
  g_autoptr (GError) copy = g_error_copy (error);

  sv_client_error_clean (copy);
  if (is_daemon_error (copy))
    fprintf (stderr, "%sError response from daemon: %s\n", error_prefix ? "servin: " : "",
             copy->message);
  else
    fprintf (stderr, "servin: %s\n", copy->message);
}

/* Prints a message of the client's own on stderr. */
void
sv_cli_print_message (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "servin: %s\n", message);
}

/* The polkit agent that servin started, or 0. */
static GPid agent_pid = 0;

/* Starts pkttyagent for this process, as systemctl does, so polkit can ask
 * for a password on the terminal, and waits until the agent has registered.
 * polkit registers agents only for processes and sessions. Returns FALSE
 * when no agent could be started.
 * NOTE: polkitd 122 without logind registers the agent but does not use it
 * for servind's checks, which name servin's bus name as the subject, so on
 * such machines the password prompt has not been seen to appear. */
static gboolean
start_polkit_agent (void)
{
  g_autofree char *agent = g_find_program_in_path ("pkttyagent");
  g_autofree char *notify_arg = NULL;
  g_autofree char *process_arg = g_strdup_printf ("%d", (int)getpid ());
  g_autoptr (GError) error = NULL;
  int notify[2];
  char byte;

  if (agent == NULL || !g_unix_open_pipe (notify, FD_CLOEXEC, NULL))
    return FALSE;

  /* The agent closes its end of the pipe once it is registered. */
  notify_arg = g_strdup_printf ("--notify-fd=%d", notify[1]);
  {
    const char *argv[] = { agent, notify_arg, "--fallback", "--process", process_arg, NULL };
    int source_fds[] = { notify[1] };
    int target_fds[] = { notify[1] };

    if (!g_spawn_async_with_pipes_and_fds (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                           -1, -1, -1, source_fds, target_fds, 1, &agent_pid, NULL,
                                           NULL, NULL, &error))
      {
        g_debug ("cannot start %s: %s", agent, error->message);
        close (notify[0]);
        close (notify[1]);
        return FALSE;
      }
  }
  close (notify[1]);
  while (read (notify[0], &byte, 1) < 0 && errno == EINTR)
    ;
  close (notify[0]);
  return TRUE;
}

/* Stops the polkit agent that sv_cli_connect() started, if any. */
void
sv_cli_stop_polkit_agent (void)
{
  if (agent_pid <= 0)
    return;
  kill (agent_pid, SIGTERM);
  while (waitpid (agent_pid, NULL, 0) < 0 && errno == EINTR)
    ;
  agent_pid = 0;
}

/* Connects to servind, or prints why not and returns NULL. A user other
 * than root at a terminal gets a polkit agent, so changing commands can ask
 * for a password instead of failing. */
GDBusObjectManager *
sv_cli_connect (void)
{
  g_autoptr (GError) error = NULL;
  GDBusObjectManager *objects = sv_client_connect (NULL, &error);

  if (objects == NULL)
    {
      sv_cli_print_error (error);
      return NULL;
    }

  if (getuid () != 0 && isatty (STDIN_FILENO) && start_polkit_agent ())
    sv_client_allow_interactive_authorization (objects);
  return objects;
}

SvDBusManager *
sv_cli_get_manager (GDBusObjectManager *objects)
{
  g_autoptr (GError) error = NULL;
  SvDBusManager *manager = sv_client_get_manager (objects, NULL, &error);

  if (manager == NULL)
    sv_cli_print_error (error);
  return manager;
}

gboolean
sv_cli_write_all (int fd, const void *data, gsize length, GError **error)
{
  const guint8 *p = data;

  while (length > 0)
    {
      ssize_t written = write (fd, p, length);

      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "cannot write to %s: %s", fd == STDERR_FILENO ? "stderr" : "stdout",
                       g_strerror (saved_errno));
          return FALSE;
        }
      p += written;
      length -= written;
    }
  return TRUE;
}

static gboolean
write_frame_cb (SvClientStream stream, const guint8 *data, gsize length, gpointer user_data,
                GError **error)
{
  return sv_cli_write_all (stream == SV_CLIENT_STREAM_STDERR ? STDERR_FILENO : STDOUT_FILENO, data,
                           length, error);
}

/* Copies a framed stream from @fd to stdout and stderr until its end. */
gboolean
sv_cli_copy_framed (int fd, GError **error)
{
  g_autoptr (SvClientDemux) demux = sv_client_demux_new (write_frame_cb, NULL);
  guint8 buffer[65536];

  for (;;)
    {
      ssize_t length = read (fd, buffer, sizeof buffer);

      if (length < 0 && errno == EINTR)
        continue;
      if (length < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "cannot read the container's stream: %s", g_strerror (saved_errno));
          return FALSE;
        }
      if (length == 0)
        break;
      if (!sv_client_demux_feed (demux, buffer, length, error))
        return FALSE;
    }
  return sv_client_demux_finish (demux, error);
}

/* A container killed by a signal exits with 128 + N already, like docker's;
 * statuses outside 0..255 cannot be passed to exit(). */
int
sv_cli_container_exit_status (int exit_code)
{
  return exit_code >= 0 && exit_code <= 255 ? exit_code : 255;
}

/* Text in columns laid out like docker's tables, which use Go's tabwriter
 * with a minimum cell width of 10 and 3 spaces of padding. The last column
 * is not padded. */
#define TABLE_MIN_WIDTH 10
#define TABLE_PADDING 3

struct _SvCliTable
{
  guint columns;
  GPtrArray *cells;
};

SvCliTable *
sv_cli_table_new (guint columns)
{
  SvCliTable *table = g_new0 (SvCliTable, 1);

  table->columns = columns;
  table->cells = g_ptr_array_new_with_free_func (g_free);
  return table;
}

void
sv_cli_table_free (SvCliTable *table)
{
  g_ptr_array_unref (table->cells);
  g_free (table);
}

/* Adds one row of exactly as many strings as the table has columns. */
void
sv_cli_table_add_row (SvCliTable *table, ...)
{
  va_list args;

  va_start (args, table);
  for (guint i = 0; i < table->columns; i++)
    {
      const char *cell = va_arg (args, const char *);

      g_ptr_array_add (table->cells, g_strdup (cell ? cell : ""));
    }
  va_end (args);
}

void
sv_cli_table_print (SvCliTable *table, FILE *out)
{
  guint rows = table->cells->len / table->columns;
  g_autofree glong *widths = g_new0 (glong, table->columns);

  for (guint column = 0; column < table->columns; column++)
    {
      widths[column] = TABLE_MIN_WIDTH;
      for (guint row = 0; row < rows; row++)
        {
          const char *cell = table->cells->pdata[row * table->columns + column];

          widths[column] = MAX (widths[column], g_utf8_strlen (cell, -1) + TABLE_PADDING);
        }
    }

  for (guint row = 0; row < rows; row++)
    {
      for (guint column = 0; column < table->columns; column++)
        {
          const char *cell = table->cells->pdata[row * table->columns + column];

          fputs (cell, out);
          if (column + 1 < table->columns)
            fprintf (out, "%*s", (int)(widths[column] - g_utf8_strlen (cell, -1)), "");
        }
      fputc ('\n', out);
    }
}
