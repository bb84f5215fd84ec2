/* SPDX-License-Identifier: GPL-2.0-or-later */

/* servin-runtime: Servin's OCI runtime, with runc's command line so that the monitor can run
 * it, runc or crun alike. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sv-build-config.h"
#include "sv-engine-error.h"
#include "sv-runtime-container.h"
#include "sv-runtime-module.h"
#include "sv-runtime-state.h"

#define DEFAULT_ROOT SV_DEFAULT_RUNTIME_STATE "/runtime"

static const char usage[]
    = "Usage: servin-runtime [GLOBAL OPTIONS] COMMAND [OPTIONS] ID\n"
      "\n"
      "Commands:\n"
      "  create --bundle DIR [--pid-file FILE] [--console-socket PATH] [--preserve-fds N] ID\n"
      "                  set up a container and leave its process waiting for start\n"
      "  start ID        let a created container run its process\n"
      "  state ID        print the container state as JSON\n"
      "  kill [--all] ID [SIGNAL]\n"
      "                  send SIGNAL (a name or number, default TERM) to the container\n"
      "  delete [--force] ID\n"
      "                  remove a stopped container; --force kills a running one first\n"
      "  run --bundle DIR [--pid-file FILE] [--detach [--console-socket PATH]] ID\n"
      "                  create and start a container, wait for it and exit with its status\n"
      "  exec [--process FILE] [--cwd DIR] [--env NAME=VALUE] [--user UID[:GID]]\n"
      "       [--additional-gids GID] [--cap CAP] [--no-new-privs] [--detach] [--pid-file FILE]\n"
      "       [--tty --console-socket PATH] ID [COMMAND ARGS...]\n"
      "                  run a process in a running container, wait for it and exit with its\n"
      "                  status; --detach exits at once\n"
      "  update [--memory SIZE] [--memory-swap SIZE] [--memory-reservation SIZE]\n"
      "         [--pids-limit N] [--cpu-share N] [--cpu-quota N] [--cpu-period N]\n"
      "         [--cpuset-cpus LIST] [--cpuset-mems LIST] ID\n"
      "                  change the resource limits of a container; SIZE takes k, m or g\n"
      "  pause ID, resume ID\n"
      "                  freeze or thaw all processes of the container\n"
      "  ps [--format table|json] ID\n"
      "                  print the pids of the container's processes\n"
      "  list [--format table|json]\n"
      "                  print the containers in the state folder\n"
      "  spec [--bundle DIR]\n"
      "                  write a template config.json for a root filesystem in DIR/rootfs\n"
      "\n"
      "Global options:\n"
      "  --root DIR          state folder (default " DEFAULT_ROOT ")\n"
      "  --log FILE          also append errors to FILE\n"
      "  --log-format FMT    text or json (default text)\n"
      "  --debug             also write debug messages to the log file, or stderr without one\n"
      "  --version           print the version\n";

static int log_fd = -1;
static gboolean log_json;

static char *
format_log_time (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

/* Writes a message of level "error", "warning" or "debug" to the --log file, one line per message
 * in runc's text format or as {"level","msg","time"} JSON, so that a monitor can read back the
 * last error. Errors also go to stderr, and the other levels too when there is no log file. */
static void
report (const char *level, const char *message)
{
  g_autofree char *time = NULL;
  g_autofree char *line = NULL;

  /* The container inherits stderr from create, so warnings stay out of it when there is a log. */
  if (g_str_equal (level, "error"))
    fprintf (stderr, "servin-runtime: %s\n", message);
  else if (log_fd < 0)
    fprintf (stderr, "servin-runtime: %s: %s\n", level, message);
  if (log_fd < 0)
    return;

  time = format_log_time ();
  if (log_json)
    {
      g_autoptr (GString) json = g_string_new ("{\"level\":");

      sv_json_append_string (json, level);
      g_string_append (json, ",\"msg\":");
      sv_json_append_string (json, message);
      g_string_append (json, ",\"time\":");
      sv_json_append_string (json, time);
      g_string_append (json, "}\n");
      line = g_string_free (g_steal_pointer (&json), FALSE);
    }
  else
    {
      g_autofree char *escaped = g_strescape (message, NULL);
      line = g_strdup_printf ("time=\"%s\" level=%s msg=\"%s\"\n", time, level, escaped);
    }
  if (write (log_fd, line, strlen (line)) < 0)
    fprintf (stderr, "servin-runtime: cannot write to the log file: %s\n", g_strerror (errno));
}

