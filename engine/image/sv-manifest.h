/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SV_MEDIA_TYPE_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define SV_MEDIA_TYPE_DOCKER_MANIFEST_LIST                                                         \
  "application/vnd.docker.distribution.manifest.list.v2+json"
#define SV_MEDIA_TYPE_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define SV_MEDIA_TYPE_OCI_INDEX "application/vnd.oci.image.index.v1+json"

/* The Accept header value for manifest requests: all four types above. */
#define SV_MANIFEST_ACCEPT                                                                         \
  SV_MEDIA_TYPE_OCI_INDEX ", " SV_MEDIA_TYPE_DOCKER_MANIFEST_LIST ", " SV_MEDIA_TYPE_OCI_MANIFEST  \
                          ", " SV_MEDIA_TYPE_DOCKER_MANIFEST

/* Manifests and image configs larger than this are rejected before parsing. */
#define SV_MANIFEST_MAX_SIZE (4 * 1024 * 1024)

typedef enum
{
  SV_MANIFEST_KIND_IMAGE, /* one platform's config and layers */
  SV_MANIFEST_KIND_INDEX, /* a list of manifests, one per platform */
} SvManifestKind;

typedef enum
{
  SV_LAYER_COMPRESSION_NONE,
  SV_LAYER_COMPRESSION_GZIP,
  SV_LAYER_COMPRESSION_ZSTD,
} SvLayerCompression;

/* A content descriptor: a layer, a config or an index entry. */
typedef struct
{
  char *media_type;
  char *digest; /* "sha256:..." */
  gint64 size;
  SvLayerCompression compression; /* layers only */
  /* Index entries only; NULL when the entry has no platform. */
  char *os;
  char *architecture;
  char *variant;
} SvDescriptor;

typedef struct
{
  SvManifestKind kind;
  char *media_type;     /* from the document, the Content-Type, or deduced */
  char *digest;         /* sha256 of the bytes parsed */
  SvDescriptor *config; /* image manifests */
  GPtrArray *layers;    /* image manifests: SvDescriptor, bottom layer first */
  GPtrArray *manifests; /* indexes: SvDescriptor, in document order */
} SvManifest;

SvManifest *sv_manifest_parse (GBytes *bytes, const char *content_type, GError **error);
void sv_manifest_free (SvManifest *manifest);
void sv_descriptor_free (SvDescriptor *descriptor);

/* The host's platform as "os/arch[/variant]" in OCI names: "linux/amd64". */
char *sv_platform_get_host (void);

/* Split "os/arch[/variant]" and normalise the names: x86_64 is amd64,
 * aarch64 is arm64, and arm64 without a variant is arm64/v8. */
gboolean sv_platform_parse (const char *text, char **os, char **architecture, char **variant,
                            GError **error);

/* The index entry for @platform (NULL: the host's). Entries for os or
 * architecture "unknown" (attestations) are never chosen. NOT_FOUND names the
 * platform and the ones the index lists. */
const SvDescriptor *sv_manifest_choose_platform (const SvManifest *index, const char *platform,
                                                 GError **error);

/* The parts of an image config that a pull needs. */
typedef struct
{
  char *os;
  char *architecture;
  char *variant;
  GStrv diff_ids; /* bottom layer first */
} SvImageConfigInfo;

SvImageConfigInfo *sv_image_config_info_parse (GBytes *bytes, GError **error);
void sv_image_config_info_free (SvImageConfigInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvManifest, sv_manifest_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvDescriptor, sv_descriptor_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvImageConfigInfo, sv_image_config_info_free)

G_END_DECLS
