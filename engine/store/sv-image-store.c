/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-image-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sv-engine-error.h"
#include "sv-fs.h"
#include "sv-image-private.h"
#include "sv-manifest.h"
#include "sv-reference.h"
#include "sv-sha256.h"

#define REFERENCES_FILE "references.json"

struct _SvImageStore
{
  GObject parent_instance;

  SvContentStore *content;
  SvLayerStore *layers;
  char *dir;
  char *references_path;

  GMutex lock;
  GHashTable *images;     /* id -> SvImage */
  GHashTable *references; /* "name:tag" or "name@digest" -> id */
  /* Set when a record could not be read at start, so its content is unknown. */
  gboolean skipped_records;
};

enum
{
  SIGNAL_IMAGE_ADDED,
  SIGNAL_IMAGE_REMOVED,
  SIGNAL_IMAGE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Signals are collected under the lock and emitted after it is released. */
typedef struct
{
  guint signal;
  SvImage *image;
} Event;

G_DEFINE_TYPE (SvImageStore, sv_image_store, G_TYPE_OBJECT)

static void
sv_image_store_finalize (GObject *object)
{
  SvImageStore *self = SV_IMAGE_STORE (object);

  g_clear_object (&self->content);
  g_clear_object (&self->layers);
  g_free (self->dir);
  g_free (self->references_path);
  g_hash_table_unref (self->images);
  g_hash_table_unref (self->references);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (sv_image_store_parent_class)->finalize (object);
}

static void
sv_image_store_class_init (SvImageStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_image_store_finalize;

  signals[SIGNAL_IMAGE_ADDED]
      = g_signal_new ("image-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, SV_TYPE_IMAGE);
  signals[SIGNAL_IMAGE_REMOVED]
      = g_signal_new ("image-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, SV_TYPE_IMAGE);
  signals[SIGNAL_IMAGE_CHANGED]
      = g_signal_new ("image-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, SV_TYPE_IMAGE);
}

static void
sv_image_store_init (SvImageStore *self)
{
  g_mutex_init (&self->lock);
  self->images = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->references = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
event_clear (Event *event)
{
  g_clear_object (&event->image);
}

static GArray *
events_new (void)
{
  GArray *events = g_array_new (FALSE, FALSE, sizeof (Event));

  g_array_set_clear_func (events, (GDestroyNotify)event_clear);
  return events;
}

static void
events_add (GArray *events, guint signal, SvImage *image)
{
  Event event = { signal, g_object_ref (image) };

  for (guint i = 0; i < events->len; i++)
    {
      Event *e = &g_array_index (events, Event, i);

      /* A new image is announced once, with its tags already set. */
      if (e->image == image
          && (e->signal == signal
              || (e->signal == SIGNAL_IMAGE_ADDED && signal == SIGNAL_IMAGE_CHANGED)))
        {
          g_object_unref (event.image);
          return;
        }
    }
  g_array_append_val (events, event);
}

static void
events_emit (SvImageStore *self, GArray *events)
{
  for (guint i = 0; i < events->len; i++)
    {
      Event *e = &g_array_index (events, Event, i);
      g_signal_emit (self, signals[e->signal], 0, e->image);
    }
}

/* Returns the stored form of a reference: "name:tag", or "name@digest" when it has a
 * digest. */
static char *
reference_key (const char *text, gboolean *out_is_digest, GError **error)
{
  g_autoptr (SvReference) ref = sv_reference_parse (text, error);
  g_autofree char *name = NULL;

  if (ref == NULL)
    return NULL;

  name = sv_reference_get_name (ref);
  if (out_is_digest)
    *out_is_digest = ref->digest != NULL;
  if (ref->digest != NULL)
    return g_strconcat (name, "@", ref->digest, NULL);
  return g_strconcat (name, ":", ref->tag ? ref->tag : "latest", NULL);
}

static gboolean
key_is_digest (const char *key)
{
  return strchr (key, '@') != NULL;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* Recomputes the image's reference lists from the map; TRUE when they changed. */
static gboolean
refresh_references (SvImageStore *self, SvImage *image)
{
  g_autoptr (GPtrArray) tags = g_ptr_array_new ();
  g_autoptr (GPtrArray) digests = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->references);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (strcmp (value, sv_image_get_id (image)) == 0)
      g_ptr_array_add (key_is_digest (key) ? digests : tags, key);

  g_ptr_array_sort (tags, compare_strings);
  g_ptr_array_sort (digests, compare_strings);
  g_ptr_array_add (tags, NULL);
  g_ptr_array_add (digests, NULL);
  return sv_image_set_references (image, (const char *const *)tags->pdata,
                                  (const char *const *)digests->pdata);
}

static gboolean
save_references (SvImageStore *self, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->references);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);

  g_ptr_array_sort (keys, compare_strings);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "references");
  json_builder_begin_object (builder);
  for (guint i = 0; i < keys->len; i++)
    {
      json_builder_set_member_name (builder, keys->pdata[i]);
      json_builder_add_string_value (builder,
                                     g_hash_table_lookup (self->references, keys->pdata[i]));
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);

  if (!g_file_set_contents_full (self->references_path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
                                 error))
    {
      g_prefix_error (error, "cannot save image references: ");
      return FALSE;
    }

  return TRUE;
}

static char *
record_path (SvImageStore *self, const char *id)
{
  g_autofree char *name = g_strconcat (sv_digest_get_hex (id), ".json", NULL);

  return g_build_filename (self->dir, name, NULL);
}

static gboolean
save_record (SvImageStore *self, SvImage *image, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autofree char *path = record_path (self, sv_image_get_id (image));
  const char *const *layer_digests = sv_image_get_layer_digests (image);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, sv_image_get_id (image));
  json_builder_set_member_name (builder, "manifest-digest");
  json_builder_add_string_value (builder, sv_image_get_manifest_digest (image));
  json_builder_set_member_name (builder, "layer-digests");
  json_builder_begin_array (builder);
  for (gsize i = 0; layer_digests[i]; i++)
    json_builder_add_string_value (builder, layer_digests[i]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, sv_image_get_size (image));
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);

