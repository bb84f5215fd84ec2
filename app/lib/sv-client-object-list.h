/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The part that SvContainerModel and SvImageModel share: a list of items,
 * one per object of servind's object manager that has a given interface,
 * kept in step with the manager's object-added and object-removed. Not
 * public API. */

/* Returns a new item for @object, or NULL when @object is not of the kind
 * the list holds. */
typedef gpointer (*SvClientItemNewFunc) (GDBusObject *object);

typedef struct
{
  GListModel *model;
  GDBusObjectManager *objects;
  SvClientItemNewFunc item_new;
  /* Items, each with the object path it mirrors. */
  GPtrArray *items;
  GPtrArray *paths;
  gulong object_added_id;
  gulong object_removed_id;
} SvClientObjectList;

void sv_client_object_list_init (SvClientObjectList *list, GListModel *model,
                                 GDBusObjectManager *objects, SvClientItemNewFunc item_new,
                                 GCompareFunc initial_order);
void sv_client_object_list_clear (SvClientObjectList *list);
guint sv_client_object_list_get_n_items (SvClientObjectList *list);
gpointer sv_client_object_list_get_item (SvClientObjectList *list, guint position);

G_END_DECLS
