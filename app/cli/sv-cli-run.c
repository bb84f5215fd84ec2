/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-cli.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The options that run and create share, with the Docker API field each sets. */
typedef struct
{
  gboolean detach;
  gboolean auto_remove;
  gboolean interactive;
  gboolean tty;
  char *name;
  char *workdir;
  char *user;
  char *entrypoint;
  char *hostname;
  char *platform;
  GPtrArray *env;
  GPtrArray *labels;
  GPtrArray *security_opts;
  SvCliLimitOptions limits;
} CreateOptions;

static void
create_options_clear (CreateOptions *options)
{
  g_free (options->name);
  g_free (options->workdir);
  g_free (options->user);
  g_free (options->entrypoint);
  g_free (options->hostname);
  g_free (options->platform);
  g_clear_pointer (&options->env, g_ptr_array_unref);
  g_clear_pointer (&options->labels, g_ptr_array_unref);
  g_clear_pointer (&options->security_opts, g_ptr_array_unref);
  sv_cli_limit_options_clear (&options->limits);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CreateOptions, create_options_clear)

static GVariant *
strv_variant (GPtrArray *array, guint start)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = start; array != NULL && i < array->len; i++)
    g_variant_builder_add (&builder, "s", (const char *)array->pdata[i]);
  return g_variant_builder_end (&builder);
}

/* docker passes "-e KEY" on with the value of KEY in its own environment,
 * and drops it when KEY is not set there. */
static GVariant *
env_variant (GPtrArray *env)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; env != NULL && i < env->len; i++)
    {
      const char *entry = env->pdata[i];
      const char *value;

      if (strchr (entry, '=') != NULL)
        {
          g_variant_builder_add (&builder, "s", entry);
          continue;
        }
      value = g_getenv (entry);
      if (value != NULL)
        g_variant_builder_add_value (
            &builder, g_variant_new_take_string (g_strdup_printf ("%s=%s", entry, value)));
    }
  return g_variant_builder_end (&builder);
}

static gboolean
labels_variant (GPtrArray *labels, GVariant **out, GError **error)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  for (guint i = 0; labels != NULL && i < labels->len; i++)
    {
      const char *label = labels->pdata[i];
      const char *equals = strchr (label, '=');
      g_autofree char *key = equals ? g_strndup (label, equals - label) : g_strdup (label);

      if (*key == '\0')
        {
          g_variant_builder_clear (&builder);
          g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_INVALID_ARGUMENT,
                       "invalid label \"%s\": the key is empty; use --label KEY=VALUE", label);
          return FALSE;
        }
      g_variant_builder_add (&builder, "{ss}", key, equals ? equals + 1 : "");
    }
  *out = g_variant_builder_end (&builder);
  return TRUE;
}

/* Sets SeccompProfile from docker's --security-opt values, of which only
 * seccomp=unconfined is supported. */
static gboolean
add_security_opts (GPtrArray *security_opts, GVariantDict *dict, GError **error)
{
  for (guint i = 0; security_opts != NULL && i < security_opts->len; i++)
    {
      const char *value = security_opts->pdata[i];

      if (!g_str_equal (value, "seccomp=unconfined"))
        {
          g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_INVALID_ARGUMENT,
                       "invalid argument \"%s\" for \"--security-opt\" flag: only "
                       "seccomp=unconfined is supported",
                       value);
          return FALSE;
        }
      g_variant_dict_insert (dict, "SeccompProfile", "s", "unconfined");
    }
  return TRUE;
}

/* Builds Create's config from the options, the image (args[0]) and the
 * command (the rest of args), with the Docker Engine API's field names. */