static void
report_error (const char *message)
{
  report ("error", message);
}

/* Sends the warnings of g_warning, such as a failed poststart hook, to report. */
static void
log_warning (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  report ("warning", message);
}

/* Sends g_debug messages, such as where the seccomp filter came from, to report with --debug. */
static void
log_debug (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  report ("debug", message);
}

static int
fail (GError *error)
{
  report_error (error->message);
  g_error_free (error);
  return 1;
}

static int fail_usage (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
fail_usage (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  report_error (message);
  return 2;
}

/* Matches argv[*i] against an option given as --name or -name (as runc accepts), with its
 * value as the next argument or after '='. Flags (value == NULL) take no value. */
static gboolean
match_option (int argc, char **argv, int *i, const char *name, const char *alias,
              const char **value, gboolean *missing_value)
{
  const char *arg = argv[*i];
  const char *names[] = { name, alias };

  if (arg[0] != '-')
    return FALSE;
  arg += arg[1] == '-' ? 2 : 1;
  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      size_t len;

      if (names[k] == NULL)
        continue;
      len = strlen (names[k]);
      if (strncmp (arg, names[k], len) != 0 || (arg[len] != '\0' && arg[len] != '='))
        continue;
      if (value == NULL)
        return arg[len] == '\0';
      if (arg[len] == '=')
        *value = arg + len + 1;
      else if (*i + 1 < argc)
        *value = argv[++*i];
      else
        *missing_value = TRUE;
      return TRUE;
    }
  return FALSE;
}

/* The options of a command, parsed from its arguments. */
typedef struct
{
  SvCreateOptions create;
  gboolean detach;
  gboolean force;
  gboolean all;
  const char *console_socket;
  SvExecOptions exec;
  GPtrArray *env;
  GPtrArray *additional_gids;
  GPtrArray *capabilities;
  gboolean command_follows_id; /* exec: arguments after the id are the command */
  const char *format;          /* ps and list: "table" or "json" */
  gboolean listing;            /* ps and list, where -f means --format rather than --force */
  SvResources resources;       /* update */
  const char *resources_file;  /* update -r, not supported */
  const char *bad_value;       /* the first update value that did not parse */
} CommandOptions;

/* Parses a number with an optional binary unit as runc's update does: "512m", "1G", "-1". Records
 * text in *bad_value when it is not such a number. */
static gboolean
parse_size (const char *text, gint64 *value, const char **bad_value)
{
  static const char units[] = "kmgtp";
  char *end = NULL;
  gint64 number;
  const char *unit;

  if (text == NULL)
    return FALSE;
  number = g_ascii_strtoll (text, &end, 10);
  if (end == text)
    goto invalid;
  if (*end && (unit = strchr (units, g_ascii_tolower (*end))))
    {
      for (const char *u = units; u <= unit; u++)
        number *= 1024;
      end++;
      if (g_ascii_tolower (*end) == 'i')
        end++;
      if (g_ascii_tolower (*end) == 'b')
        end++;
    }
  else if (g_ascii_tolower (*end) == 'b')
    end++;
  if (*end)
    goto invalid;
  *value = number;
  return TRUE;

invalid:
  if (*bad_value == NULL)
    *bad_value = text;
  return FALSE;
}

/* Parses a command's options into options and its other arguments into positional. Returns an
 * exit code on error, or -1. */
