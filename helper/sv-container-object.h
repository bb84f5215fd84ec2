/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-authority.h"
#include "sv-container-store.h"
#include "sv-container.h"
#include "sv-dbus-generated.h"

G_BEGIN_DECLS

#define SV_TYPE_CONTAINER_OBJECT (sv_container_object_get_type ())
G_DECLARE_FINAL_TYPE (SvContainerObject, sv_container_object, SV, CONTAINER_OBJECT, GObject)

SvContainerObject *sv_container_object_new (SvContainerStore *store,
                                            SvContainer *container,
                                            SvAuthority *authority);
SvDBusObjectSkeleton *sv_container_object_get_object (SvContainerObject *self);
char *sv_container_object_path_for (const char *id);

G_END_DECLS
