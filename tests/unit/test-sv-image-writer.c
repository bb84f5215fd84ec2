/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "sv-build-config.h"
#include "sv-engine-error.h"
#include "sv-fs.h"
#include "sv-image-loader.h"
#include "sv-image-writer.h"
#include "sv-layer-unpack.h"
#include "sv-sha256.h"

typedef struct
{
  char *root;
  char *layout;
  char *data_root;
  SvContentStore *content;
  SvLayerStore *layers;
  SvImageStore *images;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("servin-writer-XXXXXX", &error);
  g_assert_no_error (error);
  f->layout = g_build_filename (f->root, "layout", NULL);
  f->data_root = g_build_filename (f->root, "data", NULL);
  f->content = sv_content_store_new (f->data_root, &error);
  g_assert_no_error (error);
  f->layers = sv_layer_store_new (f->data_root, &error);
  g_assert_no_error (error);
  f->images = sv_image_store_new (f->content, f->layers, f->data_root, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->images);
  g_clear_object (&f->layers);
  g_clear_object (&f->content);
  g_assert_true (sv_fs_remove_tree (f->root, NULL));
  g_free (f->root);
  g_free (f->layout);
  g_free (f->data_root);
}

static guint
count_files (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir && g_dir_read_name (dir))
    n++;
  return n;
}

static void
add_text (SvLayerWriter *layer, const char *path, const char *text)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr (GError) error = NULL;

  sv_layer_writer_add_file (layer, path, 0644, 0, 0, bytes, &error);
  g_assert_no_error (error);
}

static SvDescriptor *
finish_layer (SvLayerWriter *layer, GPtrArray *descriptors, GPtrArray *diff_ids)
{
  g_autoptr (GError) error = NULL;
  char *diff_id = NULL;
  SvDescriptor *descriptor = sv_layer_writer_finish (layer, &diff_id, &error);

  g_assert_no_error (error);
  g_ptr_array_add (descriptors, descriptor);
  g_ptr_array_add (diff_ids, diff_id);
  return descriptor;
}

/* Writes an image of two layers (the second with a whiteout and an opaque folder) for
 * the architecture, and returns its manifest descriptor with the platform set. */
static SvDescriptor *
write_image (SvImageWriter *writer, const char *architecture, const char *variant,
             SvLayerCompression compression)
{
  g_autoptr (GPtrArray) layers
      = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_descriptor_free);
  g_autoptr (GPtrArray) diff_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SvLayerWriter) base = NULL;
  g_autoptr (SvLayerWriter) upper = NULL;
  g_autoptr (JsonObject) config = NULL;
  g_autoptr (SvDescriptor) config_descriptor = NULL;
  g_autoptr (GError) error = NULL;
  const char *env[] = { "PATH=/bin", NULL };
  const char *cmd[] = { "echo", "round trip", NULL };
  const char *entrypoint[] = { "/bin/sh", "-c", NULL };
  const char *history[] = { "base", "upper", NULL };
  SvImageConfigSpec spec = {
    .os = "linux",
    .architecture = architecture,
    .variant = variant,
    .created = 1700000000,
    .env = env,
    .cmd = cmd,
    .entrypoint = entrypoint,
    .working_dir = "/srv",
    .user = "1000:1000",
    .history = history,
  };
  SvDescriptor *manifest;

  base = sv_image_writer_begin_layer (writer, compression, &error);
  g_assert_no_error (error);
  sv_layer_writer_set_mtime (base, 1600000000);
  g_assert_true (sv_layer_writer_add_directory (base, "etc", 0755, 0, 0, &error));
  add_text (base, "etc/arch", architecture);
  add_text (base, "etc/removed-file", "gone\n");
  g_assert_true (sv_layer_writer_add_directory (base, "data/old", 0750, 1000, 1000, &error));
  add_text (base, "data/old/a", "a\n");
  g_assert_true (sv_layer_writer_add_symlink (base, "etc/link", "/etc/arch", 0, 0, &error));
  g_assert_true (sv_layer_writer_add_hardlink (base, "etc/arch-hard", "etc/arch", &error));
  finish_layer (base, layers, diff_ids);

  upper = sv_image_writer_begin_layer (writer, compression, &error);
  g_assert_no_error (error);
  g_assert_true (sv_layer_writer_add_whiteout (upper, "etc/removed-file", &error));
  g_assert_true (sv_layer_writer_add_opaque (upper, "data/old", &error));
  add_text (upper, "data/old/new-file", "new\n");
  finish_layer (upper, layers, diff_ids);

  g_ptr_array_add (diff_ids, NULL);
  config = sv_image_config_new (&spec, (const char *const *)diff_ids->pdata);
  config_descriptor = sv_image_writer_write_config (writer, config, &error);
  g_assert_no_error (error);
  manifest = sv_image_writer_write_manifest (writer, config_descriptor, layers, &error);
  g_assert_no_error (error);
  manifest->os = g_strdup ("linux");
  manifest->architecture = g_strdup (architecture);
  manifest->variant = g_strdup (variant);
  return manifest;
}

