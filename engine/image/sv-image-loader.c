/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-image-loader.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "sv-engine-error.h"
#include "sv-image-writer.h"
#include "sv-manifest.h"
#include "sv-reference.h"
#include "sv-sha256.h"

#define READ_BLOCK (1024 * 1024)
#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"

/* One image to add once every image of the archive is unpacked. */
typedef struct
{
  char *manifest_digest;
  char *config_digest;
  GStrv references; /* full references, possibly empty */
} Pending;

typedef struct
{
  SvContentStore *content;
  SvLayerStore *layers;
  SvImageStore *images;
  const char *path; /* NULL when reading from fd */
  int fd;
  char *name; /* "image archive PATH", or "image archive" for a descriptor */
  GCancellable *cancellable;

  GHashTable *metadata;   /* "index.json", "manifest.json" -> GBytes */
  GHashTable *files;      /* archive member name -> digest of its stored blob */
  GHashTable *links;      /* symbolic link member name -> target member name */
  GHashTable *new_blobs;  /* digests this load added to the content store */
  GHashTable *used_blobs; /* digests the loaded images keep */
  GPtrArray *new_layers;  /* diff_ids this load unpacked */
  GPtrArray *pending;     /* Pending* */
} Loader;

static void
pending_free (Pending *p)
{
  g_free (p->manifest_digest);
  g_free (p->config_digest);
  g_strfreev (p->references);
  g_free (p);
}

