/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "sv-runtime-spec.h"

G_BEGIN_DECLS

/* Options of `create` and `run`. */
typedef struct
{
  const char *root; /* state folder of all containers */
  const char *id;
  const char *bundle;
  const char *pid_file;       /* or NULL */
  const char *console_socket; /* unix socket that receives the terminal's master, or NULL */
  int preserve_fds;
  int log_fd; /* --log file for errors the container process reports after start, or -1 */
  gboolean log_json;
} SvCreateOptions;

/* Options of `exec`, which override the process of the container's config.json. */
typedef struct
{
  const char *process_file; /* JSON file with a whole process object, or NULL */
  char **args;              /* the command, or NULL with process_file */
  const char *cwd;
  char **env;             /* NAME=VALUE entries added to the environment */
  const char *user;       /* "UID[:GID]" */
  char **additional_gids; /* numbers */
  char **capabilities;    /* names added to every capability set */
  gboolean tty;
  gboolean detach;
  gboolean no_new_privileges;
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
  int log_fd;
  gboolean log_json;
} SvExecOptions;

/* In servin-runtime-create.so, reached through SvRuntimeModule. */
gboolean sv_container_create (const SvCreateOptions *options, GError **error);
gboolean sv_container_run (const SvCreateOptions *options, gboolean detach, int *exit_status,
                           GError **error);
gboolean sv_container_exec (const char *root, const char *id, const SvExecOptions *options,
                            int *exit_status, GError **error);

/* In servin-runtime itself. */
gboolean sv_container_start (const char *root, const char *id, GError **error);
gboolean sv_container_print_state (const char *root, const char *id, GError **error);
gboolean sv_container_kill (const char *root, const char *id, int signal_number, gboolean all,
                            GError **error);
gboolean sv_container_pause (const char *root, const char *id, gboolean pause, GError **error);
gboolean sv_container_print_pids (const char *root, const char *id, gboolean json, GError **error);
gboolean sv_container_print_list (const char *root, gboolean json, GError **error);
gboolean sv_container_update (const char *root, const char *id, const SvResources *resources,
                              GError **error);
gboolean sv_container_delete (const char *root, const char *id, gboolean force, GError **error);

G_END_DECLS