static char *
write_layout_tar (Fixture *f, const char *ref_name, gboolean multiarch,
                  SvLayerCompression compression)
{
  g_autoptr (SvImageWriter) writer = NULL;
  g_autoptr (SvDescriptor) top = NULL;
  g_autoptr (GError) error = NULL;
  char *tar = g_build_filename (f->root, "image.tar", NULL);

  writer = sv_image_writer_new_for_layout (f->layout, &error);
  g_assert_no_error (error);

  if (multiarch)
    {
      g_autoptr (GPtrArray) manifests
          = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_descriptor_free);

      g_ptr_array_add (manifests, write_image (writer, "arm64", "v8", compression));
      g_ptr_array_add (manifests, write_image (writer, "amd64", NULL, compression));
      top = sv_image_writer_write_index (writer, manifests, &error);
      g_assert_no_error (error);
    }
  else
    top = write_image (writer, "amd64", NULL, compression);

  sv_image_writer_add_layout_entry (writer, top, ref_name);
  g_assert_true (sv_image_writer_finish (writer, &error));
  g_assert_no_error (error);

  g_assert_true (sv_image_writer_write_layout_tar (f->layout, tar, &error));
  g_assert_no_error (error);
  return tar;
}

static void
assert_store_empty (Fixture *f)
{
  g_autofree char *blobs = g_build_filename (f->data_root, "blobs", "sha256", NULL);
  g_autofree char *layers = g_build_filename (f->data_root, "layers", NULL);
  g_autofree char *tmp = g_build_filename (f->data_root, "tmp", NULL);
  g_autoptr (GPtrArray) list = sv_image_store_list (f->images);

  g_assert_cmpuint (list->len, ==, 0);
  g_assert_cmpuint (count_files (blobs), ==, 0);
  g_assert_cmpuint (count_files (layers), ==, 0);
  g_assert_cmpuint (count_files (tmp), ==, 0);
}