static void
loader_clear (Loader *l)
{
  g_clear_pointer (&l->name, g_free);
  g_clear_pointer (&l->metadata, g_hash_table_unref);
  g_clear_pointer (&l->files, g_hash_table_unref);
  g_clear_pointer (&l->links, g_hash_table_unref);
  g_clear_pointer (&l->new_blobs, g_hash_table_unref);
  g_clear_pointer (&l->used_blobs, g_hash_table_unref);
  g_clear_pointer (&l->new_layers, g_ptr_array_unref);
  g_clear_pointer (&l->pending, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Loader, loader_clear)

static gboolean set_invalid (Loader *l, GError **error, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
set_invalid (Loader *l, GError **error, const char *format, ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT, "invalid %s: %s", l->name,
               detail);
  return FALSE;
}

/* "./blobs//sha256/x" -> "blobs/sha256/x" */
static char *
normalize_member (const char *name)
{
  g_auto (GStrv) parts = g_strsplit (name, "/", -1);
  g_autoptr (GString) out = g_string_new (NULL);

  for (char **p = parts; *p; p++)
    {
      if (**p == '\0' || strcmp (*p, ".") == 0)
        continue;
      if (out->len)
        g_string_append_c (out, '/');
      g_string_append (out, *p);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
read_metadata (Loader *l, struct archive *a, const char *name, gint64 size, GError **error)
{
  g_autofree char *buf = NULL;
  la_ssize_t n;

  if (size < 0 || size > SV_MANIFEST_MAX_SIZE)
    return set_invalid (l, error, "%s is larger than %d bytes", name, SV_MANIFEST_MAX_SIZE);

  buf = g_malloc (size + 1);
  n = archive_read_data (a, buf, size);
  if (n != size)
    return set_invalid (l, error, "cannot read %s: %s", name,
                        archive_error_string (a) ?: "archive ends early");

  g_hash_table_insert (l->metadata, g_strdup (name),
                       g_bytes_new_take (g_steal_pointer (&buf), size));
  return TRUE;
}

/* Stores a member as a blob. A member named blobs/sha256/HEX must match HEX. */
static gboolean
read_blob (Loader *l, struct archive *a, const char *name, gint64 size, GError **error)
{
  g_autofree char *expected = NULL;
  g_autoptr (SvBlobWriter) writer = NULL;
  const void *buf;
  size_t len;
  la_int64_t offset;
  int r;

  if (g_str_has_prefix (name, "blobs/sha256/"))
    {
      expected = g_strconcat ("sha256:", name + strlen ("blobs/sha256/"), NULL);
      if (!sv_digest_is_valid (expected))
        return set_invalid (l, error, "blob name %s is not a sha256 digest", name);

      /* A blob already in the store was verified when it was written. */
      if (sv_content_store_has_blob (l->content, expected))
        {
          g_hash_table_insert (l->files, g_strdup (name), g_steal_pointer (&expected));
          return TRUE;
        }
    }

  writer = sv_content_store_begin_blob (l->content, expected, size, error);
  if (writer == NULL)
    return FALSE;

  while ((r = archive_read_data_block (a, &buf, &len, &offset)) != ARCHIVE_EOF)
    {
      if (r < ARCHIVE_WARN && g_cancellable_set_error_if_cancelled (l->cancellable, error))
        return FALSE;
      if (r < ARCHIVE_WARN)
        return set_invalid (l, error, "cannot read %s: %s", name, archive_error_string (a));
      if (g_cancellable_set_error_if_cancelled (l->cancellable, error)
          || !sv_blob_writer_write (writer, buf, len, error))
        return FALSE;
    }

  if (!sv_blob_writer_commit (writer, error))
    {
      g_prefix_error (error, "cannot load %s from %s: ", name, l->name);
      return FALSE;
    }

  g_hash_table_add (l->new_blobs, g_strdup (sv_blob_writer_get_digest (writer)));
  g_hash_table_insert (l->files, g_strdup (name), g_strdup (sv_blob_writer_get_digest (writer)));
  return TRUE;
}

static gboolean
read_member (Loader *l, struct archive *a, struct archive_entry *entry, GError **error)
{
  g_autofree char *name = normalize_member (archive_entry_pathname (entry));
  mode_t type = archive_entry_filetype (entry);

  if (type == AE_IFLNK)
    {
      g_autofree char *dir = g_path_get_dirname (name);
      g_autofree char *joined = g_build_filename (dir, archive_entry_symlink (entry), NULL);
      g_autofree char *target = g_canonicalize_filename (joined, "/");

      /* docker save links repeated layers to their first copy. */
      g_hash_table_insert (l->links, g_steal_pointer (&name), g_strdup (target + 1));
      return TRUE;
    }

  if (type != AE_IFREG || archive_entry_hardlink (entry) != NULL)
    return TRUE;

  if (strcmp (name, "index.json") == 0 || strcmp (name, "manifest.json") == 0
      || strcmp (name, "oci-layout") == 0)
    return read_metadata (l, a, name, archive_entry_size (entry), error);

  return read_blob (l, a, name, archive_entry_size_is_set (entry) ? archive_entry_size (entry) : -1,
                    error);
}

/* The source of an archive read from a descriptor. */
typedef struct
{
  int fd;
  GCancellable *cancellable;
  guint8 buffer[READ_BLOCK];
} FdSource;

/* Reads the next block from the descriptor. It waits in poll() for the descriptor or the
 * cancellable, so cancelling stops a load whose writer keeps a pipe open but writes
 * nothing. */
static la_ssize_t
read_fd_source (struct archive *a, void *client_data, const void **buffer)
{
  FdSource *source = client_data;
  GPollFD fds[2] = { { source->fd, G_IO_IN, 0 }, { -1, G_IO_IN, 0 } };
  guint n_fds = 1;

  if (source->cancellable != NULL && g_cancellable_make_pollfd (source->cancellable, &fds[1]))
    n_fds = 2;

  for (;;)
    {
      gssize n;

      if (g_cancellable_is_cancelled (source->cancellable))
        {
          archive_set_error (a, ECANCELED, "the load was cancelled");
          n = -1;
        }
      else if (g_poll (fds, n_fds, -1) < 0 && errno != EINTR)
        {
          archive_set_error (a, errno, "cannot wait for the archive descriptor: %s",
                             g_strerror (errno));
          n = -1;
        }
      else if (fds[0].revents == 0)
        continue;
      else if ((n = read (source->fd, source->buffer, sizeof source->buffer)) < 0)
        {
          if (errno == EINTR || errno == EAGAIN)
            continue;
          archive_set_error (a, errno, "cannot read the archive descriptor: %s",
                             g_strerror (errno));
        }

      if (n_fds == 2)
        g_cancellable_release_fd (source->cancellable);
      *buffer = source->buffer;
      return n;
    }
}

static int
open_archive (Loader *l, struct archive *a, FdSource **fd_source)
{
  if (l->path != NULL)
    return archive_read_open_filename (a, l->path, READ_BLOCK);

  *fd_source = g_new0 (FdSource, 1);
  (*fd_source)->fd = l->fd;
  (*fd_source)->cancellable = l->cancellable;
  return archive_read_open (a, *fd_source, NULL, read_fd_source, NULL);
}

static gboolean
read_archive (Loader *l, GError **error)
{
  struct archive *a = archive_read_new ();
  g_autofree FdSource *fd_source = NULL;
  struct archive_entry *entry;
  gboolean ok = TRUE;
  int r;

  archive_read_support_format_tar (a);
  archive_read_support_format_gnutar (a);
  if (archive_read_support_filter_gzip (a) != ARCHIVE_OK
      || archive_read_support_filter_zstd (a) != ARCHIVE_OK)
    {
      archive_read_free (a);
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                   "libarchive lacks built-in gzip or zstd support (%s)",
                   archive_version_details ());
      return FALSE;
    }

  if (open_archive (l, a, &fd_source) != ARCHIVE_OK)
    {
      int code = archive_errno (a) == ENOENT ? SV_ENGINE_ERROR_NOT_FOUND
                                             : SV_ENGINE_ERROR_INVALID_ARGUMENT;

      g_set_error (error, SV_ENGINE_ERROR, code, "cannot open %s: %s", l->name,
                   archive_error_string (a));
      archive_read_free (a);
      return FALSE;
    }

  while (ok && (r = archive_read_next_header (a, &entry)) != ARCHIVE_EOF)
    {
      if (g_cancellable_set_error_if_cancelled (l->cancellable, error))
        ok = FALSE;
      else if (r < ARCHIVE_WARN)
        ok = set_invalid (l, error, "%s", archive_error_string (a));
      else
        ok = read_member (l, a, entry, error);
    }

  archive_read_free (a);
  return ok;
}

/* Reads a small blob of the archive; keep marks it as part of a loaded image. */
static GBytes *
read_stored (Loader *l, const char *digest, const char *what, gboolean keep, GError **error)
{
  GBytes *bytes;

  if (!sv_content_store_has_blob (l->content, digest))
    {
      set_invalid (l, error, "%s %s is missing from the archive", what, digest);
      return NULL;
    }

  bytes = sv_content_store_read_blob (l->content, digest, SV_MANIFEST_MAX_SIZE, error);
  if (bytes != NULL && keep)
    g_hash_table_add (l->used_blobs, g_strdup (digest));
  return bytes;
}

/* Unpacks the layers of one image manifest and queues the image for adding. */
static gboolean
load_manifest (Loader *l, const char *manifest_digest, GStrv references, GError **error)
{
  g_autoptr (GBytes) manifest_bytes = read_stored (l, manifest_digest, "manifest", TRUE, error);
  g_autoptr (SvManifest) manifest = NULL;
  g_autoptr (GBytes) config_bytes = NULL;
  g_autoptr (SvImageConfigInfo) info = NULL;
  Pending *pending;

  if (manifest_bytes == NULL)
    return FALSE;

  manifest = sv_manifest_parse (manifest_bytes, NULL, error);
  if (manifest == NULL || manifest->kind != SV_MANIFEST_KIND_IMAGE)
    return manifest == NULL
               ? FALSE
               : set_invalid (l, error, "%s is not an image manifest", manifest_digest);

  config_bytes = read_stored (l, manifest->config->digest, "image config", TRUE, error);
  if (config_bytes == NULL)
    return FALSE;
  info = sv_image_config_info_parse (config_bytes, error);
  if (info == NULL)
    return FALSE;

  if (g_strv_length (info->diff_ids) != manifest->layers->len)
    return set_invalid (l, error, "manifest %s lists %u layers but its config has %u diff_ids",
                        manifest_digest, manifest->layers->len, g_strv_length (info->diff_ids));

  for (guint i = 0; i < manifest->layers->len; i++)
    {
      SvDescriptor *layer = manifest->layers->pdata[i];
      g_autofree char *blob_path = NULL;
      gboolean had_layer = sv_layer_store_has_layer (l->layers, info->diff_ids[i]);

      if (!sv_content_store_has_blob (l->content, layer->digest))
        return set_invalid (l, error, "layer %s is missing from the archive", layer->digest);
      g_hash_table_add (l->used_blobs, g_strdup (layer->digest));

      blob_path = sv_content_store_get_blob_path (l->content, layer->digest);
      if (!sv_layer_store_unpack (l->layers, blob_path, info->diff_ids[i], l->cancellable, error))
        return FALSE;
      if (!had_layer)
        g_ptr_array_add (l->new_layers, g_strdup (info->diff_ids[i]));
    }

  pending = g_new0 (Pending, 1);
  pending->manifest_digest = g_strdup (manifest_digest);
  pending->config_digest = g_strdup (manifest->config->digest);
  pending->references = g_strdupv (references);
  g_ptr_array_add (l->pending, pending);
  return TRUE;
}

/* The reference an index.json entry names, normalised, or NULL. */
static char *
entry_reference (Loader *l, JsonObject *entry, GError **error)
{
  JsonObject *annotations = NULL;
  const char *name = NULL;
  g_autoptr (SvReference) ref = NULL;

  if (json_object_has_member (entry, "annotations")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (entry, "annotations")))
    annotations = json_object_get_object_member (entry, "annotations");
  if (annotations != NULL)
    {
      name = json_object_get_string_member_with_default (annotations, ANNOTATION_CONTAINERD_NAME,
                                                         NULL);
      if (name == NULL)
        name = json_object_get_string_member_with_default (annotations, SV_ANNOTATION_REF_NAME,
                                                           NULL);
    }

  /* The OCI layout convention allows a bare tag, which names no repository. */
  if (name == NULL
      || (strchr (name, '/') == NULL && strchr (name, ':') == NULL && strchr (name, '@') == NULL))
    return NULL;

  ref = sv_reference_parse (name, error);
  if (ref == NULL)
    {
      g_prefix_error (error, "invalid %s: ", l->name);
      return NULL;
    }
  return sv_reference_to_string (ref);
}

static gboolean
platform_matches_host (const SvDescriptor *descriptor)
{
  g_autofree char *host = sv_platform_get_host ();
  g_autofree char *os = NULL, *arch = NULL, *variant = NULL;

  if (descriptor->os == NULL || !sv_platform_parse (host, &os, &arch, &variant, NULL))
    return TRUE;
  return g_strcmp0 (descriptor->os, os) == 0 && g_strcmp0 (descriptor->architecture, arch) == 0;
}

static gboolean
load_index_entry (Loader *l, const SvDescriptor *descriptor, GStrv references, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (SvManifest) index = NULL;
  const SvDescriptor *chosen;

  if (descriptor->media_type != NULL
      && strcmp (descriptor->media_type, SV_MEDIA_TYPE_OCI_INDEX) != 0
      && strcmp (descriptor->media_type, SV_MEDIA_TYPE_DOCKER_MANIFEST_LIST) != 0)
    return load_manifest (l, descriptor->digest, references, error);

  bytes = read_stored (l, descriptor->digest, "image index", FALSE, error);
  if (bytes == NULL)
    return FALSE;
  index = sv_manifest_parse (bytes, NULL, error);
  if (index == NULL)
    return FALSE;
  if (index->kind == SV_MANIFEST_KIND_IMAGE)
    return load_manifest (l, descriptor->digest, references, error);

  chosen = sv_manifest_choose_platform (index, NULL, error);
  if (chosen == NULL)
    {
      g_prefix_error (error, "cannot load %s: ", l->name);
      return FALSE;
    }
  return load_index_entry (l, chosen, references, error);
}

static gboolean
load_oci (Loader *l, GBytes *index_bytes, GError **error)
{
  g_autoptr (SvManifest) index = sv_manifest_parse (index_bytes, SV_MEDIA_TYPE_OCI_INDEX, error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *entries;
  guint loaded = 0;

  if (index == NULL || index->kind != SV_MANIFEST_KIND_INDEX)
    return index == NULL ? (g_prefix_error (error, "invalid %s: index.json: ", l->name), FALSE)
                         : set_invalid (l, error, "index.json is not an image index");

  /* sv_manifest_parse keeps no annotations, so they are read from the same document. */
  json_parser_load_from_data (parser, g_bytes_get_data (index_bytes, NULL),
                              g_bytes_get_size (index_bytes), NULL);
  entries = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                          "manifests");

  for (guint i = 0; i < index->manifests->len; i++)
    {
      const SvDescriptor *descriptor = index->manifests->pdata[i];
      JsonObject *entry = json_array_get_object_element (entries, i);
      g_autofree char *reference = NULL;
      const char *refs[2] = { NULL, NULL };

      /* Some tools list each platform's manifest directly in index.json. */
      if (!platform_matches_host (descriptor))
        continue;

      reference = entry_reference (l, entry, error);
      if (reference == NULL && error && *error)
        return FALSE;
      refs[0] = reference;
      if (!load_index_entry (l, descriptor, (GStrv)refs, error))
        return FALSE;
      loaded++;
    }

  if (loaded == 0)
    {
      g_autofree char *host = sv_platform_get_host ();
      return set_invalid (l, error, "index.json lists no image for this host's platform %s", host);
    }
  return TRUE;
}

static const char *
member_digest (Loader *l, const char *name)
{
  g_autofree char *normalized = normalize_member (name);
  const char *target = g_hash_table_lookup (l->links, normalized);

  return g_hash_table_lookup (l->files, target ? target : normalized);
}

static const char *
layer_media_type (Loader *l, const char *digest)
{
  g_autofree char *path = sv_content_store_get_blob_path (l->content, digest);
  g_auto (SvFd) fd = open (path, O_RDONLY | O_CLOEXEC);
  guint8 magic[4] = { 0 };

  if (fd < 0 || read (fd, magic, sizeof magic) != sizeof magic)
    return SV_MEDIA_TYPE_OCI_LAYER;
  if (magic[0] == 0x1f && magic[1] == 0x8b)
    return SV_MEDIA_TYPE_OCI_LAYER_GZIP;
  if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    return SV_MEDIA_TYPE_OCI_LAYER_ZSTD;
  return SV_MEDIA_TYPE_OCI_LAYER;
}

/* Stores the OCI manifest of a docker-archive image and returns its digest. */
static char *
store_manifest (Loader *l, const SvDescriptor *config, GPtrArray *layers, GError **error)
{
  g_autoptr (JsonObject) object = sv_image_manifest_new (config, layers);
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *digest = NULL;
  gboolean had_blob;
  gsize len = 0;
  char *text;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &len);
  bytes = g_bytes_new_take (text, len);

  digest = sv_sha256_digest_data (text, len);
  had_blob = sv_content_store_has_blob (l->content, digest);
  g_clear_pointer (&digest, g_free);

  digest = sv_content_store_add_bytes (l->content, bytes, NULL, error);
  if (digest != NULL && !had_blob)
    g_hash_table_add (l->new_blobs, g_strdup (digest));
  return g_steal_pointer (&digest);
}

