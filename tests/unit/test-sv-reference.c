/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-engine-error.h"
#include "sv-reference.h"

typedef struct
{
  const char *text;
  const char *domain;
  const char *path;
  const char *tag;
  const char *digest;
  const char *full;
  const char *familiar;
} ValidCase;

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const ValidCase valid_cases[] = {
  { "busybox", "docker.io", "library/busybox", "latest", NULL, "docker.io/library/busybox:latest",
    "busybox:latest" },
  { "busybox:1.36", "docker.io", "library/busybox", "1.36", NULL, "docker.io/library/busybox:1.36",
    "busybox:1.36" },
  { "user/app", "docker.io", "user/app", "latest", NULL, "docker.io/user/app:latest",
    "user/app:latest" },
  { "docker.io/library/busybox", "docker.io", "library/busybox", "latest", NULL,
    "docker.io/library/busybox:latest", "busybox:latest" },
  { "index.docker.io/busybox", "docker.io", "library/busybox", "latest", NULL,
    "docker.io/library/busybox:latest", "busybox:latest" },
  { "localhost/app", "localhost", "app", "latest", NULL, "localhost/app:latest",
    "localhost/app:latest" },
  { "localhost:5000/app:v2", "localhost:5000", "app", "v2", NULL, "localhost:5000/app:v2",
    "localhost:5000/app:v2" },
  { "127.0.0.1:5000/sample", "127.0.0.1:5000", "sample", "latest", NULL,
    "127.0.0.1:5000/sample:latest", "127.0.0.1:5000/sample:latest" },
  { "quay.io/org/sub/app:1.0-rc_1", "quay.io", "org/sub/app", "1.0-rc_1", NULL,
    "quay.io/org/sub/app:1.0-rc_1", "quay.io/org/sub/app:1.0-rc_1" },
  { "Registry.Example/app", "Registry.Example", "app", "latest", NULL,
    "Registry.Example/app:latest", "Registry.Example/app:latest" },
  { "[::1]:5000/app", "[::1]:5000", "app", "latest", NULL, "[::1]:5000/app:latest",
    "[::1]:5000/app:latest" },
  { "busybox@" DIGEST, "docker.io", "library/busybox", NULL, DIGEST,
    "docker.io/library/busybox@" DIGEST, "busybox@" DIGEST },
  { "busybox:1@" DIGEST, "docker.io", "library/busybox", "1", DIGEST,
    "docker.io/library/busybox:1@" DIGEST, "busybox:1@" DIGEST },
  { "a__b-c---d/f_g.h", "docker.io", "a__b-c---d/f_g.h", "latest", NULL,
    "docker.io/a__b-c---d/f_g.h:latest", "a__b-c---d/f_g.h:latest" },
  { "app:_x", "docker.io", "library/app", "_x", NULL, "docker.io/library/app:_x", "app:_x" },
};

typedef struct
{
  const char *text;
  const char *rule; /* a part of the expected message */
} InvalidCase;

static const InvalidCase invalid_cases[] = {
  { "", "empty" },
  { "BusyBox", "lowercase" },
  { "user/App", "lowercase" },
  { "busybox:", "tag" },
  { "busybox:.x", "tag" },
  { "busybox:-x", "tag" },
  { "busybox:a/b", "registry host" },
  { "busybox:"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "tag" },
  { "busybox@sha256:abc", "digest" },
  { "busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "digest" },
  { "busybox@md5:0123456789abcdef0123456789abcdef", "digest" },
  { "-busybox", "lowercase letters and digits" },
  { "busy..box", "lowercase letters and digits" },
  { "busybox_", "lowercase letters and digits" },
  { "a___b", "lowercase letters and digits" },
  { "user//app", "lowercase letters and digits" },
  { "localhost:5000/", "empty" },
  { "example.com:port/app", "registry host" },
  { "-bad.example/app", "registry host" },
  { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "image id" },
  { "busy box", "lowercase letters and digits" },
};

static void
test_reference_valid (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (valid_cases); i++)
    {
      const ValidCase *c = &valid_cases[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (SvReference) ref = sv_reference_parse (c->text, &error);
      g_autofree char *full = NULL;
      g_autofree char *familiar = NULL;

      g_test_message ("parsing %s", c->text);
      g_assert_no_error (error);
      g_assert_nonnull (ref);
      g_assert_cmpstr (ref->domain, ==, c->domain);
      g_assert_cmpstr (ref->path, ==, c->path);
      g_assert_cmpstr (ref->tag, ==, c->tag);
      g_assert_cmpstr (ref->digest, ==, c->digest);

      full = sv_reference_to_string (ref);
      g_assert_cmpstr (full, ==, c->full);
      familiar = sv_reference_to_familiar (ref);
      g_assert_cmpstr (familiar, ==, c->familiar);
    }
}

static void
test_reference_invalid (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (invalid_cases); i++)
    {
      const InvalidCase *c = &invalid_cases[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (SvReference) ref = sv_reference_parse (c->text, &error);

      g_test_message ("parsing \"%s\"", c->text);
      g_assert_null (ref);
      g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, c->text));
      g_test_message ("message: %s", error->message);
      g_assert_nonnull (strstr (error->message, c->rule));
    }
}

static void
test_reference_registry_host (void)
{
  g_autoptr (SvReference) hub = sv_reference_parse ("busybox", NULL);
  g_autoptr (SvReference) local = sv_reference_parse ("127.0.0.1:5000/app@" DIGEST, NULL);
  g_autofree char *name = NULL;

  g_assert_cmpstr (sv_reference_get_registry_host (hub), ==, "registry-1.docker.io");
  g_assert_cmpstr (sv_reference_get_manifest_ref (hub), ==, "latest");
  g_assert_cmpstr (sv_reference_get_registry_host (local), ==, "127.0.0.1:5000");
  g_assert_cmpstr (sv_reference_get_manifest_ref (local), ==, DIGEST);

  name = sv_reference_get_name (hub);
  g_assert_cmpstr (name, ==, "docker.io/library/busybox");
}

static void
test_reference_name_too_long (void)
{
  g_autofree char *text = g_strnfill (256, 'a');
  g_autoptr (GError) error = NULL;
  g_autoptr (SvReference) ref = sv_reference_parse (text, &error);

  g_assert_null (ref);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "255"));
}

static void
test_reference_digest_check (void)
{
  g_assert_true (sv_digest_is_valid (DIGEST));
  g_assert_false (sv_digest_is_valid ("sha256:"));
  g_assert_false (sv_digest_is_valid (DIGEST "0"));
  g_assert_false (sv_digest_is_valid ("sha512:0123"));
  g_assert_false (sv_digest_is_valid (NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/servin/reference/valid", test_reference_valid);
  g_test_add_func ("/servin/reference/invalid", test_reference_invalid);
  g_test_add_func ("/servin/reference/registry-host", test_reference_registry_host);
  g_test_add_func ("/servin/reference/name-too-long", test_reference_name_too_long);
  g_test_add_func ("/servin/reference/digest-check", test_reference_digest_check);
  return g_test_run ();
}
