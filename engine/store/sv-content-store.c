/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-content-store.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "sv-engine-error.h"
#include "sv-fs.h"
#include "sv-sha256.h"

struct _SvContentStore
{
  GObject parent_instance;

  char *data_root;
  char *blob_dir;
  char *tmp_dir;
};

struct _SvBlobWriter
{
  SvContentStore *store;
  char *expected_digest;
  gint64 expected_size;
  char *tmp_path;
  int fd;
  SvSha256 *sha;
  guint64 written;
  char *digest;
  gboolean committed;
};

G_DEFINE_TYPE (SvContentStore, sv_content_store, G_TYPE_OBJECT)

static void
sv_content_store_finalize (GObject *object)
{
  SvContentStore *self = SV_CONTENT_STORE (object);

  g_free (self->data_root);
  g_free (self->blob_dir);
  g_free (self->tmp_dir);

  G_OBJECT_CLASS (sv_content_store_parent_class)->finalize (object);
}

static void
sv_content_store_class_init (SvContentStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_content_store_finalize;
}

static void
sv_content_store_init (SvContentStore *self)
{
}

static gboolean
make_dir (const char *path, int mode, GError **error)
{
  if (g_mkdir_with_parents (path, mode) == 0)
    return TRUE;

  int saved_errno = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "cannot create folder %s: %s", path, g_strerror (saved_errno));
  return FALSE;
}

SvContentStore *
sv_content_store_new (const char *data_root, GError **error)
{
  g_autoptr (SvContentStore) self = g_object_new (SV_TYPE_CONTENT_STORE, NULL);

  g_return_val_if_fail (data_root != NULL, NULL);

  self->data_root = g_strdup (data_root);
  self->blob_dir = g_build_filename (data_root, "blobs", "sha256", NULL);
  self->tmp_dir = g_build_filename (data_root, "tmp", NULL);

  if (!make_dir (self->blob_dir, 0700, error) || !make_dir (self->tmp_dir, 0700, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
sv_content_store_get_data_root (SvContentStore *self)
{
  return self->data_root;
}

const char *
sv_content_store_get_tmp_dir (SvContentStore *self)
{
  return self->tmp_dir;
}

char *
sv_content_store_get_blob_path (SvContentStore *self, const char *digest)
{
  g_return_val_if_fail (SV_IS_CONTENT_STORE (self), NULL);

  if (!sv_digest_is_valid (digest))
    return NULL;

  return g_build_filename (self->blob_dir, sv_digest_get_hex (digest), NULL);
}

gboolean
sv_content_store_has_blob (SvContentStore *self, const char *digest)
{
  g_autofree char *path = sv_content_store_get_blob_path (self, digest);

  return path != NULL && g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

static gboolean
set_not_found (const char *digest, GError **error)
{
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND, "blob %s not found", digest);
  return FALSE;
}

GBytes *
sv_content_store_read_blob (SvContentStore *self, const char *digest, gsize max_size,
                            GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  GStatBuf st;

  if (!sv_digest_validate (digest, error))
    return NULL;

  path = sv_content_store_get_blob_path (self, digest);
  if (g_stat (path, &st) != 0)
    {
      if (errno == ENOENT)
        set_not_found (digest, error);
      else
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot read blob %s: %s",
                     digest, g_strerror (errno));
      return NULL;
    }

  if ((guint64)st.st_size > max_size)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "blob %s is %" G_GUINT64_FORMAT " bytes, more than the %" G_GSIZE_FORMAT
                   " bytes allowed here",
                   digest, (guint64)st.st_size, max_size);
      return NULL;
    }

  if (!g_file_get_contents (path, &contents, &len, error))
    {
      g_prefix_error (error, "cannot read blob %s: ", digest);
      return NULL;
    }

  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

char *
sv_content_store_add_bytes (SvContentStore *self, GBytes *bytes, const char *expected_digest,
                            GError **error)
{
  gsize len = 0;
  const void *data = g_bytes_get_data (bytes, &len);
  g_autoptr (SvBlobWriter) writer = NULL;

  writer = sv_content_store_begin_blob (self, expected_digest, len, error);
  if (writer == NULL)
    return NULL;

  if (!sv_blob_writer_write (writer, data, len, error) || !sv_blob_writer_commit (writer, error))
    return NULL;

  return g_strdup (sv_blob_writer_get_digest (writer));
}

gboolean
sv_content_store_remove_blob (SvContentStore *self, const char *digest, GError **error)
{
  g_autofree char *path = NULL;

  if (!sv_digest_validate (digest, error))
    return FALSE;

  path = sv_content_store_get_blob_path (self, digest);
  if (g_unlink (path) == 0)
    return TRUE;

  if (errno == ENOENT)
    return set_not_found (digest, error);

  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot remove blob %s: %s", digest,
               g_strerror (errno));
  return FALSE;
}

GStrv
sv_content_store_list_blobs (SvContentStore *self, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (self->blob_dir, 0, error);
  g_autoptr (GStrvBuilder) digests = g_strv_builder_new ();
  const char *name;

  if (dir == NULL)
    return NULL;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *digest = g_strconcat ("sha256:", name, NULL);

      if (sv_digest_is_valid (digest))
        g_strv_builder_add (digests, digest);
    }
  return g_strv_builder_end (digests);
}

