/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "sv-content-store.h"
#include "sv-image.h"
#include "sv-layer-store.h"

G_BEGIN_DECLS

/* The images: one record per image at DATA_ROOT/images/HEX.json (HEX of the image id)
 * and the references naming them at DATA_ROOT/images/references.json, each written to a
 * temporary name and renamed. References are stored fully normalised with
 * sv_reference_parse: "busybox" is "docker.io/library/busybox:latest".
 *
 * Safe to call from several threads. The signals "image-added", "image-removed" and
 * "image-changed" (tags changed), each with the SvImage, are emitted in the thread that
 * made the change, after the change is saved. */
#define SV_TYPE_IMAGE_STORE (sv_image_store_get_type ())
G_DECLARE_FINAL_TYPE (SvImageStore, sv_image_store, SV, IMAGE_STORE, GObject)

/* Loads the records. A damaged references.json is an error and is left untouched. */
SvImageStore *sv_image_store_new (SvContentStore *content, SvLayerStore *layers,
                                  const char *data_root, GError **error);

/* Of SvImage*, owned references, newest first. */
GPtrArray *sv_image_store_list (SvImageStore *self);

/* Accepts "busybox", "busybox:1", "name@sha256:...", a full id "sha256:HEX", a hex id or
 * a unique hex prefix of at least 4 characters. NOT_FOUND names the text given ("image
 * not found: busybox:latest"); CONFLICT when a prefix matches several images. */
SvImage *sv_image_store_lookup (SvImageStore *self, const char *reference_or_id, GError **error);

/* Records the image whose config blob (config_digest, which is also its id) is in the
 * content store. Every diff_id must already be in the layer store, else NOT_FOUND. The
 * manifest blob, when stored, gives the layer blob digests that removal cleans up.
 * reference (nullable) is tagged to the image and moved from another image that had it.
 * A name@digest reference goes to repo-digests. Adding an image that is already there
 * only tags it. Returns the image (a new reference). */
SvImage *sv_image_store_add (SvImageStore *self, const char *manifest_digest,
                             const char *config_digest, const char *reference, GError **error);

/* Points reference at image, moving it from another image if needed. */
gboolean sv_image_store_tag (SvImageStore *self, SvImage *image, const char *reference,
                             GError **error);

/* Removes a stored reference, and the image with its last tag. An id removes the image,
 * which fails with CONFLICT when it has several tags and force is FALSE. Layers and blobs
 * that no other image uses are removed too. Callers check that no container uses it. */
gboolean sv_image_store_remove (SvImageStore *self, const char *reference_or_id, gboolean force,
                                GError **error);

/* Removes the layers in diff_ids and the blobs in blob_digests (both nullable, NULL
 * terminated) that no stored image uses. The check and the removal happen under the
 * store's lock, so content of an image that another thread adds stays, and
 * sv_image_store_add fails with NOT_FOUND for an image whose content went. Content that
 * a running pull or load still needs but has not yet recorded in an image is not
 * protected: the caller must know that nothing else relies on it. */
void sv_image_store_discard_unused (SvImageStore *self, const char *const *diff_ids,
                                    const char *const *blob_digests);

/* Removes everything in the data root's tmp folder, then the layers and blobs that no
 * image uses, and logs each removal with its size. Call it only as the data root's only
 * user opens it, before any pull or load starts. When an image record could not be read
 * at start, only the tmp folder is cleared, since that image's content is unknown. */
gboolean sv_image_store_collect_garbage (SvImageStore *self, GError **error);

G_END_DECLS