/* docker-archive entries name their files; an OCI manifest is written for each. */
static gboolean
load_docker_image (Loader *l, JsonObject *item, GError **error)
{
  g_autoptr (GPtrArray) layers
      = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_descriptor_free);
  g_autoptr (GStrvBuilder) refs = g_strv_builder_new ();
  g_autoptr (SvDescriptor) config = NULL;
  g_autofree char *manifest_digest = NULL;
  g_auto (GStrv) references = NULL;
  const char *config_name = json_object_get_string_member_with_default (item, "Config", NULL);
  JsonArray *layer_names = NULL, *tags = NULL;
  const char *digest;
  GStatBuf st;

  if (json_object_has_member (item, "Layers"))
    layer_names = json_object_get_array_member (item, "Layers");
  if (json_object_has_member (item, "RepoTags")
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (item, "RepoTags")))
    tags = json_object_get_array_member (item, "RepoTags");
  if (config_name == NULL || layer_names == NULL)
    return set_invalid (l, error, "manifest.json lacks Config or Layers");

  digest = member_digest (l, config_name);
  if (digest == NULL)
    return set_invalid (l, error, "config %s is missing from the archive", config_name);
  config = g_new0 (SvDescriptor, 1);
  config->media_type = g_strdup (SV_MEDIA_TYPE_OCI_CONFIG);
  config->digest = g_strdup (digest);
  g_autofree char *config_path = sv_content_store_get_blob_path (l->content, digest);
  config->size = g_stat (config_path, &st) == 0 ? st.st_size : 0;

  for (guint i = 0; i < json_array_get_length (layer_names); i++)
    {
      const char *name = json_array_get_string_element (layer_names, i);
      SvDescriptor *layer;
      g_autofree char *path = NULL;

      digest = name ? member_digest (l, name) : NULL;
      if (digest == NULL)
        return set_invalid (l, error, "layer %s is missing from the archive", name ? name : "?");

      path = sv_content_store_get_blob_path (l->content, digest);
      layer = g_new0 (SvDescriptor, 1);
      layer->media_type = g_strdup (layer_media_type (l, digest));
      layer->digest = g_strdup (digest);
      layer->size = g_stat (path, &st) == 0 ? st.st_size : 0;
      g_ptr_array_add (layers, layer);
    }

  manifest_digest = store_manifest (l, config, layers, error);
  if (manifest_digest == NULL)
    return FALSE;

  for (guint i = 0; tags && i < json_array_get_length (tags); i++)
    {
      g_autoptr (SvReference) ref
          = sv_reference_parse (json_array_get_string_element (tags, i), error);
      g_autofree char *full = NULL;

      if (ref == NULL)
        return g_prefix_error (error, "invalid %s: ", l->name), FALSE;
      full = sv_reference_to_string (ref);
      g_strv_builder_add (refs, full);
    }
  references = g_strv_builder_end (refs);

  return load_manifest (l, manifest_digest, references, error);
}

