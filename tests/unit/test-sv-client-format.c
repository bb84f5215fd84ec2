/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-format.h"

typedef struct
{
  guint64 bytes;
  const char *expected;
} SizeCase;

/* Expected texts are what docker images prints (go-units HumanSizeWithPrecision, 3 digits). */
static const SizeCase size_cases[] = {
  { 0, "0B" },
  { 1, "1B" },
  { 999, "999B" },
  { 1000, "1kB" },
  { 1500, "1.5kB" },
  { 4500000, "4.5MB" },
  { 1234567, "1.23MB" },
  { 4261613, "4.26MB" },
  { 999999, "1e+03kB" },
  { 123456789012, "123GB" },
  { G_GUINT64_CONSTANT (5000000000000000000), "5EB" },
};

static void
test_size (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (size_cases); i++)
    {
      g_autofree char *text = sv_client_format_size (size_cases[i].bytes);

      g_assert_cmpstr (text, ==, size_cases[i].expected);
    }
}

typedef struct
{
  gint64 seconds;
  const char *expected;
} DurationCase;

static const DurationCase duration_cases[] = {
  { -5, "Less than a second" },
  { 0, "Less than a second" },
  { 1, "1 second" },
  { 2, "2 seconds" },
  { 59, "59 seconds" },
  { 60, "About a minute" },
  { 119, "About a minute" },
  { 120, "2 minutes" },
  { 59 * 60 + 59, "59 minutes" },
  { 3600, "About an hour" },
  { 5399, "About an hour" },
  { 5400, "2 hours" },
  { 47 * 3600, "47 hours" },
  { 48 * 3600, "2 days" },
  { 13 * 24 * 3600, "13 days" },
  { 14 * 24 * 3600, "2 weeks" },
  { 60 * 24 * 3600, "2 months" },
  { 2 * 365 * 24 * 3600, "2 years" },
};

static void
test_duration (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (duration_cases); i++)
    {
      g_autofree char *text = sv_client_format_duration (duration_cases[i].seconds);

      g_assert_cmpstr (text, ==, duration_cases[i].expected);
    }
}

static void
test_time_ago (void)
{
  g_autofree char *minutes = sv_client_format_time_ago (1000, 1000 + 150);
  g_autofree char *future = sv_client_format_time_ago (2000, 1000);

  g_assert_cmpstr (minutes, ==, "2 minutes ago");
  g_assert_cmpstr (future, ==, "Less than a second ago");
}

static void
test_status (void)
{
  g_autofree char *created = sv_client_format_status ("created", 0, 0, 0, 500);
  g_autofree char *up = sv_client_format_status ("running", 0, 320, 0, 500);
  g_autofree char *exited = sv_client_format_status ("exited", 0, 100, 495, 500);
  g_autofree char *killed = sv_client_format_status ("exited", 137, 100, 380, 500);
  g_autofree char *no_finish = sv_client_format_status ("exited", 3, 100, 0, 500);
  g_autofree char *other = sv_client_format_status ("removing", 0, 0, 0, 500);

  g_assert_cmpstr (created, ==, "Created");
  g_assert_cmpstr (up, ==, "Up 3 minutes");
  g_assert_cmpstr (exited, ==, "Exited (0) 5 seconds ago");
  g_assert_cmpstr (killed, ==, "Exited (137) 2 minutes ago");
  g_assert_cmpstr (no_finish, ==, "Exited (3)");
  g_assert_cmpstr (other, ==, "Removing");
}

static void
test_short_id (void)
{
  g_autofree char *image = sv_client_format_short_id (
      "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  g_autofree char *container = sv_client_format_short_id ("fedcba9876543210fedcba98");
  g_autofree char *short_input = sv_client_format_short_id ("abc");

  g_assert_cmpstr (image, ==, "0123456789ab");
  g_assert_cmpstr (container, ==, "fedcba987654");
  g_assert_cmpstr (short_input, ==, "abc");
}

static void
test_command (void)
{
  g_autofree char *fits = sv_client_format_command ("sleep 100", TRUE);
  g_autofree char *exact = sv_client_format_command ("12345678901234567890", TRUE);
  g_autofree char *longer = sv_client_format_command ("sh -c 'echo hello; sleep 100'", TRUE);
  g_autofree char *full = sv_client_format_command ("sh -c 'echo hello; sleep 100'", FALSE);
  g_autofree char *quotes = sv_client_format_command ("echo \"a\\b\"", FALSE);
  g_autofree char *wide = sv_client_format_command ("echo ééééééééééééééééééé", TRUE);
  g_autofree char *empty = sv_client_format_command (NULL, TRUE);

  g_assert_cmpstr (fits, ==, "\"sleep 100\"");
  g_assert_cmpstr (exact, ==, "\"12345678901234567890\"");
  g_assert_cmpstr (longer, ==, "\"sh -c 'echo hello; …\"");
  g_assert_cmpstr (full, ==, "\"sh -c 'echo hello; sleep 100'\"");
  g_assert_cmpstr (quotes, ==, "\"echo \\\"a\\\\b\\\"\"");
  /* Truncation counts characters, not bytes. */
  g_assert_cmpstr (wide, ==, "\"echo éééééééééééééé…\"");
  g_assert_cmpstr (empty, ==, "\"\"");
}

static void
test_ellipsize (void)
{
  g_autofree char *zero = sv_client_format_ellipsize ("abc", 0);
  g_autofree char *one = sv_client_format_ellipsize ("abc", 1);
  g_autofree char *same = sv_client_format_ellipsize ("abc", 3);

  g_assert_cmpstr (zero, ==, "");
  g_assert_cmpstr (one, ==, "…");
  g_assert_cmpstr (same, ==, "abc");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/servin/client-format/size", test_size);
  g_test_add_func ("/servin/client-format/duration", test_duration);
  g_test_add_func ("/servin/client-format/time-ago", test_time_ago);
  g_test_add_func ("/servin/client-format/status", test_status);
  g_test_add_func ("/servin/client-format/short-id", test_short_id);
  g_test_add_func ("/servin/client-format/command", test_command);
  g_test_add_func ("/servin/client-format/ellipsize", test_ellipsize);

  return g_test_run ();
}
