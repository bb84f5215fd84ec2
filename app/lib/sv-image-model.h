/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-client-image.h"

G_BEGIN_DECLS

#define SV_TYPE_IMAGE_MODEL (sv_image_model_get_type ())
G_DECLARE_FINAL_TYPE (SvImageModel, sv_image_model, SV, IMAGE_MODEL, GObject)

SvImageModel *sv_image_model_new (GDBusObjectManager *objects);
SvClientImage *sv_image_model_lookup (SvImageModel *self, const char *id);

G_END_DECLS
