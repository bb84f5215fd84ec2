/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

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

gboolean sv_container_create (const SvCreateOptions *options, GError **error);
gboolean sv_container_run (const SvCreateOptions *options, gboolean detach, int *exit_status,
                           GError **error);
gboolean sv_container_start (const char *root, const char *id, GError **error);
gboolean sv_container_print_state (const char *root, const char *id, GError **error);
gboolean sv_container_kill (const char *root, const char *id, int signal_number, gboolean all,
                            GError **error);
gboolean sv_container_delete (const char *root, const char *id, gboolean force, GError **error);

G_END_DECLS
