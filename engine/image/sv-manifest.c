/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-manifest.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/utsname.h>

#include "sv-engine-error.h"
#include "sv-reference.h"

#define SCHEMA1_MEDIA_TYPE "application/vnd.docker.distribution.manifest.v1+json"
#define SCHEMA1_SIGNED_MEDIA_TYPE "application/vnd.docker.distribution.manifest.v1+prettyjws"

typedef struct
{
  const char *media_type;
  SvLayerCompression compression;
} LayerType;

static const LayerType layer_types[] = {
  { "application/vnd.oci.image.layer.v1.tar", SV_LAYER_COMPRESSION_NONE },
  { "application/vnd.oci.image.layer.v1.tar+gzip", SV_LAYER_COMPRESSION_GZIP },
  { "application/vnd.oci.image.layer.v1.tar+zstd", SV_LAYER_COMPRESSION_ZSTD },
  { "application/vnd.docker.image.rootfs.diff.tar", SV_LAYER_COMPRESSION_NONE },
  { "application/vnd.docker.image.rootfs.diff.tar.gzip", SV_LAYER_COMPRESSION_GZIP },
  { "application/vnd.docker.image.rootfs.diff.tar.zstd", SV_LAYER_COMPRESSION_ZSTD },
};

static const char *const config_types[] = {
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
  NULL,
};

void
sv_descriptor_free (SvDescriptor *descriptor)
{
  if (descriptor == NULL)
    return;
  g_free (descriptor->media_type);
  g_free (descriptor->digest);
  g_free (descriptor->os);
  g_free (descriptor->architecture);
  g_free (descriptor->variant);
  g_free (descriptor);
}

void
sv_manifest_free (SvManifest *manifest)
{
  if (manifest == NULL)
    return;
  g_free (manifest->media_type);
  g_free (manifest->digest);
  sv_descriptor_free (manifest->config);
  g_clear_pointer (&manifest->layers, g_ptr_array_unref);
  g_clear_pointer (&manifest->manifests, g_ptr_array_unref);
  g_free (manifest);
}

static const char *
get_string_member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static char *
normalize_architecture (const char *arch)
{
  if (g_str_equal (arch, "x86_64") || g_str_equal (arch, "x86-64"))
    return g_strdup ("amd64");
  if (g_str_equal (arch, "aarch64"))
    return g_strdup ("arm64");
  if (g_str_equal (arch, "i386") || g_str_equal (arch, "i686"))
    return g_strdup ("386");
  if (g_str_has_prefix (arch, "armv") || g_str_equal (arch, "armhf") || g_str_equal (arch, "armel"))
    return g_strdup ("arm");
  return g_ascii_strdown (arch, -1);
}

/* Normalise a variant for @arch: arm64's default is v8, arm's is v7, and "8"
 * means "v8". */
static char *
normalize_variant (const char *arch, const char *variant)
{
  if (variant == NULL || *variant == '\0')
    {
      if (g_str_equal (arch, "arm64"))
        return g_strdup ("v8");
      if (g_str_equal (arch, "arm"))
        return g_strdup ("v7");
      return NULL;
    }
  if (g_ascii_isdigit (variant[0]))
    return g_strconcat ("v", variant, NULL);
  return g_ascii_strdown (variant, -1);
}

static SvDescriptor *
parse_descriptor (JsonNode *node, const char *what, GError **error)
{
  g_autoptr (SvDescriptor) descriptor = g_new0 (SvDescriptor, 1);
  JsonObject *object;
  JsonNode *size;
  const char *digest;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid manifest: %s is not a JSON object", what);
      return NULL;
    }
  object = json_node_get_object (node);

  digest = get_string_member (object, "digest");
  if (digest == NULL || !sv_digest_is_valid (digest))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid manifest: %s has digest \"%s\", expected sha256: and 64 lowercase "
                   "hex digits",
                   what, digest ? digest : "(none)");
      return NULL;
    }
  descriptor->digest = g_strdup (digest);
  descriptor->media_type = g_strdup (get_string_member (object, "mediaType"));

  size = json_object_get_member (object, "size");
  if (size == NULL || !JSON_NODE_HOLDS_VALUE (size)
      || json_node_get_value_type (size) != G_TYPE_INT64 || json_node_get_int (size) < 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid manifest: %s %s has no valid size", what, digest);
      return NULL;
    }
  descriptor->size = json_node_get_int (size);

  if (json_object_has_member (object, "platform"))
    {
      JsonNode *platform_node = json_object_get_member (object, "platform");

      if (JSON_NODE_HOLDS_OBJECT (platform_node))
        {
          JsonObject *platform = json_node_get_object (platform_node);
          const char *os = get_string_member (platform, "os");
          const char *arch = get_string_member (platform, "architecture");

          descriptor->os = g_strdup (os ? os : "");
          descriptor->architecture = normalize_architecture (arch ? arch : "");
          descriptor->variant = normalize_variant (descriptor->architecture,
                                                   get_string_member (platform, "variant"));
        }
    }
  return g_steal_pointer (&descriptor);
}

