/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "sv-engine-error.h"
#include "sv-manifest.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define D4 "sha256:4444444444444444444444444444444444444444444444444444444444444444"
#define D5 "sha256:5555555555555555555555555555555555555555555555555555555555555555"
#define D6 "sha256:6666666666666666666666666666666666666666666666666666666666666666"

static SvManifest *
parse_text (const char *text, const char *content_type, GError **error)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  return sv_manifest_parse (bytes, content_type, error);
}

static const char docker_manifest[]
    = "{\"schemaVersion\":2,"
      "\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
      "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
      "\"size\":1470,\"digest\":\"" D1 "\"},"
      "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
      "\"size\":100,\"digest\":\"" D2 "\"},"
      "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar\","
      "\"size\":200,\"digest\":\"" D3 "\"}]}";

static void
test_manifest_docker (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvManifest) manifest = parse_text (docker_manifest, NULL, &error);
  g_autoptr (GBytes) bytes = g_bytes_new_static (docker_manifest, strlen (docker_manifest));
  g_autofree char *checksum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  g_autofree char *expected_digest = g_strconcat ("sha256:", checksum, NULL);
  const SvDescriptor *layer;

  g_assert_no_error (error);
  g_assert_cmpint (manifest->kind, ==, SV_MANIFEST_KIND_IMAGE);
  g_assert_cmpstr (manifest->media_type, ==, SV_MEDIA_TYPE_DOCKER_MANIFEST);
  g_assert_cmpstr (manifest->config->digest, ==, D1);
  g_assert_cmpint (manifest->config->size, ==, 1470);
  g_assert_cmpuint (manifest->layers->len, ==, 2);

  layer = g_ptr_array_index (manifest->layers, 0);
  g_assert_cmpstr (layer->digest, ==, D2);
  g_assert_cmpint (layer->size, ==, 100);
  g_assert_cmpint (layer->compression, ==, SV_LAYER_COMPRESSION_GZIP);
  layer = g_ptr_array_index (manifest->layers, 1);
  g_assert_cmpint (layer->compression, ==, SV_LAYER_COMPRESSION_NONE);

  g_assert_cmpstr (manifest->digest, ==, expected_digest);
}

static void
test_manifest_oci (void)
{
  const char *text
      = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
        "\"size\":10,\"digest\":\"" D1 "\"},"
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\","
        "\"size\":5,\"digest\":\"" D2 "\"},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
        "\"size\":5,\"digest\":\"" D3 "\"},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
        "\"size\":5,\"digest\":\"" D4 "\"}],"
        "\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (SvManifest) manifest = parse_text (text, NULL, &error);
  const SvDescriptor *layer;

  g_assert_no_error (error);
  g_assert_cmpint (manifest->kind, ==, SV_MANIFEST_KIND_IMAGE);
  g_assert_cmpstr (manifest->media_type, ==, SV_MEDIA_TYPE_OCI_MANIFEST);
  g_assert_cmpuint (manifest->layers->len, ==, 3);
  layer = g_ptr_array_index (manifest->layers, 0);
  g_assert_cmpint (layer->compression, ==, SV_LAYER_COMPRESSION_ZSTD);
  layer = g_ptr_array_index (manifest->layers, 1);
  g_assert_cmpint (layer->compression, ==, SV_LAYER_COMPRESSION_GZIP);
  layer = g_ptr_array_index (manifest->layers, 2);
  g_assert_cmpint (layer->compression, ==, SV_LAYER_COMPRESSION_NONE);
}

static const char index_text[]
    = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
      "\"manifests\":["
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,"
      "\"digest\":\"" D1 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,"
      "\"digest\":\"" D2 "\",\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,"
      "\"digest\":\"" D3 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,"
      "\"digest\":\"" D4 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
      "\"variant\":\"v6\"}},"
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,"
      "\"digest\":\"" D5 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
      "\"variant\":\"v7\"}},"
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,"
      "\"digest\":\"" D6 "\",\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\","
      "\"os.version\":\"10.0.17763.1\"}}]}";

