/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-dbus-generated.h"

G_BEGIN_DECLS

#define SV_TYPE_CLIENT_CONTAINER (sv_client_container_get_type ())
G_DECLARE_FINAL_TYPE (SvClientContainer, sv_client_container, SV, CLIENT_CONTAINER, GObject)

SvClientContainer *sv_client_container_new (SvDBusContainer *proxy);

SvDBusContainer *sv_client_container_get_proxy (SvClientContainer *self);
const char *sv_client_container_get_id (SvClientContainer *self);
const char *sv_client_container_get_name (SvClientContainer *self);
const char *sv_client_container_get_image (SvClientContainer *self);
const char *sv_client_container_get_image_id (SvClientContainer *self);
const char *sv_client_container_get_command (SvClientContainer *self);
const char *sv_client_container_get_state (SvClientContainer *self);
int sv_client_container_get_exit_code (SvClientContainer *self);
guint64 sv_client_container_get_created (SvClientContainer *self);
guint64 sv_client_container_get_started_at (SvClientContainer *self);
guint64 sv_client_container_get_finished_at (SvClientContainer *self);
gboolean sv_client_container_get_auto_remove (SvClientContainer *self);
const char *const *sv_client_container_get_labels (SvClientContainer *self);
const char *sv_client_container_get_object_path (SvClientContainer *self);
char *sv_client_container_dup_status_text (SvClientContainer *self);

G_END_DECLS
