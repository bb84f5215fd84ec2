/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Closures for the GtkBuilder expressions of the list columns. Each takes
 * the expression's this object first and returns a new string. */
char *sv_gui_format_state (GObject *this, const char *state, int exit_code);
char *sv_gui_format_age (GObject *this, guint64 created);
char *sv_gui_format_tags (GObject *this, GStrv tags);
char *sv_gui_format_short_id (GObject *this, const char *id);

char *sv_gui_format_age_now (guint64 created);

G_END_DECLS
