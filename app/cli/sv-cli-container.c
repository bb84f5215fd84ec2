/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-cli.h"

#include <unistd.h>

/* Default seconds between SIGTERM and SIGKILL for stop, as in docker. */
#define STOP_DEFAULT_TIMEOUT 10
/* Extra milliseconds a stop call may take beyond its grace period. */
#define STOP_CALL_MARGIN_MS 30000

static gboolean
is_running (SvDBusContainer *container)
{
  return g_strcmp0 (sv_dbus_container_get_state (container), "running") == 0;
}

/* The IMAGE column: what the user named, in docker's short form. */
static char *
format_image (SvDBusContainer *container, gboolean truncate)
{
  const char *image = sv_dbus_container_get_image (container);

  if (image == NULL || *image == '\0')
    image = sv_dbus_container_get_image_id (container);
  if (image == NULL)
    return g_strdup ("");
  if (g_str_has_prefix (image, "sha256:") && truncate)
    return sv_client_format_short_id (image);
  return sv_client_reference_familiar (image);
}

static char *
format_name (SvDBusContainer *container)
{
  const char *name = sv_dbus_container_get_name (container);

  if (name == NULL)
    return g_strdup ("");
  return g_strdup (name[0] == '/' ? name + 1 : name);
}

/* docker ps: running containers, or all with -a, newest first. */
int
sv_cli_ps (const SvCliInvocation *invocation)
{
  gboolean all = FALSE;
  gboolean quiet = FALSE;
  gboolean no_trunc = FALSE;
  const SvCliOption options[] = {
    { "all", 'a', SV_CLI_OPTION_BOOL, &all, NULL, "Show all containers (default shows running)" },
    { "no-trunc", 0, SV_CLI_OPTION_BOOL, &no_trunc, NULL, "Don't truncate output" },
    { "quiet", 'q', SV_CLI_OPTION_BOOL, &quiet, NULL, "Only display container IDs" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (SvCliTable) table = sv_cli_table_new (7);
  guint64 now = g_get_real_time () / G_USEC_PER_SEC;
  GList *containers;
  int exit_code;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 0, 0, NULL, &exit_code);
  if (args == NULL)
    return exit_code;

  objects = sv_cli_connect ();
  if (objects == NULL)
    return 1;

  sv_cli_table_add_row (table, "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS",
                        "NAMES", NULL);
  containers = sv_client_list_containers (objects);
  for (GList *l = containers; l != NULL; l = l->next)
    {
      SvDBusContainer *container = l->data;
      const char *id = sv_dbus_container_get_id (container);
      g_autofree char *short_id = no_trunc ? g_strdup (id) : sv_client_format_short_id (id);
      g_autofree char *image = NULL;
      g_autofree char *command = NULL;
      g_autofree char *created = NULL;
      g_autofree char *status = NULL;
      g_autofree char *name = NULL;

      if (!all && !is_running (container))
        continue;
      if (quiet)
        {
          printf ("%s\n", short_id);
          continue;
        }

      image = format_image (container, !no_trunc);
      command = sv_client_format_command (sv_dbus_container_get_command (container), !no_trunc);
      created = sv_client_format_time_ago (sv_dbus_container_get_created (container), now);
      status = sv_client_format_status (sv_dbus_container_get_state (container),
                                        sv_dbus_container_get_exit_code (container),
                                        sv_dbus_container_get_started_at (container),
                                        sv_dbus_container_get_finished_at (container), now);
      name = format_name (container);
      sv_cli_table_add_row (table, short_id, image, command, created, status, "", name, NULL);
    }
  g_list_free_full (containers, g_object_unref);

  if (!quiet)
    sv_cli_table_print (table, stdout);
  return 0;
}

/* docker logs: the container's output so far, or followed with -f. */
int
sv_cli_logs (const SvCliInvocation *invocation)
{
  gboolean follow = FALSE;
  gboolean timestamps = FALSE;
  g_autofree char *tail = NULL;
  const SvCliOption options[] = {
    { "follow", 'f', SV_CLI_OPTION_BOOL, &follow, NULL, "Follow log output" },
    { "tail", 'n', SV_CLI_OPTION_STRING, &tail, "string",
      "Number of lines to show from the end of the logs (default \"all\")" },
    { "timestamps", 't', SV_CLI_OPTION_BOOL, &timestamps, NULL, "Show timestamps" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (SvDBusContainer) container = NULL;
  g_autoptr (GError) error = NULL;
  GVariantDict dict;
  gint64 lines = -1;
  int exit_code;
  int fd;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 1, 1, "CONTAINER",
                       &exit_code);
  if (args == NULL)
    return exit_code;

  if (tail != NULL && g_strcmp0 (tail, "all") != 0
      && !g_ascii_string_to_signed (tail, 10, -1, G_MAXINT, &lines, NULL))
    return sv_cli_usage_error (invocation,
                               "invalid argument \"%s\" for \"-n, --tail\" flag: expected a number "
                               "of lines or \"all\"",
                               tail);

  objects = sv_cli_connect ();
  if (objects == NULL)
    return 1;
  container = sv_client_find_container (objects, args->pdata[0], &error);
  if (container == NULL)
    {
      sv_cli_print_error (error);
      return 1;
    }

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "Follow", "b", follow);
  g_variant_dict_insert (&dict, "Timestamps", "b", timestamps);
  g_variant_dict_insert (&dict, "Tail", "i", (gint32)lines);
  fd = sv_client_container_logs (container, g_variant_dict_end (&dict), NULL, &error);
  if (fd < 0 || !sv_cli_copy_framed (fd, &error))
    {
      if (fd >= 0)
        close (fd);
      sv_cli_print_error (error);
      return 1;
    }
  close (fd);
  return 0;
}

typedef gboolean (*ContainerAction) (SvDBusContainer *container, gpointer data, GError **error);

/* Runs @action on each container named in @args, printing each name that
 * succeeded and each error, as docker's stop, kill and rm do. */
static int
for_each_container (GPtrArray *args, ContainerAction action, gpointer data)
{
  g_autoptr (GDBusObjectManager) objects = sv_cli_connect ();
  int exit_code = 0;

  if (objects == NULL)
    return 1;

  for (guint i = 0; i < args->len; i++)
    {
      g_autoptr (SvDBusContainer) container = NULL;
      g_autoptr (GError) error = NULL;

      container = sv_client_find_container (objects, args->pdata[i], &error);
      if (container != NULL && action (container, data, &error))
        {
          printf ("%s\n", (const char *)args->pdata[i]);
          continue;
        }
      sv_cli_print_error (error);
      exit_code = 1;
    }
  return exit_code;
}

static gboolean
stop_container (SvDBusContainer *container, gpointer data, GError **error)
{
  guint timeout = GPOINTER_TO_UINT (data);
  g_autoptr (GVariant) reply = NULL;

  /* Stop returns once the container exited, up to @timeout seconds later. */
  reply = g_dbus_proxy_call_sync (
      G_DBUS_PROXY (container), "Stop", g_variant_new ("(u)", timeout), G_DBUS_CALL_FLAGS_NONE,
      (int)MIN ((gint64)timeout * 1000 + STOP_CALL_MARGIN_MS, G_MAXINT), NULL, error);
  return reply != NULL;
}

int
sv_cli_stop (const SvCliInvocation *invocation)
{
  int timeout = STOP_DEFAULT_TIMEOUT;
  const SvCliOption options[] = {
    { "time", 't', SV_CLI_OPTION_INT, &timeout, "int",
      "Seconds to wait before killing the container (default 10)" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  int exit_code;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 1, -1, "CONTAINER",
                       &exit_code);
  if (args == NULL)
    return exit_code;
  if (timeout < 0)
    return sv_cli_usage_error (invocation,
                               "invalid argument \"%d\" for \"-t, --time\" flag: the number of "
                               "seconds cannot be negative",
                               timeout);
  return for_each_container (args, stop_container, GUINT_TO_POINTER ((guint)timeout));
}

static gboolean
kill_container (SvDBusContainer *container, gpointer data, GError **error)
{
  return sv_dbus_container_call_kill_sync (container, data, NULL, error);
}

int
sv_cli_kill (const SvCliInvocation *invocation)
{
  g_autofree char *signal_name = NULL;
  const SvCliOption options[] = {
    { "signal", 's', SV_CLI_OPTION_STRING, &signal_name, "string",
      "Signal to send to the container (default \"KILL\")" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  int exit_code;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 1, -1, "CONTAINER",
                       &exit_code);
  if (args == NULL)
    return exit_code;
  return for_each_container (args, kill_container, signal_name ? signal_name : "KILL");
}

static gboolean
remove_container (SvDBusContainer *container, gpointer data, GError **error)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "Force", "b", GPOINTER_TO_INT (data));
  /* A forced removal stops the container first, which may take a while. */
  return g_dbus_proxy_call_sync (G_DBUS_PROXY (container), "Remove",
                                 g_variant_new ("(@a{sv})", g_variant_dict_end (&dict)),
                                 G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL, error)
         != NULL;
}

int
sv_cli_rm (const SvCliInvocation *invocation)
{
  gboolean force = FALSE;
  const SvCliOption options[] = {
    { "force", 'f', SV_CLI_OPTION_BOOL, &force, NULL,
      "Force the removal of a running container (uses SIGKILL)" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  int exit_code;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 1, -1, "CONTAINER",
                       &exit_code);
  if (args == NULL)
    return exit_code;
  return for_each_container (args, remove_container, GINT_TO_POINTER (force));
}

/* docker wait: prints the exit status of each container once it exited. */
int
sv_cli_wait (const SvCliInvocation *invocation)
{
  const SvCliOption options[] = { { NULL } };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  int exit_code;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 1, -1, "CONTAINER",
                       &exit_code);
  if (args == NULL)
    return exit_code;

  objects = sv_cli_connect ();
  if (objects == NULL)
    return 1;

  for (guint i = 0; i < args->len; i++)
    {
      g_autoptr (SvDBusContainer) container = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) reply = NULL;
      gint32 status = 0;

      container = sv_client_find_container (objects, args->pdata[i], &error);
      if (container != NULL)
        reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (container), "Wait", NULL,
                                        G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL, &error);
      if (reply == NULL)
        {
          sv_cli_print_error (error);
          exit_code = 1;
          continue;
        }
      g_variant_get (reply, "(i)", &status);
      printf ("%d\n", status);
    }
  return exit_code;
}
