/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib/gstdio.h>
#include <string.h>

#include "sv-engine-error.h"
#include "sv-fs.h"
#include "sv-image-store.h"
#include "sv-image-writer.h"

typedef struct
{
  char *root;
  SvContentStore *content;
  SvLayerStore *layers;
  SvImageStore *images;
  guint added, removed, changed;
} Fixture;

typedef struct
{
  char *manifest;
  char *config;
  char *diff_id;
  char *layer;
} TestImage;

static void
test_image_clear (TestImage *image)
{
  g_free (image->manifest);
  g_free (image->config);
  g_free (image->diff_id);
  g_free (image->layer);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TestImage, test_image_clear)

static void
on_added (SvImageStore *store, SvImage *image, Fixture *f)
{
  f->added++;
}

static void
on_removed (SvImageStore *store, SvImage *image, Fixture *f)
{
  f->removed++;
}

static void
on_changed (SvImageStore *store, SvImage *image, Fixture *f)
{
  f->changed++;
}

static void
open_stores (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  f->content = sv_content_store_new (f->root, &error);
  g_assert_no_error (error);
  f->layers = sv_layer_store_new (f->root, &error);
  g_assert_no_error (error);
  f->images = sv_image_store_new (f->content, f->layers, f->root, &error);
  g_assert_no_error (error);
  g_signal_connect (f->images, "image-added", G_CALLBACK (on_added), f);
  g_signal_connect (f->images, "image-removed", G_CALLBACK (on_removed), f);
  g_signal_connect (f->images, "image-changed", G_CALLBACK (on_changed), f);
}

static void
close_stores (Fixture *f)
{
  g_clear_object (&f->images);
  g_clear_object (&f->layers);
  g_clear_object (&f->content);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("servin-images-XXXXXX", &error);
  g_assert_no_error (error);
  open_stores (f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  close_stores (f);
  g_assert_true (sv_fs_remove_tree (f->root, NULL));
  g_free (f->root);
}

/* Writes a one-layer image holding /hello with the given text into the stores. */
static void
make_image (Fixture *f, const char *text, gint64 created, TestImage *out)
{
  g_autoptr (SvImageWriter) writer = sv_image_writer_new_for_store (f->content);
  g_autoptr (SvLayerWriter) layer = NULL;
  g_autoptr (GBytes) contents = g_bytes_new (text, strlen (text));
  g_autoptr (GPtrArray) layers
      = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_descriptor_free);
  g_autoptr (SvDescriptor) config = NULL;
  g_autoptr (SvDescriptor) manifest = NULL;
  g_autoptr (JsonObject) config_doc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *blob_path = NULL;
  SvDescriptor *layer_descriptor;
  const char *cmd[] = { "cat", "/hello", NULL };
  const char *diff_ids[2] = { NULL, NULL };
  SvImageConfigSpec spec = {
    .os = "linux",
    .architecture = "amd64",
    .created = created,
    .cmd = cmd,
    .working_dir = "/",
  };

  layer = sv_image_writer_begin_layer (writer, SV_LAYER_COMPRESSION_GZIP, &error);
  g_assert_no_error (error);
  g_assert_true (sv_layer_writer_add_file (layer, "hello", 0644, 0, 0, contents, &error));
  layer_descriptor = sv_layer_writer_finish (layer, &out->diff_id, &error);
  g_assert_no_error (error);
  g_ptr_array_add (layers, layer_descriptor);
  out->layer = g_strdup (layer_descriptor->digest);

  blob_path = sv_content_store_get_blob_path (f->content, layer_descriptor->digest);
  g_assert_true (sv_layer_store_unpack (f->layers, blob_path, out->diff_id, NULL, &error));
  g_assert_no_error (error);

  diff_ids[0] = out->diff_id;
  config_doc = sv_image_config_new (&spec, diff_ids);
  config = sv_image_writer_write_config (writer, config_doc, &error);
  g_assert_no_error (error);
  manifest = sv_image_writer_write_manifest (writer, config, layers, &error);
  g_assert_no_error (error);

  out->config = g_strdup (config->digest);
  out->manifest = g_strdup (manifest->digest);
}

