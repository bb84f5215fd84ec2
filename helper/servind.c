/* SPDX-License-Identifier: GPL-2.0-or-later */
/* servind: Servin's root helper. It owns org.servin.Servin1 on the system
 * bus, embeds the engine and checks every call with polkit. */
#include <glib-unix.h>
#include <gio/gio.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "sv-build-config.h"
#include "sv-config.h"
#include "sv-daemon.h"

#define SV_BUS_NAME "org.servin.Servin1"

static GLogLevelFlags max_level = G_LOG_LEVEL_INFO;
static FILE *log_stream;

static GLogLevelFlags
level_from_name (const char *name)
{
  if (g_str_equal (name, "error"))
    return G_LOG_LEVEL_CRITICAL;
  if (g_str_equal (name, "warning"))
    return G_LOG_LEVEL_WARNING;
  if (g_str_equal (name, "debug"))
    return G_LOG_LEVEL_DEBUG;
  return G_LOG_LEVEL_INFO;
}

/* Drop messages above the configured level. The rest go to the configured log
 * file, or else to stderr, where a service manager or the tests collect them. */
static GLogWriterOutput
write_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  GLogLevelFlags severity = level & G_LOG_LEVEL_MASK;
  const char *message = "";
  const char *domain = "servind";
  const char *label;

  if (severity > max_level && !(level & G_LOG_FLAG_FATAL))
    return G_LOG_WRITER_HANDLED;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
      else if (g_str_equal (fields[i].key, "GLIB_DOMAIN") && fields[i].value != NULL)
        domain = fields[i].value;
    }

  switch (severity)
    {
    case G_LOG_LEVEL_ERROR:
    case G_LOG_LEVEL_CRITICAL:
      label = "error";
      break;
    case G_LOG_LEVEL_WARNING:
      label = "warning";
      break;
    case G_LOG_LEVEL_MESSAGE:
      label = "notice";
      break;
    case G_LOG_LEVEL_INFO:
      label = "info";
      break;
    default:
      label = "debug";
      break;
    }

  {
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    g_autofree char *stamp = g_date_time_format (now, "%FT%H:%M:%S.%fZ");

    FILE *stream = log_stream != NULL ? log_stream : stderr;

    fprintf (stream, "%s %s[%d] %s: %s\n", stamp, domain, (int) getpid (), label, message);
    fflush (stream);
  }
  return G_LOG_WRITER_HANDLED;
}

/* Open @path for appending, creating its folder; NULL keeps standard error. */
static gboolean
open_log_file (const char *path)
{
  g_autofree char *folder = NULL;

  if (path == NULL)
    return TRUE;

  folder = g_path_get_dirname (path);
  if (g_mkdir_with_parents (folder, 0750) < 0)
    {
      fprintf (stderr, "servind: cannot create the log folder %s: %s\n", folder,
               g_strerror (errno));
      return FALSE;
    }
  log_stream = fopen (path, "ae");
  if (log_stream == NULL)
    {
      fprintf (stderr, "servind: cannot open the log file %s: %s\n", path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean name_lost;

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  name_lost = TRUE;
  g_critical ("Lost or could not own the bus name %s: another servind may be running; exiting",
              name);
  g_main_loop_quit (user_data);
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_info ("Owning %s on the system bus; ready", name);
}

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *data_root = NULL;
  g_autofree char *log_level = NULL;
  g_autofree char *runtime = NULL;
  g_autofree char *log_file = NULL;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path,
      "Read the configuration from FILE instead of " SV_DEFAULT_CONFIG, "FILE" },
    { "data-root", 0, 0, G_OPTION_ARG_FILENAME, &data_root,
      "Keep images, containers and logs in DIR", "DIR" },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &log_level,
      "Log messages up to LEVEL: error, warning, info or debug", "LEVEL" },
    { "log-file", 0, 0, G_OPTION_ARG_FILENAME, &log_file,
      "Append the log to FILE instead of writing it to standard error", "FILE" },
    { "runtime", 0, 0, G_OPTION_ARG_STRING, &runtime,
      "Run containers with RUNTIME: servin-runtime, runc or a path", "RUNTIME" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- Servin's system helper");
  g_autoptr (GError) error = NULL;
  g_autoptr (SvConfig) config = NULL;
  g_autoptr (SvDaemon) daemon = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  guint owner_id;

  setlocale (LC_ALL, "");
  g_log_set_writer_func (write_log, NULL, NULL);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "servind: %s. Run servind --help for the options.\n", error->message);
      return 2;
    }
  if (version)
    {
      printf ("servind %s\n", PACKAGE_VERSION);
      return 0;
    }

  if (config_path == NULL)
    config_path = g_strdup (g_getenv ("SERVIN_CONFIG"));
  if (config_path == NULL && g_file_test (SV_DEFAULT_CONFIG, G_FILE_TEST_EXISTS))
    config_path = g_strdup (SV_DEFAULT_CONFIG);

  config = sv_config_load (config_path, &error);
  if (config == NULL)
    {
      fprintf (stderr, "servind: %s\n", error->message);
      return 1;
    }
  if (data_root != NULL)
    {
      if (!g_path_is_absolute (data_root))
        {
          fprintf (stderr, "servind: --data-root must be an absolute path, not \"%s\"\n",
                   data_root);
          return 2;
        }
      sv_config_set_data_root (config, data_root);
    }
  if (log_level != NULL)
    {
      const char *const levels[] = { "error", "warning", "info", "debug", NULL };

      if (!g_strv_contains (levels, log_level))
        {
          fprintf (stderr,
                   "servind: invalid --log-level \"%s\": use error, warning, info or debug\n",
                   log_level);
          return 2;
        }
      sv_config_set_log_level (config, log_level);
    }
  if (runtime != NULL)
    sv_config_set_runtime (config, runtime);
  if (log_file != NULL)
    sv_config_set_log_file (config, log_file);
  max_level = level_from_name (sv_config_get_log_level (config));
  if (!open_log_file (sv_config_get_log_file (config)))
    return 1;

  g_info ("Starting servind %s (data root %s, runtime state %s, runtime %s)", PACKAGE_VERSION,
          sv_config_get_data_root (config), sv_config_get_runtime_state (config),
          sv_config_get_runtime (config));

  connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (connection == NULL)
    {
      g_critical ("Cannot connect to the system bus: %s", error->message);
      return 1;
    }
  g_dbus_connection_set_exit_on_close (connection, FALSE);

  daemon = sv_daemon_new (config, &error);
  if (daemon == NULL || !sv_daemon_export (daemon, connection, &error))
    {
      g_critical ("Cannot start: %s", error->message);
      return 1;
    }

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  g_unix_signal_add (SIGINT, on_quit_signal, loop);
  g_signal_connect_swapped (connection, "closed", G_CALLBACK (g_main_loop_quit), loop);

  owner_id = g_bus_own_name_on_connection (connection, SV_BUS_NAME,
                                           G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, on_name_acquired,
                                           on_name_lost, loop, NULL);
  g_main_loop_run (loop);
  g_bus_unown_name (owner_id);
  if (name_lost)
    return 1;

  g_info ("Stopping servind; running containers keep running");
  return 0;
}
