/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-image-object.h"

#include <json-glib/json-glib.h>

#include "sv-engine-error.h"
#include "sv-helper-error.h"
#include "sv-helper-options.h"

/* One image on the bus, at /org/servin/Servin1/images/HEX. */
struct _SvImageObject
{
  GObject parent_instance;

  SvImageStore *store;
  SvContainerStore *containers;
  SvImage *image;
  SvDBusObjectSkeleton *object;
  SvDBusImage *iface;
};

G_DEFINE_FINAL_TYPE (SvImageObject, sv_image_object, G_TYPE_OBJECT)

static void
sv_image_object_finalize (GObject *object)
{
  SvImageObject *self = SV_IMAGE_OBJECT (object);

  g_clear_object (&self->store);
  g_clear_object (&self->containers);
  g_clear_object (&self->image);
  g_clear_object (&self->object);
  g_clear_object (&self->iface);
  G_OBJECT_CLASS (sv_image_object_parent_class)->finalize (object);
}

static void
sv_image_object_class_init (SvImageObjectClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_image_object_finalize;
}

static void
sv_image_object_init (SvImageObject *self)
{
}

/* The object path of an image: its id without "sha256:". */
char *
sv_image_object_path_for (const char *image_id)
{
  const char *hex = strchr (image_id, ':');

  return g_strdup_printf ("/org/servin/Servin1/images/%s", hex != NULL ? hex + 1 : image_id);
}

/* Copy the image's properties to the skeleton; called again when tags change. */
void
sv_image_object_sync (SvImageObject *self)
{
  g_autofree char *id = NULL, *os = NULL, *architecture = NULL;
  g_auto (GStrv) repo_tags = NULL;
  g_auto (GStrv) repo_digests = NULL;
  gint64 created = 0;
  guint64 size = 0;

  g_object_get (self->image, "id", &id, "repo-tags", &repo_tags, "repo-digests", &repo_digests,
                "created", &created, "size", &size, "os", &os, "architecture", &architecture,
                NULL);

  sv_dbus_image_set_id (self->iface, id);
  sv_dbus_image_set_repo_tags (self->iface, (const char *const *) repo_tags);
  sv_dbus_image_set_repo_digests (self->iface, (const char *const *) repo_digests);
  sv_dbus_image_set_created (self->iface, created > 0 ? (guint64) created : 0);
  sv_dbus_image_set_size (self->iface, size);
  sv_dbus_image_set_os (self->iface, os != NULL ? os : "");
  sv_dbus_image_set_architecture (self->iface, architecture != NULL ? architecture : "");
}

/* Whether removing @reference deletes the image rather than one of several tags. */
static gboolean
removal_deletes_image (SvDBusImage *iface, const char *reference)
{
  const char *const *tags = sv_dbus_image_get_repo_tags (iface);
  const char *const *digests = sv_dbus_image_get_repo_digests (iface);
  guint names = (tags != NULL ? g_strv_length ((GStrv) tags) : 0)
                + (digests != NULL ? g_strv_length ((GStrv) digests) : 0);

  return g_str_equal (reference, sv_dbus_image_get_id (iface)) || names <= 1;
}

/* Fail with CONFLICT when a container was created from the image, because the
 * container's root filesystem stacks the image's layers. Unlike docker's
 * rmi -f, force does not help: the store cannot keep an untagged image's
 * layers for a stopped container, so the container must go first. */
static gboolean
check_unused (SvImageObject *self, GError **error)
{
  g_autoptr (GPtrArray) containers = sv_container_store_list (self->containers);
  const char *id = sv_dbus_image_get_id (self->iface);

  for (guint i = 0; i < containers->len; i++)
    {
      g_autofree char *image_id = NULL;
      g_autofree char *name = NULL;

      g_object_get (g_ptr_array_index (containers, i), "image-id", &image_id, "name", &name,
                    NULL);
      if (g_strcmp0 (image_id, id) == 0)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                       "image %s is used by container %s: remove the container first", id,
                       name);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
on_handle_remove (SvDBusImage *iface,
                  GDBusMethodInvocation *invocation,
                  GVariant *options,
                  SvImageObject *self)
{
  g_autoptr (GError) error = NULL;
  const char *reference = NULL;
  gboolean force = FALSE;

  if (!sv_helper_lookup_option (options, "Remove", "Reference", "&s", &reference, &error)
      || !sv_helper_lookup_option (options, "Remove", "Force", "b", &force, &error))
    {
      sv_helper_return_error (invocation, error);
      return TRUE;
    }

  if (reference == NULL || *reference == '\0')
    reference = sv_dbus_image_get_id (iface);

  g_info ("Removing image %s (%s)%s for %s", sv_dbus_image_get_id (iface), reference,
          force ? " (forced)" : "", g_dbus_method_invocation_get_sender (invocation));
  if (removal_deletes_image (iface, reference) && !check_unused (self, &error))
    sv_helper_return_error (invocation, error);
  else if (!sv_image_store_remove (self->store, reference, force, &error))
    sv_helper_return_error (invocation, error);
  else
    sv_dbus_image_complete_remove (iface, invocation);
  return TRUE;
}

static gboolean
on_handle_inspect (SvDBusImage *iface, GDBusMethodInvocation *invocation, SvImageObject *self)
{
  JsonObject *config = sv_image_get_config_document (self->image);
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), config);
  g_autofree char *text = json_to_string (node, TRUE);

  sv_dbus_image_complete_inspect (iface, invocation, text);
  return TRUE;
}

SvImageObject *
sv_image_object_new (SvImageStore *store,
                     SvContainerStore *containers,
                     SvImage *image,
                     SvAuthority *authority)
{
  SvImageObject *self = g_object_new (SV_TYPE_IMAGE_OBJECT, NULL);
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;

  g_object_get (image, "id", &id, NULL);
  path = sv_image_object_path_for (id);
  self->store = g_object_ref (store);
  self->containers = g_object_ref (containers);
  self->image = g_object_ref (image);
  self->object = sv_dbus_object_skeleton_new (path);
  self->iface = sv_dbus_image_skeleton_new ();
  sv_image_object_sync (self);

  g_signal_connect_object (self->iface, "handle-remove", G_CALLBACK (on_handle_remove), self, 0);
  g_signal_connect_object (self->iface, "handle-inspect", G_CALLBACK (on_handle_inspect), self,
                           0);
  sv_authority_guard (authority, G_DBUS_INTERFACE_SKELETON (self->iface));
  sv_dbus_object_skeleton_set_image (self->object, self->iface);
  return self;
}

SvDBusObjectSkeleton *
sv_image_object_get_object (SvImageObject *self)
{
  return self->object;
}