static gboolean
load_docker (Loader *l, GBytes *bytes, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *items;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                   error))
    return g_prefix_error (error, "invalid %s: manifest.json: ", l->name), FALSE;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return set_invalid (l, error, "manifest.json is not a JSON array");

  items = json_node_get_array (root);
  if (json_array_get_length (items) == 0)
    return set_invalid (l, error, "manifest.json lists no image");

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonNode *item = json_array_get_element (items, i);

      if (!JSON_NODE_HOLDS_OBJECT (item))
        return set_invalid (l, error, "manifest.json entry %u is not an object", i);
      if (!load_docker_image (l, json_node_get_object (item), error))
        return FALSE;
    }
  return TRUE;
}

/* Removes the blobs this load added, but keeps the blobs of the loaded images when
 * keep_used is set. The image store removes only what no image uses, so content that a
 * load or pull running at the same time recorded in an image stays. */
static void
remove_new_blobs (Loader *l, gboolean keep_used)
{
  g_autoptr (GStrvBuilder) doomed = g_strv_builder_new ();
  g_auto (GStrv) digests = NULL;
  GHashTableIter iter;
  gpointer digest;

  g_hash_table_iter_init (&iter, l->new_blobs);
  while (g_hash_table_iter_next (&iter, &digest, NULL))
    if (!keep_used || !g_hash_table_contains (l->used_blobs, digest))
      g_strv_builder_add (doomed, digest);
  digests = g_strv_builder_end (doomed);
  sv_image_store_discard_unused (l->images, NULL, (const char *const *)digests);
}