static int
parse_command (int argc, char **argv, CommandOptions *options, GPtrArray *positional)
{
  for (int i = 0; i < argc; i++)
    {
      const char *value = NULL, *preserve = NULL;
      gboolean missing = FALSE;

      if (options->command_follows_id && positional->len > 0)
        g_ptr_array_add (positional, argv[i]);
      else if (argv[i][0] != '-' || g_str_equal (argv[i], "-"))
        g_ptr_array_add (positional, argv[i]);
      else if (g_str_equal (argv[i], "--"))
        {
          while (++i < argc)
            g_ptr_array_add (positional, argv[i]);
        }
      else if (match_option (argc, argv, &i, "bundle", "b", &value, &missing))
        options->create.bundle = value;
      else if (match_option (argc, argv, &i, "pid-file", NULL, &value, &missing))
        options->create.pid_file = value;
      else if (match_option (argc, argv, &i, "console-socket", NULL, &value, &missing))
        options->console_socket = value;
      else if (match_option (argc, argv, &i, "preserve-fds", NULL, &preserve, &missing))
        options->create.preserve_fds = preserve ? atoi (preserve) : 0;
      else if (match_option (argc, argv, &i, "detach", "d", NULL, NULL))
        options->detach = TRUE;
      else if (match_option (argc, argv, &i, "format", options->listing ? "f" : NULL, &value,
                             &missing))
        options->format = value;
      else if (match_option (argc, argv, &i, "force", "f", NULL, NULL))
        options->force = TRUE;
      else if (match_option (argc, argv, &i, "all", "a", NULL, NULL))
        options->all = TRUE;
      else if (match_option (argc, argv, &i, "no-new-keyring", NULL, NULL, NULL))
        ;
      else if (match_option (argc, argv, &i, "process", "p", &value, &missing))
        options->exec.process_file = value;
      else if (match_option (argc, argv, &i, "cwd", NULL, &value, &missing))
        options->exec.cwd = value;
      else if (match_option (argc, argv, &i, "user", "u", &value, &missing))
        options->exec.user = value;
      else if (match_option (argc, argv, &i, "env", "e", &value, &missing))
        g_ptr_array_add (options->env, (char *)value);
      else if (match_option (argc, argv, &i, "additional-gids", "g", &value, &missing))
        g_ptr_array_add (options->additional_gids, (char *)value);
      else if (match_option (argc, argv, &i, "cap", "c", &value, &missing))
        g_ptr_array_add (options->capabilities, (char *)value);
      else if (match_option (argc, argv, &i, "memory", NULL, &value, &missing))
        options->resources.has_memory_limit
            = parse_size (value, &options->resources.memory_limit, &options->bad_value);
      else if (match_option (argc, argv, &i, "memory-swap", NULL, &value, &missing))
        options->resources.has_memory_swap
            = parse_size (value, &options->resources.memory_swap, &options->bad_value);
      else if (match_option (argc, argv, &i, "memory-reservation", NULL, &value, &missing))
        options->resources.has_memory_reservation
            = parse_size (value, &options->resources.memory_reservation, &options->bad_value);
      else if (match_option (argc, argv, &i, "pids-limit", NULL, &value, &missing))
        options->resources.has_pids_limit
            = parse_size (value, &options->resources.pids_limit, &options->bad_value);
      else if (match_option (argc, argv, &i, "cpu-share", "cpu-shares", &value, &missing))
        {
          gint64 shares = 0;
          options->resources.has_cpu_shares = parse_size (value, &shares, &options->bad_value);
          options->resources.cpu_shares = shares;
        }
      else if (match_option (argc, argv, &i, "cpu-quota", NULL, &value, &missing))
        options->resources.has_cpu_quota
            = parse_size (value, &options->resources.cpu_quota, &options->bad_value);
      else if (match_option (argc, argv, &i, "cpu-period", NULL, &value, &missing))
        {
          gint64 period = 0;
          options->resources.has_cpu_period = parse_size (value, &period, &options->bad_value);
          options->resources.cpu_period = period;
        }
      else if (match_option (argc, argv, &i, "cpuset-cpus", NULL, &value, &missing))
        options->resources.cpuset_cpus = (char *)value;
      else if (match_option (argc, argv, &i, "cpuset-mems", NULL, &value, &missing))
        options->resources.cpuset_mems = (char *)value;
      else if (match_option (argc, argv, &i, "resources", "r", &value, &missing))
        options->resources_file = value;
      else if (match_option (argc, argv, &i, "tty", "t", NULL, NULL))
        options->exec.tty = TRUE;
      else if (match_option (argc, argv, &i, "no-new-privs", NULL, NULL, NULL))
        options->exec.no_new_privileges = TRUE;
      else if (g_str_has_prefix (argv[i], "-") && g_ascii_isdigit (argv[i][1]))
        g_ptr_array_add (positional, argv[i]);
      else
        return fail_usage ("unknown option %s; see servin-runtime --help", argv[i]);
      if (missing)
        return fail_usage ("option %s needs a value", argv[i]);
    }
  return -1;
}

