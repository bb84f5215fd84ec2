/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-authority.h"
#include "sv-container-store.h"
#include "sv-dbus-generated.h"
#include "sv-image-store.h"

G_BEGIN_DECLS

#define SV_TYPE_IMAGE_OBJECT (sv_image_object_get_type ())
G_DECLARE_FINAL_TYPE (SvImageObject, sv_image_object, SV, IMAGE_OBJECT, GObject)

SvImageObject *sv_image_object_new (SvImageStore *store,
                                    SvContainerStore *containers,
                                    SvImage *image,
                                    SvAuthority *authority);
SvDBusObjectSkeleton *sv_image_object_get_object (SvImageObject *self);
void sv_image_object_sync (SvImageObject *self);
char *sv_image_object_path_for (const char *image_id);

G_END_DECLS