  if (!g_file_set_contents_full (path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
                                 error))
    {
      g_prefix_error (error, "cannot save image record %s: ", sv_image_get_id (image));
      return FALSE;
    }

  return TRUE;
}

static JsonObject *
read_json_object (GBytes *bytes, const char *what, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);
  JsonNode *root;

  if (!json_parser_load_from_data (parser, data, len, error))
    {
      g_prefix_error (error, "cannot parse %s: ", what);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "cannot parse %s: not a JSON object", what);
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

static JsonObject *
read_config (SvImageStore *self, const char *config_digest, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *what = g_strdup_printf ("image config %s", config_digest);

  bytes = sv_content_store_read_blob (self->content, config_digest, SV_MANIFEST_MAX_SIZE, error);
  if (bytes == NULL)
    return NULL;

  return read_json_object (bytes, what, error);
}

/* Returns the layer blob digests of a stored manifest, or an empty list. */
static GStrv
read_layer_digests (SvImageStore *self, const char *manifest_digest)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (SvManifest) manifest = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GError) error = NULL;

  if (manifest_digest != NULL && sv_content_store_has_blob (self->content, manifest_digest))
    bytes
        = sv_content_store_read_blob (self->content, manifest_digest, SV_MANIFEST_MAX_SIZE, &error);
  if (bytes != NULL)
    manifest = sv_manifest_parse (bytes, NULL, &error);
  if (error != NULL)
    g_warning ("cannot read the layers of manifest %s: %s", manifest_digest, error->message);

  if (manifest != NULL && manifest->kind == SV_MANIFEST_KIND_IMAGE)
    for (guint i = 0; i < manifest->layers->len; i++)
      g_strv_builder_add (builder, ((SvDescriptor *)manifest->layers->pdata[i])->digest);

  return g_strv_builder_end (builder);
}

