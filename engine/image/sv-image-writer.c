/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-image-writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "sv-engine-error.h"
#include "sv-sha256.h"

#define COPY_BLOCK (1024 * 1024)
#define OCI_LAYOUT_CONTENT "{\"imageLayoutVersion\":\"1.0.0\"}"

struct _SvImageWriter
{
  GObject parent_instance;

  SvContentStore *content;
  char *layout_dir;        /* NULL when writing into the engine's store */
  JsonArray *layout_index; /* index.json entries */
};

struct _SvLayerWriter
{
  SvImageWriter *owner;
  SvLayerCompression compression;
  struct archive *tar;      /* the tar stream; its output goes to compress */
  struct archive *compress; /* "raw" format with the compression filter */
  SvSha256 *diff_sha;
  SvBlobWriter *blob;
  GError *error; /* the first failure inside a libarchive callback */
  gint64 mtime;
  GHashTable *inodes; /* "dev:ino" of host files with several links -> first path */
};

G_DEFINE_TYPE (SvImageWriter, sv_image_writer, G_TYPE_OBJECT)

static void
sv_image_writer_finalize (GObject *object)
{
  SvImageWriter *self = SV_IMAGE_WRITER (object);

  g_clear_object (&self->content);
  g_free (self->layout_dir);
  g_clear_pointer (&self->layout_index, json_array_unref);

  G_OBJECT_CLASS (sv_image_writer_parent_class)->finalize (object);
}

static void
sv_image_writer_class_init (SvImageWriterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_image_writer_finalize;
}

static void
sv_image_writer_init (SvImageWriter *self)
{
  self->layout_index = json_array_new ();
}

SvImageWriter *
sv_image_writer_new_for_layout (const char *dir, GError **error)
{
  g_autoptr (SvImageWriter) self = g_object_new (SV_TYPE_IMAGE_WRITER, NULL);
  g_autofree char *layout_file = g_build_filename (dir, "oci-layout", NULL);

  /* The layout's blobs/sha256 has the same shape as the content store's. */
  self->content = sv_content_store_new (dir, error);
  if (self->content == NULL)
    return NULL;

  self->layout_dir = g_strdup (dir);
  if (!g_file_set_contents (layout_file, OCI_LAYOUT_CONTENT, -1, error))
    return NULL;

  return g_steal_pointer (&self);
}

SvImageWriter *
sv_image_writer_new_for_store (SvContentStore *content)
{
  SvImageWriter *self = g_object_new (SV_TYPE_IMAGE_WRITER, NULL);

  self->content = g_object_ref (content);
  return self;
}

static SvDescriptor *
descriptor_new (const char *media_type, const char *digest, gint64 size)
{
  SvDescriptor *descriptor = g_new0 (SvDescriptor, 1);

  descriptor->media_type = g_strdup (media_type);
  descriptor->digest = g_strdup (digest);
  descriptor->size = size;
  return descriptor;
}

SvDescriptor *
sv_image_writer_add_blob (SvImageWriter *self, const char *media_type, GBytes *bytes,
                          GError **error)
{
  g_autofree char *digest = sv_content_store_add_bytes (self->content, bytes, NULL, error);

  if (digest == NULL)
    return NULL;

  return descriptor_new (media_type, digest, g_bytes_get_size (bytes));
}

SvDescriptor *
sv_image_writer_add_json (SvImageWriter *self, const char *media_type, JsonObject *object,
                          GError **error)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &len);
  return sv_image_writer_add_blob (self, media_type, g_bytes_new_take (text, len), error);
}

static void
add_string_list (JsonBuilder *builder, const char *name, const char *const *list)
{
  if (list == NULL)
    return;

  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (gsize i = 0; list[i]; i++)
    json_builder_add_string_value (builder, list[i]);
  json_builder_end_array (builder);
}

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  if (value == NULL)
    return;

  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

