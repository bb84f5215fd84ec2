/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <locale.h>
#include <string.h>

#include "sv-build-config.h"
#include "sv-cli.h"

static const SvCliCommand commands[] = {
  { "create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container", sv_cli_create },
  { "daemon", "[OPTIONS]", "Run servind, Servin's system service, in the foreground",
    sv_cli_daemon },
  { "images", "[OPTIONS] [REPOSITORY[:TAG]]", "List images", sv_cli_images },
  { "inspect", "[OPTIONS] NAME|ID [NAME|ID...]", "Return information on containers or images",
    sv_cli_inspect },
  { "kill", "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers",
    sv_cli_kill },
  { "load", "[OPTIONS]", "Load an image from a tar archive or STDIN", sv_cli_load },
  { "logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container", sv_cli_logs },
  { "ps", "[OPTIONS]", "List containers", sv_cli_ps },
  { "pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry", sv_cli_pull },
  { "rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers", sv_cli_rm },
  { "rmi", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", sv_cli_rmi },
  { "run", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and run a new container from an image",
    sv_cli_run },
  { "start", "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers",
    sv_cli_start },
  { "stop", "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers",
    sv_cli_stop },
  { "version", "", "Show the Servin version information", sv_cli_version },
  { "wait", "CONTAINER [CONTAINER...]",
    "Block until one or more containers stop, then print their exit codes", sv_cli_wait },
};

/* docker's management commands: "container ls" is "ps", "image rm" is "rmi". */
typedef struct
{
  const char *group;
  const char *name;
  const char *command;
} Alias;

static const Alias aliases[] = {
  { "container", "create", "create" },
  { "container", "inspect", "inspect" },
  { "container", "kill", "kill" },
  { "container", "logs", "logs" },
  { "container", "ls", "ps" },
  { "container", "list", "ps" },
  { "container", "ps", "ps" },
  { "container", "rm", "rm" },
  { "container", "remove", "rm" },
  { "container", "run", "run" },
  { "container", "start", "start" },
  { "container", "stop", "stop" },
  { "container", "wait", "wait" },
  { "image", "inspect", "inspect" },
  { "image", "load", "load" },
  { "image", "ls", "images" },
  { "image", "list", "images" },
  { "image", "pull", "pull" },
  { "image", "rm", "rmi" },
  { "image", "remove", "rmi" },
};

static const SvCliCommand *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (g_str_equal (commands[i].name, name))
        return &commands[i];
    }
  return NULL;
}

static void
print_help (FILE *out)
{
  fprintf (out, "\nUsage:  servin [OPTIONS] COMMAND\n\n"
                "A Docker-compatible container runtime. servin talks to servind, Servin's\n"
                "system service, over the system bus.\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nManagement commands:\n"
                "  container  Manage containers (ls, create, run, start, stop, kill, rm, logs,\n"
                "             wait, inspect)\n"
                "  image      Manage images (ls, pull, load, rm, inspect)\n"
                "\nOptions:\n"
                "  -h, --help     Print usage\n"
                "  -v, --version  Print version information and quit\n"
                "\nRun 'servin COMMAND --help' for more information on a command.\n");
}

static int
run_command (const SvCliInvocation *invocation)
{
  int status = invocation->command->run (invocation);

  sv_cli_stop_polkit_agent ();
  return status;
}

static int
unknown_command (const char *path, const char *name)
{
  fprintf (stderr, "servin: '%s' is not a %s command.\nSee '%s --help'.\n", name, path, path);
  return SV_CLI_EXIT_USAGE;
}

/* Resolves "container ls" and "image rm" to their commands; @argv starts
 * at the group's name. */
static int
run_group (int argc, char **argv)
{
  g_autofree char *path = g_strdup_printf ("servin %s", argv[0]);
  g_autofree char *command_path = NULL;
  SvCliInvocation invocation = { 0 };

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      printf ("\nUsage:  %s COMMAND\n\nCommands:\n", path);
      for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
        {
          if (g_str_equal (aliases[i].group, argv[0]))
            printf ("  %-8s %s\n", aliases[i].name, find_command (aliases[i].command)->summary);
        }
      printf ("\nRun '%s COMMAND --help' for more information on a command.\n", path);
      return argc < 2 ? SV_CLI_EXIT_USAGE : 0;
    }

  for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
    {
      if (!g_str_equal (aliases[i].group, argv[0]) || !g_str_equal (aliases[i].name, argv[1]))
        continue;
      command_path = g_strdup_printf ("%s %s", path, argv[1]);
      invocation.command = find_command (aliases[i].command);
      invocation.path = command_path;
      invocation.argc = argc - 2;
      invocation.argv = argv + 2;
      return run_command (&invocation);
    }
  return unknown_command (path, argv[1]);
}

int
main (int argc, char **argv)
{
  SvCliInvocation invocation = { 0 };
  g_autofree char *path = NULL;

  setlocale (LC_ALL, "");

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      /* Like docker, servin without arguments prints its help and succeeds. */
      print_help (stdout);
      return 0;
    }
  if (g_str_equal (argv[1], "--version") || g_str_equal (argv[1], "-v"))
    {
      printf ("Servin version %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (argv[1][0] == '-')
    {
      fprintf (stderr, "servin: unknown flag: %s\nSee 'servin --help'.\n", argv[1]);
      return SV_CLI_EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "container") || g_str_equal (argv[1], "image"))
    return run_group (argc - 1, argv + 1);

  invocation.command = find_command (argv[1]);
  if (invocation.command == NULL)
    return unknown_command ("servin", argv[1]);

  path = g_strdup_printf ("servin %s", argv[1]);
  invocation.path = path;
  invocation.argc = argc - 2;
  invocation.argv = argv + 2;
  return run_command (&invocation);
}
