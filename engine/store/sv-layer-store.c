/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-layer-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "sv-engine-error.h"
#include "sv-fs.h"
#include "sv-layer-unpack.h"
#include "sv-overlay.h"
#include "sv-sha256.h"

struct _SvLayerStore
{
  GObject parent_instance;

  char *layer_dir;
  char *link_dir;
  char *tmp_dir;
};

G_DEFINE_TYPE (SvLayerStore, sv_layer_store, G_TYPE_OBJECT)

static void
sv_layer_store_finalize (GObject *object)
{
  SvLayerStore *self = SV_LAYER_STORE (object);

  g_free (self->layer_dir);
  g_free (self->link_dir);
  g_free (self->tmp_dir);

  G_OBJECT_CLASS (sv_layer_store_parent_class)->finalize (object);
}

static void
sv_layer_store_class_init (SvLayerStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_layer_store_finalize;
}

static void
sv_layer_store_init (SvLayerStore *self)
{
}

SvLayerStore *
sv_layer_store_new (const char *data_root, GError **error)
{
  g_autoptr (SvLayerStore) self = g_object_new (SV_TYPE_LAYER_STORE, NULL);

  self->layer_dir = g_build_filename (data_root, "layers", NULL);
  self->link_dir = g_build_filename (data_root, SV_OVERLAY_LINK_DIR, NULL);
  self->tmp_dir = g_build_filename (data_root, "tmp", NULL);

  for (const char *const *dir
       = (const char *const[]){ self->layer_dir, self->link_dir, self->tmp_dir, NULL };
       *dir != NULL; dir++)
    if (g_mkdir_with_parents (*dir, 0700) != 0)
      {
        int saved_errno = errno;
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot create folder %s: %s",
                     *dir, g_strerror (saved_errno));
        return NULL;
      }

  return g_steal_pointer (&self);
}

char *
sv_layer_store_get_layer_path (SvLayerStore *self, const char *diff_id)
{
  g_return_val_if_fail (SV_IS_LAYER_STORE (self), NULL);

  if (!sv_digest_is_valid (diff_id))
    return NULL;

  return g_build_filename (self->layer_dir, sv_digest_get_hex (diff_id), NULL);
}

static char *
get_size_path (SvLayerStore *self, const char *diff_id)
{
  g_autofree char *name = g_strconcat (sv_digest_get_hex (diff_id), ".size", NULL);

  return g_build_filename (self->layer_dir, name, NULL);
}

gboolean
sv_layer_store_has_layer (SvLayerStore *self, const char *diff_id)
{
  g_autofree char *path = sv_layer_store_get_layer_path (self, diff_id);

  return path != NULL && g_file_test (path, G_FILE_TEST_IS_DIR);
}

guint64
sv_layer_store_get_layer_size (SvLayerStore *self, const char *diff_id)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;

  if (!sv_layer_store_has_layer (self, diff_id))
    return 0;

  path = get_size_path (self, diff_id);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;

  return g_ascii_strtoull (text, NULL, 10);
}

char *
sv_layer_store_link_layer (SvLayerStore *self, const char *diff_id, GError **error)
{
  g_autofree char *name = NULL;
  g_autofree char *link_path = NULL;
  g_autofree char *target = NULL;
  g_autofree char *current = NULL;
  g_autofree char *tmp = NULL;

  g_return_val_if_fail (SV_IS_LAYER_STORE (self), NULL);

  if (!sv_digest_validate (diff_id, error))
    return NULL;

  name = sv_overlay_get_link_name (diff_id);
  link_path = g_build_filename (self->link_dir, name, NULL);
  target = g_build_filename ("..", "layers", sv_digest_get_hex (diff_id), NULL);

  current = g_file_read_link (link_path, NULL);
  if (current != NULL && strcmp (current, target) != 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "cannot link layer %s as %s: the link points to %s; remove the link and "
                   "start the container again",
                   diff_id, link_path, current);
      return NULL;
    }

  /* Create the link under a temporary name and rename it into place, so that the link
   * name never refers to a partly written link. */
  if (current == NULL)
    {
      tmp = g_strdup_printf ("%s/link-%s-%08x", self->tmp_dir, name, g_random_int ());
      if (symlink (target, tmp) != 0 || rename (tmp, link_path) != 0)
        {
          int saved_errno = errno;

          g_unlink (tmp);
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                       "cannot link layer %s as %s: %s", diff_id, link_path,
                       g_strerror (saved_errno));
          return NULL;
        }
    }

  return g_build_filename (SV_OVERLAY_LINK_DIR, name, NULL);
}