static void
test_manifest_index (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvManifest) index = parse_text (index_text, NULL, &error);
  const SvDescriptor *entry;

  g_assert_no_error (error);
  g_assert_cmpint (index->kind, ==, SV_MANIFEST_KIND_INDEX);
  g_assert_cmpstr (index->media_type, ==, SV_MEDIA_TYPE_OCI_INDEX);
  g_assert_cmpuint (index->manifests->len, ==, 6);
  g_assert_null (index->layers);

  entry = g_ptr_array_index (index->manifests, 0);
  g_assert_cmpstr (entry->os, ==, "linux");
  g_assert_cmpstr (entry->architecture, ==, "arm64");
  g_assert_cmpstr (entry->variant, ==, "v8");
}

static void
test_manifest_docker_list (void)
{
  const char *text
      = "{\"schemaVersion\":2,"
        "\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
        "\"manifests\":[{\"mediaType\":"
        "\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":7,"
        "\"digest\":\"" D1 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"x86_64\"}}]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (SvManifest) index = parse_text (text, NULL, &error);
  const SvDescriptor *entry;

  g_assert_no_error (error);
  g_assert_cmpint (index->kind, ==, SV_MANIFEST_KIND_INDEX);
  g_assert_cmpstr (index->media_type, ==, SV_MEDIA_TYPE_DOCKER_MANIFEST_LIST);
  entry = g_ptr_array_index (index->manifests, 0);
  g_assert_cmpstr (entry->architecture, ==, "amd64");
  g_assert_null (entry->variant);
}

static void
test_manifest_absent_media_type (void)
{
  const char *image = "{\"schemaVersion\":2,\"config\":{\"size\":10,\"digest\":\"" D1 "\"},"
                      "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                      "\"size\":5,\"digest\":\"" D2 "\"}]}";
  const char *index = "{\"schemaVersion\":2,\"manifests\":[{\"size\":1,\"digest\":\"" D1 "\","
                      "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (SvManifest) m1 = parse_text (image, NULL, &error);
  g_autoptr (SvManifest) m2 = NULL;
  g_autoptr (SvManifest) m3 = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (m1->kind, ==, SV_MANIFEST_KIND_IMAGE);
  g_assert_cmpstr (m1->media_type, ==, SV_MEDIA_TYPE_OCI_MANIFEST);

  m2 = parse_text (index, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (m2->kind, ==, SV_MANIFEST_KIND_INDEX);
  g_assert_cmpstr (m2->media_type, ==, SV_MEDIA_TYPE_OCI_INDEX);

  /* The Content-Type names the type when the document does not. */
  m3 = parse_text (index, SV_MEDIA_TYPE_DOCKER_MANIFEST_LIST "; charset=utf-8", &error);
  g_assert_no_error (error);
  g_assert_cmpint (m3->kind, ==, SV_MANIFEST_KIND_INDEX);
  g_assert_cmpstr (m3->media_type, ==, SV_MEDIA_TYPE_DOCKER_MANIFEST_LIST);
}

typedef struct
{
  const char *text;
  int code;
  const char *message_part;
} BadCase;

static const BadCase bad_cases[] = {
  { "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"latest\",\"fsLayers\":[]}",
    SV_ENGINE_ERROR_UNSUPPORTED, "schema 1" },
  { "{\"schemaVersion\":2,"
    "\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+prettyjws\"}",
    SV_ENGINE_ERROR_UNSUPPORTED, "schema 1" },
  { "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example+json\",\"layers\":[]}",
    SV_ENGINE_ERROR_UNSUPPORTED, "application/vnd.example+json" },
  { "{\"schemaVersion\":2,\"config\":{\"size\":10,\"digest\":\"" D1 "\"},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+bzip2\","
    "\"size\":5,\"digest\":\"" D2 "\"}]}",
    SV_ENGINE_ERROR_UNSUPPORTED, "application/vnd.oci.image.layer.v1.tar+bzip2" },
  { "{\"schemaVersion\":2,\"config\":{\"size\":10,\"digest\":\"" D1 "\"},"
    "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\","
    "\"size\":5,\"digest\":\"" D2 "\"}]}",
    SV_ENGINE_ERROR_UNSUPPORTED, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" },
  { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.cncf.helm.config.v1+json\","
    "\"size\":10,\"digest\":\"" D1 "\"},\"layers\":[]}",
    SV_ENGINE_ERROR_UNSUPPORTED, "application/vnd.cncf.helm.config.v1+json" },
  { "{\"schemaVersion\":2,\"config\":{\"size\":10,\"digest\":\"sha256:abc\"},\"layers\":[]}",
    SV_ENGINE_ERROR_INVALID_ARGUMENT, "sha256:abc" },
  { "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[]}",
    SV_ENGINE_ERROR_INVALID_ARGUMENT, "size" },
  { "{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1 "\"}}",
    SV_ENGINE_ERROR_INVALID_ARGUMENT, "layers" },
  { "{\"schemaVersion\":2}", SV_ENGINE_ERROR_INVALID_ARGUMENT, "mediaType" },
  { "{\"layers\":[]}", SV_ENGINE_ERROR_INVALID_ARGUMENT, "schemaVersion" },
  { "[1,2]", SV_ENGINE_ERROR_INVALID_ARGUMENT, "not a JSON object" },
  { "{\"schemaVersion\":2,", SV_ENGINE_ERROR_INVALID_ARGUMENT, "invalid manifest" },
  { "", SV_ENGINE_ERROR_INVALID_ARGUMENT, "invalid manifest" },
};

static void
test_manifest_invalid (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SvManifest) manifest = parse_text (bad_cases[i].text, NULL, &error);

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, bad_cases[i].text);
      g_assert_null (manifest);
      g_assert_error (error, SV_ENGINE_ERROR, bad_cases[i].code);
      g_test_message ("message: %s", error->message);
      g_assert_nonnull (strstr (error->message, bad_cases[i].message_part));
    }
}