JsonObject *
sv_image_config_new (const SvImageConfigSpec *spec, const char *const *diff_ids)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GDateTime) created = g_date_time_new_from_unix_utc (spec->created);
  g_autofree char *created_text = g_date_time_format_iso8601 (created);
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  add_string (builder, "created", created_text);
  add_string (builder, "architecture", spec->architecture);
  add_string (builder, "os", spec->os);
  add_string (builder, "variant", spec->variant);

  json_builder_set_member_name (builder, "config");
  json_builder_begin_object (builder);
  add_string_list (builder, "Env", spec->env);
  add_string_list (builder, "Entrypoint", spec->entrypoint);
  add_string_list (builder, "Cmd", spec->cmd);
  add_string (builder, "WorkingDir", spec->working_dir);
  add_string (builder, "User", spec->user);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "rootfs");
  json_builder_begin_object (builder);
  add_string (builder, "type", "layers");
  add_string_list (builder, "diff_ids", diff_ids);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "history");
  json_builder_begin_array (builder);
  for (gsize i = 0; spec->history && spec->history[i]; i++)
    {
      json_builder_begin_object (builder);
      add_string (builder, "created", created_text);
      add_string (builder, "created_by", spec->history[i]);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_object_ref (json_node_get_object (root));
}

SvDescriptor *
sv_image_writer_write_config (SvImageWriter *self, JsonObject *config, GError **error)
{
  return sv_image_writer_add_json (self, SV_MEDIA_TYPE_OCI_CONFIG, config, error);
}

static void
add_descriptor (JsonBuilder *builder, const SvDescriptor *descriptor, gboolean with_platform)
{
  json_builder_begin_object (builder);
  add_string (builder, "mediaType", descriptor->media_type);
  add_string (builder, "digest", descriptor->digest);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, descriptor->size);

  if (with_platform && descriptor->os != NULL)
    {
      json_builder_set_member_name (builder, "platform");
      json_builder_begin_object (builder);
      add_string (builder, "architecture", descriptor->architecture);
      add_string (builder, "os", descriptor->os);
      add_string (builder, "variant", descriptor->variant);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
}

static SvDescriptor *
write_built (SvImageWriter *self, JsonBuilder *builder, const char *media_type, GError **error)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);

  return sv_image_writer_add_json (self, media_type, json_node_get_object (root), error);
}

JsonObject *
sv_image_manifest_new (const SvDescriptor *config, GPtrArray *layers)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "schemaVersion");
  json_builder_add_int_value (builder, 2);
  add_string (builder, "mediaType", SV_MEDIA_TYPE_OCI_MANIFEST);
  json_builder_set_member_name (builder, "config");
  add_descriptor (builder, config, FALSE);
  json_builder_set_member_name (builder, "layers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < layers->len; i++)
    add_descriptor (builder, layers->pdata[i], FALSE);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_object_ref (json_node_get_object (root));
}

SvDescriptor *
sv_image_writer_write_manifest (SvImageWriter *self, const SvDescriptor *config, GPtrArray *layers,
                                GError **error)
{
  g_autoptr (JsonObject) manifest = sv_image_manifest_new (config, layers);

  return sv_image_writer_add_json (self, SV_MEDIA_TYPE_OCI_MANIFEST, manifest, error);
}

SvDescriptor *
sv_image_writer_write_index (SvImageWriter *self, GPtrArray *manifests, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "schemaVersion");
  json_builder_add_int_value (builder, 2);
  add_string (builder, "mediaType", SV_MEDIA_TYPE_OCI_INDEX);
  json_builder_set_member_name (builder, "manifests");
  json_builder_begin_array (builder);
  for (guint i = 0; i < manifests->len; i++)
    add_descriptor (builder, manifests->pdata[i], TRUE);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return write_built (self, builder, SV_MEDIA_TYPE_OCI_INDEX, error);
}