static GVariant *
build_config (const CreateOptions *options, GPtrArray *args, GError **error)
{
  GVariantDict dict;
  GVariant *labels = NULL;

  if (!labels_variant (options->labels, &labels, error))
    return NULL;

  g_variant_dict_init (&dict, NULL);
  if (!sv_cli_limits_add_to_config (&options->limits, &dict, error)
      || !add_security_opts (options->security_opts, &dict, error))
    {
      g_variant_dict_clear (&dict);
      g_variant_unref (g_variant_ref_sink (labels));
      return NULL;
    }
  g_variant_dict_insert (&dict, "Image", "s", (const char *)args->pdata[0]);
  if (args->len > 1)
    g_variant_dict_insert_value (&dict, "Cmd", strv_variant (args, 1));
  if (options->entrypoint != NULL)
    {
      /* An empty --entrypoint clears the image's entrypoint, as in docker. */
      const char *entrypoint[] = { options->entrypoint, NULL };

      g_variant_dict_insert_value (
          &dict, "Entrypoint",
          g_variant_new_strv (entrypoint, *options->entrypoint != '\0' ? 1 : 0));
    }
  if (options->env != NULL)
    g_variant_dict_insert_value (&dict, "Env", env_variant (options->env));
  if (options->workdir != NULL)
    g_variant_dict_insert (&dict, "WorkingDir", "s", options->workdir);
  if (options->user != NULL)
    g_variant_dict_insert (&dict, "User", "s", options->user);
  if (options->hostname != NULL)
    g_variant_dict_insert (&dict, "Hostname", "s", options->hostname);
  if (options->labels != NULL)
    g_variant_dict_insert_value (&dict, "Labels", labels);
  else
    g_variant_unref (g_variant_ref_sink (labels));
  g_variant_dict_insert (&dict, "AutoRemove", "b", options->auto_remove);
  g_variant_dict_insert (&dict, "OpenStdin", "b", options->interactive);
  g_variant_dict_insert (&dict, "Tty", "b", FALSE);
  return g_variant_dict_end (&dict);
}

/* Calls Manager.Create; when the image is missing, pulls it as docker run
 * does, with the progress on stderr, and creates again. */
