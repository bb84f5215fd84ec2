/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-dbus-generated.h"

G_BEGIN_DECLS

#define SV_TYPE_CLIENT_IMAGE (sv_client_image_get_type ())
G_DECLARE_FINAL_TYPE (SvClientImage, sv_client_image, SV, CLIENT_IMAGE, GObject)

SvClientImage *sv_client_image_new (SvDBusImage *proxy);

SvDBusImage *sv_client_image_get_proxy (SvClientImage *self);
const char *sv_client_image_get_id (SvClientImage *self);
const char *sv_client_image_get_short_id (SvClientImage *self);
const char *const *sv_client_image_get_repo_tags (SvClientImage *self);
const char *const *sv_client_image_get_display_tags (SvClientImage *self);
const char *const *sv_client_image_get_repo_digests (SvClientImage *self);
guint64 sv_client_image_get_created (SvClientImage *self);
guint64 sv_client_image_get_size (SvClientImage *self);
const char *sv_client_image_get_size_text (SvClientImage *self);
const char *sv_client_image_get_os (SvClientImage *self);
const char *sv_client_image_get_architecture (SvClientImage *self);
const char *sv_client_image_get_object_path (SvClientImage *self);

G_END_DECLS