static gboolean
move_into_place (SvLayerStore *self, const char *tmp, const char *diff_id, guint64 size,
                 GError **error)
{
  g_autofree char *path = sv_layer_store_get_layer_path (self, diff_id);
  g_autofree char *size_path = get_size_path (self, diff_id);
  g_autofree char *size_text = g_strdup_printf ("%" G_GUINT64_FORMAT "\n", size);
  g_autofree char *link = NULL;

  if (g_rename (tmp, path) != 0)
    {
      int saved_errno = errno;

      /* Another unpack of the same layer finished first. */
      if ((saved_errno == EEXIST || saved_errno == ENOTEMPTY)
          && g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          g_autofree char *link = NULL;

          if (!sv_fs_remove_tree (tmp, error))
            return FALSE;
          link = sv_layer_store_link_layer (self, diff_id, error);
          return link != NULL;
        }

      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot move layer %s into place at %s: %s", diff_id, path,
                   g_strerror (saved_errno));
      sv_fs_remove_tree (tmp, NULL);
      return FALSE;
    }

  /* The size is informational, so losing it in a crash only shows the layer as 0 bytes. */
  if (!g_file_set_contents (size_path, size_text, -1, error))
    {
      g_prefix_error (error, "cannot record the size of layer %s: ", diff_id);
      return FALSE;
    }

  link = sv_layer_store_link_layer (self, diff_id, error);
  return link != NULL;
}

gboolean
sv_layer_store_unpack (SvLayerStore *self, const char *blob_path, const char *expected_diff_id,
                       GCancellable *cancellable, GError **error)
{
  g_autofree char *tmp = NULL;
  g_autofree char *diff_id = NULL;
  guint64 size = 0;

  g_return_val_if_fail (SV_IS_LAYER_STORE (self), FALSE);

  if (!sv_digest_validate (expected_diff_id, error))
    return FALSE;

  if (sv_layer_store_has_layer (self, expected_diff_id))
    return TRUE;

  tmp = sv_fs_make_temp_dir (self->tmp_dir, "layer-", error);
  if (tmp == NULL)
    return FALSE;

  /* An overlay root takes its permissions from the top layer, so the default is 0755 as
   * in any root file system. A "./" entry in the tar may change it. */
  if (g_chmod (tmp, 0755) != 0
      || !sv_layer_unpack (blob_path, tmp, &diff_id, &size, cancellable, error))
    {
      g_prefix_error (error, "cannot unpack layer %s: ", expected_diff_id);
      sv_fs_remove_tree (tmp, NULL);
      return FALSE;
    }

  if (strcmp (diff_id, expected_diff_id) != 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_DIGEST_MISMATCH,
                   "layer %s does not match its diff_id: expected %s, got %s", blob_path,
                   expected_diff_id, diff_id);
      sv_fs_remove_tree (tmp, NULL);
      return FALSE;
    }

  return move_into_place (self, tmp, diff_id, size, error);
}

gboolean
sv_layer_store_remove_layer (SvLayerStore *self, const char *diff_id, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *size_path = NULL;
  g_autofree char *doomed = NULL;
  g_autofree char *link_name = NULL;
  g_autofree char *link_path = NULL;

  if (!sv_digest_validate (diff_id, error))
    return FALSE;

  path = sv_layer_store_get_layer_path (self, diff_id);
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND, "layer %s not found",
                   diff_id);
      return FALSE;
    }

  /* Remove the link before the folder, so a crash in between leaves a layer without a link,
   * which the next mount links again, and never a link without a layer. */
  link_name = sv_overlay_get_link_name (diff_id);
  link_path = g_build_filename (self->link_dir, link_name, NULL);
  if (g_unlink (link_path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot remove the link %s of layer %s: %s", link_path, diff_id,
                   g_strerror (saved_errno));
      return FALSE;
    }

  /* Move the folder away first, so a half-removed layer never looks present. */
  doomed = g_strdup_printf ("%s/removing-%s-%08x", self->tmp_dir, sv_digest_get_hex (diff_id),
                            g_random_int ());
  if (g_rename (path, doomed) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot remove layer %s: %s",
                   diff_id, g_strerror (saved_errno));
      return FALSE;
    }

  size_path = get_size_path (self, diff_id);
  g_unlink (size_path);
  return sv_fs_remove_tree (doomed, error);
}

GStrv
sv_layer_store_list_layers (SvLayerStore *self, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (self->layer_dir, 0, error);
  g_autoptr (GStrvBuilder) diff_ids = g_strv_builder_new ();
  const char *name;

  if (dir == NULL)
    return NULL;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *diff_id = g_strconcat ("sha256:", name, NULL);

      /* HEX.size files hold sizes and fail the digest check. */
      if (sv_digest_is_valid (diff_id) && sv_layer_store_has_layer (self, diff_id))
        g_strv_builder_add (diff_ids, diff_id);
    }
  return g_strv_builder_end (diff_ids);
}