static char *
create_container (GDBusObjectManager **objects, SvDBusManager *manager,
                  const CreateOptions *options, GVariant *config, const char *image, GError **error)
{
  const char *name = options->name ? options->name : "";
  g_autoptr (GError) local_error = NULL;
  g_autoptr (SvDBusManager) pull_manager = NULL;
  g_autofree char *full = NULL;
  g_autofree char *familiar = NULL;
  char *path = NULL;

  if (sv_dbus_manager_call_create_sync (manager, name, config, &path, NULL, &local_error))
    return path;

  if (!g_error_matches (local_error, SV_DBUS_ERROR, SV_DBUS_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  full = sv_client_reference_normalize (image, error);
  if (full == NULL)
    return NULL;
  familiar = sv_client_reference_familiar (full);
  fprintf (stderr, "Unable to find image '%s' locally\n", familiar);
  /* A pull follows its job through the object manager, which a run
   * connected directly has not made yet. */
  if (*objects == NULL)
    *objects = sv_cli_connect ();
  pull_manager = *objects ? sv_cli_get_manager (*objects) : NULL;
  if (pull_manager == NULL)
    {
      g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_FAILED,
                   "cannot pull image \"%s\": servind's objects cannot be listed", image);
      return NULL;
    }
  if (!sv_cli_pull_image (*objects, pull_manager, image, options->platform, stderr, error))
    return NULL;

  if (!sv_dbus_manager_call_create_sync (manager, name, config, &path, NULL, error))
    return NULL;
  return path;
}

/* State of an attached run: the stream, stdin, the pending Wait and
 * the signals passed on to the container. */
typedef struct
{
  GMainLoop *loop;
  SvDBusContainer *container;
  SvClientDemux *demux;
  int stream_fd;
  guint stream_watch;
  guint stdin_watch;
  guint signal_watches[3];
  gboolean stream_done;
  gboolean wait_done;
  int exit_code;
  GError *error;
} Attached;

static gboolean
write_frame_cb (SvClientStream stream, const guint8 *data, gsize length, gpointer user_data,
                GError **error)
{
  return sv_cli_write_all (stream == SV_CLIENT_STREAM_STDERR ? STDERR_FILENO : STDOUT_FILENO, data,
                           length, error);
}

static void
check_done (Attached *attached)
{
  if (attached->stream_done && attached->wait_done)
    g_main_loop_quit (attached->loop);
}

static gboolean
on_stream_cb (int fd, GIOCondition condition, gpointer user_data)
{
  Attached *attached = user_data;
  guint8 buffer[65536];
  ssize_t length;

  length = read (fd, buffer, sizeof buffer);
  if (length < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;

  if (length > 0 && sv_client_demux_feed (attached->demux, buffer, length, &attached->error))
    return G_SOURCE_CONTINUE;

  if (length < 0 && attached->error == NULL)
    g_set_error (&attached->error, G_IO_ERROR, g_io_error_from_errno (errno),
                 "cannot read the container's output: %s", g_strerror (errno));
  if (length == 0)
    sv_client_demux_finish (attached->demux, &attached->error);

  attached->stream_watch = 0;
  attached->stream_done = TRUE;
  check_done (attached);
  return G_SOURCE_REMOVE;
}

static gboolean
on_stdin_cb (int fd, GIOCondition condition, gpointer user_data)
{
  Attached *attached = user_data;
  guint8 buffer[65536];
  ssize_t length;

  length = read (fd, buffer, sizeof buffer);
  if (length < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;

  /* A container that closed its input makes the write fail: stop copying then. */
  if (length > 0 && sv_cli_write_all (attached->stream_fd, buffer, length, NULL))
    return G_SOURCE_CONTINUE;

  /* End of input: the container reads end of file on its stdin. */
  shutdown (attached->stream_fd, SHUT_WR);
  attached->stdin_watch = 0;
  return G_SOURCE_REMOVE;
}

static void
on_wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Attached *attached = user_data;
  g_autoptr (GError) error = NULL;
  int exit_code = 0;

  if (sv_dbus_container_call_wait_finish (SV_DBUS_CONTAINER (source), &exit_code, result, &error))
    attached->exit_code = exit_code;
  else if (attached->error == NULL)
    attached->error = g_steal_pointer (&error);

  attached->wait_done = TRUE;
  check_done (attached);
}

static void
on_kill_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (!sv_dbus_container_call_kill_finish (SV_DBUS_CONTAINER (source), result, &error))
    sv_cli_print_error (error);
}

typedef struct
{
  Attached *attached;
  int number;
  const char *name;
} ForwardedSignal;

/* docker run passes the signals it receives on to the container. */
static gboolean
on_signal_cb (gpointer user_data)
{
  ForwardedSignal *forwarded = user_data;

  sv_dbus_container_call_kill (forwarded->attached->container, forwarded->name, NULL, on_kill_cb,
                               NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
start_container (SvDBusContainer *container, GError **error)
{
  /* Start returns once the process runs, which can take a while on a busy
   * machine, so the call has no D-Bus timeout of its own. */
  return g_dbus_proxy_call_sync (G_DBUS_PROXY (container), "Start", NULL, G_DBUS_CALL_FLAGS_NONE,
                                 G_MAXINT, NULL, error)
         != NULL;
}

/* Whether @container is removed when it exits. The run path makes its proxy
 * without loading the properties, so the value may have to be asked for. */
static gboolean
get_auto_remove (SvDBusContainer *container)
{
  g_autoptr (GVariant) cached = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;

  cached = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (container), "AutoRemove");
  if (cached != NULL)
    return g_variant_get_boolean (cached);

  reply = g_dbus_connection_call_sync (
      g_dbus_proxy_get_connection (G_DBUS_PROXY (container)),
      g_dbus_proxy_get_name (G_DBUS_PROXY (container)),
      g_dbus_proxy_get_object_path (G_DBUS_PROXY (container)), "org.freedesktop.DBus.Properties",
      "Get",
      g_variant_new ("(ss)", g_dbus_proxy_get_interface_name (G_DBUS_PROXY (container)),
                     "AutoRemove"),
      G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(v)", &value);
  return g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN) && g_variant_get_boolean (value);
}

/* Reports a failed Start and returns docker run's exit status for it: 127
 * when the command does not exist, 126 when it cannot be run, else 125.
 * docker's client tells them apart by the same texts (cli/command/container/
 * run.go). servind leaves an AutoRemove container that never ran in place,
 * so it is removed here, as docker does. */
static int
report_start_failure (SvDBusContainer *container, GError *error)
{
  g_autoptr (GVariant) reply = NULL;
  const char *message = error->message;
  int status = SV_CLI_EXIT_USAGE;

  sv_cli_print_error (error);
  if (strstr (message, "not found in $PATH") || strstr (message, "executable file not found")
      || strstr (message, "No such file or directory"))
    status = 127;
  else if (strstr (message, "ermission denied"))
    status = 126;

  if (get_auto_remove (container))
    reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (container), "Remove",
                                    g_variant_new_parsed ("({'Force': <true>},)"),
                                    G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  return status;
}

/**
 * sv_cli_attach_and_wait:
 * @objects: the connection from sv_cli_connect()
 * @container: a created or running container
 * @interactive: whether to pass servin's stdin to the container
 * @start: whether to start the container after attaching
 *
 * Attaches to @container (before starting it, so no output is lost), copies
 * its output to stdout and stderr, waits for it to exit and returns its exit
 * status, or 125 when a step failed before the container ran.
 */
int
sv_cli_attach_and_wait (GDBusObjectManager *objects, SvDBusContainer *container,
                        gboolean interactive, gboolean start)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (SvClientDemux) demux = NULL;
  g_autoptr (GCancellable) wait_cancellable = g_cancellable_new ();
  Attached attached = { 0 };
  ForwardedSignal forwarded[] = {
    { &attached, SIGINT, "SIGINT" },
    { &attached, SIGTERM, "SIGTERM" },
    { &attached, SIGHUP, "SIGHUP" },
  };
  int fd;

  loop = g_main_loop_new (NULL, FALSE);
  attached.loop = loop;
  attached.container = container;

  /* Wait goes out first, so servind checks it while Attach is on its way.
   * servind replies to it when the container exits, before an AutoRemove
   * container disappears, so no exit can be missed. Its reply is handled
   * only once the loop runs. */
  g_dbus_proxy_call (G_DBUS_PROXY (container), "Wait", NULL, G_DBUS_CALL_FLAGS_NONE, G_MAXINT,
                     wait_cancellable, on_wait_cb, &attached);

  fd = sv_client_container_attach (container, NULL, NULL, &error);
  if (fd < 0)
    {
      /* Run the loop only until the cancelled Wait returns, so no callback
       * outlives this function's state. */
      g_cancellable_cancel (wait_cancellable);
      attached.stream_done = TRUE;
      g_main_loop_run (loop);
      g_clear_error (&attached.error);
      sv_cli_print_error (error);
      return SV_CLI_EXIT_USAGE;
    }

  demux = sv_client_demux_new (write_frame_cb, NULL);
  attached.demux = demux;
  attached.stream_fd = fd;

  attached.stream_watch
      = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stream_cb, &attached);
  if (interactive)
    attached.stdin_watch
        = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin_cb, &attached);
  for (guint i = 0; i < G_N_ELEMENTS (forwarded); i++)
    attached.signal_watches[i]
        = g_unix_signal_add (forwarded[i].number, on_signal_cb, &forwarded[i]);

  if (start && !start_container (container, &error))
    {
      /* Run the loop only until the cancelled Wait returns, so no callback
       * outlives this function's state. */
      g_cancellable_cancel (wait_cancellable);
      attached.stream_done = TRUE;
    }
  g_main_loop_run (loop);

  for (guint i = 0; i < G_N_ELEMENTS (forwarded); i++)
    g_source_remove (attached.signal_watches[i]);
  if (attached.stdin_watch != 0)
    g_source_remove (attached.stdin_watch);
  if (attached.stream_watch != 0)
    g_source_remove (attached.stream_watch);
  close (fd);

  if (error != NULL)
    {
      g_clear_error (&attached.error);
      return report_start_failure (container, error);
    }
  if (attached.error != NULL)
    {
      sv_cli_print_error (attached.error);
      g_error_free (attached.error);
      return SV_CLI_EXIT_USAGE;
    }
  return sv_cli_container_exit_status (attached.exit_code);
}

