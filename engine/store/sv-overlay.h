/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The overlayfs root of a container, mounted with paths relative to DATA_ROOT so that many
 * layers fit in the mount options, which mount(2) copies as one page:
 *
 *   lowerdir=l/LINK1:...:l/LINKn,upperdir=containers/ID/upper,workdir=containers/ID/work
 *
 * LINKi is a symbolic link DATA_ROOT/l/LINK -> ../layers/HEX, top layer first. A container
 * without layers uses containers/ID/empty as its only lowerdir. */

/* The folder below DATA_ROOT that contains the layer links. */
#define SV_OVERLAY_LINK_DIR "l"
/* Characters in a link name. */
#define SV_OVERLAY_LINK_NAME_LENGTH 26
/* The maximum number of lowerdirs that overlayfs stacks (OVL_MAX_STACK in Linux's fs/overlayfs). */
#define SV_OVERLAY_MAX_STACK 500

/* Returns the link name of a layer: the first 130 bits of its sha256 diff_id in base32
 * (A-Z, 2-7), or NULL when @diff_id is not a valid sha256 digest. */
char *sv_overlay_get_link_name (const char *diff_id);

/* Builds the mount options for container @container_id over the layers @diff_ids (top layer
 * first, may be empty). Fails with UNSUPPORTED when the options do not fit in a page or the
 * layers exceed SV_OVERLAY_MAX_STACK, and with INVALID_ARGUMENT for a malformed diff_id. */
char *sv_overlay_build_options (const char *const *diff_ids, const char *container_id,
                                GError **error);

/* Returns the maximum number of layers that sv_overlay_build_options accepts for a container
 * with a 64-character id. */
guint sv_overlay_get_max_layers (void);

G_END_DECLS
