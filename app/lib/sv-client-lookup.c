/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-lookup.h"

#include <string.h>

#include "sv-client-connection.h"
#include "sv-client-error.h"
#include "sv-client-reference.h"

#define SHA256_PREFIX "sha256:"
#define SHA256_HEX_LENGTH 64

static gint
compare_containers_newest_first (gconstpointer a, gconstpointer b)
{
  guint64 created_a = sv_dbus_container_get_created ((SvDBusContainer *)a);
  guint64 created_b = sv_dbus_container_get_created ((SvDBusContainer *)b);

  if (created_a != created_b)
    return created_a > created_b ? -1 : 1;
  return g_strcmp0 (sv_dbus_container_get_id ((SvDBusContainer *)a),
                    sv_dbus_container_get_id ((SvDBusContainer *)b));
}

static gint
compare_images_newest_first (gconstpointer a, gconstpointer b)
{
  guint64 created_a = sv_dbus_image_get_created ((SvDBusImage *)a);
  guint64 created_b = sv_dbus_image_get_created ((SvDBusImage *)b);

  if (created_a != created_b)
    return created_a > created_b ? -1 : 1;
  return g_strcmp0 (sv_dbus_image_get_id ((SvDBusImage *)a),
                    sv_dbus_image_get_id ((SvDBusImage *)b));
}

/**
 * sv_client_list_containers:
 * @objects: the object manager client from sv_client_connect()
 *
 * Returns: (transfer full) (element-type SvDBusContainer): every container,
 *   newest first; free with g_list_free_full (list, g_object_unref)
 */
GList *
sv_client_list_containers (GDBusObjectManager *objects)
{
  GList *all = g_dbus_object_manager_get_objects (objects);
  GList *containers = NULL;

  for (GList *l = all; l != NULL; l = l->next)
    {
      SvDBusContainer *container = sv_dbus_object_get_container (SV_DBUS_OBJECT (l->data));

      if (container != NULL)
        containers = g_list_prepend (containers, container);
    }
  g_list_free_full (all, g_object_unref);
  return g_list_sort (containers, compare_containers_newest_first);
}

/**
 * sv_client_list_images:
 * @objects: the object manager client from sv_client_connect()
 *
 * Returns: (transfer full) (element-type SvDBusImage): every image, newest
 *   first; free with g_list_free_full (list, g_object_unref)
 */
GList *
sv_client_list_images (GDBusObjectManager *objects)
{
  GList *all = g_dbus_object_manager_get_objects (objects);
  GList *images = NULL;

  for (GList *l = all; l != NULL; l = l->next)
    {
      SvDBusImage *image = sv_dbus_object_get_image (SV_DBUS_OBJECT (l->data));

      if (image != NULL)
        images = g_list_prepend (images, image);
    }
  g_list_free_full (all, g_object_unref);
  return g_list_sort (images, compare_images_newest_first);
}

static gboolean
is_hex (const char *text)
{
  if (*text == '\0')
    return FALSE;
  for (const char *p = text; *p; p++)
    {
      if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
        return FALSE;
    }
  return TRUE;
}

/**
 * sv_client_find_container:
 * @objects: the object manager client from sv_client_connect()
 * @name_or_id: a full id, a name (with or without docker's leading "/"),
 *   or a prefix of the id that only one container has
 * @error: return location for an error
 *
 * Finds a container the way docker does: a full id first, then a name, then
 * a unique id prefix.
 *
 * Returns: (transfer full): the container, or %NULL with
 *   %SV_CLIENT_ERROR_NOT_FOUND or %SV_CLIENT_ERROR_AMBIGUOUS
 */
SvDBusContainer *
sv_client_find_container (GDBusObjectManager *objects, const char *name_or_id, GError **error)
{
  GList *containers = sv_client_list_containers (objects);
  const char *name = name_or_id[0] == '/' ? name_or_id + 1 : name_or_id;
  SvDBusContainer *by_name = NULL;
  SvDBusContainer *by_prefix = NULL;
  SvDBusContainer *found = NULL;
  guint prefix_matches = 0;

  for (GList *l = containers; l != NULL; l = l->next)
    {
      SvDBusContainer *container = l->data;
      const char *id = sv_dbus_container_get_id (container);
      const char *container_name = sv_dbus_container_get_name (container);

      if (g_strcmp0 (id, name_or_id) == 0)
        {
          found = container;
          break;
        }
      if (container_name != NULL && *name != '\0'
          && g_strcmp0 (container_name[0] == '/' ? container_name + 1 : container_name, name) == 0)
        by_name = container;
      if (id != NULL && is_hex (name_or_id) && g_str_has_prefix (id, name_or_id))
        {
          by_prefix = container;
          prefix_matches++;
        }
    }

  if (found == NULL)
    found = by_name;
  if (found == NULL && prefix_matches == 1)
    found = by_prefix;

  if (found != NULL)
    g_object_ref (found);
  else if (prefix_matches > 1)
    g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_AMBIGUOUS,
                 "multiple containers have ids starting with %s: give more characters of the id",
                 name_or_id);
  else
    g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NOT_FOUND, "No such container: %s",
                 name_or_id);

  g_list_free_full (containers, g_object_unref);
  return found;
}

