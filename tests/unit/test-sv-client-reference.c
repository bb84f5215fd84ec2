/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-error.h"
#include "sv-client-reference.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct
{
  const char *text;
  const char *full;
  const char *familiar;
} NormalizeCase;

static const NormalizeCase normalize_cases[] = {
  { "busybox", "docker.io/library/busybox:latest", "busybox:latest" },
  { "busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36" },
  { "servin/sample", "docker.io/servin/sample:latest", "servin/sample:latest" },
  { "docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
  { "index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
  { "docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest" },
  { "localhost/app", "localhost/app:latest", "localhost/app:latest" },
  { "127.0.0.1:5000/sample", "127.0.0.1:5000/sample:latest", "127.0.0.1:5000/sample:latest" },
  { "127.0.0.1:5000/sample:1", "127.0.0.1:5000/sample:1", "127.0.0.1:5000/sample:1" },
  { "quay.io/org/app:v2", "quay.io/org/app:v2", "quay.io/org/app:v2" },
  { "busybox@" DIGEST, "docker.io/library/busybox@" DIGEST, "busybox@" DIGEST },
  { "busybox:1@" DIGEST, "docker.io/library/busybox:1@" DIGEST, "busybox:1@" DIGEST },
};

static void
test_normalize (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (normalize_cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *full = sv_client_reference_normalize (normalize_cases[i].text, &error);
      g_autofree char *familiar = NULL;

      g_assert_no_error (error);
      g_assert_cmpstr (full, ==, normalize_cases[i].full);
      familiar = sv_client_reference_familiar (full);
      g_assert_cmpstr (familiar, ==, normalize_cases[i].familiar);
    }
}

static void
test_normalize_invalid (void)
{
  const char *invalid[] = { "", "busybox:", ":latest", "bad name", "busybox@", "a/b\n" };

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *full = sv_client_reference_normalize (invalid[i], &error);

      g_assert_null (full);
      g_assert_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "invalid reference format"));
    }
}

static void
test_split (void)
{
  struct
  {
    const char *reference;
    const char *repository;
    const char *tag;
  } cases[] = {
    { "docker.io/library/busybox:latest", "docker.io/library/busybox", "latest" },
    { "127.0.0.1:5000/sample:1", "127.0.0.1:5000/sample", "1" },
    { "127.0.0.1:5000/sample", "127.0.0.1:5000/sample", NULL },
    { "busybox@" DIGEST, "busybox", NULL },
    { "busybox:2@" DIGEST, "busybox", "2" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *repository = NULL;
      g_autofree char *tag = NULL;

      sv_client_reference_split (cases[i].reference, &repository, &tag);
      g_assert_cmpstr (repository, ==, cases[i].repository);
      g_assert_cmpstr (tag, ==, cases[i].tag);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/servin/client-reference/normalize", test_normalize);
  g_test_add_func ("/servin/client-reference/normalize-invalid", test_normalize_invalid);
  g_test_add_func ("/servin/client-reference/split", test_split);

  return g_test_run ();
}