void
sv_image_writer_add_layout_entry (SvImageWriter *self, const SvDescriptor *descriptor,
                                  const char *ref_name)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) entry = NULL;

  g_return_if_fail (self->layout_dir != NULL);

  add_descriptor (builder, descriptor, TRUE);
  entry = json_builder_get_root (builder);
  if (ref_name != NULL)
    {
      JsonObject *annotations = json_object_new ();

      json_object_set_string_member (annotations, SV_ANNOTATION_REF_NAME, ref_name);
      json_object_set_object_member (json_node_get_object (entry), "annotations", annotations);
    }
  json_array_add_element (self->layout_index, g_steal_pointer (&entry));
}

gboolean
sv_image_writer_finish (SvImageWriter *self, GError **error)
{
  g_autoptr (JsonObject) index = json_object_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;
  g_autofree char *tmp = NULL;

  if (self->layout_dir == NULL)
    return TRUE;

  json_object_set_int_member (index, "schemaVersion", 2);
  json_object_set_string_member (index, "mediaType", SV_MEDIA_TYPE_OCI_INDEX);
  json_object_set_array_member (index, "manifests", json_array_ref (self->layout_index));
  root = json_node_init_object (json_node_alloc (), index);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);

  path = g_build_filename (self->layout_dir, "index.json", NULL);
  if (!g_file_set_contents (path, text, -1, error))
    return FALSE;

  /* The content store's temporary folder is no part of a layout. */
  tmp = g_build_filename (self->layout_dir, "tmp", NULL);
  g_rmdir (tmp);
  return TRUE;
}

/* Layer writing: tar entries -> tar_write (hash for the diff_id) -> compress -> blob. */

static gboolean
capture_error (SvLayerWriter *writer, GError *error)
{
  if (writer->error == NULL)
    writer->error = error;
  else
    g_error_free (error);
  return FALSE;
}

static la_ssize_t
blob_write (struct archive *a, void *data, const void *buf, size_t len)
{
  SvLayerWriter *writer = data;
  GError *error = NULL;

  if (!sv_blob_writer_write (writer->blob, buf, len, &error))
    {
      archive_set_error (a, EIO, "%s", error->message);
      capture_error (writer, error);
      return -1;
    }
  return len;
}

static la_ssize_t
tar_write (struct archive *a, void *data, const void *buf, size_t len)
{
  SvLayerWriter *writer = data;

  sv_sha256_update (writer->diff_sha, buf, len);
  if (archive_write_data (writer->compress, buf, len) < 0)
    {
      archive_set_error (a, EIO, "%s", archive_error_string (writer->compress));
      return -1;
    }
  return len;
}

static gboolean
archive_error (SvLayerWriter *writer, struct archive *a, const char *what, GError **error)
{
  if (writer->error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&writer->error),
                                  "cannot write layer entry %s: ", what);
      return FALSE;
    }

  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot write layer entry %s: %s",
               what, archive_error_string (a) ?: "unknown libarchive error");
  return FALSE;
}

static gboolean
open_compressor (SvLayerWriter *writer, GError **error)
{
  struct archive_entry *entry;
  int r = ARCHIVE_OK;

  writer->compress = archive_write_new ();
  archive_write_set_format_raw (writer->compress);

  /* ARCHIVE_WARN means libarchive would run an external program; only the built-in
   * zlib and libzstd encoders are accepted. */
  if (writer->compression == SV_LAYER_COMPRESSION_GZIP)
    r = archive_write_add_filter_gzip (writer->compress);
  else if (writer->compression == SV_LAYER_COMPRESSION_ZSTD)
    r = archive_write_add_filter_zstd (writer->compress);
  if (r != ARCHIVE_OK)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                   "libarchive lacks a built-in encoder for this layer compression (%s)",
                   archive_version_details ());
      return FALSE;
    }

  /* No timestamp in the gzip header, so equal layers give equal digests. */
  if (writer->compression == SV_LAYER_COMPRESSION_GZIP)
    archive_write_set_filter_option (writer->compress, "gzip", "timestamp", NULL);

  /* Padding the last block would append zeros after the compressed stream. */
  archive_write_set_bytes_in_last_block (writer->compress, 1);
  if (archive_write_open2 (writer->compress, writer, NULL, blob_write, NULL, NULL) != ARCHIVE_OK)
    return archive_error (writer, writer->compress, "(start)", error);

  entry = archive_entry_new ();
  archive_entry_set_pathname (entry, "layer.tar");
  archive_entry_set_filetype (entry, AE_IFREG);
  archive_entry_set_perm (entry, 0644);
  r = archive_write_header (writer->compress, entry);
  archive_entry_free (entry);
  if (r != ARCHIVE_OK)
    return archive_error (writer, writer->compress, "(start)", error);

  return TRUE;
}

