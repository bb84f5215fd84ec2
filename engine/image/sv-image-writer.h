/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "sv-content-store.h"
#include "sv-manifest.h"

G_BEGIN_DECLS

#define SV_MEDIA_TYPE_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define SV_MEDIA_TYPE_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define SV_MEDIA_TYPE_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define SV_MEDIA_TYPE_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define SV_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

/* Writes images: layer tars, configs, manifests and indexes, as blobs into either an OCI
 * image layout folder or the engine's content store. save, commit and build all write
 * through it. */
#define SV_TYPE_IMAGE_WRITER (sv_image_writer_get_type ())
G_DECLARE_FINAL_TYPE (SvImageWriter, sv_image_writer, SV, IMAGE_WRITER, GObject)

/* Creates (or adds to) an OCI image layout at dir: oci-layout, blobs/sha256/ and an
 * index.json written by sv_image_writer_finish. */
SvImageWriter *sv_image_writer_new_for_layout (const char *dir, GError **error);
/* Writes blobs into the content store; there is no index.json. */
SvImageWriter *sv_image_writer_new_for_store (SvContentStore *content);

/* Stores bytes as a blob and describes it. */
SvDescriptor *sv_image_writer_add_blob (SvImageWriter *self, const char *media_type, GBytes *bytes,
                                        GError **error);
/* Stores the object as compact JSON. */
SvDescriptor *sv_image_writer_add_json (SvImageWriter *self, const char *media_type,
                                        JsonObject *object, GError **error);

/* The parts of an image config that images built here set. */
typedef struct
{
  const char *os;           /* "linux" */
  const char *architecture; /* OCI names: "amd64", "arm64" */
  const char *variant;      /* nullable: "v8" */
  gint64 created;           /* unix seconds */
  const char *const *env;   /* nullable lists, as in the docker config */
  const char *const *cmd;
  const char *const *entrypoint;
  const char *working_dir;    /* nullable */
  const char *user;           /* nullable */
  const char *const *history; /* nullable: one "created_by" text per layer */
} SvImageConfigSpec;

/* Builds an image config document with rootfs.diff_ids set to diff_ids. */
JsonObject *sv_image_config_new (const SvImageConfigSpec *spec, const char *const *diff_ids);
SvDescriptor *sv_image_writer_write_config (SvImageWriter *self, JsonObject *config,
                                            GError **error);
/* Builds an OCI image manifest for the config and layers (SvDescriptor*, bottom first). */
JsonObject *sv_image_manifest_new (const SvDescriptor *config, GPtrArray *layers);
/* Stores the manifest of sv_image_manifest_new as compact JSON. */
SvDescriptor *sv_image_writer_write_manifest (SvImageWriter *self, const SvDescriptor *config,
                                              GPtrArray *layers, GError **error);
/* An OCI image index of manifests (SvDescriptor* with os and architecture set). */
SvDescriptor *sv_image_writer_write_index (SvImageWriter *self, GPtrArray *manifests,
                                           GError **error);

/* Lists a manifest or index in the layout's index.json, annotated with ref_name
 * (nullable) as org.opencontainers.image.ref.name. Only for layout writers. */
void sv_image_writer_add_layout_entry (SvImageWriter *self, const SvDescriptor *descriptor,
                                       const char *ref_name);
/* Writes the layout's index.json. */
gboolean sv_image_writer_finish (SvImageWriter *self, GError **error);

/* Packs an OCI image layout folder into an uncompressed tar (oci-layout and index.json
 * first), as `docker save` and skopeo's oci-archive expect. */
gboolean sv_image_writer_write_layout_tar (const char *layout_dir, const char *tar_path,
                                           GError **error);

/* Builds one layer tar. Entries are written in the order added; paths are relative to
 * the image root ("etc/passwd"). */
typedef struct _SvLayerWriter SvLayerWriter;

SvLayerWriter *sv_image_writer_begin_layer (SvImageWriter *self, SvLayerCompression compression,
                                            GError **error);
/* The modification time of the entries added with the calls below, in unix seconds;
 * the default is the time the layer was begun. */
void sv_layer_writer_set_mtime (SvLayerWriter *writer, gint64 mtime);
gboolean sv_layer_writer_add_directory (SvLayerWriter *writer, const char *path, guint mode,
                                        guint uid, guint gid, GError **error);
gboolean sv_layer_writer_add_file (SvLayerWriter *writer, const char *path, guint mode, guint uid,
                                   guint gid, GBytes *contents, GError **error);
/* Adds the host file at host_path (contents, mode and times) as path. */
gboolean sv_layer_writer_add_host_file (SvLayerWriter *writer, const char *path,
                                        const char *host_path, guint uid, guint gid,
                                        GError **error);
gboolean sv_layer_writer_add_symlink (SvLayerWriter *writer, const char *path, const char *target,
                                      guint uid, guint gid, GError **error);
/* A hard link to an earlier entry of this layer. */
gboolean sv_layer_writer_add_hardlink (SvLayerWriter *writer, const char *path, const char *target,
                                       GError **error);
/* An OCI whiteout: deletes path from the layers below. */
gboolean sv_layer_writer_add_whiteout (SvLayerWriter *writer, const char *path, GError **error);
/* An OCI opaque marker: hides everything below dir in the layers below. */
gboolean sv_layer_writer_add_opaque (SvLayerWriter *writer, const char *dir, GError **error);
/* Adds every file below host_dir with its owner, mode, times, extended attributes and hard
 * links, under prefix ("" for the root), in sorted order. */
gboolean sv_layer_writer_add_tree (SvLayerWriter *writer, const char *host_dir, const char *prefix,
                                   GError **error);
/* Ends the tar and stores the blob. Returns its descriptor; *out_diff_id (nullable) is the
 * sha256 of the uncompressed tar. */
SvDescriptor *sv_layer_writer_finish (SvLayerWriter *writer, char **out_diff_id, GError **error);
void sv_layer_writer_free (SvLayerWriter *writer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvLayerWriter, sv_layer_writer_free)

G_END_DECLS
