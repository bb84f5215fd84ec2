/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-client-container.h"

G_BEGIN_DECLS

#define SV_TYPE_CONTAINER_MODEL (sv_container_model_get_type ())
G_DECLARE_FINAL_TYPE (SvContainerModel, sv_container_model, SV, CONTAINER_MODEL, GObject)

SvContainerModel *sv_container_model_new (GDBusObjectManager *objects);
SvClientContainer *sv_container_model_lookup (SvContainerModel *self, const char *id);

G_END_DECLS