static gboolean
load_references (SvImageStore *self, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (JsonObject) root = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *what = g_strdup_printf ("image references file %s", self->references_path);
  JsonNode *refs_node;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;
  gsize len = 0;

  if (!g_file_get_contents (self->references_path, &contents, &len, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  root = read_json_object (bytes, what, &local_error);
  refs_node = root ? json_object_get_member (root, "references") : NULL;
  if (root != NULL && (refs_node == NULL || !JSON_NODE_HOLDS_OBJECT (refs_node)))
    g_set_error (&local_error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                 "cannot parse %s: no \"references\" object", what);

  if (local_error == NULL)
    {
      json_object_iter_init (&iter, json_node_get_object (refs_node));
      while (json_object_iter_next (&iter, &key, &value))
        {
          const char *id = JSON_NODE_HOLDS_VALUE (value) ? json_node_get_string (value) : NULL;

          if (!sv_digest_is_valid (id))
            {
              g_set_error (&local_error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "cannot parse %s: reference %s has no valid image id", what, key);
              break;
            }
          g_hash_table_insert (self->references, g_strdup (key), g_strdup (id));
        }
    }

  if (local_error != NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "%s; the file was left as it is: repair it or move it away to start "
                   "with no image tags",
                   local_error->message);
      return FALSE;
    }

  return TRUE;
}

static SvImage *
load_record (SvImageStore *self, const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (JsonObject) record = NULL;
  g_autoptr (JsonObject) config = NULL;
  g_autoptr (GStrvBuilder) layer_digests = g_strv_builder_new ();
  g_auto (GStrv) layer_list = NULL;
  const char *id, *manifest_digest;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;

  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  record = read_json_object (bytes, path, error);
  if (record == NULL)
    return NULL;

  id = json_object_get_string_member_with_default (record, "id", NULL);
  manifest_digest = json_object_get_string_member_with_default (record, "manifest-digest", NULL);
  if (!sv_digest_validate (id, error))
    return NULL;

  if (json_object_has_member (record, "layer-digests"))
    {
      JsonArray *array = json_object_get_array_member (record, "layer-digests");
      for (guint i = 0; array && i < json_array_get_length (array); i++)
        g_strv_builder_add (layer_digests, json_array_get_string_element (array, i));
    }
  layer_list = g_strv_builder_end (layer_digests);

  config = read_config (self, id, error);
  if (config == NULL)
    return NULL;

  return sv_image_new (id, manifest_digest, config, (const char *const *)layer_list,
                       json_object_get_int_member_with_default (record, "size", 0), error);
}

static gboolean
load_records (SvImageStore *self, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (self->dir, 0, error);
  const char *name;

  if (dir == NULL)
    return FALSE;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr (GError) local_error = NULL;
      g_autoptr (SvImage) image = NULL;
      const char *id;

      if (!g_str_has_suffix (name, ".json") || strcmp (name, REFERENCES_FILE) == 0)
        continue;

      /* One unreadable record must not hide every other image. */
      path = g_build_filename (self->dir, name, NULL);
      image = load_record (self, path, &local_error);
      if (image == NULL)
        {
          g_warning ("skipping image record %s: %s", path, local_error->message);
          self->skipped_records = TRUE;
          continue;
        }
      /* The key is owned by the image that the table holds. */
      id = sv_image_get_id (image);
      g_hash_table_insert (self->images, (char *)id, g_steal_pointer (&image));
    }

  return TRUE;
}

SvImageStore *
sv_image_store_new (SvContentStore *content, SvLayerStore *layers, const char *data_root,
                    GError **error)
{
  g_autoptr (SvImageStore) self = g_object_new (SV_TYPE_IMAGE_STORE, NULL);
  GHashTableIter iter;
  gpointer key, value;

  self->content = g_object_ref (content);
  self->layers = g_object_ref (layers);
  self->dir = g_build_filename (data_root, "images", NULL);
  self->references_path = g_build_filename (self->dir, REFERENCES_FILE, NULL);

  if (g_mkdir_with_parents (self->dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot create folder %s: %s",
                   self->dir, g_strerror (saved_errno));
      return NULL;
    }

  if (!load_references (self, error) || !load_records (self, error))
    return NULL;

  /* References to images whose record is gone are dropped from memory; the file keeps
   * them until the next change. */
  g_hash_table_iter_init (&iter, self->references);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (self->images, value))
      {
        g_warning ("image reference %s points to missing image %s", (char *)key, (char *)value);
        g_hash_table_iter_remove (&iter);
      }

  g_hash_table_iter_init (&iter, self->images);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    refresh_references (self, value);

  return g_steal_pointer (&self);
}

