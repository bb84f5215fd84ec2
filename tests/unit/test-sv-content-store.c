/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib/gstdio.h>
#include <string.h>

#include "sv-content-store.h"
#include "sv-engine-error.h"
#include "sv-fs.h"
#include "sv-sha256.h"

typedef struct
{
  char *root;
  char *tmp_dir;
  SvContentStore *store;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("servin-content-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = sv_content_store_new (f->root, &error);
  g_assert_no_error (error);
  f->tmp_dir = g_build_filename (f->root, "tmp", NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->store);
  g_assert_true (sv_fs_remove_tree (f->root, NULL));
  g_free (f->root);
  g_free (f->tmp_dir);
}

static guint
count_files (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir))
    n++;
  return n;
}

static void
test_add_and_read (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static ("hello", 5);
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = sv_sha256_digest_data ("hello", 5);
  g_autofree char *digest = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GBytes) back = NULL;

  digest = sv_content_store_add_bytes (f->store, bytes, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (digest, ==,
                   "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  g_assert_cmpstr (digest, ==, expected);
  g_assert_true (sv_content_store_has_blob (f->store, digest));

  path = sv_content_store_get_blob_path (f->store, digest);
  g_assert_true (
      g_str_has_suffix (path, "/blobs/sha256/"
                              "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  back = sv_content_store_read_blob (f->store, digest, 1024, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, bytes));
  g_assert_cmpuint (count_files (f->tmp_dir), ==, 0);
}

static void
test_read_limits (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static ("0123456789", 10);
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = sv_content_store_add_bytes (f->store, bytes, NULL, &error);
  g_autoptr (GBytes) back = NULL;
  const char *missing = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

  g_assert_no_error (error);
  back = sv_content_store_read_blob (f->store, digest, 9, &error);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_null (back);
  g_clear_error (&error);

  back = sv_content_store_read_blob (f->store, missing, 100, &error);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  back = sv_content_store_read_blob (f->store, "sha256:../../etc/passwd", 100, &error);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_null (sv_content_store_get_blob_path (f->store, "sha256:../../etc/passwd"));
}

static void
test_digest_mismatch (Fixture *f, gconstpointer data)
{
  const char *wrong = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
  g_autofree char *actual = sv_sha256_digest_data ("tampered", 8);
  g_autoptr (SvBlobWriter) writer = NULL;
  g_autoptr (GError) error = NULL;

  writer = sv_content_store_begin_blob (f->store, wrong, -1, &error);
  g_assert_no_error (error);
  g_assert_true (sv_blob_writer_write (writer, "tampered", 8, &error));
  g_assert_false (sv_blob_writer_commit (writer, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_DIGEST_MISMATCH);
  g_assert_nonnull (strstr (error->message, wrong));
  g_assert_nonnull (strstr (error->message, actual));
  g_clear_pointer (&writer, sv_blob_writer_free);

  g_assert_false (sv_content_store_has_blob (f->store, wrong));
  g_assert_false (sv_content_store_has_blob (f->store, actual));
  g_assert_cmpuint (count_files (f->tmp_dir), ==, 0);
}

static void
test_size_overrun (Fixture *f, gconstpointer data)
{
  g_autoptr (SvBlobWriter) writer = NULL;
  g_autoptr (GError) error = NULL;

  writer = sv_content_store_begin_blob (f->store, NULL, 3, &error);
  g_assert_no_error (error);
  g_assert_true (sv_blob_writer_write (writer, "ab", 2, &error));
  g_assert_false (sv_blob_writer_write (writer, "cd", 2, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (sv_blob_writer_get_written (writer), ==, 2);
  g_clear_error (&error);

  /* Too short is also rejected at commit. */
  g_assert_false (sv_blob_writer_commit (writer, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_clear_pointer (&writer, sv_blob_writer_free);

  g_assert_cmpuint (count_files (f->tmp_dir), ==, 0);
}

typedef struct
{
  SvContentStore *store;
  GBytes *data;
  const char *digest;
} WriteJob;

static gpointer
write_blob_thread (gpointer user_data)
{
  WriteJob *job = user_data;
  g_autoptr (SvBlobWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (job->data, &len);

  writer = sv_content_store_begin_blob (job->store, job->digest, len, &error);
  g_assert_no_error (error);
  for (gsize off = 0; off < len; off += 4096)
    {
      g_assert_true (sv_blob_writer_write (writer, p + off, MIN (4096, len - off), &error));
      g_thread_yield ();
    }
  sv_blob_writer_commit (writer, &error);
  g_assert_no_error (error);
  return NULL;
}

static void
test_concurrent_writes (Fixture *f, gconstpointer data)
{
  gsize len = 1024 * 1024;
  guint8 *buf = g_malloc (len);
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *blob_dir = g_build_filename (f->root, "blobs", "sha256", NULL);
  g_autoptr (GBytes) back = NULL;
  g_autoptr (GError) error = NULL;
  GThread *threads[8];
  WriteJob job;

  for (gsize i = 0; i < len; i++)
    buf[i] = (guint8)(i * 7 + i / 251);
  bytes = g_bytes_new_take (buf, len);
  digest = sv_sha256_digest_data (g_bytes_get_data (bytes, NULL), len);
  job = (WriteJob){ f->store, bytes, digest };

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("writer", write_blob_thread, &job);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (count_files (blob_dir), ==, 1);
  g_assert_cmpuint (count_files (f->tmp_dir), ==, 0);
  back = sv_content_store_read_blob (f->store, digest, len, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, bytes));
}

static void
test_remove (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static ("bye", 3);
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = sv_content_store_add_bytes (f->store, bytes, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (sv_content_store_remove_blob (f->store, digest, &error));
  g_assert_no_error (error);
  g_assert_false (sv_content_store_has_blob (f->store, digest));

  g_assert_false (sv_content_store_remove_blob (f->store, digest, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
}

static void
test_expected_digest_ok (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static ("abc", 3);
  g_autofree char *expected = sv_sha256_digest_data ("abc", 3);
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = sv_content_store_add_bytes (f->store, bytes, expected, &error);
  g_autofree char *again = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (digest, ==, expected);

  /* Adding a blob that is already there succeeds and keeps one copy. */
  again = sv_content_store_add_bytes (f->store, bytes, expected, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, expected);
  g_assert_cmpuint (count_files (f->tmp_dir), ==, 0);
}

static void
add_test (const char *path, void (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  add_test ("/servin/content-store/add-and-read", test_add_and_read);
  add_test ("/servin/content-store/read-limits", test_read_limits);
  add_test ("/servin/content-store/expected-digest", test_expected_digest_ok);
  add_test ("/servin/content-store/digest-mismatch", test_digest_mismatch);
  add_test ("/servin/content-store/size-overrun", test_size_overrun);
  add_test ("/servin/content-store/concurrent-writes", test_concurrent_writes);
  add_test ("/servin/content-store/remove", test_remove);

  return g_test_run ();
}