static void
check_loaded_image (Fixture *f, const char *reference, const char *architecture)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvImage) image = sv_image_store_lookup (f->images, reference, &error);
  JsonObject *config;
  const char *const *diff_ids;
  g_autofree char *base = NULL;
  g_autofree char *upper = NULL;
  g_autofree char *arch_path = NULL;
  g_autofree char *arch_text = NULL;
  g_autofree char *whiteout = NULL;
  g_autofree char *opaque = NULL;
  g_autofree char *link = NULL;
  g_autofree char *link_target = NULL;
  g_autofree char *old_dir = NULL;
  char value[4] = { 0 };
  struct stat st, st2;
  g_autofree char *hard = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (sv_image_get_architecture (image), ==, architecture);
  g_assert_cmpint (sv_image_get_created (image), ==, 1700000000);
  config = sv_image_get_config (image);
  g_assert_cmpstr (json_object_get_string_member (config, "WorkingDir"), ==, "/srv");
  g_assert_cmpstr (json_object_get_string_member (config, "User"), ==, "1000:1000");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (config, "Cmd"), 1),
                   ==, "round trip");
  g_assert_cmpstr (
      json_array_get_string_element (json_object_get_array_member (config, "Entrypoint"), 0), ==,
      "/bin/sh");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                        sv_image_get_config_document (image), "history")),
                    ==, 2);

  diff_ids = sv_image_get_diff_ids (image);
  g_assert_cmpuint (g_strv_length ((GStrv)diff_ids), ==, 2);
  base = sv_layer_store_get_layer_path (f->layers, diff_ids[0]);
  upper = sv_layer_store_get_layer_path (f->layers, diff_ids[1]);

  arch_path = g_build_filename (base, "etc/arch", NULL);
  g_assert_true (g_file_get_contents (arch_path, &arch_text, NULL, NULL));
  g_assert_cmpstr (arch_text, ==, architecture);
  g_assert_cmpint (stat (arch_path, &st), ==, 0);
  g_assert_cmpint (st.st_mtime, ==, 1600000000);
  hard = g_build_filename (base, "etc/arch-hard", NULL);
  g_assert_cmpint (stat (hard, &st2), ==, 0);
  g_assert_cmpint (st.st_ino, ==, st2.st_ino);

  link = g_build_filename (base, "etc/link", NULL);
  link_target = g_file_read_link (link, NULL);
  g_assert_cmpstr (link_target, ==, "/etc/arch");

  old_dir = g_build_filename (base, "data/old", NULL);
  g_assert_cmpint (stat (old_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0750);
  g_assert_cmpint (st.st_uid, ==, 1000);

  whiteout = g_build_filename (upper, "etc/removed-file", NULL);
  g_assert_cmpint (lstat (whiteout, &st), ==, 0);
  g_assert_true (S_ISCHR (st.st_mode));
  g_assert_cmpint (st.st_rdev, ==, makedev (0, 0));
  opaque = g_build_filename (upper, "data/old", NULL);
  g_assert_cmpint (lgetxattr (opaque, "trusted.overlay.opaque", value, sizeof value), ==, 1);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autofree char *tar
      = write_layout_tar (f, "servin/roundtrip:1", FALSE, SV_LAYER_COMPRESSION_GZIP);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) refs = NULL;
  g_autofree char *oci_layout = g_build_filename (f->layout, "oci-layout", NULL);
  g_autofree char *layout_tmp = g_build_filename (f->layout, "tmp", NULL);

  g_assert_true (g_file_test (oci_layout, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (layout_tmp, G_FILE_TEST_EXISTS));

  refs = sv_image_load_archive (f->content, f->layers, f->images, tar, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (refs), ==, 1);
  g_assert_cmpstr (refs[0], ==, "docker.io/servin/roundtrip:1");
  check_loaded_image (f, "servin/roundtrip:1", "amd64");

  /* Loading again changes nothing and returns the same reference. */
  g_clear_pointer (&refs, g_strfreev);
  refs = sv_image_load_archive (f->content, f->layers, f->images, tar, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (refs[0], ==, "docker.io/servin/roundtrip:1");
}

static void
test_round_trip_zstd (Fixture *f, gconstpointer data)
{
  g_autofree char *tar = write_layout_tar (f, "servin/zstd:1", FALSE, SV_LAYER_COMPRESSION_ZSTD);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) refs = sv_image_load_archive (f->content, f->layers, f->images, tar, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (refs[0], ==, "docker.io/servin/zstd:1");
  check_loaded_image (f, "servin/zstd:1", "amd64");
}

static void
test_multiarch_picks_host (Fixture *f, gconstpointer data)
{
  g_autofree char *tar = write_layout_tar (f, "servin/multi:1", TRUE, SV_LAYER_COMPRESSION_GZIP);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) refs = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *blobs = g_build_filename (f->data_root, "blobs", "sha256", NULL);
  g_autofree char *host = sv_platform_get_host ();

  if (!g_str_equal (host, "linux/amd64"))
    {
      g_test_skip ("the host is not amd64");
      return;
    }

  refs = sv_image_load_archive (f->content, f->layers, f->images, tar, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (refs[0], ==, "docker.io/servin/multi:1");
  check_loaded_image (f, "servin/multi:1", "amd64");

  /* Only the chosen image's blobs are kept: manifest, config and two layers. */
  list = sv_image_store_list (f->images);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpuint (count_files (blobs), ==, 4);
}

static void
test_bare_tag_ref_name (Fixture *f, gconstpointer data)
{
  g_autofree char *tar = write_layout_tar (f, "latest", FALSE, SV_LAYER_COMPRESSION_GZIP);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) refs = sv_image_load_archive (f->content, f->layers, f->images, tar, NULL, &error);
  g_autoptr (SvImage) image = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (refs), ==, 1);
  g_assert_true (g_str_has_prefix (refs[0], "sha256:"));
  image = sv_image_store_lookup (f->images, refs[0], &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length ((GStrv)sv_image_get_repo_tags (image)), ==, 0);
}

