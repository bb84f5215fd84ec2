/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-container-model.h"

#include "sv-client-object-list.h"

/* Every container that servind exports, as a GListModel of
 * SvClientContainer. An item stays the same object for as long as its
 * D-Bus object exists. New containers are appended in the order the object
 * manager reports them.
 * NOTE: the object manager lists the objects that exist when the model is
 * made in no particular order, so those come first sorted by their Created
 * time, in whole seconds, and then by id. */
struct _SvContainerModel
{
  GObject parent_instance;

  SvClientObjectList list;
};

static void sv_container_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SvContainerModel, sv_container_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      sv_container_model_list_model_init))

static gpointer
container_item_new (GDBusObject *object)
{
  g_autoptr (SvDBusContainer) proxy = NULL;

  if (!SV_DBUS_IS_OBJECT (object))
    return NULL;
  proxy = sv_dbus_object_get_container (SV_DBUS_OBJECT (object));
  return proxy != NULL ? sv_client_container_new (proxy) : NULL;
}

static int
compare_oldest_first (gconstpointer a, gconstpointer b)
{
  guint64 created_a = sv_client_container_get_created ((SvClientContainer *)a);
  guint64 created_b = sv_client_container_get_created ((SvClientContainer *)b);

  if (created_a != created_b)
    return created_a < created_b ? -1 : 1;
  return g_strcmp0 (sv_client_container_get_id ((SvClientContainer *)a),
                    sv_client_container_get_id ((SvClientContainer *)b));
}

static GType
sv_container_model_get_item_type (GListModel *model)
{
  return SV_TYPE_CLIENT_CONTAINER;
}

static guint
sv_container_model_get_n_items (GListModel *model)
{
  return sv_client_object_list_get_n_items (&SV_CONTAINER_MODEL (model)->list);
}

static gpointer
sv_container_model_get_item (GListModel *model, guint position)
{
  return sv_client_object_list_get_item (&SV_CONTAINER_MODEL (model)->list, position);
}

static void
sv_container_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = sv_container_model_get_item_type;
  iface->get_n_items = sv_container_model_get_n_items;
  iface->get_item = sv_container_model_get_item;
}

static void
sv_container_model_dispose (GObject *object)
{
  sv_client_object_list_clear (&SV_CONTAINER_MODEL (object)->list);

  G_OBJECT_CLASS (sv_container_model_parent_class)->dispose (object);
}

static void
sv_container_model_class_init (SvContainerModelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = sv_container_model_dispose;
}

static void
sv_container_model_init (SvContainerModel *self)
{
}

/**
 * sv_container_model_new:
 * @objects: the object manager client from sv_client_connect() or
 *   sv_client_connect_finish()
 *
 * Returns: (transfer full): a model of servind's containers that follows
 *   @objects on the caller's thread-default main context
 */
SvContainerModel *
sv_container_model_new (GDBusObjectManager *objects)
{
  SvContainerModel *self;

  g_return_val_if_fail (G_IS_DBUS_OBJECT_MANAGER (objects), NULL);

  self = g_object_new (SV_TYPE_CONTAINER_MODEL, NULL);
  sv_client_object_list_init (&self->list, G_LIST_MODEL (self), objects, container_item_new,
                              compare_oldest_first);
  return self;
}

/**
 * sv_container_model_lookup:
 * @self: a #SvContainerModel
 * @id: a container's full id
 *
 * Returns: (transfer none) (nullable): the item of the container with @id
 */
SvClientContainer *
sv_container_model_lookup (SvContainerModel *self, const char *id)
{
  GPtrArray *items;

  g_return_val_if_fail (SV_IS_CONTAINER_MODEL (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  items = self->list.items;
  for (guint i = 0; items != NULL && i < items->len; i++)
    {
      SvClientContainer *container = g_ptr_array_index (items, i);

      if (g_strcmp0 (sv_client_container_get_id (container), id) == 0)
        return container;
    }
  return NULL;
}