/* Connects for run and create and returns a proxy of the Manager. Both call
 * only objects whose paths they know, so they skip the listing of every object
 * that sv_cli_connect() does and the loading of the Manager's properties. A
 * user other than root at a terminal still goes through sv_cli_connect(),
 * which starts a polkit agent, and gets that object manager in @objects. */
static SvDBusManager *
connect_direct (GDBusConnection **bus, char **owner, GDBusObjectManager **objects)
{
  g_autoptr (GError) error = NULL;
  SvDBusManager *manager;

  if (getuid () != 0 && isatty (STDIN_FILENO))
    {
      *objects = sv_cli_connect ();
      if (*objects == NULL)
        return NULL;
      *bus = g_object_ref (sv_client_get_connection (*objects));
      *owner
          = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (*objects));
    }
  else
    *bus = sv_client_connect_direct (owner, NULL, &error);

  if (*bus == NULL || *owner == NULL)
    {
      if (error == NULL)
        g_set_error (&error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NO_SERVICE,
                     "servind is not running on the system bus. %s", SV_CLIENT_NO_SERVICE_ADVICE);
      /* sv_cli_connect() has printed its own error. */
      if (*objects == NULL)
        sv_cli_print_error (error);
      return NULL;
    }

  manager = sv_dbus_manager_proxy_new_sync (*bus,
                                            G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START
                                                | G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES
                                                | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                            *owner, SV_CLIENT_MANAGER_PATH, NULL, &error);
  if (manager == NULL)
    {
      sv_client_error_clean (error);
      sv_cli_print_error (error);
    }
  return manager;
}