/* Flips one byte of the largest blob in the layout and packs it again. */
static void
tamper_largest_blob (Fixture *f, const char *tar)
{
  g_autofree char *blobs = g_build_filename (f->layout, "blobs", "sha256", NULL);
  g_autoptr (GDir) dir = g_dir_open (blobs, 0, NULL);
  g_autofree char *largest = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  goffset largest_size = -1;
  const char *name;
  gsize len;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (blobs, name, NULL);
      struct stat st;

      g_assert_cmpint (stat (path, &st), ==, 0);
      if (st.st_size > largest_size)
        {
          largest_size = st.st_size;
          g_free (largest);
          largest = g_steal_pointer (&path);
        }
    }

  g_assert_true (g_file_get_contents (largest, &contents, &len, NULL));
  contents[len / 2] ^= 0x55;
  g_assert_true (g_file_set_contents (largest, contents, len, NULL));
  g_assert_true (sv_image_writer_write_layout_tar (f->layout, tar, &error));
  g_assert_no_error (error);
}

static void
test_tampered_blob (Fixture *f, gconstpointer data)
{
  g_autofree char *tar = write_layout_tar (f, "servin/bad:1", FALSE, SV_LAYER_COMPRESSION_GZIP);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) refs = NULL;

  tamper_largest_blob (f, tar);
  refs = sv_image_load_archive (f->content, f->layers, f->images, tar, NULL, &error);
  g_assert_null (refs);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_DIGEST_MISMATCH);
  g_assert_nonnull (strstr (error->message, tar));
  assert_store_empty (f);
}

static void
write_tar_members (const char *path, const char *const *names, const char *const *contents)
{
  struct archive *a = archive_write_new ();

  archive_write_set_format_pax_restricted (a);
  g_assert_cmpint (archive_write_open_filename (a, path), ==, ARCHIVE_OK);
  for (gsize i = 0; names[i]; i++)
    {
      struct archive_entry *e = archive_entry_new ();
      gsize len = strlen (contents[i]);

      archive_entry_set_pathname (e, names[i]);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_perm (e, 0644);
      archive_entry_set_size (e, len);
      g_assert_cmpint (archive_write_header (a, e), ==, ARCHIVE_OK);
      archive_write_data (a, contents[i], len);
      archive_entry_free (e);
    }
  archive_write_close (a);
  archive_write_free (a);
}

static void
test_bad_archives (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->root, "bad.tar", NULL);
  g_autofree char *missing_path = g_build_filename (f->root, "missing.tar", NULL);
  const char *digest = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
  g_autofree char *index = g_strdup_printf (
      "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
      "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":10}]}",
      digest);
  const char *no_index_names[] = { "oci-layout", NULL };
  const char *no_index_contents[] = { "{\"imageLayoutVersion\":\"1.0.0\"}", NULL };
  const char *missing_names[] = { "oci-layout", "index.json", NULL };
  const char *missing_contents[] = { "{\"imageLayoutVersion\":\"1.0.0\"}", index, NULL };
  const char *bad_name_names[] = { "blobs/sha256/../../x", NULL };
  const char *bad_name_contents[] = { "x", NULL };
  g_autoptr (GError) error = NULL;
  GStrv refs;

  /* Not a tar at all. */
  g_assert_true (g_file_set_contents (path, "this is not an archive", -1, NULL));
  refs = sv_image_load_archive (f->content, f->layers, f->images, path, NULL, &error);
  g_assert_null (refs);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A tar without index.json or manifest.json. */
  write_tar_members (path, no_index_names, no_index_contents);
  refs = sv_image_load_archive (f->content, f->layers, f->images, path, NULL, &error);
  g_assert_null (refs);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "index.json"));
  g_clear_error (&error);

  /* An index naming a manifest the archive lacks. */
  write_tar_members (path, missing_names, missing_contents);
  refs = sv_image_load_archive (f->content, f->layers, f->images, path, NULL, &error);
  g_assert_null (refs);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, digest));
  g_clear_error (&error);

  /* A blob name that is no digest. */
  write_tar_members (path, bad_name_names, bad_name_contents);
  refs = sv_image_load_archive (f->content, f->layers, f->images, path, NULL, &error);
  g_assert_null (refs);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  refs = sv_image_load_archive (f->content, f->layers, f->images, missing_path, NULL, &error);
  g_assert_null (refs);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);

  assert_store_empty (f);
}