static int
parse_signal (const char *text)
{
  char *end = NULL;
  long number = strtol (text, &end, 10);

  if (*text && end && *end == '\0')
    return number > 0 && number < NSIG ? (int)number : -1;
  if (g_ascii_strncasecmp (text, "SIG", 3) == 0)
    text += 3;
  for (int i = 1; i < NSIG; i++)
    {
      const char *name = sigabbrev_np (i);
      if (name && g_ascii_strcasecmp (name, text) == 0)
        return i;
    }
  return -1;
}

/* Writes the template config.json into the bundle folder, keeping an existing one. */
static int
write_spec (const char *bundle)
{
  g_autofree char *path = g_build_filename (bundle, "config.json", NULL);
  g_autoptr (GError) error = NULL;
  const SvRuntimeModule *module = sv_runtime_module_load (&error);
  int fd;

  if (module == NULL)
    {
      report_error (error->message);
      return 1;
    }
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd < 0)
    {
      int saved_errno = errno;
      g_autofree char *message
          = g_strdup_printf ("cannot create %s: %s%s", path, g_strerror (saved_errno),
                             saved_errno == EEXIST ? "; remove it first to write a new one" : "");
      report_error (message);
      return 1;
    }
  close (fd);
  if (!g_file_set_contents (path, module->spec_template, -1, &error))
    {
      report_error (error->message);
      return 1;
    }
  return 0;
}

static int
run_command (const char *root, const char *command, int argc, char **argv)
{
  CommandOptions options
      = { .create = { .root = root, .bundle = ".", .log_fd = log_fd, .log_json = log_json } };
  g_autoptr (GPtrArray) positional = g_ptr_array_new ();
  g_autoptr (GPtrArray) env = g_ptr_array_new_null_terminated (0, NULL, TRUE);
  g_autoptr (GPtrArray) additional_gids = g_ptr_array_new_null_terminated (0, NULL, TRUE);
  g_autoptr (GPtrArray) capabilities = g_ptr_array_new_null_terminated (0, NULL, TRUE);
  const SvRuntimeModule *module = NULL;
  GError *error = NULL;
  const char *id;
  int rc;

  options.env = env;
  options.additional_gids = additional_gids;
  options.capabilities = capabilities;
  options.command_follows_id = g_str_equal (command, "exec");
  options.listing = g_str_equal (command, "ps") || g_str_equal (command, "list");
  rc = parse_command (argc, argv, &options, positional);

  if (rc >= 0)
    return rc;
  if (g_str_equal (command, "spec"))
    return write_spec (options.create.bundle);
  if (g_str_equal (command, "list"))
    return sv_container_print_list (root, g_strcmp0 (options.format, "json") == 0, &error)
               ? 0
               : fail (error);
  if (positional->len < 1)
    return fail_usage ("%s needs a container id; see servin-runtime --help", command);
  id = g_ptr_array_index (positional, 0);
  options.create.id = id;

  options.create.console_socket = options.console_socket;
  if (options.console_socket && g_str_equal (command, "run") && !options.detach)
    return fail_usage ("run without --detach relays no terminal in servin-runtime; use create "
                       "with --console-socket, or run --detach");

  if (g_str_equal (command, "create") || g_str_equal (command, "run")
      || g_str_equal (command, "exec"))
    {
      module = sv_runtime_module_load (&error);
      if (module == NULL)
        return fail (error);
    }
  if (g_str_equal (command, "create"))
    return module->create (&options.create, &error) ? 0 : fail (error);
  if (g_str_equal (command, "run"))
    {
      int status;
      return module->run (&options.create, options.detach, &status, &error) ? status : fail (error);
    }
  if (g_str_equal (command, "exec"))
    {
      SvExecOptions *exec = &options.exec;
      int status;

      g_ptr_array_add (positional, NULL);
      exec->args = (char **)positional->pdata + 1;
      exec->env = (char **)env->pdata;
      exec->additional_gids = (char **)additional_gids->pdata;
      exec->capabilities = (char **)capabilities->pdata;
      exec->detach = options.detach;
      exec->pid_file = options.create.pid_file;
      exec->console_socket = options.console_socket;
      exec->preserve_fds = options.create.preserve_fds;
      exec->log_fd = log_fd;
      exec->log_json = log_json;
      return module->exec (root, id, exec, &status, &error) ? status : fail (error);
    }
  if (g_str_equal (command, "update"))
    {
      if (options.resources_file)
        return fail_usage ("update --resources is not supported by servin-runtime yet; give "
                           "the limits as options such as --memory and --pids-limit");
      if (options.bad_value)
        return fail_usage ("invalid size or number %s; give a number such as 512m or -1",
                           options.bad_value);
      return sv_container_update (root, id, &options.resources, &error) ? 0 : fail (error);
    }
  if (g_str_equal (command, "pause") || g_str_equal (command, "resume"))
    return sv_container_pause (root, id, g_str_equal (command, "pause"), &error) ? 0 : fail (error);
  if (g_str_equal (command, "ps"))
    return sv_container_print_pids (root, id, g_strcmp0 (options.format, "json") == 0, &error)
               ? 0
               : fail (error);
  if (g_str_equal (command, "start"))
    return sv_container_start (root, id, &error) ? 0 : fail (error);
  if (g_str_equal (command, "state"))
    return sv_container_print_state (root, id, &error) ? 0 : fail (error);
  if (g_str_equal (command, "delete"))
    return sv_container_delete (root, id, options.force, &error) ? 0 : fail (error);
  if (g_str_equal (command, "kill"))
    {
      const char *name = positional->len > 1 ? g_ptr_array_index (positional, 1) : "TERM";
      int signal_number = parse_signal (name);

      if (signal_number < 0)
        return fail_usage ("unknown signal %s; give a name such as TERM or KILL, or a number",
                           name);
      return sv_container_kill (root, id, signal_number, options.all, &error) ? 0 : fail (error);
    }
  return fail_usage ("unknown command %s; see servin-runtime --help", command);
}

