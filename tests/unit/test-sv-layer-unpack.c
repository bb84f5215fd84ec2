/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "sv-engine-error.h"
#include "sv-fs.h"
#include "sv-layer-store.h"
#include "sv-layer-unpack.h"
#include "sv-sha256.h"

typedef struct
{
  char type; /* f file, d folder, l symlink, h hard link, c char device, p fifo */
  const char *path;
  const char *value; /* file content, or link target */
  guint mode;
} Entry;

typedef struct
{
  char *root;
  char *data_root;
  SvLayerStore *layers;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("servin-unpack-XXXXXX", &error);
  g_assert_no_error (error);
  f->data_root = g_build_filename (f->root, "data", NULL);
  f->layers = sv_layer_store_new (f->data_root, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_clear_object (&f->layers);
  sv_fs_remove_tree (f->root, &error);
  g_assert_no_error (error);
  g_free (f->data_root);
  g_free (f->root);
}

static void
add_entry (struct archive *a, const Entry *e)
{
  g_autoptr (GString) name = g_string_new (e->path);
  struct archive_entry *ae = archive_entry_new ();
  gsize len = 0;

  archive_entry_set_pathname (ae, name->str);
  archive_entry_set_uid (ae, 0);
  archive_entry_set_gid (ae, 0);
  archive_entry_set_mtime (ae, 1700000000, 0);
  archive_entry_set_perm (ae, e->mode ? e->mode : 0644);

  switch (e->type)
    {
    case 'f':
      len = e->value ? strlen (e->value) : 0;
      archive_entry_set_filetype (ae, AE_IFREG);
      archive_entry_set_size (ae, len);
      break;
    case 'd':
      archive_entry_set_filetype (ae, AE_IFDIR);
      archive_entry_set_perm (ae, e->mode ? e->mode : 0755);
      break;
    case 'l':
      archive_entry_set_filetype (ae, AE_IFLNK);
      archive_entry_set_symlink (ae, e->value);
      archive_entry_set_perm (ae, 0777);
      break;
    case 'h':
      archive_entry_set_filetype (ae, AE_IFREG);
      archive_entry_set_hardlink (ae, e->value);
      break;
    case 'c':
      archive_entry_set_filetype (ae, AE_IFCHR);
      archive_entry_set_rdev (ae, makedev (1, 3));
      break;
    case 'p':
      archive_entry_set_filetype (ae, AE_IFIFO);
      break;
    default:
      g_assert_not_reached ();
    }

  g_assert_cmpint (archive_write_header (a, ae), ==, ARCHIVE_OK);
  if (len > 0)
    g_assert_cmpint (archive_write_data (a, e->value, len), ==, len);
  archive_entry_free (ae);
}

/* Writes a tar (filter: ARCHIVE_FILTER_NONE, _GZIP or _ZSTD) and returns its path. */
static char *
write_tar (Fixture *f, const char *name, int filter, const Entry *entries, gsize n)
{
  char *path = g_build_filename (f->root, name, NULL);
  struct archive *a = archive_write_new ();

  archive_write_set_format_pax_restricted (a);
  if (filter == ARCHIVE_FILTER_GZIP)
    archive_write_add_filter_gzip (a);
  else if (filter == ARCHIVE_FILTER_ZSTD)
    archive_write_add_filter_zstd (a);
  g_assert_cmpint (archive_write_open_filename (a, path), ==, ARCHIVE_OK);

  for (gsize i = 0; i < n; i++)
    add_entry (a, &entries[i]);

  g_assert_cmpint (archive_write_close (a), ==, ARCHIVE_OK);
  archive_write_free (a);
  return path;
}

/* The diff_id a layer tar must have: the sha256 of its uncompressed bytes. */
static char *
diff_id_of (Fixture *f, const Entry *entries, gsize n)
{
  g_autofree char *plain = write_tar (f, "plain.tar", ARCHIVE_FILTER_NONE, entries, n);
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (plain, &contents, &len, NULL));
  g_unlink (plain);
  return sv_sha256_digest_data (contents, len);
}

static char *
unpack_ok (Fixture *f, const char *name, int filter, const Entry *entries, gsize n)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *diff_id = diff_id_of (f, entries, n);
  g_autofree char *tar = write_tar (f, name, filter, entries, n);

  sv_layer_store_unpack (f->layers, tar, diff_id, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (sv_layer_store_has_layer (f->layers, diff_id));
  return sv_layer_store_get_layer_path (f->layers, diff_id);
}