static int
compare_created_desc (gconstpointer a, gconstpointer b)
{
  SvImage *ia = *(SvImage **)a;
  SvImage *ib = *(SvImage **)b;
  gint64 ca = sv_image_get_created (ia), cb = sv_image_get_created (ib);

  if (ca != cb)
    return ca > cb ? -1 : 1;
  return strcmp (sv_image_get_id (ia), sv_image_get_id (ib));
}

GPtrArray *
sv_image_store_list (SvImageStore *self)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (SV_IS_IMAGE_STORE (self), NULL);

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->images);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, g_object_ref (value));
  g_mutex_unlock (&self->lock);

  g_ptr_array_sort (list, compare_created_desc);
  return list;
}

static gboolean
is_hex (const char *text)
{
  for (const char *p = text; *p; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

/* Finds an image whose manifest is digest and that carries a reference to name. */
static SvImage *
lookup_by_manifest_locked (SvImageStore *self, const char *key)
{
  const char *at = strchr (key, '@');
  g_autofree char *name = g_strndup (key, at - key);
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_iter_init (&iter, self->references);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      SvImage *image = g_hash_table_lookup (self->images, v);
      gsize len = strlen (name);

      if (strncmp (k, name, len) == 0 && (((char *)k)[len] == ':' || ((char *)k)[len] == '@')
          && g_strcmp0 (sv_image_get_manifest_digest (image), at + 1) == 0)
        return image;
    }

  return NULL;
}

/* Returns a borrowed image or NULL with NOT_FOUND or CONFLICT set. */
static SvImage *
lookup_locked (SvImageStore *self, const char *text, GError **error)
{
  g_autofree char *key = NULL;
  gsize len = strlen (text);
  SvImage *found = NULL;

  if (g_str_has_prefix (text, "sha256:"))
    found = g_hash_table_lookup (self->images, text);
  else if (len == 64 && is_hex (text))
    {
      g_autofree char *id = g_strconcat ("sha256:", text, NULL);
      found = g_hash_table_lookup (self->images, id);
    }

  if (found == NULL && !g_str_has_prefix (text, "sha256:")
      && (key = reference_key (text, NULL, NULL)) != NULL)
    {
      const char *id = g_hash_table_lookup (self->references, key);

      if (id != NULL)
        found = g_hash_table_lookup (self->images, id);
      else if (key_is_digest (key))
        found = lookup_by_manifest_locked (self, key);
    }

  if (found == NULL && len >= 4 && len < 64 && is_hex (text))
    {
      GHashTableIter iter;
      gpointer value;
      guint matches = 0;

      g_hash_table_iter_init (&iter, self->images);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (g_str_has_prefix (sv_digest_get_hex (sv_image_get_id (value)), text))
          {
            found = value;
            matches++;
          }

      if (matches > 1)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                       "image id prefix %s matches %u images: give more digits", text, matches);
          return NULL;
        }
    }

  if (found == NULL)
    g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND, "image not found: %s", text);

  return found;
}

SvImage *
sv_image_store_lookup (SvImageStore *self, const char *reference_or_id, GError **error)
{
  SvImage *image;

  g_return_val_if_fail (SV_IS_IMAGE_STORE (self), NULL);
  g_return_val_if_fail (reference_or_id != NULL, NULL);

  g_mutex_lock (&self->lock);
  image = lookup_locked (self, reference_or_id, error);
  if (image != NULL)
    g_object_ref (image);
  g_mutex_unlock (&self->lock);

  return image;
}

/* Points key at image; the image that held it before gets an "image-changed" event. */
static void
set_reference_locked (SvImageStore *self, const char *key, SvImage *image, GArray *events)
{
  const char *old_id = g_hash_table_lookup (self->references, key);
  SvImage *old = old_id ? g_hash_table_lookup (self->images, old_id) : NULL;

  g_hash_table_insert (self->references, g_strdup (key), g_strdup (sv_image_get_id (image)));

  if (old != NULL && old != image && refresh_references (self, old))
    events_add (events, SIGNAL_IMAGE_CHANGED, old);
}

