/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SV_TYPE_CONTAINERS_VIEW (sv_containers_view_get_type ())
G_DECLARE_FINAL_TYPE (SvContainersView, sv_containers_view, SV, CONTAINERS_VIEW, GtkWidget)

void sv_containers_view_set_model (SvContainersView *self, GListModel *containers);

G_END_DECLS