SvLayerWriter *
sv_image_writer_begin_layer (SvImageWriter *self, SvLayerCompression compression, GError **error)
{
  g_autoptr (SvLayerWriter) writer = g_new0 (SvLayerWriter, 1);

  writer->owner = g_object_ref (self);
  writer->compression = compression;
  writer->diff_sha = sv_sha256_new ();
  writer->mtime = g_get_real_time () / G_USEC_PER_SEC;
  writer->inodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  writer->blob = sv_content_store_begin_blob (self->content, NULL, -1, error);
  if (writer->blob == NULL || !open_compressor (writer, error))
    return NULL;

  writer->tar = archive_write_new ();
  archive_write_set_format_pax_restricted (writer->tar);
  archive_write_set_bytes_per_block (writer->tar, 64 * 1024);
  archive_write_set_bytes_in_last_block (writer->tar, 1);
  if (archive_write_open2 (writer->tar, writer, NULL, tar_write, NULL, NULL) != ARCHIVE_OK)
    {
      archive_error (writer, writer->tar, "(start)", error);
      return NULL;
    }

  return g_steal_pointer (&writer);
}

void
sv_layer_writer_set_mtime (SvLayerWriter *writer, gint64 mtime)
{
  writer->mtime = mtime;
}

static struct archive_entry *
entry_new (SvLayerWriter *writer, const char *path, mode_t type, guint mode, guint uid, guint gid)
{
  struct archive_entry *entry = archive_entry_new ();

  archive_entry_set_pathname (entry, path);
  archive_entry_set_filetype (entry, type);
  archive_entry_set_perm (entry, mode & 07777);
  archive_entry_set_uid (entry, uid);
  archive_entry_set_gid (entry, gid);
  archive_entry_set_mtime (entry, writer->mtime, 0);
  return entry;
}

static gboolean
write_entry (SvLayerWriter *writer, struct archive_entry *entry, const void *data, gsize len,
             GError **error)
{
  const char *path = archive_entry_pathname (entry);

  if (archive_write_header (writer->tar, entry) < ARCHIVE_WARN)
    return archive_error (writer, writer->tar, path, error);
  if (len > 0 && archive_write_data (writer->tar, data, len) < 0)
    return archive_error (writer, writer->tar, path, error);

  return TRUE;
}

static gboolean
write_and_free (SvLayerWriter *writer, struct archive_entry *entry, const void *data, gsize len,
                GError **error)
{
  gboolean ok = write_entry (writer, entry, data, len, error);

  archive_entry_free (entry);
  return ok;
}

gboolean
sv_layer_writer_add_directory (SvLayerWriter *writer, const char *path, guint mode, guint uid,
                               guint gid, GError **error)
{
  return write_and_free (writer, entry_new (writer, path, AE_IFDIR, mode, uid, gid), NULL, 0,
                         error);
}

gboolean
sv_layer_writer_add_file (SvLayerWriter *writer, const char *path, guint mode, guint uid, guint gid,
                          GBytes *contents, GError **error)
{
  struct archive_entry *entry = entry_new (writer, path, AE_IFREG, mode, uid, gid);
  gsize len = 0;
  const void *data = contents ? g_bytes_get_data (contents, &len) : NULL;

  archive_entry_set_size (entry, len);
  return write_and_free (writer, entry, data, len, error);
}

