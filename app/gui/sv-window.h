/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

#include "sv-client.h"

G_BEGIN_DECLS

#define SV_TYPE_WINDOW (sv_window_get_type ())
G_DECLARE_FINAL_TYPE (SvWindow, sv_window, SV, WINDOW, AdwApplicationWindow)

SvWindow *sv_window_new (AdwApplication *application);

void sv_window_set_models (SvWindow *self, GListModel *containers, GListModel *images);
void sv_window_show_connecting (SvWindow *self);
void sv_window_show_lists (SvWindow *self);
void sv_window_show_unreachable (SvWindow *self, const char *message);
void sv_window_show_view (SvWindow *self, const char *name);
void sv_window_show_container (SvWindow *self, SvClientContainer *container, gboolean logs);
void sv_window_add_toast (SvWindow *self, const char *text);
void sv_window_add_error_toast (SvWindow *self, const char *text, const char *message);

G_END_DECLS