/* Pad a valid manifest with spaces to @size bytes. */
static GBytes *
make_padded_manifest (gsize size)
{
  gsize len = strlen (docker_manifest);
  char *data = g_malloc (size);

  g_assert_cmpuint (size, >, len);
  memcpy (data, docker_manifest, len);
  memset (data + len, ' ', size - len);
  return g_bytes_new_take (data, size);
}

static void
test_manifest_size_limit (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) at_limit = make_padded_manifest (SV_MANIFEST_MAX_SIZE);
  g_autoptr (GBytes) over_limit = make_padded_manifest (SV_MANIFEST_MAX_SIZE + 1);
  g_autoptr (SvManifest) accepted = sv_manifest_parse (at_limit, NULL, &error);
  g_autoptr (SvManifest) rejected = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (accepted);

  rejected = sv_manifest_parse (over_limit, NULL, &error);
  g_assert_null (rejected);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "4194305 bytes"));
  g_assert_nonnull (strstr (error->message, "4 MiB"));
}

typedef struct
{
  const char *platform;
  const char *digest; /* NULL: NOT_FOUND expected */
} PlatformCase;

static const PlatformCase platform_cases[] = {
  { "linux/amd64", D3 },    { "linux/x86_64", D3 },      { "linux/arm64", D1 },
  { "linux/arm64/v8", D1 }, { "linux/aarch64", D1 },     { "linux/arm64/v9", NULL },
  { "linux/arm/v7", D5 },   { "linux/arm", D5 },         { "linux/arm/v8", D5 },
  { "linux/arm/v6", D4 },   { "linux/arm/v5", NULL },    { "windows/amd64", D6 },
  { "linux/s390x", NULL },  { "unknown/unknown", NULL }, { "LINUX/AMD64", D3 },
};

static void
test_manifest_choose_platform (void)
{
  g_autoptr (SvManifest) index = parse_text (index_text, NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (platform_cases); i++)
    {
      const PlatformCase *c = &platform_cases[i];
      g_autoptr (GError) error = NULL;
      const SvDescriptor *entry = sv_manifest_choose_platform (index, c->platform, &error);

      g_test_message ("platform %s", c->platform);
      if (c->digest != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (entry->digest, ==, c->digest);
        }
      else
        {
          g_assert_null (entry);
          g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
          g_test_message ("message: %s", error->message);
          g_assert_nonnull (strstr (error->message, "linux/amd64, "));
          g_assert_nonnull (strstr (error->message, "linux/arm64/v8"));
          g_assert_null (strstr (error->message, "unknown/unknown,"));
          g_assert_null (strstr (error->message, ", unknown/unknown"));
        }
    }
}

