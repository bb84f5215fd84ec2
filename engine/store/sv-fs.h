/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes NAME below dirfd and everything inside it without following symbolic links.
 * A missing NAME is not an error. Sets errno and returns FALSE on failure. */
gboolean sv_fs_remove_tree_at (int dirfd, const char *name);

/* Removes a file or folder tree like `rm -rf PATH`, never following symbolic links. */
gboolean sv_fs_remove_tree (const char *path, GError **error);

/* Creates a fresh folder below parent with a random suffix after prefix and returns
 * its path. */
char *sv_fs_make_temp_dir (const char *parent, const char *prefix, GError **error);

/* Returns the bytes in the regular files of a file or folder tree, without following
 * symbolic links. Entries that cannot be read count as 0 bytes. */
guint64 sv_fs_tree_size (const char *path);

G_END_DECLS