static SvImage *
add_image (Fixture *f, TestImage *t, const char *reference)
{
  g_autoptr (GError) error = NULL;
  SvImage *image = sv_image_store_add (f->images, t->manifest, t->config, reference, &error);

  g_assert_no_error (error);
  g_assert_nonnull (image);
  return image;
}

static void
assert_lookup (Fixture *f, const char *text, SvImage *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvImage) image = sv_image_store_lookup (f->images, text, &error);

  g_assert_no_error (error);
  g_assert_true (image == expected);
}

static void
test_add_and_lookup (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) t = { 0 };
  g_autoptr (SvImage) image = NULL;
  g_autoptr (SvImage) missing = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *by_digest = NULL;
  const char *hex;
  const char *const *tags;

  make_image (f, "one\n", 1700000000, &t);
  image = add_image (f, &t, "busybox");
  g_assert_cmpuint (f->added, ==, 1);

  g_assert_cmpstr (sv_image_get_id (image), ==, t.config);
  g_assert_cmpstr (sv_image_get_manifest_digest (image), ==, t.manifest);
  g_assert_cmpstr (sv_image_get_os (image), ==, "linux");
  g_assert_cmpstr (sv_image_get_architecture (image), ==, "amd64");
  g_assert_null (sv_image_get_variant (image));
  g_assert_cmpint (sv_image_get_created (image), ==, 1700000000);
  g_assert_cmpuint (sv_image_get_size (image), ==, 4);
  g_assert_cmpstr (sv_image_get_diff_ids (image)[0], ==, t.diff_id);
  g_assert_cmpstr (sv_image_get_layer_digests (image)[0], ==, t.layer);
  g_assert_cmpstr (json_object_get_string_member (sv_image_get_config (image), "WorkingDir"), ==,
                   "/");
  g_assert_true (json_object_has_member (sv_image_get_config_document (image), "rootfs"));

  tags = sv_image_get_repo_tags (image);
  g_assert_cmpuint (g_strv_length ((GStrv)tags), ==, 1);
  g_assert_cmpstr (tags[0], ==, "docker.io/library/busybox:latest");

  hex = t.config + strlen ("sha256:");
  prefix = g_strndup (hex, 4);
  assert_lookup (f, "busybox", image);
  assert_lookup (f, "busybox:latest", image);
  assert_lookup (f, "library/busybox", image);
  assert_lookup (f, "docker.io/library/busybox:latest", image);
  assert_lookup (f, t.config, image);
  assert_lookup (f, hex, image);
  assert_lookup (f, prefix, image);

  /* A name with the manifest digest finds the image even without a stored digest. */
  by_digest = g_strconcat ("busybox@", t.manifest, NULL);
  assert_lookup (f, by_digest, image);

  missing = sv_image_store_lookup (f->images, "busybox:1", &error);
  g_assert_null (missing);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "image not found: busybox:1");
}

static void
test_repo_digest (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) t = { 0 };
  g_autoptr (SvImage) image = NULL;
  g_autofree char *reference = NULL;
  g_autofree char *expected = NULL;
  const char *const *digests;

  make_image (f, "digest\n", 1, &t);
  reference = g_strconcat ("127.0.0.1:5000/servin/sample@", t.manifest, NULL);
  image = add_image (f, &t, reference);

  g_assert_cmpuint (g_strv_length ((GStrv)sv_image_get_repo_tags (image)), ==, 0);
  digests = sv_image_get_repo_digests (image);
  g_assert_cmpuint (g_strv_length ((GStrv)digests), ==, 1);
  g_assert_cmpstr (digests[0], ==, reference);
  assert_lookup (f, reference, image);
}