static void
test_manifest_platform_not_found_message (void)
{
  g_autoptr (SvManifest) index = parse_text (index_text, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_null (sv_manifest_choose_platform (index, "linux/s390x", &error));
  g_assert_cmpstr (error->message, ==,
                   "no manifest for platform linux/s390x in the image index; it lists "
                   "linux/arm64/v8, linux/amd64, linux/arm/v6, linux/arm/v7, windows/amd64");
}

static void
test_manifest_platform_only_attestations (void)
{
  const char *text = "{\"schemaVersion\":2,\"manifests\":[{\"size\":1,\"digest\":\"" D1 "\","
                     "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
                     "{\"size\":1,\"digest\":\"" D2 "\"}]}";
  g_autoptr (SvManifest) index = parse_text (text, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_null (sv_manifest_choose_platform (index, "linux/amd64", &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "linux/amd64"));
  g_assert_nonnull (strstr (error->message, "no platforms"));
}

static void
test_manifest_platform_host (void)
{
  g_autoptr (SvManifest) index = parse_text (index_text, NULL, NULL);
  g_autofree char *host = sv_platform_get_host ();
  g_autoptr (GError) error = NULL;
  const SvDescriptor *entry;

  g_assert_true (g_str_has_prefix (host, "linux/"));
  entry = sv_manifest_choose_platform (index, NULL, &error);
#if defined(__x86_64__)
  g_assert_cmpstr (host, ==, "linux/amd64");
  g_assert_no_error (error);
  g_assert_cmpstr (entry->digest, ==, D3);
#elif defined(__aarch64__)
  g_assert_cmpstr (host, ==, "linux/arm64/v8");
  g_assert_no_error (error);
  g_assert_cmpstr (entry->digest, ==, D1);
#else
  (void)entry;
#endif
}

static void
test_manifest_platform_invalid (void)
{
  const char *texts[] = { "linux", "linux/", "/amd64", "linux/arm/v7/x", "linux/arm/" };
  g_autoptr (SvManifest) index = parse_text (index_text, NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_null (sv_manifest_choose_platform (index, texts[i], &error));
      g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, texts[i]));
    }
}

static void
test_manifest_config_info (void)
{
  const char *text = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
                     "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";
  g_autoptr (GBytes) bytes = g_bytes_new_static (text, strlen (text));
  g_autoptr (GError) error = NULL;
  g_autoptr (SvImageConfigInfo) info = sv_image_config_info_parse (bytes, &error);
  const char *bad = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:zz\"]}}";
  g_autoptr (GBytes) bad_bytes = g_bytes_new_static (bad, strlen (bad));
  g_autoptr (SvImageConfigInfo) bad_info = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (info->os, ==, "linux");
  g_assert_cmpstr (info->architecture, ==, "amd64");
  g_assert_cmpuint (g_strv_length (info->diff_ids), ==, 2);
  g_assert_cmpstr (info->diff_ids[1], ==, D2);

  bad_info = sv_image_config_info_parse (bad_bytes, &error);
  g_assert_null (bad_info);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "sha256:zz"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/servin/manifest/docker", test_manifest_docker);
  g_test_add_func ("/servin/manifest/oci", test_manifest_oci);
  g_test_add_func ("/servin/manifest/oci-index", test_manifest_index);
  g_test_add_func ("/servin/manifest/docker-list", test_manifest_docker_list);
  g_test_add_func ("/servin/manifest/absent-media-type", test_manifest_absent_media_type);
  g_test_add_func ("/servin/manifest/invalid", test_manifest_invalid);
  g_test_add_func ("/servin/manifest/size-limit", test_manifest_size_limit);
  g_test_add_func ("/servin/manifest/choose-platform", test_manifest_choose_platform);
  g_test_add_func ("/servin/manifest/platform-not-found-message",
                   test_manifest_platform_not_found_message);
  g_test_add_func ("/servin/manifest/platform-only-attestations",
                   test_manifest_platform_only_attestations);
  g_test_add_func ("/servin/manifest/platform-host", test_manifest_platform_host);
  g_test_add_func ("/servin/manifest/platform-invalid", test_manifest_platform_invalid);
  g_test_add_func ("/servin/manifest/config-info", test_manifest_config_info);
  return g_test_run ();
}
