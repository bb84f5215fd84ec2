/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "sv-config.h"
#include "sv-container.h"
#include "sv-image-store.h"
#include "sv-layer-store.h"

G_BEGIN_DECLS

/* The containers, with one record per container at DATA_ROOT/containers/ID/config.v2.json.
 * Use a store from one thread whose thread-default main context stays the same. Property
 * notifications and the signals "container-added" and "container-removed" (each with the
 * SvContainer) are emitted in that context. */
#define SV_TYPE_CONTAINER_STORE (sv_container_store_get_type ())
G_DECLARE_FINAL_TYPE (SvContainerStore, sv_container_store, SV, CONTAINER_STORE, GObject)

SvContainerStore *sv_container_store_new (SvConfig *config, SvImageStore *images,
                                          SvLayerStore *layers, GError **error);
GPtrArray *sv_container_store_list (SvContainerStore *self);
SvContainer *sv_container_store_lookup (SvContainerStore *self, const char *id_or_name,
                                        GError **error);
SvContainer *sv_container_store_create (SvContainerStore *self, const char *name, GVariant *config,
                                        GError **error);
void sv_container_store_remove_async (SvContainerStore *self, SvContainer *container,
                                      gboolean force, GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean sv_container_store_remove_finish (SvContainerStore *self, GAsyncResult *result,
                                           GError **error);

G_END_DECLS