static gboolean
tag_locked (SvImageStore *self, SvImage *image, const char *reference, GArray *events,
            GError **error)
{
  g_autoptr (SvReference) ref = sv_reference_parse (reference, error);
  g_autofree char *name = NULL;

  if (ref == NULL)
    return FALSE;

  name = sv_reference_get_name (ref);
  if (ref->tag != NULL || ref->digest == NULL)
    {
      g_autofree char *key = g_strconcat (name, ":", ref->tag ? ref->tag : "latest", NULL);
      set_reference_locked (self, key, image, events);
    }
  if (ref->digest != NULL)
    {
      g_autofree char *key = g_strconcat (name, "@", ref->digest, NULL);
      set_reference_locked (self, key, image, events);
    }

  if (!save_references (self, error))
    return FALSE;

  if (refresh_references (self, image))
    events_add (events, SIGNAL_IMAGE_CHANGED, image);
  return TRUE;
}

static gboolean
check_layers (SvImageStore *self, SvImage *image, GError **error)
{
  const char *const *diff_ids = sv_image_get_diff_ids (image);

  for (gsize i = 0; diff_ids[i]; i++)
    if (!sv_layer_store_has_layer (self->layers, diff_ids[i]))
      {
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                     "layer %s of image %s is not unpacked; unpack it before adding the image",
                     diff_ids[i], sv_image_get_id (image));
        return FALSE;
      }

  return TRUE;
}

/* Checks that the layers and the config and manifest blobs of @image are stored. */
static gboolean
check_content (SvImageStore *self, SvImage *image, GError **error)
{
  const char *manifest_digest = sv_image_get_manifest_digest (image);

  if (!check_layers (self, image, error))
    return FALSE;
  if (!sv_content_store_has_blob (self->content, sv_image_get_id (image)))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                   "config blob of image %s is missing; store it before adding the image",
                   sv_image_get_id (image));
      return FALSE;
    }
  if (manifest_digest != NULL && !sv_content_store_has_blob (self->content, manifest_digest))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                   "manifest blob %s of image %s is missing; store it before adding the image",
                   manifest_digest, sv_image_get_id (image));
      return FALSE;
    }
  return TRUE;
}

static SvImage *
create_image (SvImageStore *self, const char *manifest_digest, const char *config_digest,
              GError **error)
{
  g_autoptr (JsonObject) config = read_config (self, config_digest, error);
  g_auto (GStrv) layer_digests = NULL;
  g_autoptr (SvImage) probe = NULL;
  const char *const *diff_ids;
  guint64 size = 0;

  if (config == NULL)
    return NULL;

  /* Parse once to learn the diff_ids, then build the image with its size. */
  probe = sv_image_new (config_digest, manifest_digest, config, NULL, 0, error);
  if (probe == NULL || !check_layers (self, probe, error))
    return NULL;

  diff_ids = sv_image_get_diff_ids (probe);
  for (gsize i = 0; diff_ids[i]; i++)
    size += sv_layer_store_get_layer_size (self->layers, diff_ids[i]);

  layer_digests = read_layer_digests (self, manifest_digest);
  return sv_image_new (config_digest, manifest_digest, config, (const char *const *)layer_digests,
                       size, error);
}

SvImage *
sv_image_store_add (SvImageStore *self, const char *manifest_digest, const char *config_digest,
                    const char *reference, GError **error)
{
  g_autoptr (GArray) events = events_new ();
  g_autoptr (SvImage) image = NULL;
  g_autoptr (SvImage) created = NULL;

  g_return_val_if_fail (SV_IS_IMAGE_STORE (self), NULL);

  if (!sv_digest_validate (config_digest, error)
      || (manifest_digest != NULL && !sv_digest_validate (manifest_digest, error)))
    return NULL;

  if (reference != NULL)
    {
      g_autoptr (SvReference) ref = sv_reference_parse (reference, error);
      if (ref == NULL)
        return NULL;
    }

  /* Reading and checking happen outside the lock; only the maps need it. */
  created = create_image (self, manifest_digest, config_digest, error);
  if (created == NULL)
    return NULL;

  g_mutex_lock (&self->lock);
  image = g_hash_table_lookup (self->images, config_digest);
  if (image != NULL)
    g_object_ref (image);
  /* Checked again under the lock: sv_image_store_discard_unused() or the removal of
   * another image may have removed content since create_image() checked it. */
  else if (check_content (self, created, error) && save_record (self, created, error))
    {
      image = g_object_ref (created);
      g_hash_table_insert (self->images, (char *)sv_image_get_id (image), g_object_ref (image));
      events_add (events, SIGNAL_IMAGE_ADDED, image);
    }

  if (image != NULL && reference != NULL && !tag_locked (self, image, reference, events, error))
    g_clear_object (&image);
  g_mutex_unlock (&self->lock);

  events_emit (self, events);
  return g_steal_pointer (&image);
}

