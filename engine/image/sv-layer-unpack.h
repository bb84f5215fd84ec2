/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Unpacks the layer tar at blob_path (plain, gzip or zstd) into dest_dir, an existing
 * empty folder, in one pass that also hashes the uncompressed tar stream.
 *
 * Entries keep their owners, modes, times, extended attributes (except trusted.overlay.*,
 * which only the whiteout markers may set), device nodes, fifos and hard links. OCI
 * whiteouts become overlayfs ones: ".wh.NAME" becomes a 0/0 character device NAME and
 * ".wh..wh..opq" sets trusted.overlay.opaque="y" on its folder. Missing parent folders
 * are created 0755. Symbolic link targets are stored as they are.
 *
 * Every path is resolved relative to dest_dir with openat2 (RESOLVE_BENEATH and
 * RESOLVE_NO_MAGICLINKS), so an absolute name, a ".." component, a symbolic link that
 * leads out of dest_dir, or a hard link whose target lies outside it fails with
 * SV_ENGINE_ERROR_UNSAFE_PATH naming the entry. Relative symbolic links that stay inside
 * dest_dir are followed, as a chroot would.
 *
 * On success the file system is synced once (syncfs), *out_diff_id (nullable) is
 * "sha256:HEX" of the uncompressed tar and *out_size (nullable) the bytes of file content
 * written. On failure dest_dir is left partly filled; the caller removes it. */
gboolean sv_layer_unpack (const char *blob_path, const char *dest_dir, char **out_diff_id,
                          guint64 *out_size, GCancellable *cancellable, GError **error);

G_END_DECLS
