/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-object-list.h"

static gboolean
find_path (SvClientObjectList *list, const char *path, guint *position)
{
  for (guint i = 0; i < list->paths->len; i++)
    {
      if (g_str_equal (g_ptr_array_index (list->paths, i), path))
        {
          *position = i;
          return TRUE;
        }
    }
  return FALSE;
}

/* Appends an item for @object unless the list has one for its path, and
 * returns whether it did. */
static gboolean
append_object (SvClientObjectList *list, GDBusObject *object)
{
  const char *path = g_dbus_object_get_object_path (object);
  gpointer item;
  guint position;

  if (find_path (list, path, &position))
    return FALSE;
  item = list->item_new (object);
  if (item == NULL)
    return FALSE;
  g_ptr_array_add (list->items, item);
  g_ptr_array_add (list->paths, g_strdup (path));
  return TRUE;
}

static void
on_object_added_cb (GDBusObjectManager *objects, GDBusObject *object, SvClientObjectList *list)
{
  if (append_object (list, object))
    g_list_model_items_changed (list->model, list->items->len - 1, 0, 1);
}

static void
on_object_removed_cb (GDBusObjectManager *objects, GDBusObject *object, SvClientObjectList *list)
{
  guint position;

  if (!find_path (list, g_dbus_object_get_object_path (object), &position))
    return;
  g_ptr_array_remove_index (list->items, position);
  g_ptr_array_remove_index (list->paths, position);
  g_list_model_items_changed (list->model, position, 1, 0);
}

/* Calls @order on two items of a GPtrArray, which passes their addresses. */
static int
compare_items (gconstpointer a, gconstpointer b, gpointer order)
{
  return ((GCompareFunc)order) (*(gpointer const *)a, *(gpointer const *)b);
}

/**
 * sv_client_object_list_init:
 * @list: the list to fill
 * @model: the model whose items-changed the list emits
 * @objects: servind's object manager client
 * @item_new: makes the item of an object, or returns NULL to skip it
 * @initial_order: orders the items of the objects that already exist
 *
 * Lists the objects that exist now, then follows @objects. The manager
 * lists its objects in no particular order, so the first items are sorted
 * with @initial_order; objects that arrive later are appended.
 */
void
sv_client_object_list_init (SvClientObjectList *list, GListModel *model,
                            GDBusObjectManager *objects, SvClientItemNewFunc item_new,
                            GCompareFunc initial_order)
{
  GList *existing = g_dbus_object_manager_get_objects (objects);
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

  list->model = model;
  list->objects = g_object_ref (objects);
  list->item_new = item_new;
  list->items = g_ptr_array_new_with_free_func (g_object_unref);
  list->paths = g_ptr_array_new_with_free_func (g_free);

  for (GList *l = existing; l != NULL; l = l->next)
    {
      gpointer item = item_new (l->data);

      if (item != NULL)
        g_ptr_array_add (items, item);
    }
  g_list_free_full (existing, g_object_unref);

  g_ptr_array_sort_with_data (items, compare_items, initial_order);
  for (guint i = 0; i < items->len; i++)
    {
      GObject *item = g_ptr_array_index (items, i);
      g_autofree char *path = NULL;

      g_object_get (item, "object-path", &path, NULL);
      g_ptr_array_add (list->items, g_object_ref (item));
      g_ptr_array_add (list->paths, g_steal_pointer (&path));
    }

  list->object_added_id
      = g_signal_connect (objects, "object-added", G_CALLBACK (on_object_added_cb), list);
  list->object_removed_id
      = g_signal_connect (objects, "object-removed", G_CALLBACK (on_object_removed_cb), list);
}

void
sv_client_object_list_clear (SvClientObjectList *list)
{
  if (list->objects != NULL)
    {
      g_clear_signal_handler (&list->object_added_id, list->objects);
      g_clear_signal_handler (&list->object_removed_id, list->objects);
    }
  g_clear_object (&list->objects);
  g_clear_pointer (&list->items, g_ptr_array_unref);
  g_clear_pointer (&list->paths, g_ptr_array_unref);
}

guint
sv_client_object_list_get_n_items (SvClientObjectList *list)
{
  return list->items != NULL ? list->items->len : 0;
}

/* Returns: (transfer full) (nullable): the item at @position */
gpointer
sv_client_object_list_get_item (SvClientObjectList *list, guint position)
{
  if (list->items == NULL || position >= list->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (list->items, position));
}
