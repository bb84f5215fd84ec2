/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Length of the short ids that listings show. */
#define SV_CLIENT_SHORT_ID_LENGTH 12

char *sv_client_format_size (guint64 bytes);
char *sv_client_format_duration (gint64 seconds);
char *sv_client_format_time_ago (guint64 then, guint64 now);
char *sv_client_format_status (const char *state, int exit_code, guint64 started_at,
                               guint64 finished_at, guint64 now);
char *sv_client_format_short_id (const char *id);
char *sv_client_format_command (const char *command, gboolean truncate);
char *sv_client_format_ellipsize (const char *text, guint max_chars);

G_END_DECLS