static void
test_tag_moves (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) t1 = { 0 };
  g_auto (TestImage) t2 = { 0 };
  g_autoptr (SvImage) first = NULL;
  g_autoptr (SvImage) second = NULL;
  g_autoptr (GError) error = NULL;

  make_image (f, "first\n", 1, &t1);
  make_image (f, "second\n", 2, &t2);
  first = add_image (f, &t1, "servin/app:1");
  g_assert_cmpuint (f->changed, ==, 0);

  second = add_image (f, &t2, "servin/app:1");
  g_assert_cmpuint (f->added, ==, 2);
  g_assert_cmpuint (f->changed, ==, 1);
  g_assert_cmpuint (g_strv_length ((GStrv)sv_image_get_repo_tags (first)), ==, 0);
  g_assert_cmpstr (sv_image_get_repo_tags (second)[0], ==, "docker.io/servin/app:1");
  assert_lookup (f, "servin/app:1", second);

  g_assert_true (sv_image_store_tag (f->images, first, "servin/app:old", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (sv_image_get_repo_tags (first)[0], ==, "docker.io/servin/app:old");
  assert_lookup (f, "servin/app:old", first);

  g_assert_false (sv_image_store_tag (f->images, first, "Invalid Name", &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
}

static void
test_list_order (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) old = { 0 };
  g_auto (TestImage) new = { 0 };
  g_autoptr (SvImage) a = NULL;
  g_autoptr (SvImage) b = NULL;
  g_autoptr (GPtrArray) list = NULL;

  make_image (f, "old\n", 1000, &old);
  make_image (f, "new\n", 2000, &new);
  a = add_image (f, &old, "servin/old");
  b = add_image (f, &new, NULL);

  list = sv_image_store_list (f->images);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_true (list->pdata[0] == b);
  g_assert_true (list->pdata[1] == a);
}

static void
test_remove_by_tag (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) t = { 0 };
  g_autoptr (SvImage) image = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SvImage) removed = NULL;

  make_image (f, "tags\n", 1, &t);
  image = add_image (f, &t, "servin/a:1");
  g_assert_true (sv_image_store_tag (f->images, image, "servin/b:2", &error));
  g_assert_cmpuint (f->changed, ==, 1);

  g_assert_true (sv_image_store_remove (f->images, "servin/a:1", FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->removed, ==, 0);
  g_assert_cmpuint (f->changed, ==, 2);
  g_assert_cmpuint (g_strv_length ((GStrv)sv_image_get_repo_tags (image)), ==, 1);
  g_assert_true (sv_layer_store_has_layer (f->layers, t.diff_id));

  g_assert_true (sv_image_store_remove (f->images, "servin/b:2", FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->removed, ==, 1);

  removed = sv_image_store_lookup (f->images, t.config, &error);
  g_assert_null (removed);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
  g_assert_false (sv_layer_store_has_layer (f->layers, t.diff_id));
  g_assert_false (sv_content_store_has_blob (f->content, t.config));
  g_assert_false (sv_content_store_has_blob (f->content, t.manifest));
  g_assert_false (sv_content_store_has_blob (f->content, t.layer));
}

static void
test_remove_by_id (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) t = { 0 };
  g_auto (TestImage) other = { 0 };
  g_autoptr (SvImage) image = NULL;
  g_autoptr (SvImage) keep = NULL;
  g_autoptr (GError) error = NULL;

  make_image (f, "id\n", 1, &t);
  make_image (f, "other\n", 1, &other);
  image = add_image (f, &t, "servin/a:1");
  keep = add_image (f, &other, "servin/keep:1");
  g_assert_true (sv_image_store_tag (f->images, image, "servin/a:2", &error));

  g_assert_false (sv_image_store_remove (f->images, t.config, FALSE, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "docker.io/servin/a:1"));
  g_clear_error (&error);
  g_assert_cmpuint (f->removed, ==, 0);

  g_assert_true (sv_image_store_remove (f->images, t.config, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->removed, ==, 1);
  g_assert_false (sv_layer_store_has_layer (f->layers, t.diff_id));

  /* The other image keeps its layer and blobs. */
  g_assert_true (sv_layer_store_has_layer (f->layers, other.diff_id));
  g_assert_true (sv_content_store_has_blob (f->content, other.config));
  g_assert_true (sv_content_store_has_blob (f->content, other.layer));
  assert_lookup (f, "servin/keep:1", keep);

  g_assert_false (sv_image_store_remove (f->images, "servin/nothing", FALSE, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
}

static void
test_persistence (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) t = { 0 };
  g_autoptr (SvImage) image = NULL;
  g_autoptr (SvImage) again = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;

  make_image (f, "persist\n", 1234, &t);
  image = add_image (f, &t, "servin/persist:1");
  g_assert_true (sv_image_store_tag (f->images, image, "servin/persist:2", &error));

  close_stores (f);
  open_stores (f);

  list = sv_image_store_list (f->images);
  g_assert_cmpuint (list->len, ==, 1);
  again = sv_image_store_lookup (f->images, "servin/persist:2", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sv_image_get_id (again), ==, t.config);
  g_assert_cmpstr (sv_image_get_manifest_digest (again), ==, t.manifest);
  g_assert_cmpint (sv_image_get_created (again), ==, 1234);
  g_assert_cmpuint (sv_image_get_size (again), ==, sv_image_get_size (image));
  g_assert_cmpuint (g_strv_length ((GStrv)sv_image_get_repo_tags (again)), ==, 2);
  g_assert_cmpstr (sv_image_get_layer_digests (again)[0], ==, t.layer);
}

static void
test_corrupt_references (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) t = { 0 };
  g_autoptr (SvImage) image = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->root, "images", "references.json", NULL);
  g_autofree char *record_name = NULL;
  g_autofree char *record = NULL;
  g_autofree char *contents = NULL;
  SvImageStore *broken;
  const char *garbage = "{\"references\": {\"docker.io/library/x:1\": ";

  make_image (f, "corrupt\n", 1, &t);
  image = add_image (f, &t, "servin/corrupt:1");
  close_stores (f);

  g_assert_true (g_file_set_contents (path, garbage, -1, NULL));
  f->content = sv_content_store_new (f->root, &error);
  f->layers = sv_layer_store_new (f->root, &error);
  g_assert_no_error (error);
  broken = sv_image_store_new (f->content, f->layers, f->root, &error);
  g_assert_null (broken);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "left as it is"));

  /* Nothing was overwritten or removed. */
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, garbage);
  record_name = g_strconcat (t.config + strlen ("sha256:"), ".json", NULL);
  record = g_build_filename (f->root, "images", record_name, NULL);
  g_assert_true (g_file_test (record, G_FILE_TEST_IS_REGULAR));
  g_assert_true (sv_layer_store_has_layer (f->layers, t.diff_id));
  g_assert_true (sv_content_store_has_blob (f->content, t.config));

  /* A references file with a wrong shape is rejected the same way. */
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "{\"references\": {\"a\": 5}}", -1, NULL));
  broken = sv_image_store_new (f->content, f->layers, f->root, &error);
  g_assert_null (broken);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED);
}