gboolean
sv_image_store_tag (SvImageStore *self, SvImage *image, const char *reference, GError **error)
{
  g_autoptr (GArray) events = events_new ();
  gboolean ok;

  g_return_val_if_fail (SV_IS_IMAGE_STORE (self), FALSE);
  g_return_val_if_fail (SV_IS_IMAGE (image), FALSE);

  g_mutex_lock (&self->lock);
  if (g_hash_table_lookup (self->images, sv_image_get_id (image)) != image)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                   "image not found: %s (it was removed)", sv_image_get_id (image));
      ok = FALSE;
    }
  else
    ok = tag_locked (self, image, reference, events, error);
  g_mutex_unlock (&self->lock);

  events_emit (self, events);
  return ok;
}

static gboolean
image_uses (SvImage *image, const char *digest)
{
  return strcmp (sv_image_get_id (image), digest) == 0
         || g_strcmp0 (sv_image_get_manifest_digest (image), digest) == 0
         || g_strv_contains (sv_image_get_diff_ids (image), digest)
         || g_strv_contains (sv_image_get_layer_digests (image), digest);
}

static gboolean
used_by_any (SvImageStore *self, const char *digest)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->images);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (image_uses (value, digest))
      return TRUE;

  return FALSE;
}

static void
remove_blob_if_unused (SvImageStore *self, const char *digest)
{
  g_autoptr (GError) error = NULL;

  if (digest == NULL || used_by_any (self, digest)
      || !sv_content_store_has_blob (self->content, digest))
    return;

  if (!sv_content_store_remove_blob (self->content, digest, &error))
    g_warning ("cannot remove unused blob: %s", error->message);
}

/* Removes the record and every reference, then the layers and blobs no image uses. */
static gboolean
delete_image_locked (SvImageStore *self, SvImage *image, GArray *events, GError **error)
{
  g_autofree char *path = record_path (self, sv_image_get_id (image));
  const char *const *diff_ids = sv_image_get_diff_ids (image);
  const char *const *layer_digests = sv_image_get_layer_digests (image);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->references);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (strcmp (value, sv_image_get_id (image)) == 0)
      g_hash_table_iter_remove (&iter);

  if (!save_references (self, error))
    return FALSE;

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot remove image record %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }

  g_object_ref (image);
  g_hash_table_remove (self->images, sv_image_get_id (image));
  refresh_references (self, image);
  events_add (events, SIGNAL_IMAGE_REMOVED, image);

  for (gsize i = 0; diff_ids[i]; i++)
    {
      g_autoptr (GError) local_error = NULL;

      if (!used_by_any (self, diff_ids[i]) && sv_layer_store_has_layer (self->layers, diff_ids[i])
          && !sv_layer_store_remove_layer (self->layers, diff_ids[i], &local_error))
        g_warning ("cannot remove unused layer: %s", local_error->message);
    }
  for (gsize i = 0; layer_digests[i]; i++)
    remove_blob_if_unused (self, layer_digests[i]);
  remove_blob_if_unused (self, sv_image_get_manifest_digest (image));
  remove_blob_if_unused (self, sv_image_get_id (image));

  g_object_unref (image);
  return TRUE;
}

static gboolean
remove_locked (SvImageStore *self, const char *text, gboolean force, GArray *events, GError **error)
{
  g_autofree char *key = NULL;
  const char *id = NULL;
  SvImage *image;

  if (!g_str_has_prefix (text, "sha256:"))
    key = reference_key (text, NULL, NULL);
  if (key != NULL)
    id = g_hash_table_lookup (self->references, key);

  /* A stored reference: untag, and delete the image with its last tag. */
  if (id != NULL)
    {
      image = g_hash_table_lookup (self->images, id);
      g_hash_table_remove (self->references, key);
      refresh_references (self, image);
      if (g_strv_length ((GStrv)sv_image_get_repo_tags (image)) == 0)
        return delete_image_locked (self, image, events, error);

      events_add (events, SIGNAL_IMAGE_CHANGED, image);
      return save_references (self, error);
    }

  image = lookup_locked (self, text, error);
  if (image == NULL)
    return FALSE;

  if (!force && g_strv_length ((GStrv)sv_image_get_repo_tags (image)) > 1)
    {
      g_autofree char *tags = g_strjoinv (", ", (GStrv)sv_image_get_repo_tags (image));
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "image %s is tagged as %s: remove it by tag, or force the removal", text, tags);
      return FALSE;
    }

  return delete_image_locked (self, image, events, error);
}