/* Loading from a descriptor reads only what the descriptor allows, and names no path. */
static void
test_load_from_descriptor (Fixture *f, gconstpointer data)
{
  g_autofree char *tar = write_layout_tar (f, "servin/fd:1", FALSE, SV_LAYER_COMPRESSION_GZIP);
  g_autofree char *garbage = g_build_filename (f->root, "garbage.tar", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) refs = NULL;
  const int refused_modes[] = { O_WRONLY, O_PATH };

  for (gsize i = 0; i < G_N_ELEMENTS (refused_modes); i++)
    {
      g_auto (SvFd) fd = open (tar, refused_modes[i] | O_CLOEXEC);

      g_assert_cmpint (fd, >=, 0);
      refs = sv_image_load_archive_fd (f->content, f->layers, f->images, fd, NULL, &error);
      g_assert_null (refs);
      g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "not open for reading"));
      g_clear_error (&error);
    }
  assert_store_empty (f);

  g_assert_true (g_file_set_contents (garbage, "this is not an archive", -1, NULL));
  {
    g_auto (SvFd) fd = open (garbage, O_RDONLY | O_CLOEXEC);

    refs = sv_image_load_archive_fd (f->content, f->layers, f->images, fd, NULL, &error);
    g_assert_null (refs);
    g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
    g_assert_null (strstr (error->message, garbage));
    g_assert_nonnull (strstr (error->message, "image archive"));
    g_clear_error (&error);
  }

  {
    g_auto (SvFd) fd = open (tar, O_RDONLY | O_CLOEXEC);

    refs = sv_image_load_archive_fd (f->content, f->layers, f->images, fd, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_strv_length (refs), ==, 1);
    g_assert_cmpstr (refs[0], ==, "docker.io/servin/fd:1");
    check_loaded_image (f, "servin/fd:1", "amd64");
  }
}