static gsize
count_children (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  gsize n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
test_unpack_regular (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'd', "./", NULL, 0755 },
    { 'd', "etc", NULL, 0755 },
    { 'f', "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644 },
    { 'f', "bin/tool", "#!/bin/sh\n", 04755 },
    { 'd', "tmp", NULL, 01777 },
    { 'l', "bin/sh", "/bin/busybox" },
    { 'l', "lib", "usr/lib" },
    { 'h', "bin/tool-link", "bin/tool" },
    { 'c', "dev/null", NULL, 0666 },
    { 'p', "run/fifo", NULL, 0600 },
  };
  g_autofree char *layer
      = unpack_ok (f, "regular.tar.gz", ARCHIVE_FILTER_GZIP, entries, G_N_ELEMENTS (entries));
  g_autofree char *passwd = g_build_filename (layer, "etc/passwd", NULL);
  g_autofree char *tool = g_build_filename (layer, "bin/tool", NULL);
  g_autofree char *tool_link = g_build_filename (layer, "bin/tool-link", NULL);
  g_autofree char *sh = g_build_filename (layer, "bin/sh", NULL);
  g_autofree char *bin = g_build_filename (layer, "bin", NULL);
  g_autofree char *tmp = g_build_filename (layer, "tmp", NULL);
  g_autofree char *null = g_build_filename (layer, "dev/null", NULL);
  g_autofree char *fifo = g_build_filename (layer, "run/fifo", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *target = NULL;
  struct stat st, st2;

  g_assert_true (g_file_get_contents (passwd, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "root:x:0:0::/root:/bin/sh\n");
  g_assert_cmpint (lstat (passwd, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0644);
  g_assert_cmpint (st.st_mtime, ==, 1700000000);

  g_assert_cmpint (lstat (tool, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 04755);
  g_assert_cmpint (lstat (tool_link, &st2), ==, 0);
  g_assert_cmpint (st.st_ino, ==, st2.st_ino);
  g_assert_cmpint (st.st_nlink, ==, 2);

  target = g_file_read_link (sh, NULL);
  g_assert_cmpstr (target, ==, "/bin/busybox");

  /* A missing parent is created 0755. */
  g_assert_cmpint (lstat (bin, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0755);

  g_assert_cmpint (lstat (tmp, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 01777);
  g_assert_cmpint (st.st_mtime, ==, 1700000000);

  g_assert_cmpint (lstat (null, &st), ==, 0);
  g_assert_true (S_ISCHR (st.st_mode));
  g_assert_cmpint (major (st.st_rdev), ==, 1);
  g_assert_cmpint (minor (st.st_rdev), ==, 3);
  g_assert_cmpint (st.st_mode & 07777, ==, 0666);

  g_assert_cmpint (lstat (fifo, &st), ==, 0);
  g_assert_true (S_ISFIFO (st.st_mode));
}

static void
test_unpack_owner_xattr (Fixture *f, gconstpointer data)
{
  g_autofree char *tar = g_build_filename (f->root, "owner.tar", NULL);
  g_autofree char *dest = g_build_filename (f->root, "dest", NULL);
  g_autofree char *file = g_build_filename (dest, "file", NULL);
  g_autoptr (GError) error = NULL;
  struct archive *a = archive_write_new ();
  struct archive_entry *ae = archive_entry_new ();
  char value[16] = { 0 };
  struct stat st;
  guint64 size = 0;

  archive_write_set_format_pax (a);
  g_assert_cmpint (archive_write_open_filename (a, tar), ==, ARCHIVE_OK);
  archive_entry_set_pathname (ae, "file");
  archive_entry_set_filetype (ae, AE_IFREG);
  archive_entry_set_perm (ae, 0640);
  archive_entry_set_uid (ae, 1234);
  archive_entry_set_gid (ae, 5678);
  archive_entry_set_size (ae, 5);
  archive_entry_xattr_add_entry (ae, "user.servin", "hello", 5);
  archive_entry_xattr_add_entry (ae, "trusted.overlay.redirect", "/x", 2);
  g_assert_cmpint (archive_write_header (a, ae), ==, ARCHIVE_OK);
  archive_write_data (a, "12345", 5);
  archive_write_close (a);
  archive_write_free (a);
  archive_entry_free (ae);

  g_assert_cmpint (g_mkdir (dest, 0755), ==, 0);
  sv_layer_unpack (tar, dest, NULL, &size, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (size, ==, 5);

  g_assert_cmpint (lstat (file, &st), ==, 0);
  g_assert_cmpint (st.st_uid, ==, 1234);
  g_assert_cmpint (st.st_gid, ==, 5678);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640);
  g_assert_cmpint (lgetxattr (file, "user.servin", value, sizeof value), ==, 5);
  g_assert_cmpstr (value, ==, "hello");
  /* Overlay metadata from a layer entry is dropped. */
  g_assert_cmpint (lgetxattr (file, "trusted.overlay.redirect", value, sizeof value), ==, -1);
}

static void
test_unpack_zstd (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'f', "hello.txt", "hello from zstd\n" },
  };
  g_autofree char *layer
      = unpack_ok (f, "layer.tar.zst", ARCHIVE_FILTER_ZSTD, entries, G_N_ELEMENTS (entries));
  g_autofree char *hello = g_build_filename (layer, "hello.txt", NULL);
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (hello, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "hello from zstd\n");
}

static void
test_unpack_diff_id_mismatch (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'f', "a", "a" },
  };
  g_autofree char *tar = write_tar (f, "a.tar.gz", ARCHIVE_FILTER_GZIP, entries, 1);
  const char *wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  g_autofree char *tmp = g_build_filename (f->data_root, "tmp", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (sv_layer_store_unpack (f->layers, tar, wrong, NULL, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_DIGEST_MISMATCH);
  g_assert_nonnull (strstr (error->message, wrong));
  g_assert_false (sv_layer_store_has_layer (f->layers, wrong));
  g_assert_cmpuint (count_children (tmp), ==, 0);
}

static void
test_unpack_corrupt (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->root, "corrupt.tar.gz", NULL);
  const char *digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  /* A gzip header followed by garbage. */
  const char junk[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-garbage-garbage";
  g_autofree char *tmp = g_build_filename (f->data_root, "tmp", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, junk, sizeof junk, NULL));
  g_assert_false (sv_layer_store_unpack (f->layers, path, digest, NULL, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (count_children (tmp), ==, 0);
}

static void
test_unpack_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) big = g_string_new (NULL);
  g_autofree char *tar = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *tmp = g_build_filename (f->data_root, "tmp", NULL);
  g_autofree char *layers = g_build_filename (f->data_root, "layers", NULL);
  const char *digest = "sha256:4444444444444444444444444444444444444444444444444444444444444444";
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  /* Enough incompressible data that the stream spans several decompressed chunks. */
  for (guint i = 0; i < 3 * 1024 * 1024 / 8; i++)
    g_string_append_printf (big, "%08x", g_random_int ());
  {
    const Entry entries[] = {
      { 'f', "big", big->str },
      { 'f', "after", "after\n" },
    };
    tar = write_tar (f, "big.tar.gz", ARCHIVE_FILTER_GZIP, entries, G_N_ELEMENTS (entries));
  }

  g_assert_true (g_file_get_contents (tar, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (tar, contents, len / 2, NULL));

  g_assert_false (sv_layer_store_unpack (f->layers, tar, digest, NULL, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (count_children (tmp), ==, 0);
  g_assert_cmpuint (count_children (layers), ==, 0);
}

static void
test_unpack_cancelled (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'f', "a", "a" },
  };
  g_autofree char *tar = write_tar (f, "cancel.tar", ARCHIVE_FILTER_NONE, entries, 1);
  g_autofree char *diff_id = diff_id_of (f, entries, 1);
  g_autofree char *tmp = g_build_filename (f->data_root, "tmp", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_false (sv_layer_store_unpack (f->layers, tar, diff_id, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (sv_layer_store_has_layer (f->layers, diff_id));
  g_assert_cmpuint (count_children (tmp), ==, 0);
}

static void
test_unpack_whiteouts (Fixture *f, gconstpointer data)
{
  const Entry lower_entries[] = {
    { 'f', "etc/removed-file", "old\n" },
    { 'f', "etc/kept-file", "kept\n" },
    { 'f', "data/old/a", "a\n" },
    { 'f', "data/old/b", "b\n" },
  };
  const Entry upper_entries[] = {
    { 'f', "etc/.wh.removed-file", NULL },
    { 'd', "data/old", NULL, 0755 },
    { 'f', "data/old/.wh..wh..opq", NULL },
    { 'f', "data/old/new-file", "new\n" },
  };
  g_autofree char *lower = unpack_ok (f, "lower.tar.gz", ARCHIVE_FILTER_GZIP, lower_entries,
                                      G_N_ELEMENTS (lower_entries));
  g_autofree char *upper = unpack_ok (f, "upper.tar.gz", ARCHIVE_FILTER_GZIP, upper_entries,
                                      G_N_ELEMENTS (upper_entries));
  g_autofree char *whiteout = g_build_filename (upper, "etc/removed-file", NULL);
  g_autofree char *marker = g_build_filename (upper, "data/old/.wh..wh..opq", NULL);
  g_autofree char *opaque = g_build_filename (upper, "data/old", NULL);
  g_autofree char *merged = g_build_filename (f->root, "merged", NULL);
  g_autofree char *options = g_strdup_printf ("lowerdir=%s:%s", upper, lower);
  g_autofree char *merged_removed = g_build_filename (merged, "etc/removed-file", NULL);
  g_autofree char *merged_kept = g_build_filename (merged, "etc/kept-file", NULL);
  g_autofree char *merged_old = g_build_filename (merged, "data/old", NULL);
  g_autofree char *merged_new = g_build_filename (merged, "data/old/new-file", NULL);
  char value[8] = { 0 };
  struct stat st;

  g_assert_cmpint (lstat (whiteout, &st), ==, 0);
  g_assert_true (S_ISCHR (st.st_mode));
  g_assert_cmpint (st.st_rdev, ==, makedev (0, 0));
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_assert_cmpint (lgetxattr (opaque, "trusted.overlay.opaque", value, sizeof value), ==, 1);
  g_assert_cmpstr (value, ==, "y");

  /* Stack both with a real overlayfs mount. */
  g_assert_cmpint (g_mkdir (merged, 0755), ==, 0);
  if (mount ("overlay", merged, "overlay", MS_RDONLY, options) != 0)
    g_error ("cannot mount overlayfs on %s: %s", merged, g_strerror (errno));

  g_assert_false (g_file_test (merged_removed, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (merged_kept, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (merged_new, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (count_children (merged_old), ==, 1);

  g_assert_cmpint (umount2 (merged, MNT_DETACH), ==, 0);
}

/* Each case must fail with UNSAFE_PATH, write nothing outside, and leave no layer. */
static void
check_rejected (Fixture *f, const Entry *entries, gsize n, const char *entry_name)
{
  g_autofree char *diff_id = diff_id_of (f, entries, n);
  g_autofree char *tar = write_tar (f, "evil.tar", ARCHIVE_FILTER_NONE, entries, n);
  g_autofree char *tmp = g_build_filename (f->data_root, "tmp", NULL);
  g_autofree char *layers = g_build_filename (f->data_root, "layers", NULL);
  g_autofree char *pwned = g_build_filename (f->root, "pwned", NULL);
  g_autoptr (GError) error = NULL;
  struct stat st;
  nlink_t passwd_links;

  g_assert_cmpint (stat ("/etc/passwd", &st), ==, 0);
  passwd_links = st.st_nlink;

  g_assert_false (sv_layer_store_unpack (f->layers, tar, diff_id, NULL, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSAFE_PATH);
  g_assert_nonnull (strstr (error->message, entry_name));

  g_assert_false (g_file_test (pwned, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_children (tmp), ==, 0);
  g_assert_cmpuint (count_children (layers), ==, 0);
  g_assert_cmpint (stat ("/etc/passwd", &st), ==, 0);
  g_assert_cmpint (st.st_nlink, ==, passwd_links);
}

static void
test_reject_dotdot (Fixture *f, gconstpointer data)
{
  /* The layer is unpacked at DATA_ROOT/tmp/layer-XXXXXX, three levels below the root. */
  const Entry entries[] = {
    { 'f', "ok", "fine" },
    { 'f', "../../../pwned", "x" },
  };

  check_rejected (f, entries, G_N_ELEMENTS (entries), "../../../pwned");
}

static void
test_reject_absolute (Fixture *f, gconstpointer data)
{
  g_autofree char *name = g_build_filename (f->root, "pwned", NULL);
  const Entry entries[] = {
    { 'f', name, "x" },
  };

  check_rejected (f, entries, G_N_ELEMENTS (entries), name);
}

static void
test_reject_symlink_to_root (Fixture *f, gconstpointer data)
{
  g_autofree char *through = g_strconcat ("rootlink", f->root, "/pwned", NULL);
  const Entry entries[] = {
    { 'l', "rootlink", "/" },
    { 'f', through, "x" },
  };

  check_rejected (f, entries, G_N_ELEMENTS (entries), through);
}

static void
test_reject_symlink_relative (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'd', "sub", NULL, 0755 },
    { 'l', "sub/up", "../../../.." },
    { 'f', "sub/up/pwned", "x" },
  };

  check_rejected (f, entries, G_N_ELEMENTS (entries), "sub/up/pwned");
}

static void
test_reject_symlink_absolute_dir (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'l', "escape", f->root },
    { 'f', "escape/pwned", "x" },
  };

  check_rejected (f, entries, G_N_ELEMENTS (entries), "escape/pwned");
}

static void
test_reject_hardlink_outside (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'h', "passwd", "/etc/passwd" },
  };

  check_rejected (f, entries, G_N_ELEMENTS (entries), "passwd");
}

static void
test_reject_hardlink_dotdot (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'h', "passwd", "../../../../../../../../etc/passwd" },
  };

  check_rejected (f, entries, G_N_ELEMENTS (entries), "passwd");
}

static void
test_reject_hardlink_symlink (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'l', "etcdir", "/etc" },
    { 'h', "passwd", "etcdir/passwd" },
  };

  check_rejected (f, entries, G_N_ELEMENTS (entries), "passwd");
}

static void
test_symlink_inside_followed (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'd', "usr/lib", NULL, 0755 },
    { 'l', "lib", "usr/lib" },
    { 'f', "lib/libc.so", "elf" },
  };
  g_autofree char *layer
      = unpack_ok (f, "inside.tar", ARCHIVE_FILTER_NONE, entries, G_N_ELEMENTS (entries));
  g_autofree char *real = g_build_filename (layer, "usr/lib/libc.so", NULL);

  g_assert_true (g_file_test (real, G_FILE_TEST_IS_REGULAR));
}

static void
test_unpack_replaces_entries (Fixture *f, gconstpointer data)
{
  const Entry entries[] = {
    { 'l', "x", "/etc/passwd" },
    { 'f', "x", "replaced" },
    { 'd', "d/sub", NULL, 0755 },
    { 'f', "d", "now a file" },
  };
  g_autofree char *layer
      = unpack_ok (f, "replace.tar", ARCHIVE_FILTER_NONE, entries, G_N_ELEMENTS (entries));
  g_autofree char *x = g_build_filename (layer, "x", NULL);
  g_autofree char *d = g_build_filename (layer, "d", NULL);
  g_autofree char *contents = NULL;
  struct stat st;

  g_assert_cmpint (lstat (x, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_true (g_file_get_contents (x, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "replaced");
  g_assert_true (g_file_test (d, G_FILE_TEST_IS_REGULAR));
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

  add_test ("/servin/layer-unpack/regular", test_unpack_regular);
  add_test ("/servin/layer-unpack/owner-xattr", test_unpack_owner_xattr);
  add_test ("/servin/layer-unpack/zstd", test_unpack_zstd);
  add_test ("/servin/layer-unpack/diff-id-mismatch", test_unpack_diff_id_mismatch);
  add_test ("/servin/layer-unpack/corrupt", test_unpack_corrupt);
  add_test ("/servin/layer-unpack/truncated", test_unpack_truncated);
  add_test ("/servin/layer-unpack/cancelled", test_unpack_cancelled);
  add_test ("/servin/layer-unpack/whiteouts-overlay", test_unpack_whiteouts);
  add_test ("/servin/layer-unpack/replaces-entries", test_unpack_replaces_entries);
  add_test ("/servin/layer-unpack/symlink-inside", test_symlink_inside_followed);
  add_test ("/servin/layer-unpack/unsafe/dotdot", test_reject_dotdot);
  add_test ("/servin/layer-unpack/unsafe/absolute", test_reject_absolute);
  add_test ("/servin/layer-unpack/unsafe/symlink-to-root", test_reject_symlink_to_root);
  add_test ("/servin/layer-unpack/unsafe/symlink-relative", test_reject_symlink_relative);
  add_test ("/servin/layer-unpack/unsafe/symlink-absolute", test_reject_symlink_absolute_dir);
  add_test ("/servin/layer-unpack/unsafe/hardlink-outside", test_reject_hardlink_outside);
  add_test ("/servin/layer-unpack/unsafe/hardlink-dotdot", test_reject_hardlink_dotdot);
  add_test ("/servin/layer-unpack/unsafe/hardlink-symlink", test_reject_hardlink_symlink);

  return g_test_run ();
}
