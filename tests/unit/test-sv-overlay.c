/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>
#include <unistd.h>

#include "sv-engine-error.h"
#include "sv-overlay.h"

#define DIGEST_A "sha256:189fbd1a80810e67f690c01f20b17171af0fb134d9362e78862fd3e871fbe87f"
#define DIGEST_B "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_link_name (void)
{
  g_autofree char *a = sv_overlay_get_link_name (DIGEST_A);
  g_autofree char *b = sv_overlay_get_link_name (DIGEST_B);

  /* Python: base64.b32encode (bytes.fromhex (HEX))[:26] */
  g_assert_cmpstr (a, ==, "DCP32GUAQEHGP5UQYAPSBMLROG");
  g_assert_cmpstr (b, ==, "AAAAAAAAAAAAAAAAAAAAAAAAAA");
  g_assert_cmpuint (strlen (a), ==, SV_OVERLAY_LINK_NAME_LENGTH);
}

static void
test_link_name_invalid (void)
{
  const char *invalid[]
      = { "",
          "sha256:",
          "sha256:189f",
          "sha512:189fbd1a80810e67f690c01f20b17171af0fb134d9362e78862fd3e871fbe87f",
          "sha256:189FBD1A80810E67F690C01F20B17171AF0FB134D9362E78862FD3E871FBE87F",
          "../layers" };

  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autofree char *name = sv_overlay_get_link_name (invalid[i]);

      g_assert_null (name);
    }
  g_assert_null (sv_overlay_get_link_name (NULL));
}

static void
test_build_layers (void)
{
  const char *diff_ids[] = { DIGEST_A, DIGEST_B, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *options = sv_overlay_build_options (diff_ids, ID, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (options, ==,
                   "lowerdir=l/DCP32GUAQEHGP5UQYAPSBMLROG:l/AAAAAAAAAAAAAAAAAAAAAAAAAA,"
                   "upperdir=containers/" ID "/upper,workdir=containers/" ID "/work");
}

static void
test_build_no_layers (void)
{
  const char *diff_ids[] = { NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *options = sv_overlay_build_options (diff_ids, ID, &error);
  g_autofree char *options_null = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (options, ==,
                   "lowerdir=containers/" ID "/empty,upperdir=containers/" ID
                   "/upper,workdir=containers/" ID "/work");

  options_null = sv_overlay_build_options (NULL, ID, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (options_null, ==, options);
}

static void
test_build_invalid_diff_id (void)
{
  const char *diff_ids[] = { DIGEST_A, "sha256:../../etc", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *options = sv_overlay_build_options (diff_ids, ID, &error);

  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "sha256:../../etc"));
  g_assert_null (options);
}

static const char **
make_diff_ids (guint n)
{
  const char **diff_ids = g_new0 (const char *, n + 1);

  for (guint i = 0; i < n; i++)
    diff_ids[i] = i % 2 == 0 ? DIGEST_A : DIGEST_B;
  return diff_ids;
}

static void
test_max_layers (void)
{
  gsize page = (gsize)sysconf (_SC_PAGESIZE);
  /* One layer: "lowerdir=l/" + 26 + ",upperdir=containers/" + 64 + "/upper" +
   * ",workdir=containers/" + 64 + "/work" = 217 bytes, and each further layer adds
   * ":l/" + 26 = 29 bytes. */
  guint expected = MIN ((page - 1 - 217) / 29 + 1, SV_OVERLAY_MAX_STACK);
  guint max = sv_overlay_get_max_layers ();
  g_autofree const char **fits = make_diff_ids (max);
  g_autofree const char **too_many = make_diff_ids (max + 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *options = NULL;
  g_autofree char *rejected = NULL;

  g_assert_cmpuint (max, ==, expected);
  /* Absolute paths fit only 44 layers under /var/lib/servin. Images of 125 layers, which
   * Docker runs, must run here. */
  g_assert_cmpuint (max, >=, 125);

  options = sv_overlay_build_options (fits, ID, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (options), <, page);

  rejected = sv_overlay_build_options (too_many, ID, &error);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED);
  g_assert_null (rejected);
}

static void
test_max_stack (void)
{
  g_autofree const char **diff_ids = make_diff_ids (SV_OVERLAY_MAX_STACK + 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *options = sv_overlay_build_options (diff_ids, ID, &error);

  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "501 layers"));
  g_assert_null (options);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/servin/overlay/link-name", test_link_name);
  g_test_add_func ("/servin/overlay/link-name-invalid", test_link_name_invalid);
  g_test_add_func ("/servin/overlay/build-layers", test_build_layers);
  g_test_add_func ("/servin/overlay/build-no-layers", test_build_no_layers);
  g_test_add_func ("/servin/overlay/build-invalid-diff-id", test_build_invalid_diff_id);
  g_test_add_func ("/servin/overlay/max-layers", test_max_layers);
  g_test_add_func ("/servin/overlay/max-stack", test_max_stack);

  return g_test_run ();
}