/* TRUE when @image carries the tag or digest that @reference, normalised,
 * names. RepoTags and RepoDigests hold full references. */
gboolean
sv_client_image_has_reference (SvDBusImage *image, const char *reference)
{
  g_autofree char *full = sv_client_reference_normalize (reference, NULL);
  const char *const *tags = sv_dbus_image_get_repo_tags (image);
  const char *const *digests = sv_dbus_image_get_repo_digests (image);

  if (full == NULL)
    return FALSE;
  if (tags != NULL && g_strv_contains (tags, full))
    return TRUE;
  return digests != NULL && g_strv_contains (digests, full);
}

static gboolean
image_id_matches_prefix (SvDBusImage *image, const char *prefix)
{
  const char *id = sv_dbus_image_get_id (image);

  if (id == NULL || !g_str_has_prefix (id, SHA256_PREFIX))
    return FALSE;
  return g_str_has_prefix (id + strlen (SHA256_PREFIX), prefix);
}

/**
 * sv_client_find_image:
 * @objects: the object manager client from sv_client_connect()
 * @reference_or_id: a reference ("busybox", "127.0.0.1:5000/sample:1"), an
 *   id ("sha256:HEX" or HEX) or a prefix of the id that only one image has
 * @error: return location for an error
 *
 * Finds an image the way docker does: a reference is normalised before it
 * is compared with the tags, so "busybox" finds
 * "docker.io/library/busybox:latest"; otherwise @reference_or_id is taken as
 * an id or id prefix, with or without "sha256:".
 *
 * Returns: (transfer full): the image, or %NULL with
 *   %SV_CLIENT_ERROR_NOT_FOUND or %SV_CLIENT_ERROR_AMBIGUOUS
 */
SvDBusImage *
sv_client_find_image (GDBusObjectManager *objects, const char *reference_or_id, GError **error)
{
  GList *images = sv_client_list_images (objects);
  const char *hex = reference_or_id;
  SvDBusImage *found = NULL;
  SvDBusImage *by_prefix = NULL;
  guint prefix_matches = 0;

  if (g_str_has_prefix (hex, SHA256_PREFIX))
    hex += strlen (SHA256_PREFIX);

  for (GList *l = images; l != NULL && found == NULL; l = l->next)
    {
      if (sv_client_image_has_reference (l->data, reference_or_id))
        found = l->data;
    }

  for (GList *l = images; l != NULL && found == NULL && is_hex (hex); l = l->next)
    {
      if (!image_id_matches_prefix (l->data, hex))
        continue;
      if (strlen (hex) == SHA256_HEX_LENGTH)
        found = l->data;
      by_prefix = l->data;
      prefix_matches++;
    }
  if (found == NULL && prefix_matches == 1)
    found = by_prefix;

  if (found != NULL)
    g_object_ref (found);
  else if (prefix_matches > 1)
    g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_AMBIGUOUS,
                 "multiple images have ids starting with %s: give more characters of the id",
                 reference_or_id);
  else
    g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NOT_FOUND, "No such image: %s",
                 reference_or_id);

  g_list_free_full (images, g_object_unref);
  return found;
}

/**
 * sv_client_get_container:
 * @objects: the object manager client from sv_client_connect()
 * @object_path: a container's path, as Manager.Create returns it
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Makes a proxy for the container at @object_path directly. The object
 * manager learns of a new container from a signal that it handles later
 * than the reply of the call that created it, so it may not list it yet.
 *
 * Returns: (transfer full): the container, or %NULL
 */
SvDBusContainer *
sv_client_get_container (GDBusObjectManager *objects, const char *object_path,
                         GCancellable *cancellable, GError **error)
{
  SvDBusContainer *container;

  container = sv_dbus_container_proxy_new_sync (
      sv_client_get_connection (objects), G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, SV_CLIENT_BUS_NAME,
      object_path, cancellable, error);
  if (container == NULL)
    sv_client_error_clean (error ? *error : NULL);
  return container;
}