static gboolean
parse_layers (SvManifest *manifest, JsonObject *root, GError **error)
{
  JsonNode *node = json_object_get_member (root, "layers");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid manifest: \"layers\" is missing or not a list");
      return FALSE;
    }
  array = json_node_get_array (node);

  manifest->layers = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_descriptor_free);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *what = g_strdup_printf ("layer %u", i);
      g_autoptr (SvDescriptor) layer
          = parse_descriptor (json_array_get_element (array, i), what, error);
      gboolean known = FALSE;

      if (layer == NULL)
        return FALSE;

      for (gsize t = 0; t < G_N_ELEMENTS (layer_types); t++)
        {
          if (g_strcmp0 (layer->media_type, layer_types[t].media_type) == 0)
            {
              layer->compression = layer_types[t].compression;
              known = TRUE;
            }
        }
      if (!known)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                       "unsupported layer media type \"%s\" for layer %s: only tar, tar+gzip "
                       "and tar+zstd layers can be unpacked",
                       layer->media_type ? layer->media_type : "(none)", layer->digest);
          return FALSE;
        }
      g_ptr_array_add (manifest->layers, g_steal_pointer (&layer));
    }
  return TRUE;
}

static gboolean
parse_image_manifest (SvManifest *manifest, JsonObject *root, GError **error)
{
  manifest->kind = SV_MANIFEST_KIND_IMAGE;

  manifest->config = parse_descriptor (json_object_get_member (root, "config"), "config", error);
  if (manifest->config == NULL)
    return FALSE;

  /* Artifacts (Helm charts, signatures) use manifests too, with other config types. */
  if (manifest->config->media_type != NULL
      && !g_strv_contains (config_types, manifest->config->media_type))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                   "unsupported config media type \"%s\": the manifest is not a container image",
                   manifest->config->media_type);
      return FALSE;
    }

  return parse_layers (manifest, root, error);
}

static gboolean
parse_index (SvManifest *manifest, JsonObject *root, GError **error)
{
  JsonNode *node = json_object_get_member (root, "manifests");
  JsonArray *array;

  manifest->kind = SV_MANIFEST_KIND_INDEX;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid image index: \"manifests\" is missing or not a list");
      return FALSE;
    }
  array = json_node_get_array (node);

  manifest->manifests = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_descriptor_free);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *what = g_strdup_printf ("index entry %u", i);
      SvDescriptor *entry = parse_descriptor (json_array_get_element (array, i), what, error);

      if (entry == NULL)
        return FALSE;
      g_ptr_array_add (manifest->manifests, entry);
    }
  return TRUE;
}

static gboolean
is_known_type (const char *media_type)
{
  return g_strcmp0 (media_type, SV_MEDIA_TYPE_DOCKER_MANIFEST) == 0
         || g_strcmp0 (media_type, SV_MEDIA_TYPE_DOCKER_MANIFEST_LIST) == 0
         || g_strcmp0 (media_type, SV_MEDIA_TYPE_OCI_MANIFEST) == 0
         || g_strcmp0 (media_type, SV_MEDIA_TYPE_OCI_INDEX) == 0;
}

static gboolean
is_index_type (const char *media_type)
{
  return g_str_equal (media_type, SV_MEDIA_TYPE_DOCKER_MANIFEST_LIST)
         || g_str_equal (media_type, SV_MEDIA_TYPE_OCI_INDEX);
}

static gpointer
reject_schema1 (GError **error)
{
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
               "unsupported manifest: Docker schema 1 manifests are not supported; push the "
               "image again with a current docker or skopeo to convert it to schema 2");
  return NULL;
}

/* Find the media type from the document's "mediaType", then from the
 * Content-Type, then from the members present. */
static char *
find_media_type (JsonObject *root, const char *content_type, GError **error)
{
  const char *declared = get_string_member (root, "mediaType");
  g_autofree char *header = NULL;

  if (declared != NULL)
    {
      if (g_str_equal (declared, SCHEMA1_MEDIA_TYPE)
          || g_str_equal (declared, SCHEMA1_SIGNED_MEDIA_TYPE))
        return reject_schema1 (error);
      if (!is_known_type (declared))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                       "unsupported manifest media type \"%s\"", declared);
          return NULL;
        }
      return g_strdup (declared);
    }

  if (content_type != NULL)
    {
      /* Drop parameters such as "; charset=utf-8". */
      header = g_strstrip (g_strndup (content_type, strcspn (content_type, ";")));
      if (is_known_type (header))
        return g_steal_pointer (&header);
    }

  if (json_object_has_member (root, "manifests"))
    return g_strdup (SV_MEDIA_TYPE_OCI_INDEX);
  if (json_object_has_member (root, "layers") || json_object_has_member (root, "config"))
    return g_strdup (SV_MEDIA_TYPE_OCI_MANIFEST);

  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
               "invalid manifest: no mediaType and neither \"manifests\" nor \"layers\"");
  return NULL;
}