static void
roll_back (Loader *l, GPtrArray *added_ids)
{
  for (guint i = 0; added_ids && i < added_ids->len; i++)
    sv_image_store_remove (l->images, added_ids->pdata[i], TRUE, NULL);

  g_ptr_array_add (l->new_layers, NULL);
  sv_image_store_discard_unused (l->images, (const char *const *)l->new_layers->pdata, NULL);
  g_ptr_array_remove_index (l->new_layers, l->new_layers->len - 1);
  remove_new_blobs (l, FALSE);
}

static gboolean
add_pending (Loader *l, GStrvBuilder *loaded, GPtrArray *added_ids, GError **error)
{
  for (guint i = 0; i < l->pending->len; i++)
    {
      Pending *p = l->pending->pdata[i];
      g_autoptr (SvImage) existing = sv_image_store_lookup (l->images, p->config_digest, NULL);
      g_autoptr (SvImage) image = NULL;

      image = sv_image_store_add (l->images, p->manifest_digest, p->config_digest, p->references[0],
                                  error);
      if (image == NULL)
        return FALSE;
      if (existing == NULL)
        g_ptr_array_add (added_ids, g_strdup (p->config_digest));

      for (guint j = 1; p->references[j]; j++)
        if (!sv_image_store_tag (l->images, image, p->references[j], error))
          return FALSE;

      if (p->references[0] == NULL)
        g_strv_builder_add (loaded, p->config_digest);
      for (guint j = 0; p->references[j]; j++)
        g_strv_builder_add (loaded, p->references[j]);
    }
  return TRUE;
}

