/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Unpacked layers, one folder per layer at DATA_ROOT/layers/HEX (HEX of the diff_id), each
 * with a short symbolic link DATA_ROOT/l/NAME -> ../layers/HEX (see sv-overlay.h) that
 * container roots use as overlayfs lowerdir. A layer is unpacked into DATA_ROOT/tmp and
 * renamed into place, so a folder under layers/ is always complete. Safe to use from
 * several threads. */
#define SV_TYPE_LAYER_STORE (sv_layer_store_get_type ())
G_DECLARE_FINAL_TYPE (SvLayerStore, sv_layer_store, SV, LAYER_STORE, GObject)

SvLayerStore *sv_layer_store_new (const char *data_root, GError **error);

gboolean sv_layer_store_has_layer (SvLayerStore *self, const char *diff_id);
/* The folder where the layer is or would be; NULL for a malformed diff_id. */
char *sv_layer_store_get_layer_path (SvLayerStore *self, const char *diff_id);
/* Bytes of file content in the unpacked layer, 0 when the layer is missing. */
guint64 sv_layer_store_get_layer_size (SvLayerStore *self, const char *diff_id);

/* Unpacks the (gzip, zstd or plain) tar at blob_path with sv_layer_unpack into a
 * temporary folder, checks that the sha256 of the uncompressed tar equals
 * expected_diff_id (DIGEST_MISMATCH otherwise) and renames it into place. Nothing is kept
 * on error. Returns TRUE at once if the layer is already there. */
gboolean sv_layer_store_unpack (SvLayerStore *self, const char *blob_path,
                                const char *expected_diff_id, GCancellable *cancellable,
                                GError **error);
/* Creates the link of the layer unless it exists, and returns its path relative to
 * DATA_ROOT ("l/NAME"). Layers stored before links existed get theirs here. CONFLICT when
 * a link of that name points elsewhere. */
char *sv_layer_store_link_layer (SvLayerStore *self, const char *diff_id, GError **error);
/* Removes the layer and its link. NOT_FOUND when the layer is not there. */
gboolean sv_layer_store_remove_layer (SvLayerStore *self, const char *diff_id, GError **error);
/* The diff_ids of the unpacked layers, in no particular order. */
GStrv sv_layer_store_list_layers (SvLayerStore *self, GError **error);

G_END_DECLS