static void
test_add_missing_layer (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) t = { 0 };
  g_autoptr (SvImage) image = NULL;
  g_autoptr (GError) error = NULL;

  make_image (f, "missing layer\n", 1, &t);
  g_assert_true (sv_layer_store_remove_layer (f->layers, t.diff_id, &error));

  image = sv_image_store_add (f->images, t.manifest, t.config, "servin/x", &error);
  g_assert_null (image);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, t.diff_id));
  g_assert_cmpuint (f->added, ==, 0);
}

static void
test_short_prefix (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) t = { 0 };
  g_autoptr (SvImage) added = NULL;
  g_autoptr (SvImage) image = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *prefix = NULL;

  make_image (f, "prefix\n", 1, &t);
  added = add_image (f, &t, NULL);

  /* Three hex digits are below the minimum, so they are taken as a name. */
  prefix = g_strndup (t.config + strlen ("sha256:"), 3);
  image = sv_image_store_lookup (f->images, prefix, &error);
  g_assert_null (image);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
}

static void
test_collect_garbage (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) kept = { 0 };
  g_auto (TestImage) unused = { 0 };
  g_autoptr (SvImage) image = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_build_filename (f->root, "tmp", NULL);
  g_autofree char *half_blob = g_build_filename (tmp, "blob-abc123", NULL);
  g_autofree char *half_layer = g_build_filename (tmp, "layer-abc123", "etc", NULL);
  g_autoptr (GDir) dir = NULL;

  make_image (f, "kept\n", 1, &kept);
  make_image (f, "unused\n", 1, &unused);
  image = add_image (f, &kept, "servin/kept:1");
  g_assert_true (g_file_set_contents (half_blob, "half", -1, NULL));
  g_assert_cmpint (g_mkdir_with_parents (half_layer, 0700), ==, 0);

  g_assert_true (sv_image_store_collect_garbage (f->images, &error));
  g_assert_no_error (error);

  dir = g_dir_open (tmp, 0, &error);
  g_assert_no_error (error);
  g_assert_null (g_dir_read_name (dir));

  /* The content of the image that was never added goes. */
  g_assert_false (sv_layer_store_has_layer (f->layers, unused.diff_id));
  g_assert_false (sv_content_store_has_blob (f->content, unused.layer));
  g_assert_false (sv_content_store_has_blob (f->content, unused.config));
  g_assert_false (sv_content_store_has_blob (f->content, unused.manifest));

  g_assert_true (sv_layer_store_has_layer (f->layers, kept.diff_id));
  g_assert_true (sv_content_store_has_blob (f->content, kept.layer));
  g_assert_true (sv_content_store_has_blob (f->content, kept.config));
  g_assert_true (sv_content_store_has_blob (f->content, kept.manifest));
}