static JsonObject *
parse_json_object (GBytes *bytes, const char *what, JsonParser *parser, GError **error)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (size > SV_MANIFEST_MAX_SIZE)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "%s of %" G_GSIZE_FORMAT " bytes is larger than the limit of %d bytes (4 MiB)",
                   what, size, SV_MANIFEST_MAX_SIZE);
      return NULL;
    }

  if (!json_parser_load_from_data (parser, data ? data : "", size, &local_error))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT, "invalid %s: %s", what,
                   local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid %s: the document is not a JSON object", what);
      return NULL;
    }
  return json_node_get_object (root);
}

/* Parse a Docker schema 2 manifest or manifest list, or an OCI manifest or
 * index. @content_type (nullable) is the Content-Type it was served with. */
SvManifest *
sv_manifest_parse (GBytes *bytes, const char *content_type, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (SvManifest) manifest = g_new0 (SvManifest, 1);
  g_autofree char *checksum = NULL;
  JsonObject *root;
  JsonNode *version;

  root = parse_json_object (bytes, "manifest", parser, error);
  if (root == NULL)
    return NULL;

  version = json_object_get_member (root, "schemaVersion");
  if (version != NULL && JSON_NODE_HOLDS_VALUE (version)
      && json_node_get_value_type (version) == G_TYPE_INT64 && json_node_get_int (version) == 1)
    return reject_schema1 (error);
  if (version == NULL || !JSON_NODE_HOLDS_VALUE (version)
      || json_node_get_value_type (version) != G_TYPE_INT64 || json_node_get_int (version) != 2)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid manifest: schemaVersion must be 2");
      return NULL;
    }

  manifest->media_type = find_media_type (root, content_type, error);
  if (manifest->media_type == NULL)
    return NULL;
  checksum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  manifest->digest = g_strconcat ("sha256:", checksum, NULL);

  if (is_index_type (manifest->media_type))
    {
      if (!parse_index (manifest, root, error))
        return NULL;
    }
  else if (!parse_image_manifest (manifest, root, error))
    return NULL;

  return g_steal_pointer (&manifest);
}

static char *
format_platform (const char *os, const char *arch, const char *variant)
{
  if (variant != NULL)
    return g_strdup_printf ("%s/%s/%s", os, arch, variant);
  return g_strdup_printf ("%s/%s", os, arch);
}

char *
sv_platform_get_host (void)
{
  struct utsname name;
  g_autofree char *arch = NULL;
  g_autofree char *variant = NULL;

  if (uname (&name) != 0)
    return g_strdup ("linux/amd64");

  arch = normalize_architecture (name.machine);
  if (g_str_equal (arch, "arm") && g_str_has_prefix (name.machine, "armv")
      && g_ascii_isdigit (name.machine[4]))
    variant = g_strdup_printf ("v%c", name.machine[4]);
  else
    variant = normalize_variant (arch, NULL);

  return format_platform ("linux", arch, variant);
}

gboolean
sv_platform_parse (const char *text, char **os, char **architecture, char **variant, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, "/", -1);
  guint n = g_strv_length (parts);
  g_autofree char *arch = NULL;

  if (n < 2 || n > 3 || *parts[0] == '\0' || *parts[1] == '\0' || (n == 3 && *parts[2] == '\0'))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid platform \"%s\": expected os/arch[/variant] such as linux/amd64 or "
                   "linux/arm64/v8",
                   text);
      return FALSE;
    }

  arch = normalize_architecture (parts[1]);
  *variant = normalize_variant (arch, n == 3 ? parts[2] : NULL);
  *os = g_ascii_strdown (parts[0], -1);
  *architecture = g_steal_pointer (&arch);
  return TRUE;
}

/* The rank of an entry's variant for a request, lower is better; -1 when it
 * does not match. An arm request for vN also accepts older variants, newest
 * first, because a v7 CPU runs v6 and v5 code. */