/* Makes a proxy for the container at @path, which Manager.Create returned,
 * on the Manager's connection. An attached run reads no property of it. */
static SvDBusContainer *
get_container (SvDBusManager *manager, const char *path, gboolean load_properties, GError **error)
{
  GDBusProxy *proxy = G_DBUS_PROXY (manager);
  GDBusProxyFlags flags
      = G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS;
  SvDBusContainer *container;

  if (!load_properties)
    flags |= G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES;
  container = sv_dbus_container_proxy_new_sync (g_dbus_proxy_get_connection (proxy), flags,
                                                g_dbus_proxy_get_name (proxy), path, NULL, error);
  if (container == NULL)
    sv_client_error_clean (error ? *error : NULL);
  return container;
}

static int
run_or_create (const SvCliInvocation *invocation, gboolean run)
{
  g_auto (CreateOptions) options = { 0 };
  /* create takes every option but --detach, which comes first. */
  const SvCliOption run_options[] = {
    { "detach", 'd', SV_CLI_OPTION_BOOL, &options.detach, NULL,
      "Run the container in the background and print its ID" },
    { "cpu-shares", 'c', SV_CLI_OPTION_INT, &options.limits.cpu_shares, "int",
      "CPU shares (relative weight, 2 to 262144)" },
    { "cpus", 0, SV_CLI_OPTION_STRING, &options.limits.cpus, "decimal", "Number of CPUs" },
    { "env", 'e', SV_CLI_OPTION_LIST, &options.env, "list",
      "Set an environment variable (KEY=VALUE, or KEY to pass on servin's own)" },
    { "entrypoint", 0, SV_CLI_OPTION_STRING, &options.entrypoint, "string",
      "Overwrite the default ENTRYPOINT of the image" },
    { "hostname", 0, SV_CLI_OPTION_STRING, &options.hostname, "string", "Container host name" },
    { "ignore-unsupported-limits", 0, SV_CLI_OPTION_BOOL, &options.limits.ignore_unsupported, NULL,
      "Run without the limits the host's cgroups cannot enforce, instead of failing" },
    { "interactive", 'i', SV_CLI_OPTION_BOOL, &options.interactive, NULL,
      "Keep STDIN open and pass servin's input to the container" },
    { "label", 'l', SV_CLI_OPTION_LIST, &options.labels, "list",
      "Set metadata on the container (KEY=VALUE)" },
    { "memory", 'm', SV_CLI_OPTION_STRING, &options.limits.memory, "bytes",
      "Memory limit (a size with an optional unit b, k, m or g)" },
    { "memory-swap", 0, SV_CLI_OPTION_STRING, &options.limits.memory_swap, "bytes",
      "Memory plus swap limit: '-1' for unlimited swap (default: twice the memory limit)" },
    { "name", 0, SV_CLI_OPTION_STRING, &options.name, "string", "Assign a name to the container" },
    { "pids-limit", 0, SV_CLI_OPTION_INT, &options.limits.pids_limit, "int",
      "Tune the container's pids limit (-1 for unlimited)" },
    { "platform", 0, SV_CLI_OPTION_STRING, &options.platform, "string",
      "Platform to pull the image for when it is missing (os/arch[/variant])" },
    { "rm", 0, SV_CLI_OPTION_BOOL, &options.auto_remove, NULL,
      "Automatically remove the container when it exits" },
    { "security-opt", 0, SV_CLI_OPTION_LIST, &options.security_opts, "list",
      "Security options (only seccomp=unconfined: run without the default seccomp profile)" },
    { "tty", 't', SV_CLI_OPTION_BOOL, &options.tty, NULL,
      "Allocate a pseudo-TTY (not supported yet: the command fails)" },
    { "ulimit", 0, SV_CLI_OPTION_LIST, &options.limits.ulimits, "ulimit",
      "Ulimit options (NAME=SOFT[:HARD], as nofile=1024:2048)" },
    { "user", 'u', SV_CLI_OPTION_STRING, &options.user, "string",
      "Username or UID (format: <name|uid>[:<group|gid>])" },
    { "workdir", 'w', SV_CLI_OPTION_STRING, &options.workdir, "string",
      "Working directory inside the container" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (SvDBusManager) manager = NULL;
  g_autoptr (SvDBusContainer) container = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *owner = NULL;
  g_autofree char *path = NULL;
  GVariant *config;
  gboolean attached;
  int exit_code;

  sv_cli_set_error_prefix (TRUE);
  args = sv_cli_parse (invocation, run ? run_options : run_options + 1,
                       SV_CLI_PARSE_STOP_AT_ARGUMENT, 1, -1, "IMAGE", &exit_code);
  if (args == NULL)
    return exit_code;

  /* NOTE: servin-monitor has no pseudo-terminal support yet, so -t is
   * rejected instead of running the container without a terminal. */
  if (options.tty)
    return sv_cli_usage_error (invocation, "-t, --tty is not supported yet: run the container "
                                           "without -t (use -i alone to pass input)");

  config = build_config (&options, args, &error);
  if (config == NULL)
    return sv_cli_usage_error (invocation, "%s", error->message);
  g_variant_ref_sink (config);

  attached = run && !options.detach;
  manager = connect_direct (&bus, &owner, &objects);
  if (manager != NULL)
    path = create_container (&objects, manager, &options, config, args->pdata[0], &error);
  g_variant_unref (config);
  if (manager == NULL)
    return SV_CLI_EXIT_USAGE;
  if (path != NULL)
    container = get_container (manager, path, !attached, &error);
  if (container == NULL)
    {
      sv_cli_print_error (error);
      return SV_CLI_EXIT_USAGE;
    }

  if (!run)
    {
      printf ("%s\n", sv_dbus_container_get_id (container));
      return 0;
    }

  if (attached)
    return sv_cli_attach_and_wait (objects, container, options.interactive, TRUE);

  if (!start_container (container, &error))
    return report_start_failure (container, error);
  printf ("%s\n", sv_dbus_container_get_id (container));
  return 0;
}

int
sv_cli_run (const SvCliInvocation *invocation)
{
  return run_or_create (invocation, TRUE);
}

int
sv_cli_create (const SvCliInvocation *invocation)
{
  return run_or_create (invocation, FALSE);
}

/* docker start: starts containers and prints their names, or with -a
 * attaches to one and exits with its status. */
int
sv_cli_start (const SvCliInvocation *invocation)
{
  gboolean attach = FALSE;
  gboolean interactive = FALSE;
  const SvCliOption options[] = {
    { "attach", 'a', SV_CLI_OPTION_BOOL, &attach, NULL,
      "Attach the container's output and pass on signals" },
    { "interactive", 'i', SV_CLI_OPTION_BOOL, &interactive, NULL, "Attach the container's STDIN" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  int exit_code = 0;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 1, -1, "CONTAINER",
                       &exit_code);
  if (args == NULL)
    return exit_code;

  if ((attach || interactive) && args->len > 1)
    {
      sv_cli_print_message ("you cannot start and attach multiple containers at once");
      return 1;
    }

  objects = sv_cli_connect ();
  if (objects == NULL)
    return 1;

  for (guint i = 0; i < args->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SvDBusContainer) container = NULL;

      container = sv_client_find_container (objects, args->pdata[i], &error);
      if (container != NULL && (attach || interactive))
        return sv_cli_attach_and_wait (objects, container, interactive, TRUE);

      if (container != NULL && start_container (container, &error))
        {
          printf ("%s\n", (const char *)args->pdata[i]);
          continue;
        }
      sv_cli_print_error (error);
      exit_code = 1;
    }
  return exit_code;
}