/* The format of `docker save` before OCI layouts: manifest.json naming its files. */
static void
test_docker_archive (Fixture *f, gconstpointer data)
{
  g_autofree char *layer_tar = g_build_filename (f->root, "layer.tar", NULL);
  g_autofree char *archive_path = g_build_filename (f->root, "docker.tar", NULL);
  g_autofree char *layer_contents = NULL;
  g_autofree char *diff_id = NULL;
  g_autofree char *config = NULL;
  g_autofree char *config_digest = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) refs = NULL;
  g_autoptr (SvImage) image = NULL;
  const char *layer_names[] = { "hello.txt", NULL };
  const char *layer_files[] = { "hello from docker\n", NULL };
  gsize layer_len = 0;
  struct archive *a;
  const char *manifest_json = "[{\"Config\":\"config.json\",\"RepoTags\":[\"servin/docker:1\","
                              "\"127.0.0.1:5000/other:2\"],\"Layers\":[\"abc/layer.tar\"]}]";

  write_tar_members (layer_tar, layer_names, layer_files);
  g_assert_true (g_file_get_contents (layer_tar, &layer_contents, &layer_len, NULL));
  diff_id = sv_sha256_digest_data (layer_contents, layer_len);
  config = g_strdup_printf ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":"
                            "[\"cat\",\"/hello.txt\"]},\"rootfs\":{\"type\":\"layers\","
                            "\"diff_ids\":[\"%s\"]}}",
                            diff_id);
  config_digest = sv_sha256_digest_data (config, strlen (config));

  a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  g_assert_cmpint (archive_write_open_filename (a, archive_path), ==, ARCHIVE_OK);
  {
    const char *names[] = { "config.json", "abc/layer.tar", "manifest.json" };
    const char *datas[] = { config, layer_contents, manifest_json };
    gsize lens[] = { strlen (config), layer_len, strlen (manifest_json) };

    for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
      {
        struct archive_entry *e = archive_entry_new ();
        archive_entry_set_pathname (e, names[i]);
        archive_entry_set_filetype (e, AE_IFREG);
        archive_entry_set_perm (e, 0644);
        archive_entry_set_size (e, lens[i]);
        g_assert_cmpint (archive_write_header (a, e), ==, ARCHIVE_OK);
        archive_write_data (a, datas[i], lens[i]);
        archive_entry_free (e);
      }
  }
  archive_write_close (a);
  archive_write_free (a);

  refs = sv_image_load_archive (f->content, f->layers, f->images, archive_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (refs), ==, 2);
  g_assert_cmpstr (refs[0], ==, "docker.io/servin/docker:1");
  g_assert_cmpstr (refs[1], ==, "127.0.0.1:5000/other:2");

  image = sv_image_store_lookup (f->images, "127.0.0.1:5000/other:2", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sv_image_get_id (image), ==, config_digest);
  g_assert_cmpstr (sv_image_get_diff_ids (image)[0], ==, diff_id);
  g_assert_true (sv_layer_store_has_layer (f->layers, diff_id));
  g_assert_true (sv_content_store_has_blob (f->content, sv_image_get_manifest_digest (image)));
}