static int
rank_variant (const char *arch, const char *requested, const char *offered)
{
  if (g_strcmp0 (requested, offered) == 0)
    return 0;

  if (g_str_equal (arch, "arm") && requested != NULL && offered != NULL && requested[0] == 'v'
      && offered[0] == 'v')
    {
      gint64 want = g_ascii_strtoll (requested + 1, NULL, 10);
      gint64 have = g_ascii_strtoll (offered + 1, NULL, 10);

      if (have > 0 && have < want)
        return (int)(want - have);
    }
  return -1;
}

static gboolean
is_runnable_entry (const SvDescriptor *entry)
{
  return entry->os != NULL && entry->architecture != NULL && *entry->os != '\0'
         && *entry->architecture != '\0' && !g_str_equal (entry->os, "unknown")
         && !g_str_equal (entry->architecture, "unknown");
}

const SvDescriptor *
sv_manifest_choose_platform (const SvManifest *index, const char *platform, GError **error)
{
  g_autofree char *host = NULL;
  g_autofree char *os = NULL;
  g_autofree char *arch = NULL;
  g_autofree char *variant = NULL;
  g_autofree char *wanted = NULL;
  g_autoptr (GString) available = g_string_new (NULL);
  const SvDescriptor *best = NULL;
  int best_rank = G_MAXINT;

  g_return_val_if_fail (index->kind == SV_MANIFEST_KIND_INDEX, NULL);

  if (platform == NULL)
    platform = host = sv_platform_get_host ();
  if (!sv_platform_parse (platform, &os, &arch, &variant, error))
    return NULL;

  for (guint i = 0; i < index->manifests->len; i++)
    {
      const SvDescriptor *entry = g_ptr_array_index (index->manifests, i);
      g_autofree char *name = NULL;
      int rank;

      /* Attestation manifests are listed as unknown/unknown and are not images. */
      if (!is_runnable_entry (entry))
        continue;

      name = format_platform (entry->os, entry->architecture, entry->variant);
      g_string_append_printf (available, "%s%s", available->len ? ", " : "", name);

      if (!g_str_equal (entry->os, os) || !g_str_equal (entry->architecture, arch))
        continue;
      rank = rank_variant (arch, variant, entry->variant);
      if (rank >= 0 && rank < best_rank)
        {
          best = entry;
          best_rank = rank;
        }
    }

  if (best != NULL)
    return best;

  wanted = format_platform (os, arch, variant);
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
               "no manifest for platform %s in the image index; it lists %s", wanted,
               available->len ? available->str : "no platforms");
  return NULL;
}

void
sv_image_config_info_free (SvImageConfigInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->os);
  g_free (info->architecture);
  g_free (info->variant);
  g_strfreev (info->diff_ids);
  g_free (info);
}

/* Read the platform and the layer diff ids of an image config. */
SvImageConfigInfo *
sv_image_config_info_parse (GBytes *bytes, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (SvImageConfigInfo) info = g_new0 (SvImageConfigInfo, 1);
  g_autoptr (GStrvBuilder) diff_ids = g_strv_builder_new ();
  JsonObject *root;
  JsonNode *rootfs_node;
  JsonObject *rootfs;
  JsonNode *ids_node;
  JsonArray *ids;

  root = parse_json_object (bytes, "image config", parser, error);
  if (root == NULL)
    return NULL;

  info->os = g_strdup (get_string_member (root, "os"));
  info->architecture = g_strdup (get_string_member (root, "architecture"));
  info->variant = g_strdup (get_string_member (root, "variant"));

  rootfs_node = json_object_get_member (root, "rootfs");
  if (rootfs_node == NULL || !JSON_NODE_HOLDS_OBJECT (rootfs_node))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid image config: \"rootfs\" is missing");
      return NULL;
    }
  rootfs = json_node_get_object (rootfs_node);
  if (g_strcmp0 (get_string_member (rootfs, "type"), "layers") != 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid image config: rootfs.type must be \"layers\"");
      return NULL;
    }

  ids_node = json_object_get_member (rootfs, "diff_ids");
  if (ids_node == NULL || !JSON_NODE_HOLDS_ARRAY (ids_node))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid image config: rootfs.diff_ids is missing or not a list");
      return NULL;
    }
  ids = json_node_get_array (ids_node);
  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      JsonNode *id = json_array_get_element (ids, i);
      const char *text = NULL;

      if (JSON_NODE_HOLDS_VALUE (id) && json_node_get_value_type (id) == G_TYPE_STRING)
        text = json_node_get_string (id);
      if (!sv_digest_is_valid (text))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid image config: diff id %u \"%s\" is not sha256: and 64 lowercase "
                       "hex digits",
                       i, text ? text : "(not a string)");
          return NULL;
        }
      g_strv_builder_add (diff_ids, text);
    }
  info->diff_ids = g_strv_builder_end (diff_ids);
  return g_steal_pointer (&info);
}