gboolean
sv_image_store_remove (SvImageStore *self, const char *reference_or_id, gboolean force,
                       GError **error)
{
  g_autoptr (GArray) events = events_new ();
  gboolean ok;

  g_return_val_if_fail (SV_IS_IMAGE_STORE (self), FALSE);
  g_return_val_if_fail (reference_or_id != NULL, FALSE);

  g_mutex_lock (&self->lock);
  ok = remove_locked (self, reference_or_id, force, events, error);
  g_mutex_unlock (&self->lock);

  events_emit (self, events);
  return ok;
}

static void
remove_layer_if_unused (SvImageStore *self, const char *diff_id)
{
  g_autoptr (GError) error = NULL;

  if (used_by_any (self, diff_id) || !sv_layer_store_has_layer (self->layers, diff_id))
    return;

  if (!sv_layer_store_remove_layer (self->layers, diff_id, &error))
    g_warning ("cannot remove unused layer: %s", error->message);
}

void
sv_image_store_discard_unused (SvImageStore *self, const char *const *diff_ids,
                               const char *const *blob_digests)
{
  g_return_if_fail (SV_IS_IMAGE_STORE (self));

  g_mutex_lock (&self->lock);
  for (gsize i = 0; diff_ids != NULL && diff_ids[i]; i++)
    remove_layer_if_unused (self, diff_ids[i]);
  for (gsize i = 0; blob_digests != NULL && blob_digests[i]; i++)
    remove_blob_if_unused (self, blob_digests[i]);
  g_mutex_unlock (&self->lock);
}

static gboolean
collect_layers_locked (SvImageStore *self, GError **error)
{
  g_auto (GStrv) diff_ids = sv_layer_store_list_layers (self->layers, error);

  if (diff_ids == NULL)
    return FALSE;

  for (gsize i = 0; diff_ids[i]; i++)
    {
      g_autofree char *path = NULL;
      guint64 size;

      if (used_by_any (self, diff_ids[i]))
        continue;
      path = sv_layer_store_get_layer_path (self->layers, diff_ids[i]);
      size = sv_fs_tree_size (path);
      if (!sv_layer_store_remove_layer (self->layers, diff_ids[i], error))
        return FALSE;
      g_info ("Removed layer %s (%" G_GUINT64_FORMAT " bytes), which no image uses", diff_ids[i],
              size);
    }
  return TRUE;
}

static gboolean
collect_blobs_locked (SvImageStore *self, GError **error)
{
  g_auto (GStrv) digests = sv_content_store_list_blobs (self->content, error);

  if (digests == NULL)
    return FALSE;

  for (gsize i = 0; digests[i]; i++)
    {
      g_autofree char *path = NULL;
      guint64 size;

      if (used_by_any (self, digests[i]))
        continue;
      path = sv_content_store_get_blob_path (self->content, digests[i]);
      size = sv_fs_tree_size (path);
      if (!sv_content_store_remove_blob (self->content, digests[i], error))
        return FALSE;
      g_info ("Removed blob %s (%" G_GUINT64_FORMAT " bytes), which no image uses", digests[i],
              size);
    }
  return TRUE;
}

gboolean
sv_image_store_collect_garbage (SvImageStore *self, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (SV_IS_IMAGE_STORE (self), FALSE);

  if (!sv_content_store_clear_tmp (self->content, error))
    return FALSE;

  if (self->skipped_records)
    {
      g_warning ("Keeping the layers and blobs that no image record names, because some "
                 "records in %s could not be read",
                 self->dir);
      return TRUE;
    }

  g_mutex_lock (&self->lock);
  ok = collect_layers_locked (self, error) && collect_blobs_locked (self, error);
  g_mutex_unlock (&self->lock);
  return ok;
}
