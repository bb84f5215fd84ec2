/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SV_TYPE_ROW_ACTIONS (sv_row_actions_get_type ())
G_DECLARE_FINAL_TYPE (SvRowActions, sv_row_actions, SV, ROW_ACTIONS, GtkWidget)

void sv_row_actions_set_item (SvRowActions *self, GObject *item);

G_END_DECLS
