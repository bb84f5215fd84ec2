/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Blobs addressed by digest ("sha256:<64 hex>") at DATA_ROOT/blobs/sha256/HEX, with
 * temporary files at DATA_ROOT/tmp. Blobs are verified while written and renamed into
 * place, so a crash never leaves a blob that does not match its digest. The same blob
 * written by two writers at once ends as one file. Safe to use from several threads. */
#define SV_TYPE_CONTENT_STORE (sv_content_store_get_type ())
G_DECLARE_FINAL_TYPE (SvContentStore, sv_content_store, SV, CONTENT_STORE, GObject)

SvContentStore *sv_content_store_new (const char *data_root, GError **error);

const char *sv_content_store_get_data_root (SvContentStore *self);
/* DATA_ROOT/tmp, on the same file system as the blobs. */
const char *sv_content_store_get_tmp_dir (SvContentStore *self);

gboolean sv_content_store_has_blob (SvContentStore *self, const char *digest);
/* The path where the blob is or would be; NULL for a malformed digest. */
char *sv_content_store_get_blob_path (SvContentStore *self, const char *digest);
/* NOT_FOUND when missing; INVALID_ARGUMENT when larger than max_size. */
GBytes *sv_content_store_read_blob (SvContentStore *self, const char *digest, gsize max_size,
                                    GError **error);
/* Stores bytes and returns their digest; DIGEST_MISMATCH when expected_digest (nullable)
 * differs. */
char *sv_content_store_add_bytes (SvContentStore *self, GBytes *bytes, const char *expected_digest,
                                  GError **error);
/* NOT_FOUND when the blob is not there. */
gboolean sv_content_store_remove_blob (SvContentStore *self, const char *digest, GError **error);
/* The digests of the stored blobs, in no particular order. */
GStrv sv_content_store_list_blobs (SvContentStore *self, GError **error);
/* Removes everything in DATA_ROOT/tmp: the leftovers of writes and unpacks that a crash
 * interrupted. Only while no writer or unpack of any store on this data root runs, so
 * only when the program opening the stores is the data root's only user. */
gboolean sv_content_store_clear_tmp (SvContentStore *self, GError **error);

typedef struct _SvBlobWriter SvBlobWriter;

/* Starts writing a blob to a temporary file. With expected_digest NULL the commit stores
 * the blob under the digest it computes. expected_size is -1 when unknown. */
SvBlobWriter *sv_content_store_begin_blob (SvContentStore *self, const char *expected_digest,
                                           gint64 expected_size, GError **error);
/* Fails with INVALID_ARGUMENT once more than expected_size bytes are written. */
gboolean sv_blob_writer_write (SvBlobWriter *writer, const void *data, gsize len, GError **error);
guint64 sv_blob_writer_get_written (SvBlobWriter *writer);
/* Checks size and sha256 (DIGEST_MISMATCH names both digests), fsyncs and renames the
 * blob into place. On any failure nothing is kept. */
gboolean sv_blob_writer_commit (SvBlobWriter *writer, GError **error);
/* The digest of the committed blob, or NULL before a successful commit. */
const char *sv_blob_writer_get_digest (SvBlobWriter *writer);
/* Removes the temporary file unless committed. */
void sv_blob_writer_free (SvBlobWriter *writer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvBlobWriter, sv_blob_writer_free)

G_END_DECLS