gboolean
sv_content_store_clear_tmp (SvContentStore *self, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (self->tmp_dir, 0, error);
  const char *name;

  if (dir == NULL)
    return FALSE;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (self->tmp_dir, name, NULL);
      guint64 size = sv_fs_tree_size (path);

      if (!sv_fs_remove_tree (path, error))
        return FALSE;
      g_info ("Removed %s (%" G_GUINT64_FORMAT " bytes), left by an interrupted write or unpack",
              path, size);
    }
  return TRUE;
}

SvBlobWriter *
sv_content_store_begin_blob (SvContentStore *self, const char *expected_digest,
                             gint64 expected_size, GError **error)
{
  g_autoptr (SvBlobWriter) writer = NULL;

  g_return_val_if_fail (SV_IS_CONTENT_STORE (self), NULL);

  if (expected_digest != NULL && !sv_digest_validate (expected_digest, error))
    return NULL;

  writer = g_new0 (SvBlobWriter, 1);
  writer->store = g_object_ref (self);
  writer->expected_digest = g_strdup (expected_digest);
  writer->expected_size = expected_size;
  writer->fd = -1;
  writer->sha = sv_sha256_new ();
  writer->tmp_path = g_build_filename (self->tmp_dir, "blob-XXXXXX", NULL);

  writer->fd = g_mkstemp_full (writer->tmp_path, O_WRONLY | O_CLOEXEC, 0644);
  if (writer->fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create a temporary file in %s: %s", self->tmp_dir,
                   g_strerror (saved_errno));
      g_clear_pointer (&writer->tmp_path, g_free);
      return NULL;
    }

  return g_steal_pointer (&writer);
}

static const char *
writer_name (SvBlobWriter *writer)
{
  return writer->expected_digest ? writer->expected_digest : "(digest not yet known)";
}

gboolean
sv_blob_writer_write (SvBlobWriter *writer, const void *data, gsize len, GError **error)
{
  const guint8 *p = data;
  gsize left = len;

  g_return_val_if_fail (writer != NULL && !writer->committed, FALSE);

  if (writer->fd < 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot write blob %s after a failed write", writer_name (writer));
      return FALSE;
    }

  if (writer->expected_size >= 0 && writer->written + len > (guint64)writer->expected_size)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "blob %s is larger than its expected size of %" G_GINT64_FORMAT " bytes",
                   writer_name (writer), writer->expected_size);
      return FALSE;
    }

  while (left > 0)
    {
      gssize n = write (writer->fd, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                       "cannot write blob %s to %s: %s", writer_name (writer), writer->tmp_path,
                       g_strerror (saved_errno));
          return FALSE;
        }
      p += n;
      left -= n;
    }

  sv_sha256_update (writer->sha, data, len);
  writer->written += len;
  return TRUE;
}

guint64
sv_blob_writer_get_written (SvBlobWriter *writer)
{
  return writer->written;
}

const char *
sv_blob_writer_get_digest (SvBlobWriter *writer)
{
  return writer->committed ? writer->digest : NULL;
}

static gboolean
blob_writer_check (SvBlobWriter *writer, GError **error)
{
  if (writer->expected_size >= 0 && writer->written != (guint64)writer->expected_size)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "blob %s is %" G_GUINT64_FORMAT " bytes, expected %" G_GINT64_FORMAT,
                   writer_name (writer), writer->written, writer->expected_size);
      return FALSE;
    }

  writer->digest = sv_sha256_finish (writer->sha);
  if (writer->expected_digest != NULL && g_strcmp0 (writer->digest, writer->expected_digest) != 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_DIGEST_MISMATCH,
                   "blob content does not match its digest: expected %s, got %s",
                   writer->expected_digest, writer->digest);
      return FALSE;
    }

  return TRUE;
}

gboolean
sv_blob_writer_commit (SvBlobWriter *writer, GError **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (writer != NULL && !writer->committed && writer->digest == NULL, FALSE);

  if (!blob_writer_check (writer, error))
    return FALSE;

  path = sv_content_store_get_blob_path (writer->store, writer->digest);

  /* A writer that lost the race drops its copy: the blob is there and verified. */
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      writer->committed = TRUE;
      return TRUE;
    }

  if (fsync (writer->fd) != 0 || close (sv_steal_fd (&writer->fd)) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot write blob %s: %s",
                   writer->digest, g_strerror (saved_errno));
      return FALSE;
    }

  if (g_rename (writer->tmp_path, path) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot move blob %s into place at %s: %s", writer->digest, path,
                   g_strerror (saved_errno));
      return FALSE;
    }

  g_clear_pointer (&writer->tmp_path, g_free);
  writer->committed = TRUE;
  return TRUE;
}

void
sv_blob_writer_free (SvBlobWriter *writer)
{
  if (writer == NULL)
    return;

  sv_fd_close (writer->fd);
  if (writer->tmp_path != NULL)
    g_unlink (writer->tmp_path);

  g_free (writer->tmp_path);
  g_free (writer->expected_digest);
  g_free (writer->digest);
  sv_sha256_free (writer->sha);
  g_object_unref (writer->store);
  g_free (writer);
}
