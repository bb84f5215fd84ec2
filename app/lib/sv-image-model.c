/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-image-model.h"

#include "sv-client-object-list.h"

/* Every image that servind exports, as a GListModel of
 * SvClientImage. An item stays the same object for as long as its
 * D-Bus object exists. New images are appended in the order the object
 * manager reports them.
 * NOTE: the object manager lists the objects that exist when the model is
 * made in no particular order, so those come first sorted by their Created
 * time, in whole seconds, and then by id. */
struct _SvImageModel
{
  GObject parent_instance;

  SvClientObjectList list;
};

static void sv_image_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SvImageModel, sv_image_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      sv_image_model_list_model_init))

static gpointer
image_item_new (GDBusObject *object)
{
  g_autoptr (SvDBusImage) proxy = NULL;

  if (!SV_DBUS_IS_OBJECT (object))
    return NULL;
  proxy = sv_dbus_object_get_image (SV_DBUS_OBJECT (object));
  return proxy != NULL ? sv_client_image_new (proxy) : NULL;
}

static int
compare_oldest_first (gconstpointer a, gconstpointer b)
{
  guint64 created_a = sv_client_image_get_created ((SvClientImage *)a);
  guint64 created_b = sv_client_image_get_created ((SvClientImage *)b);

  if (created_a != created_b)
    return created_a < created_b ? -1 : 1;
  return g_strcmp0 (sv_client_image_get_id ((SvClientImage *)a),
                    sv_client_image_get_id ((SvClientImage *)b));
}

static GType
sv_image_model_get_item_type (GListModel *model)
{
  return SV_TYPE_CLIENT_IMAGE;
}

static guint
sv_image_model_get_n_items (GListModel *model)
{
  return sv_client_object_list_get_n_items (&SV_IMAGE_MODEL (model)->list);
}

static gpointer
sv_image_model_get_item (GListModel *model, guint position)
{
  return sv_client_object_list_get_item (&SV_IMAGE_MODEL (model)->list, position);
}

static void
sv_image_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = sv_image_model_get_item_type;
  iface->get_n_items = sv_image_model_get_n_items;
  iface->get_item = sv_image_model_get_item;
}

static void
sv_image_model_dispose (GObject *object)
{
  sv_client_object_list_clear (&SV_IMAGE_MODEL (object)->list);

  G_OBJECT_CLASS (sv_image_model_parent_class)->dispose (object);
}

static void
sv_image_model_class_init (SvImageModelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = sv_image_model_dispose;
}

static void
sv_image_model_init (SvImageModel *self)
{
}

/**
 * sv_image_model_new:
 * @objects: the object manager client from sv_client_connect() or
 *   sv_client_connect_finish()
 *
 * Returns: (transfer full): a model of servind's images that follows
 *   @objects on the caller's thread-default main context
 */
SvImageModel *
sv_image_model_new (GDBusObjectManager *objects)
{
  SvImageModel *self;

  g_return_val_if_fail (G_IS_DBUS_OBJECT_MANAGER (objects), NULL);

  self = g_object_new (SV_TYPE_IMAGE_MODEL, NULL);
  sv_client_object_list_init (&self->list, G_LIST_MODEL (self), objects, image_item_new,
                              compare_oldest_first);
  return self;
}

/**
 * sv_image_model_lookup:
 * @self: a #SvImageModel
 * @id: an image's full id, with or without "sha256:"
 *
 * Returns: (transfer none) (nullable): the item of the image with @id
 */
SvClientImage *
sv_image_model_lookup (SvImageModel *self, const char *id)
{
  g_autofree char *full_id = NULL;
  GPtrArray *items;

  g_return_val_if_fail (SV_IS_IMAGE_MODEL (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  full_id = g_str_has_prefix (id, "sha256:") ? g_strdup (id) : g_strconcat ("sha256:", id, NULL);
  items = self->list.items;
  for (guint i = 0; items != NULL && i < items->len; i++)
    {
      SvClientImage *image = g_ptr_array_index (items, i);

      if (g_strcmp0 (sv_client_image_get_id (image), full_id) == 0)
        return image;
    }
  return NULL;
}