static void
test_layer_from_tree (Fixture *f, gconstpointer data)
{
  g_autofree char *tree = g_build_filename (f->root, "tree", NULL);
  g_autofree char *sub = g_build_filename (tree, "sub", NULL);
  g_autofree char *file = g_build_filename (sub, "file", NULL);
  g_autofree char *hard = g_build_filename (tree, "hard", NULL);
  g_autofree char *link_path = g_build_filename (tree, "link", NULL);
  g_autofree char *dest = g_build_filename (f->root, "unpacked", NULL);
  g_autofree char *blob = NULL;
  g_autofree char *diff_id = NULL;
  g_autofree char *unpacked_diff_id = NULL;
  g_autofree char *out_file = g_build_filename (dest, "root/sub/file", NULL);
  g_autofree char *out_hard = g_build_filename (dest, "root/hard", NULL);
  g_autofree char *out_link = g_build_filename (dest, "root/link", NULL);
  g_autofree char *target = NULL;
  g_autoptr (SvImageWriter) writer = sv_image_writer_new_for_store (f->content);
  g_autoptr (SvLayerWriter) layer = NULL;
  g_autoptr (SvDescriptor) descriptor = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st, st2;

  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  g_assert_true (g_file_set_contents (file, "tree file\n", -1, NULL));
  g_assert_cmpint (chmod (file, 0600), ==, 0);
  g_assert_cmpint (chown (file, 4321, 4321), ==, 0);
  g_assert_cmpint (link (file, hard), ==, 0);
  g_assert_cmpint (symlink ("sub/file", link_path), ==, 0);
  g_assert_cmpint (setxattr (file, "user.servin", "1", 1, 0), ==, 0);

  layer = sv_image_writer_begin_layer (writer, SV_LAYER_COMPRESSION_GZIP, &error);
  g_assert_no_error (error);
  g_assert_true (sv_layer_writer_add_directory (layer, "root", 0755, 0, 0, &error));
  sv_layer_writer_add_tree (layer, tree, "root", &error);
  g_assert_no_error (error);
  descriptor = sv_layer_writer_finish (layer, &diff_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (descriptor->media_type, ==, SV_MEDIA_TYPE_OCI_LAYER_GZIP);

  blob = sv_content_store_get_blob_path (f->content, descriptor->digest);
  g_assert_cmpint (stat (blob, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, descriptor->size);

  g_assert_cmpint (g_mkdir (dest, 0755), ==, 0);
  g_assert_true (sv_layer_unpack (blob, dest, &unpacked_diff_id, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (unpacked_diff_id, ==, diff_id);

  g_assert_cmpint (stat (out_file, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpint (st.st_uid, ==, 4321);
  g_assert_cmpint (stat (out_hard, &st2), ==, 0);
  g_assert_cmpint (st.st_ino, ==, st2.st_ino);
  target = g_file_read_link (out_link, NULL);
  g_assert_cmpstr (target, ==, "sub/file");
  g_assert_cmpint (getxattr (out_file, "user.servin", NULL, 0), ==, 1);
}

/* The sample image that servin-mkimage builds for the quick start. */
static void
test_sample_archive (Fixture *f, gconstpointer data)
{
  g_autofree char *tar
      = g_build_filename (SV_BUILD_ROOT, "engine", "image", "servin-sample.tar", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) refs = NULL;
  g_autoptr (SvImage) image = NULL;
  g_autofree char *layer = NULL;
  g_autofree char *busybox = NULL;
  g_autofree char *awk = NULL;
  g_autofree char *awk_target = NULL;
  g_autofree char *passwd = NULL;
  g_autofree char *passwd_text = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *home = NULL;
  JsonObject *config;
  struct stat st;

  if (!g_file_test (tar, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip ("servin-sample.tar is not built; run ninja first");
      return;
    }

  refs = sv_image_load_archive (f->content, f->layers, f->images, tar, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (refs[0], ==, "docker.io/servin/sample:latest");

  image = sv_image_store_lookup (f->images, "servin/sample", &error);
  g_assert_no_error (error);
  config = sv_image_get_config (image);
  g_assert_cmpstr (json_object_get_string_member (config, "WorkingDir"), ==, "/srv");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (config, "Cmd"), 1),
                   ==, "Hello from Servin!");
  g_assert_cmpuint (g_strv_length ((GStrv)sv_image_get_diff_ids (image)), ==, 1);

  layer = sv_layer_store_get_layer_path (f->layers, sv_image_get_diff_ids (image)[0]);
  busybox = g_build_filename (layer, "bin/busybox", NULL);
  g_assert_true (g_file_test (busybox, G_FILE_TEST_IS_EXECUTABLE));
  awk = g_build_filename (layer, "usr/bin/awk", NULL);
  awk_target = g_file_read_link (awk, NULL);
  g_assert_cmpstr (awk_target, ==, "/bin/busybox");

  passwd = g_build_filename (layer, "etc/passwd", NULL);
  g_assert_true (g_file_get_contents (passwd, &passwd_text, NULL, NULL));
  g_assert_nonnull (strstr (passwd_text, "servin:x:1000:1000:Servin:/home/servin:/bin/sh\n"));

  tmp = g_build_filename (layer, "tmp", NULL);
  g_assert_cmpint (stat (tmp, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 01777);
  home = g_build_filename (layer, "home/servin", NULL);
  g_assert_cmpint (stat (home, &st), ==, 0);
  g_assert_cmpint (st.st_uid, ==, 1000);
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

  add_test ("/servin/image-writer/layer-from-tree", test_layer_from_tree);
  add_test ("/servin/image-writer/round-trip", test_round_trip);
  add_test ("/servin/image-writer/round-trip-zstd", test_round_trip_zstd);
  add_test ("/servin/image-writer/multiarch-picks-host", test_multiarch_picks_host);
  add_test ("/servin/image-writer/bare-tag-ref-name", test_bare_tag_ref_name);
  add_test ("/servin/image-loader/tampered-blob", test_tampered_blob);
  add_test ("/servin/image-loader/bad-archives", test_bad_archives);
  add_test ("/servin/image-loader/docker-archive", test_docker_archive);
  add_test ("/servin/image-loader/load-from-descriptor", test_load_from_descriptor);
  add_test ("/servin/image-loader/sample-archive", test_sample_archive);

  return g_test_run ();
}