static GStrv
load_archive (SvContentStore *content, SvLayerStore *layers, SvImageStore *images, const char *path,
              int fd, GCancellable *cancellable, GError **error)
{
  g_auto (Loader) l = { 0 };
  g_autoptr (GStrvBuilder) loaded = g_strv_builder_new ();
  g_autoptr (GPtrArray) added_ids = g_ptr_array_new_with_free_func (g_free);
  GBytes *index, *docker_manifest;
  gboolean ok;

  l.content = content;
  l.layers = layers;
  l.images = images;
  l.path = path;
  l.fd = fd;
  l.name = path != NULL ? g_strconcat ("image archive ", path, NULL) : g_strdup ("image archive");
  l.cancellable = cancellable;
  l.metadata
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
  l.files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  l.links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  l.new_blobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  l.used_blobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  l.new_layers = g_ptr_array_new_with_free_func (g_free);
  l.pending = g_ptr_array_new_with_free_func ((GDestroyNotify)pending_free);

  ok = read_archive (&l, error);
  if (ok)
    {
      index = g_hash_table_lookup (l.metadata, "index.json");
      docker_manifest = g_hash_table_lookup (l.metadata, "manifest.json");
      if (index != NULL)
        ok = load_oci (&l, index, error);
      else if (docker_manifest != NULL)
        ok = load_docker (&l, docker_manifest, error);
      else
        ok = set_invalid (&l, error,
                          "it has neither index.json (OCI layout) nor manifest.json "
                          "(docker save)");
    }

  if (ok)
    ok = add_pending (&l, loaded, added_ids, error);

  if (!ok)
    {
      roll_back (&l, added_ids);
      return NULL;
    }

  /* Blobs of other platforms and of indexes are not kept. */
  remove_new_blobs (&l, TRUE);
  return g_strv_builder_end (loaded);
}

GStrv
sv_image_load_archive (SvContentStore *content, SvLayerStore *layers, SvImageStore *images,
                       const char *path, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  return load_archive (content, layers, images, path, -1, cancellable, error);
}

GStrv
sv_image_load_archive_fd (SvContentStore *content, SvLayerStore *layers, SvImageStore *images,
                          int fd, GCancellable *cancellable, GError **error)
{
  int flags;

  g_return_val_if_fail (fd >= 0, NULL);

  flags = fcntl (fd, F_GETFL);
  if (flags < 0)
    {
      int saved_errno = errno;

      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "cannot read the image archive descriptor: %s", g_strerror (saved_errno));
      return NULL;
    }
  if ((flags & O_PATH) == O_PATH || (flags & O_ACCMODE) == O_WRONLY)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "the archive descriptor is not open for reading: open the archive "
                           "for reading and pass that descriptor");
      return NULL;
    }

  return load_archive (content, layers, images, NULL, fd, cancellable, error);
}