gboolean
sv_layer_writer_add_symlink (SvLayerWriter *writer, const char *path, const char *target, guint uid,
                             guint gid, GError **error)
{
  struct archive_entry *entry = entry_new (writer, path, AE_IFLNK, 0777, uid, gid);

  archive_entry_set_symlink (entry, target);
  return write_and_free (writer, entry, NULL, 0, error);
}

gboolean
sv_layer_writer_add_hardlink (SvLayerWriter *writer, const char *path, const char *target,
                              GError **error)
{
  struct archive_entry *entry = entry_new (writer, path, AE_IFREG, 0644, 0, 0);

  archive_entry_set_hardlink (entry, target);
  archive_entry_set_size (entry, 0);
  return write_and_free (writer, entry, NULL, 0, error);
}

gboolean
sv_layer_writer_add_whiteout (SvLayerWriter *writer, const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_strconcat (".wh.", base, NULL);
  g_autofree char *entry_path
      = strcmp (dir, ".") == 0 ? g_strdup (name) : g_build_filename (dir, name, NULL);

  return sv_layer_writer_add_file (writer, entry_path, 0644, 0, 0, NULL, error);
}

gboolean
sv_layer_writer_add_opaque (SvLayerWriter *writer, const char *dir, GError **error)
{
  g_autofree char *entry_path = g_build_filename (dir, ".wh..wh..opq", NULL);

  return sv_layer_writer_add_file (writer, entry_path, 0644, 0, 0, NULL, error);
}

static gboolean
copy_file_data (SvLayerWriter *writer, int fd, const char *path, GError **error)
{
  g_autofree char *buf = g_malloc (COPY_BLOCK);

  for (;;)
    {
      gssize n = read (fd, buf, COPY_BLOCK);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot read %s: %s", path,
                       g_strerror (saved_errno));
          return FALSE;
        }
      if (n == 0)
        return TRUE;
      if (archive_write_data (writer->tar, buf, n) < 0)
        return archive_error (writer, writer->tar, path, error);
    }
}

gboolean
sv_layer_writer_add_host_file (SvLayerWriter *writer, const char *path, const char *host_path,
                               guint uid, guint gid, GError **error)
{
  g_auto (SvFd) fd = open (host_path, O_RDONLY | O_CLOEXEC);
  struct archive_entry *entry;
  struct stat st;
  gboolean ok;

  if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      int saved_errno = fd < 0 || errno ? errno : EINVAL;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot add %s to the layer: %s",
                   host_path,
                   fd >= 0 && !S_ISREG (st.st_mode) ? "not a regular file"
                                                    : g_strerror (saved_errno));
      return FALSE;
    }

  entry = entry_new (writer, path, AE_IFREG, st.st_mode, uid, gid);
  archive_entry_set_mtime (entry, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  archive_entry_set_size (entry, st.st_size);
  ok = write_entry (writer, entry, NULL, 0, error) && copy_file_data (writer, fd, host_path, error);
  archive_entry_free (entry);
  return ok;
}

static void
add_xattrs (struct archive_entry *entry, const char *host_path)
{
  char names[4096];
  ssize_t len = llistxattr (host_path, names, sizeof names);

  for (ssize_t off = 0; len > 0 && off < len; off += strlen (names + off) + 1)
    {
      const char *name = names + off;
      char value[4096];
      ssize_t vlen;

      /* Overlay bookkeeping and SELinux labels belong to the host, not the image. */
      if (g_str_has_prefix (name, "trusted.overlay.") || strcmp (name, "security.selinux") == 0)
        continue;
      vlen = lgetxattr (host_path, name, value, sizeof value);
      if (vlen >= 0)
        archive_entry_xattr_add_entry (entry, name, value, vlen);
    }
}

static gboolean add_tree_children (SvLayerWriter *writer, const char *host_dir, const char *prefix,
                                   GError **error);

