/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "sv-engine-error.h"
#include "sv-fs.h"
#include "sv-layer-store.h"

#define DIGEST "sha256:189fbd1a80810e67f690c01f20b17171af0fb134d9362e78862fd3e871fbe87f"
#define HEX "189fbd1a80810e67f690c01f20b17171af0fb134d9362e78862fd3e871fbe87f"
#define LINK_NAME "DCP32GUAQEHGP5UQYAPSBMLROG"

typedef struct
{
  char *root;
  char *link_path;
  SvLayerStore *store;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("servin-layers-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = sv_layer_store_new (f->root, &error);
  g_assert_no_error (error);
  f->link_path = g_build_filename (f->root, "l", LINK_NAME, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->store);
  g_assert_true (sv_fs_remove_tree (f->root, NULL));
  g_free (f->root);
  g_free (f->link_path);
}

/* A layer as a stored layer looks: its folder under layers/ with one file. */
static void
make_layer (Fixture *f)
{
  g_autofree char *layer = g_build_filename (f->root, "layers", HEX, NULL);
  g_autofree char *file = g_build_filename (layer, "hello", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir (layer, 0755), ==, 0);
  g_assert_true (g_file_set_contents (file, "hi", -1, &error));
  g_assert_no_error (error);
}

static void
test_link_created (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *link = NULL;
  g_autofree char *again = NULL;
  g_autofree char *target = NULL;
  g_autofree char *through_link = NULL;
  g_autofree char *contents = NULL;

  make_layer (f);
  link = sv_layer_store_link_layer (f->store, DIGEST, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (link, ==, "l/" LINK_NAME);

  target = g_file_read_link (f->link_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (target, ==, "../layers/" HEX);

  through_link = g_build_filename (f->link_path, "hello", NULL);
  g_assert_true (g_file_get_contents (through_link, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "hi");

  /* A second call finds the link in place. */
  again = sv_layer_store_link_layer (f->store, DIGEST, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, link);
}

static void
test_link_conflict (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *link = NULL;
  g_autofree char *target = NULL;

  g_assert_cmpint (symlink ("../layers/other", f->link_path), ==, 0);
  link = sv_layer_store_link_layer (f->store, DIGEST, &error);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "../layers/other"));
  g_assert_null (link);

  /* The link of another layer stays as it was. */
  target = g_file_read_link (f->link_path, NULL);
  g_assert_cmpstr (target, ==, "../layers/other");
}

static void
test_link_invalid_diff_id (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *link = sv_layer_store_link_layer (f->store, "sha256:../../etc", &error);

  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_null (link);
}

static void
test_remove_removes_link (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *link = NULL;

  make_layer (f);
  link = sv_layer_store_link_layer (f->store, DIGEST, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (f->link_path, G_FILE_TEST_IS_SYMLINK));

  g_assert_true (sv_layer_store_remove_layer (f->store, DIGEST, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (f->link_path, G_FILE_TEST_IS_SYMLINK));
  g_assert_false (sv_layer_store_has_layer (f->store, DIGEST));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/servin/layer-store/link-created", test_link_created);
  ADD ("/servin/layer-store/link-conflict", test_link_conflict);
  ADD ("/servin/layer-store/link-invalid-diff-id", test_link_invalid_diff_id);
  ADD ("/servin/layer-store/remove-removes-link", test_remove_removes_link);
#undef ADD

  return g_test_run ();
}
