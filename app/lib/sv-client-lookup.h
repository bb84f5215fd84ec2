/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-dbus-generated.h"

G_BEGIN_DECLS

GList *sv_client_list_containers (GDBusObjectManager *objects);
GList *sv_client_list_images (GDBusObjectManager *objects);

SvDBusContainer *sv_client_find_container (GDBusObjectManager *objects, const char *name_or_id,
                                           GError **error);
SvDBusImage *sv_client_find_image (GDBusObjectManager *objects, const char *reference_or_id,
                                   GError **error);
gboolean sv_client_image_has_reference (SvDBusImage *image, const char *reference);

SvDBusContainer *sv_client_get_container (GDBusObjectManager *objects, const char *object_path,
                                          GCancellable *cancellable, GError **error);

G_END_DECLS