static gboolean
add_tree_entry (SvLayerWriter *writer, const char *host_path, const char *path, GError **error)
{
  struct archive_entry *entry;
  struct stat st;
  gboolean ok = TRUE;
  g_auto (SvFd) fd = -1;

  if (lstat (host_path, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot add %s to the layer: %s",
                   host_path, g_strerror (saved_errno));
      return FALSE;
    }

  if (S_ISSOCK (st.st_mode))
    return TRUE;

  entry = archive_entry_new ();
  archive_entry_copy_stat (entry, &st);
  archive_entry_set_pathname (entry, path);
  if (!S_ISREG (st.st_mode))
    archive_entry_set_size (entry, 0);
  add_xattrs (entry, host_path);

  if (S_ISLNK (st.st_mode))
    {
      g_autofree char *target = g_file_read_link (host_path, error);
      if (target == NULL)
        ok = FALSE;
      else
        archive_entry_set_symlink (entry, target);
    }
  else if (S_ISREG (st.st_mode) && st.st_nlink > 1)
    {
      g_autofree char *key
          = g_strdup_printf ("%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
      const char *first = g_hash_table_lookup (writer->inodes, key);

      if (first != NULL)
        {
          archive_entry_set_hardlink (entry, first);
          archive_entry_set_size (entry, 0);
        }
      else
        g_hash_table_insert (writer->inodes, g_steal_pointer (&key), g_strdup (path));
    }

  if (ok && archive_entry_size (entry) > 0 && archive_entry_hardlink (entry) == NULL)
    {
      fd = open (host_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      ok = fd >= 0 && write_entry (writer, entry, NULL, 0, error)
           && copy_file_data (writer, fd, host_path, error);
      if (fd < 0)
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot open %s: %s",
                     host_path, g_strerror (errno));
    }
  else if (ok)
    ok = write_entry (writer, entry, NULL, 0, error);

  archive_entry_free (entry);

  if (ok && S_ISDIR (st.st_mode))
    ok = add_tree_children (writer, host_path, path, error);

  return ok;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static gboolean
add_tree_children (SvLayerWriter *writer, const char *host_dir, const char *prefix, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (host_dir, 0, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return FALSE;

  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *host_path = g_build_filename (host_dir, names->pdata[i], NULL);
      g_autofree char *path = prefix[0] ? g_build_filename (prefix, names->pdata[i], NULL)
                                        : g_strdup (names->pdata[i]);

      if (!add_tree_entry (writer, host_path, path, error))
        return FALSE;
    }

  return TRUE;
}

gboolean
sv_layer_writer_add_tree (SvLayerWriter *writer, const char *host_dir, const char *prefix,
                          GError **error)
{
  return add_tree_children (writer, host_dir, prefix ? prefix : "", error);
}

SvDescriptor *
sv_layer_writer_finish (SvLayerWriter *writer, char **out_diff_id, GError **error)
{
  static const char *const media_types[] = {
    [SV_LAYER_COMPRESSION_NONE] = SV_MEDIA_TYPE_OCI_LAYER,
    [SV_LAYER_COMPRESSION_GZIP] = SV_MEDIA_TYPE_OCI_LAYER_GZIP,
    [SV_LAYER_COMPRESSION_ZSTD] = SV_MEDIA_TYPE_OCI_LAYER_ZSTD,
  };
  SvDescriptor *descriptor;

  if (archive_write_close (writer->tar) != ARCHIVE_OK)
    return archive_error (writer, writer->tar, "(end)", error), NULL;
  if (archive_write_close (writer->compress) != ARCHIVE_OK)
    return archive_error (writer, writer->compress, "(end)", error), NULL;
  if (!sv_blob_writer_commit (writer->blob, error))
    return NULL;

  descriptor
      = descriptor_new (media_types[writer->compression], sv_blob_writer_get_digest (writer->blob),
                        sv_blob_writer_get_written (writer->blob));
  descriptor->compression = writer->compression;
  if (out_diff_id)
    *out_diff_id = sv_sha256_finish (writer->diff_sha);
  return descriptor;
}

void
sv_layer_writer_free (SvLayerWriter *writer)
{
  if (writer == NULL)
    return;

  if (writer->tar)
    archive_write_free (writer->tar);
  if (writer->compress)
    archive_write_free (writer->compress);
  g_clear_pointer (&writer->blob, sv_blob_writer_free);
  sv_sha256_free (writer->diff_sha);
  g_clear_error (&writer->error);
  g_hash_table_unref (writer->inodes);
  g_object_unref (writer->owner);
  g_free (writer);
}

/* Layout tar writing. */

static gboolean
tar_add_path (struct archive *a, const char *layout_dir, const char *rel, GError **error)
{
  g_autofree char *path = g_build_filename (layout_dir, rel, NULL);
  g_autofree char *buf = NULL;
  g_auto (SvFd) fd = -1;
  struct archive_entry *entry;
  struct stat st;
  int r;

  if (lstat (path, &st) != 0 || (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode)))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "cannot pack %s into the image archive: not a regular file or folder", path);
      return FALSE;
    }

  entry = archive_entry_new ();
  archive_entry_set_pathname (entry, rel);
  archive_entry_set_filetype (entry, S_ISDIR (st.st_mode) ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm (entry, S_ISDIR (st.st_mode) ? 0755 : 0644);
  /* Content-addressed files need no times; a fixed one keeps the archive reproducible. */
  archive_entry_set_mtime (entry, 0, 0);
  archive_entry_set_size (entry, S_ISREG (st.st_mode) ? st.st_size : 0);
  r = archive_write_header (a, entry);
  archive_entry_free (entry);
  if (r != ARCHIVE_OK)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot pack %s: %s", path,
                   archive_error_string (a));
      return FALSE;
    }

  if (!S_ISREG (st.st_mode))
    return TRUE;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot open %s: %s", path,
                   g_strerror (saved_errno));
      return FALSE;
    }

  buf = g_malloc (COPY_BLOCK);
  for (;;)
    {
      gssize n = read (fd, buf, COPY_BLOCK);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot read %s: %s", path,
                       g_strerror (saved_errno));
          return FALSE;
        }
      if (n == 0)
        return TRUE;
      if (archive_write_data (a, buf, n) != n)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot pack %s: %s", path,
                       archive_error_string (a));
          return FALSE;
        }
    }
}

