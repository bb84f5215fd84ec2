/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib/gstdio.h>

#include "sv-config.h"
#include "sv-engine-error.h"

static char *
write_config (const char *contents)
{
  g_autoptr (GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("servin-config-XXXXXX.yaml", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
clear_environment (void)
{
  g_unsetenv ("SERVIN_DATA_ROOT");
  g_unsetenv ("SERVIN_RUNTIME_STATE");
  g_unsetenv ("SERVIN_LOG_LEVEL");
  g_unsetenv ("SERVIN_RUNTIME");
  g_unsetenv ("SERVIN_CGROUP_PARENT");
}

static void
test_defaults (void)
{
  g_autoptr (SvConfig) config = sv_config_new_default ();

  g_assert_cmpstr (sv_config_get_data_root (config), ==, "/var/lib/servin");
  g_assert_cmpstr (sv_config_get_runtime_state (config), ==, "/run/servin");
  g_assert_cmpstr (sv_config_get_log_level (config), ==, "info");
  g_assert_cmpstr (sv_config_get_runtime (config), ==, "servin-runtime");
  g_assert_cmpstr (sv_config_get_cgroup_parent (config), ==, "servin");
  g_assert_null (sv_config_get_insecure_registries (config)[0]);
}

static void
test_file_values (void)
{
  g_autofree char *path = write_config ("daemon:\n"
                                        "  data_root: /srv/servin\n"
                                        "  log_level: debug\n"
                                        "  runtime: runc\n"
                                        "registries:\n"
                                        "  insecure:\n"
                                        "    - registry.test:5000\n"
                                        "    - 10.0.0.1\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (SvConfig) config = NULL;

  clear_environment ();
  config = sv_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sv_config_get_data_root (config), ==, "/srv/servin");
  g_assert_cmpstr (sv_config_get_log_level (config), ==, "debug");
  g_assert_cmpstr (sv_config_get_runtime (config), ==, "runc");
  g_assert_cmpstr (sv_config_get_insecure_registries (config)[0], ==, "registry.test:5000");
  g_assert_true (sv_config_is_insecure_registry (config, "registry.test:5000"));
  g_assert_true (sv_config_is_insecure_registry (config, "10.0.0.1"));
  g_assert_false (sv_config_is_insecure_registry (config, "registry.test"));
  g_unlink (path);
}

static void
test_loopback_always_insecure (void)
{
  g_autoptr (SvConfig) config = sv_config_new_default ();

  g_assert_true (sv_config_is_insecure_registry (config, "127.0.0.1:5000"));
  g_assert_true (sv_config_is_insecure_registry (config, "localhost:5000"));
  g_assert_true (sv_config_is_insecure_registry (config, "[::1]:5000"));
  g_assert_false (sv_config_is_insecure_registry (config, "127.0.0.1.example:5000"));
  g_assert_false (sv_config_is_insecure_registry (config, "docker.io"));
}

static void
test_environment_overrides_file (void)
{
  g_autofree char *path = write_config ("daemon:\n  data_root: /srv/file\n  log_level: error\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (SvConfig) config = NULL;

  clear_environment ();
  g_setenv ("SERVIN_DATA_ROOT", "/srv/env", TRUE);
  g_setenv ("SERVIN_RUNTIME_STATE", "/run/env", TRUE);
  g_setenv ("SERVIN_LOG_LEVEL", "warning", TRUE);
  config = sv_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sv_config_get_data_root (config), ==, "/srv/env");
  g_assert_cmpstr (sv_config_get_runtime_state (config), ==, "/run/env");
  g_assert_cmpstr (sv_config_get_log_level (config), ==, "warning");
  clear_environment ();
  g_unlink (path);
}

static void
test_invalid_environment_ignored (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvConfig) config = NULL;

  clear_environment ();
  g_setenv ("SERVIN_DATA_ROOT", "relative/path", TRUE);
  g_setenv ("SERVIN_LOG_LEVEL", "loud", TRUE);
  g_test_expect_message ("ServinEngine", G_LOG_LEVEL_WARNING, "*SERVIN_DATA_ROOT*relative/path*");
  g_test_expect_message ("ServinEngine", G_LOG_LEVEL_WARNING, "*SERVIN_LOG_LEVEL*loud*");
  config = sv_config_load (NULL, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpstr (sv_config_get_data_root (config), ==, "/var/lib/servin");
  g_assert_cmpstr (sv_config_get_log_level (config), ==, "info");
  clear_environment ();
}

static void
test_unknown_key_warns (void)
{
  g_autofree char *path = write_config ("daemon:\n  colour: blue\nextras:\n  a: 1\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (SvConfig) config = NULL;

  clear_environment ();
  g_test_expect_message ("ServinEngine", G_LOG_LEVEL_WARNING, "*daemon.colour*");
  g_test_expect_message ("ServinEngine", G_LOG_LEVEL_WARNING, "*section extras*");
  config = sv_config_load (path, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_unlink (path);
}

static void
test_bad_files (void)
{
  const struct
  {
    const char *contents;
    const char *message_part;
  } cases[] = {
    { "daemon: [unclosed\n", "invalid YAML" },
    { "- a\n- b\n", "top level must be a mapping" },
    { "daemon:\n  data_root: relative\n", "absolute path" },
    { "daemon:\n  log_level: loud\n", "invalid log level \"loud\"" },
    { "registries:\n  insecure: host\n", "must be a list" },
    { "daemon: 3\n", "section daemon must be a mapping" },
    { "registries:\n  auths: [a]\n", "registries.auths must be a mapping" },
    { "registries:\n  auths:\n    reg.test: alice\n", "registries.auths.reg.test must be a mapping" },
    { "registries:\n  auths:\n    reg.test:\n      username: alice\n",
      "registries.auths.reg.test needs both" },
    { "registries:\n  auths:\n    reg.test:\n      password: hunter2secret\n",
      "registries.auths.reg.test needs both" },
    { "registries:\n  auths:\n    reg.test:\n      username: a:b\n      password: hunter2secret\n",
      "registries.auths.reg.test.username must not contain" },
    { "registries:\n  auths:\n    https://reg.test:\n      username: a\n      password: x\n",
      "key \"https://reg.test\" must be a registry host" },
    { "registries:\n  auths:\n    reg.test:\n      username: a\n      password: [hunter2secret]\n",
      "key registries.auths.reg.test.password must be a single value" },
  };

  clear_environment ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_config (cases[i].contents);
      g_autoptr (GError) error = NULL;
      g_autoptr (SvConfig) config = sv_config_load (path, &error);

      g_assert_null (config);
      g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
      g_assert_nonnull (strstr (error->message, path));
      g_assert_null (strstr (error->message, "hunter2secret"));
      g_unlink (path);
    }
}

static void
test_registry_auths (void)
{
  g_autofree char *path = write_config ("registries:\n"
                                        "  auths:\n"
                                        "    registry.test:5000:\n"
                                        "      username: alice\n"
                                        "      password: \"p@ss: word\"\n"
                                        "    docker.io:\n"
                                        "      username: bob\n"
                                        "      password: \"\"\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (SvConfig) config = NULL;
  const char *username = NULL;
  const char *password = NULL;

  clear_environment ();
  g_assert_no_errno (g_chmod (path, 0600));
  config = sv_config_load (path, &error);
  g_assert_no_error (error);

  g_assert_true (sv_config_get_registry_auth (config, "registry.test:5000", &username, &password));
  g_assert_cmpstr (username, ==, "alice");
  g_assert_cmpstr (password, ==, "p@ss: word");
  g_assert_true (sv_config_get_registry_auth (config, "docker.io", &username, &password));
  g_assert_cmpstr (username, ==, "bob");
  g_assert_cmpstr (password, ==, "");
  g_assert_false (sv_config_get_registry_auth (config, "registry.test", &username, &password));
  g_clear_object (&config);

  /* Passwords in a file that every user can read get a warning. */
  g_assert_no_errno (g_chmod (path, 0644));
  g_test_expect_message ("ServinEngine", G_LOG_LEVEL_WARNING, "*every user can read it*");
  config = sv_config_load (path, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_unlink (path);
}

static void
test_missing_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvConfig) config = sv_config_load ("/nonexistent/servin.yaml", &error);

  g_assert_null (config);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, "/nonexistent/servin.yaml"));
}

static void
test_empty_file (void)
{
  g_autofree char *path = write_config ("");
  g_autoptr (GError) error = NULL;
  g_autoptr (SvConfig) config = NULL;

  clear_environment ();
  config = sv_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sv_config_get_data_root (config), ==, "/var/lib/servin");
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/servin/config/defaults", test_defaults);
  g_test_add_func ("/servin/config/file-values", test_file_values);
  g_test_add_func ("/servin/config/loopback-insecure", test_loopback_always_insecure);
  g_test_add_func ("/servin/config/environment-overrides", test_environment_overrides_file);
  g_test_add_func ("/servin/config/invalid-environment", test_invalid_environment_ignored);
  g_test_add_func ("/servin/config/unknown-key", test_unknown_key_warns);
  g_test_add_func ("/servin/config/bad-files", test_bad_files);
  g_test_add_func ("/servin/config/registry-auths", test_registry_auths);
  g_test_add_func ("/servin/config/missing-file", test_missing_file);
  g_test_add_func ("/servin/config/empty-file", test_empty_file);
  return g_test_run ();
}