static gboolean
open_log (const char *path, const char *format)
{
  if (format && !g_str_equal (format, "text") && !g_str_equal (format, "json"))
    {
      fail_usage ("invalid --log-format %s; use text or json", format);
      return FALSE;
    }
  log_json = g_strcmp0 (format, "json") == 0;
  if (path == NULL)
    return TRUE;
  log_fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (log_fd < 0)
    {
      int saved_errno = errno;
      fprintf (stderr, "servin-runtime: cannot open log file %s: %s\n", path,
               g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  const char *root = DEFAULT_ROOT, *log_path = NULL, *log_format = NULL;
  gboolean systemd_cgroup = FALSE, debug = FALSE;
  int i;

  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      const char *value = NULL;
      gboolean missing = FALSE;

      if (match_option (argc, argv, &i, "root", NULL, &value, &missing))
        root = value;
      else if (match_option (argc, argv, &i, "log", NULL, &value, &missing))
        log_path = value;
      else if (match_option (argc, argv, &i, "log-format", NULL, &value, &missing))
        log_format = value;
      else if (match_option (argc, argv, &i, "debug", NULL, NULL, NULL))
        debug = TRUE;
      else if (match_option (argc, argv, &i, "systemd-cgroup", NULL, NULL, NULL))
        systemd_cgroup = TRUE;
      else if (match_option (argc, argv, &i, "version", "v", NULL, NULL))
        {
          printf ("servin-runtime version %s\nspec: 1.0.2\n", PACKAGE_VERSION);
          return 0;
        }
      else if (match_option (argc, argv, &i, "help", "h", NULL, NULL))
        {
          fputs (usage, stdout);
          return 0;
        }
      else
        return fail_usage ("unknown global option %s; see servin-runtime --help", argv[i]);
      if (missing)
        return fail_usage ("option %s needs a value", argv[i]);
    }

  if (!open_log (log_path, log_format))
    return 2;
  g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, log_warning, NULL);
  if (debug)
    g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, log_debug, NULL);
  /* An ignored SIGCHLD, inherited from the caller, would make the kernel reap the container's
   * process before run or exec can wait for its status. */
  signal (SIGCHLD, SIG_DFL);
  if (systemd_cgroup)
    return fail_usage ("--systemd-cgroup is not supported: servin-runtime manages cgroups "
                       "through the cgroup file system only; leave the option out");
  if (i >= argc)
    {
      fputs (usage, stderr);
      return 2;
    }
  if (g_str_equal (argv[i], "help"))
    {
      fputs (usage, stdout);
      return 0;
    }
  return run_command (root, argv[i], argc - i - 1, argv + i + 1);
}