static void
test_collect_garbage_unreadable_record (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) t = { 0 };
  g_autoptr (SvImage) image = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *record = g_build_filename (f->root, "images", "broken.json", NULL);

  make_image (f, "unknown owner\n", 1, &t);
  g_assert_true (g_file_set_contents (record, "{", -1, NULL));
  close_stores (f);
  g_test_expect_message ("ServinEngine", G_LOG_LEVEL_WARNING, "skipping image record*");
  open_stores (f);
  g_test_assert_expected_messages ();

  /* A record that cannot be read may name this content, so it stays. */
  g_test_expect_message ("ServinEngine", G_LOG_LEVEL_WARNING, "Keeping the layers*");
  g_assert_true (sv_image_store_collect_garbage (f->images, &error));
  g_assert_no_error (error);
  g_assert_true (sv_layer_store_has_layer (f->layers, t.diff_id));
  g_test_assert_expected_messages ();
  g_assert_true (sv_content_store_has_blob (f->content, t.config));
}

static void
test_discard_unused (Fixture *f, gconstpointer data)
{
  g_auto (TestImage) used = { 0 };
  g_auto (TestImage) unused = { 0 };
  g_autoptr (SvImage) image = NULL;
  g_autoptr (SvImage) late = NULL;
  g_autoptr (GError) error = NULL;
  const char *diff_ids[3] = { NULL, NULL, NULL };
  const char *blobs[5] = { NULL, NULL, NULL, NULL, NULL };

  make_image (f, "used\n", 1, &used);
  make_image (f, "unused\n", 1, &unused);
  image = add_image (f, &used, "servin/used:1");

  diff_ids[0] = used.diff_id;
  diff_ids[1] = unused.diff_id;
  blobs[0] = used.config;
  blobs[1] = used.layer;
  blobs[2] = unused.config;
  blobs[3] = unused.layer;
  sv_image_store_discard_unused (f->images, diff_ids, blobs);

  g_assert_true (sv_layer_store_has_layer (f->layers, used.diff_id));
  g_assert_true (sv_content_store_has_blob (f->content, used.config));
  g_assert_true (sv_content_store_has_blob (f->content, used.layer));
  g_assert_false (sv_layer_store_has_layer (f->layers, unused.diff_id));
  g_assert_false (sv_content_store_has_blob (f->content, unused.config));
  g_assert_false (sv_content_store_has_blob (f->content, unused.layer));

  /* Adding an image whose content was discarded fails instead of recording it. */
  late = sv_image_store_add (f->images, unused.manifest, unused.config, NULL, &error);
  g_assert_null (late);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
  g_assert_cmpuint (f->added, ==, 1);
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

  add_test ("/servin/image-store/add-and-lookup", test_add_and_lookup);
  add_test ("/servin/image-store/repo-digest", test_repo_digest);
  add_test ("/servin/image-store/tag-moves", test_tag_moves);
  add_test ("/servin/image-store/list-order", test_list_order);
  add_test ("/servin/image-store/remove-by-tag", test_remove_by_tag);
  add_test ("/servin/image-store/remove-by-id", test_remove_by_id);
  add_test ("/servin/image-store/persistence", test_persistence);
  add_test ("/servin/image-store/corrupt-references", test_corrupt_references);
  add_test ("/servin/image-store/add-missing-layer", test_add_missing_layer);
  add_test ("/servin/image-store/short-prefix", test_short_prefix);
  add_test ("/servin/image-store/collect-garbage", test_collect_garbage);
  add_test ("/servin/image-store/collect-garbage-unreadable-record",
            test_collect_garbage_unreadable_record);
  add_test ("/servin/image-store/discard-unused", test_discard_unused);

  return g_test_run ();
}
