/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* An image in the store: its config blob, its layers and the references that name it.
 * Everything but the references is fixed; the references change through SvImageStore,
 * which notifies "repo-tags" and "repo-digests" and emits "image-changed". */
#define SV_TYPE_IMAGE (sv_image_get_type ())
G_DECLARE_FINAL_TYPE (SvImage, sv_image, SV, IMAGE, GObject)

/* "sha256:HEX" of the image config blob, as docker's image id. */
const char *sv_image_get_id (SvImage *self);
/* Full references "docker.io/library/busybox:latest". A tag change replaces the array
 * without freeing the old one, but take a copy (sv_image_dup_repo_tags) to see a
 * consistent list while another thread may tag or untag this image. */
const char *const *sv_image_get_repo_tags (SvImage *self);
/* "docker.io/library/busybox@sha256:..."; see sv_image_get_repo_tags about threads. */
const char *const *sv_image_get_repo_digests (SvImage *self);
/* The manifest chosen for this platform. */
const char *sv_image_get_manifest_digest (SvImage *self);
/* Unix seconds from the config's "created", 0 when it has none. */
gint64 sv_image_get_created (SvImage *self);
/* Bytes of file content in the unpacked layers. */
guint64 sv_image_get_size (SvImage *self);
const char *sv_image_get_os (SvImage *self);
const char *sv_image_get_architecture (SvImage *self);
/* NULL when the config names no variant. */
const char *sv_image_get_variant (SvImage *self);
/* Layer diff_ids, bottom layer first. */
const char *const *sv_image_get_diff_ids (SvImage *self);
/* The compressed layer blobs of the manifest, bottom layer first; empty when the
 * manifest blob was not stored. */
const char *const *sv_image_get_layer_digests (SvImage *self);
/* The image config's "config" object (Env, Cmd, Entrypoint, WorkingDir, User...); an
 * empty object when the config has none. */
JsonObject *sv_image_get_config (SvImage *self);
/* The whole image config document. */
JsonObject *sv_image_get_config_document (SvImage *self);

/* Copies of the reference lists, safe to keep while other threads tag the image. */
GStrv sv_image_dup_repo_tags (SvImage *self);
GStrv sv_image_dup_repo_digests (SvImage *self);

G_END_DECLS
