/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SV_TYPE_IMAGES_VIEW (sv_images_view_get_type ())
G_DECLARE_FINAL_TYPE (SvImagesView, sv_images_view, SV, IMAGES_VIEW, GtkWidget)

void sv_images_view_set_model (SvImagesView *self, GListModel *images);

G_END_DECLS