gboolean
sv_image_writer_write_layout_tar (const char *layout_dir, const char *tar_path, GError **error)
{
  g_autofree char *blob_dir = g_build_filename (layout_dir, "blobs", "sha256", NULL);
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  struct archive *a = archive_write_new ();
  const char *name;
  gboolean ok;

  dir = g_dir_open (blob_dir, 0, error);
  if (dir == NULL)
    {
      archive_write_free (a);
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename ("blobs", "sha256", name, NULL));
  g_ptr_array_sort (names, compare_names);

  archive_write_set_format_pax_restricted (a);
  archive_write_set_bytes_in_last_block (a, 1);
  if (archive_write_open_filename (a, tar_path) != ARCHIVE_OK)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot create %s: %s", tar_path,
                   archive_error_string (a));
      archive_write_free (a);
      return FALSE;
    }

  ok = tar_add_path (a, layout_dir, "oci-layout", error)
       && tar_add_path (a, layout_dir, "index.json", error)
       && tar_add_path (a, layout_dir, "blobs", error)
       && tar_add_path (a, layout_dir, "blobs/sha256", error);
  for (guint i = 0; ok && i < names->len; i++)
    ok = tar_add_path (a, layout_dir, names->pdata[i], error);

  if (archive_write_close (a) != ARCHIVE_OK && ok)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot write %s: %s", tar_path,
                   archive_error_string (a));
      ok = FALSE;
    }
  archive_write_free (a);

  if (!ok)
    g_unlink (tar_path);
  return ok;
}
