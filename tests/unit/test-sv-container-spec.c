/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-container-spec.h"
#include "sv-engine-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define TEST_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct
{
  char *dir;
  char *lower;
  char *upper;
} Fixture;

static void
write_file (const char *dir, const char *relative, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, relative, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("test-sv-container-spec-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->lower = g_build_filename (f->dir, "lower", NULL);
  f->upper = g_build_filename (f->dir, "upper", NULL);
  write_file (f->lower, "etc/passwd",
              "root:x:0:0:root:/root:/bin/sh\n"
              "# comment\n"
              "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
              "app:x:1000:1000:App:/home/app:/bin/sh\n");
  write_file (f->lower, "etc/group",
              "root:x:0:\n"
              "wheel:x:10:root,app\n"
              "staff:x:50:app\n"
              "app:x:1000:\n");
  g_assert_cmpint (g_mkdir_with_parents (f->upper, 0755), ==, 0);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autofree char *command = g_strdup_printf ("rm -rf '%s'", f->dir);

  g_assert_true (g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL));
  g_free (f->dir);
  g_free (f->lower);
  g_free (f->upper);
}

/* Layers of the fixture, top first. */
static const char *const *
fixture_layers (Fixture *f)
{
  static const char *layers[3];

  layers[0] = f->upper;
  layers[1] = f->lower;
  layers[2] = NULL;
  return layers;
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static GVariant *
parse_options (const char *text)
{
  g_autoptr (GError) error = NULL;
  GVariant *options = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return g_variant_ref_sink (options);
}

static char *
strv_join (JsonArray *array)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      if (i > 0)
        g_string_append_c (s, '|');
      g_string_append (s, json_array_get_string_element (array, i));
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
merged_args (const char *image_json, const char *options_text)
{
  g_autoptr (JsonObject) image = parse_object (image_json);
  g_autoptr (GVariant) options = parse_options (options_text);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) config = sv_container_spec_merge_config (image, options, TEST_ID, &error);
  g_auto (GStrv) args = NULL;

  g_assert_no_error (error);
  args = sv_container_spec_get_args (config);
  return g_strjoinv ("|", args);
}

static void
test_args_merging (void)
{
  const char *image = "{\"Entrypoint\":[\"/bin/entry\",\"-x\"],\"Cmd\":[\"default\"]}";
  const char *no_entry = "{\"Cmd\":[\"sh\",\"-c\",\"true\"]}";
  struct
  {
    const char *image;
    const char *options;
    const char *expected;
  } cases[] = {
    { image, "{}", "/bin/entry|-x|default" },
    { image, "{'Cmd': <['other']>}", "/bin/entry|-x|other" },
    { image, "{'Entrypoint': <['/bin/echo']>}", "/bin/echo" },
    { image, "{'Entrypoint': <['/bin/echo']>, 'Cmd': <['hi']>}", "/bin/echo|hi" },
    { image, "{'Entrypoint': <@as []>, 'Cmd': <['ls']>}", "ls" },
    { no_entry, "{}", "sh|-c|true" },
    { no_entry, "{'Cmd': <['echo', 'a b']>}", "echo|a b" },
    { "{}", "{'Cmd': <['true']>}", "true" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *args = merged_args (cases[i].image, cases[i].options);
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].options);
      g_assert_cmpstr (args, ==, cases[i].expected);
    }
}

static void
test_env_merging (void)
{
  g_autoptr (JsonObject) image
      = parse_object ("{\"Env\":[\"PATH=/image/bin\",\"A=1\",\"B=2\"],\"Cmd\":[\"true\"]}");
  g_autoptr (GVariant) options = parse_options ("{'Env': <['B=run', 'C=3=x']>}");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) config = sv_container_spec_merge_config (image, options, TEST_ID, &error);
  g_autofree char *env = NULL;

  g_assert_no_error (error);
  env = strv_join (json_object_get_array_member (config, "Env"));
  g_assert_cmpstr (env, ==, "PATH=/image/bin|A=1|B=run|C=3=x");
}

static void
test_env_invalid (void)
{
  const char *bad[] = { "{'Env': <['NOVALUE']>}", "{'Env': <['=x']>}" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GVariant) options = parse_options (bad[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) config
          = sv_container_spec_merge_config (NULL, options, TEST_ID, &error);

      g_assert_null (config);
      g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "NAME=VALUE"));
    }
}

#define HOSTNAME_65 "abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefghij"

static void
test_options_invalid (void)
{
  struct
  {
    const char *options;
    const char *in_message;
  } cases[] = {
    { "{'Bogus': <1>}", "Bogus" },
    { "{'Cmd': <'echo hi'>}", "Cmd" },
    { "{'Tty': <'yes'>}", "Tty" },
    { "{'WorkingDir': <'relative/dir'>, 'Cmd': <['true']>}", "relative/dir" },
    { "{'Hostname': <'a/b'>}", "invalid hostname \"a/b\"" },
    { "{'Hostname': <'-lead'>}", "-lead" },
    { "{'Hostname': <'a..b'>}", "a..b" },
    { "{'Hostname': <'" HOSTNAME_65 "'>}", "longer than 64" },
    { "{'Labels': <{'a=b': 'c'}>}", "invalid label key \"a=b\"" },
    { "{'Labels': <{'': 'c'}>}", "invalid label key \"\"" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GVariant) options = parse_options (cases[i].options);
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) config
          = sv_container_spec_merge_config (NULL, options, TEST_ID, &error);

      g_assert_null (config);
      g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i].in_message));
    }
}

/* Generate a spec as start does, with the host's hard RLIMIT_NOFILE at @nofile (other limits
 * unlimited) and the cgroup @support (NULL for all). */
static JsonObject *
generate_with (Fixture *f, const char *image_json, const char *options_text, guint64 nofile,
               const SvCgroupSupport *support, GError **error)
{
  g_autoptr (JsonObject) image = parse_object (image_json);
  g_autoptr (GVariant) options = parse_options (options_text);
  g_autoptr (JsonObject) config = sv_container_spec_merge_config (image, options, TEST_ID, error);
  g_autoptr (JsonObject) host_config = NULL;
  struct rlimit host_rlimits[RLIM_NLIMITS];
  SvContainerSpecInput input = {
    .id = TEST_ID,
    .config = config,
    .layer_paths = fixture_layers (f),
    .cgroup_parent = "servin-test",
    .cgroup_support = support,
    .host_rlimits = host_rlimits,
  };

  g_assert_nonnull (config);
  host_config = sv_container_resources_from_options (options, error);
  if (host_config == NULL)
    return NULL;
  input.host_config = host_config;
  for (int i = 0; i < RLIM_NLIMITS; i++)
    host_rlimits[i].rlim_cur = host_rlimits[i].rlim_max = RLIM_INFINITY;
  if (nofile != G_MAXUINT64)
    host_rlimits[RLIMIT_NOFILE].rlim_cur = host_rlimits[RLIMIT_NOFILE].rlim_max = nofile;
  return sv_container_spec_generate (&input, error);
}

static JsonObject *
generate (Fixture *f, const char *image_json, const char *options_text, guint64 nofile,
          GError **error)
{
  return generate_with (f, image_json, options_text, nofile, NULL, error);
}

static JsonObject *
get_path (JsonObject *object, const char *first, const char *second)
{
  object = json_object_get_object_member (object, first);
  return second != NULL ? json_object_get_object_member (object, second) : object;
}

static void
test_env_defaults (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec
      = generate (f, "{\"Env\":[\"A=1\"]}", "{'Cmd': <['true']>}", G_MAXUINT64, &error);
  g_autofree char *env = NULL;

  g_assert_no_error (error);
  env = strv_join (json_object_get_array_member (get_path (spec, "process", NULL), "env"));
  g_assert_cmpstr (env, ==,
                   "PATH=" SV_CONTAINER_DEFAULT_PATH "|HOSTNAME=0123456789ab|A=1|HOME=/root");
}

static void
test_env_user_wins (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec
      = generate (f, "{\"Env\":[\"PATH=/x\"]}",
                  "{'Cmd': <['true']>, 'Env': <['HOSTNAME=h', 'HOME=/h']>, 'Hostname': <'box'>}",
                  G_MAXUINT64, &error);
  g_autofree char *env = NULL;

  g_assert_no_error (error);
  env = strv_join (json_object_get_array_member (get_path (spec, "process", NULL), "env"));
  g_assert_cmpstr (env, ==, "PATH=/x|HOSTNAME=h|HOME=/h");
  g_assert_cmpstr (json_object_get_string_member (spec, "hostname"), ==, "box");
}

static void
test_cwd (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec1
      = generate (f, "{\"WorkingDir\":\"/srv\",\"Cmd\":[\"true\"]}", "{}", G_MAXUINT64, &error);
  g_autoptr (JsonObject) spec2 = NULL;
  g_autoptr (JsonObject) spec3 = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (get_path (spec1, "process", NULL), "cwd"), ==,
                   "/srv");
  spec2 = generate (f, "{\"WorkingDir\":\"/srv\",\"Cmd\":[\"true\"]}", "{'WorkingDir': <'/tmp'>}",
                    G_MAXUINT64, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (get_path (spec2, "process", NULL), "cwd"), ==,
                   "/tmp");
  spec3 = generate (f, "{\"Cmd\":[\"true\"]}", "{}", G_MAXUINT64, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (get_path (spec3, "process", NULL), "cwd"), ==,
                   "/");
}

static void
test_no_command (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec
      = generate (f, "{\"Cmd\":[\"x\"]}", "{'Entrypoint': <@as []>}", G_MAXUINT64, &error);

  g_assert_null (spec);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "no command"));
}

static char *
format_gids (const SvContainerUser *user)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; i < user->additional_gids->len; i++)
    g_string_append_printf (s, "%s%u", i > 0 ? "," : "",
                            (guint)g_array_index (user->additional_gids, gid_t, i));
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
test_user_resolution (Fixture *f, gconstpointer data)
{
  struct
  {
    const char *user;
    guint uid, gid;
    const char *gids;
    const char *home;
  } cases[] = {
    { "", 0, 0, "0,10", "/root" },
    { "root", 0, 0, "0,10", "/root" },
    { "app", 1000, 1000, "1000,10,50", "/home/app" },
    { "1000", 1000, 1000, "1000,10,50", "/home/app" },
    { "4242", 4242, 0, "0", "/" },
    { "app:staff", 1000, 50, "50", "/home/app" },
    { "app:77", 1000, 77, "77", "/home/app" },
    { "4242:4343", 4242, 4343, "4343", "/" },
    { "daemon", 1, 1, "1", "/usr/sbin" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (SvContainerUser) user = { 0 };
      g_autoptr (GError) error = NULL;
      g_autofree char *gids = NULL;

      g_test_message ("user \"%s\"", cases[i].user);
      g_assert_true (
          sv_container_spec_resolve_user (fixture_layers (f), cases[i].user, &user, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (user.uid, ==, cases[i].uid);
      g_assert_cmpuint (user.gid, ==, cases[i].gid);
      gids = format_gids (&user);
      g_assert_cmpstr (gids, ==, cases[i].gids);
      g_assert_cmpstr (user.home, ==, cases[i].home);
    }
}

static void
test_user_unknown (Fixture *f, gconstpointer data)
{
  const char *bad[] = { "nobody", "app:nogroup", "-1" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto (SvContainerUser) user = { 0 };
      g_autoptr (GError) error = NULL;

      g_assert_false (sv_container_spec_resolve_user (fixture_layers (f), bad[i], &user, &error));
      g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "unable to find"));
    }
}

static void
test_user_in_spec (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec
      = generate (f, "{\"User\":\"app\",\"Cmd\":[\"id\"]}", "{}", G_MAXUINT64, &error);
  JsonObject *user;
  g_autoptr (JsonObject) unknown = NULL;

  g_assert_no_error (error);
  user = get_path (spec, "process", "user");
  g_assert_cmpint (json_object_get_int_member (user, "uid"), ==, 1000);
  g_assert_cmpint (json_object_get_int_member (user, "gid"), ==, 1000);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (user, "additionalGids")),
                    ==, 3);

  unknown = generate (f, "{\"Cmd\":[\"id\"]}", "{'User': <'ghost'>}", G_MAXUINT64, &error);
  g_assert_null (unknown);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "ghost"));
}

/* A higher layer's ".wh.passwd" deletes the lower /etc/passwd; a new file in a higher layer
 * replaces it. */
static void
test_user_whiteout (Fixture *f, gconstpointer data)
{
  g_auto (SvContainerUser) user = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *found = NULL;
  g_autofree char *top = g_build_filename (f->dir, "top", NULL);
  const char *layers[] = { top, f->upper, f->lower, NULL };

  write_file (f->upper, "etc/.wh.passwd", "");
  found = sv_container_spec_find_layer_file (fixture_layers (f), "etc/passwd");
  g_assert_null (found);
  g_assert_false (sv_container_spec_resolve_user (fixture_layers (f), "app", &user, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  sv_container_user_clear (&user);

  write_file (top, "etc/passwd", "app:x:2000:2000::/new:/bin/sh\n");
  g_assert_true (sv_container_spec_resolve_user (layers, "app", &user, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (user.uid, ==, 2000);
  g_assert_cmpuint (user.gid, ==, 2000);
  g_assert_cmpstr (user.home, ==, "/new");
}

/* overlayfs form: a character device 0:0 deletes, an opaque folder hides the lower one. */
static void
test_user_overlay_whiteout (Fixture *f, gconstpointer data)
{
  g_autofree char *etc = g_build_filename (f->upper, "etc", NULL);
  g_autofree char *device = g_build_filename (etc, "passwd", NULL);
  g_autofree char *found = NULL;
  g_autofree char *group = NULL;

  g_assert_cmpint (g_mkdir_with_parents (etc, 0755), ==, 0);
  if (mknod (device, S_IFCHR | 0600, makedev (0, 0)) != 0)
    {
      g_test_skip_printf ("mknod needs CAP_MKNOD: %s", g_strerror (errno));
      return;
    }
  found = sv_container_spec_find_layer_file (fixture_layers (f), "etc/passwd");
  g_assert_null (found);
  group = sv_container_spec_find_layer_file (fixture_layers (f), "etc/group");
  g_assert_nonnull (group);
  g_assert_true (g_str_has_prefix (group, f->lower));

  g_assert_cmpint (g_unlink (device), ==, 0);
  write_file (f->upper, "etc/.wh..wh..opq", "");
  g_clear_pointer (&group, g_free);
  group = sv_container_spec_find_layer_file (fixture_layers (f), "etc/group");
  g_assert_null (group);
}

/* Symbolic links resolve inside the merged layers, never on the host: an absolute target starts
 * at the container root, ".." stops there, and a link may point into a lower layer. */
static void
test_user_symlinks (Fixture *f, gconstpointer data)
{
  g_auto (SvContainerUser) user = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *host_file = g_build_filename (f->dir, "host-passwd", NULL);
  g_autofree char *etc = g_build_filename (f->upper, "etc", NULL);
  g_autofree char *link = g_build_filename (etc, "passwd", NULL);
  g_autofree char *group_link = g_build_filename (etc, "group", NULL);
  g_autofree char *found = NULL;

  write_file (f->dir, "host-passwd", "hostonly:x:4242:4242::/:/bin/sh\n");
  write_file (f->lower, "srv/passwd", "linked:x:3000:3000::/srv:/bin/sh\n");
  g_assert_cmpint (g_mkdir_with_parents (etc, 0755), ==, 0);

  /* A host path names a file that the image does not have. */
  g_assert_cmpint (symlink (host_file, link), ==, 0);
  g_assert_null (sv_container_spec_find_layer_file (fixture_layers (f), "etc/passwd"));
  g_assert_false (sv_container_spec_resolve_user (fixture_layers (f), "hostonly", &user, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "unable to find user hostonly"));
  g_clear_error (&error);
  sv_container_user_clear (&user);

  /* ".." cannot climb out of the root; the target is in the lower layer. */
  g_assert_cmpint (g_unlink (link), ==, 0);
  g_assert_cmpint (symlink ("../../../../srv/passwd", link), ==, 0);
  found = sv_container_spec_find_layer_file (fixture_layers (f), "etc/passwd");
  g_assert_nonnull (found);
  g_assert_true (g_str_has_prefix (found, f->lower));
  g_assert_true (sv_container_spec_resolve_user (fixture_layers (f), "linked", &user, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (user.uid, ==, 3000);
  sv_container_user_clear (&user);

  /* A device is not read. */
  g_assert_cmpint (g_unlink (link), ==, 0);
  g_assert_cmpint (symlink ("/dev/zero", link), ==, 0);
  write_file (f->lower, "dev/.keep", "");
  g_assert_true (sv_container_spec_resolve_user (fixture_layers (f), "0", &user, &error));
  g_assert_no_error (error);
  sv_container_user_clear (&user);

  /* A loop ends with an error. */
  g_assert_cmpint (g_unlink (link), ==, 0);
  g_assert_cmpint (symlink ("group", link), ==, 0);
  g_assert_cmpint (symlink ("passwd", group_link), ==, 0);
  g_assert_false (sv_container_spec_resolve_user (fixture_layers (f), "root", &user, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "symbolic links"));
}

/* A FIFO is skipped without blocking, and a file over 4 MiB is rejected with its name. */
static void
test_user_database_limits (Fixture *f, gconstpointer data)
{
  g_auto (SvContainerUser) user = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *etc = g_build_filename (f->upper, "etc", NULL);
  g_autofree char *passwd = g_build_filename (etc, "passwd", NULL);
  g_autofree char *big = g_strnfill (5 * 1024 * 1024, '#');

  g_assert_cmpint (g_mkdir_with_parents (etc, 0755), ==, 0);
  g_assert_cmpint (mkfifo (passwd, 0644), ==, 0);
  g_assert_null (sv_container_spec_find_layer_file (fixture_layers (f), "etc/passwd"));
  g_assert_true (sv_container_spec_resolve_user (fixture_layers (f), "0", &user, &error));
  g_assert_no_error (error);
  sv_container_user_clear (&user);

  g_assert_cmpint (g_unlink (passwd), ==, 0);
  write_file (f->upper, "etc/passwd", big);
  g_assert_false (sv_container_spec_resolve_user (fixture_layers (f), "0", &user, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "/etc/passwd"));
  g_assert_nonnull (strstr (error->message, "larger than 4 MiB"));
}

/* 40000 entries merge in linear time, and the result keeps docker's order. */
static void
test_env_many (void)
{
  g_autoptr (GStrvBuilder) image_builder = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) run_builder = g_strv_builder_new ();
  g_auto (GStrv) image_env = NULL;
  g_auto (GStrv) run_env = NULL;
  g_autoptr (JsonObject) image = json_object_new ();
  g_autoptr (GVariantBuilder) options = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GVariant) variant = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) config = NULL;
  JsonArray *env, *image_array = json_array_new ();
  gint64 start;

  for (guint i = 0; i < 20000; i++)
    {
      g_autofree char *entry = g_strdup_printf ("VAR%u=image", i);
      json_array_add_string_element (image_array, entry);
    }
  for (guint i = 10000; i < 30000; i++)
    {
      g_autofree char *entry = g_strdup_printf ("VAR%u=run", i);
      g_strv_builder_add (run_builder, entry);
    }
  run_env = g_strv_builder_end (run_builder);
  json_object_set_array_member (image, "Env", image_array);
  g_variant_builder_add (options, "{sv}", "Env",
                         g_variant_new_strv ((const char *const *)run_env, -1));
  g_variant_builder_add (options, "{sv}", "Cmd",
                         g_variant_new_strv ((const char *[]){ "true" }, 1));
  variant = g_variant_ref_sink (g_variant_builder_end (options));

  start = g_get_monotonic_time ();
  config = sv_container_spec_merge_config (image, variant, TEST_ID, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);

  env = json_object_get_array_member (config, "Env");
  g_assert_cmpuint (json_array_get_length (env), ==, 30000);
  g_assert_cmpstr (json_array_get_string_element (env, 9999), ==, "VAR9999=image");
  g_assert_cmpstr (json_array_get_string_element (env, 10000), ==, "VAR10000=run");
  g_assert_cmpstr (json_array_get_string_element (env, 29999), ==, "VAR29999=run");
}

/* An entry longer than the kernel takes, or an environment larger than ARG_MAX, fails at
 * create with the entry's name. */
static void
test_env_too_large (void)
{
  g_autofree char *value = g_strnfill (200 * 1024, 'x');
  g_autofree char *entry = g_strconcat ("HUGE=", value, NULL);
  g_autofree char *medium = g_strnfill (100 * 1024, 'y');
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) many = NULL;
  const char *one[] = { entry, NULL };
  g_autoptr (GVariant) options = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) config = NULL;

  options = g_variant_ref_sink (g_variant_new_parsed ("{'Env': <%^as>, 'Cmd': <['true']>}", one));
  config = sv_container_spec_merge_config (NULL, options, TEST_ID, &error);
  g_assert_null (config);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "invalid environment entry HUGE:"));
  g_clear_error (&error);
  g_clear_pointer (&options, g_variant_unref);

  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *item = g_strdup_printf ("M%u=%s", i, medium);
      g_strv_builder_add (builder, item);
    }
  many = g_strv_builder_end (builder);
  options = g_variant_ref_sink (
      g_variant_new_parsed ("{'Env': <%^as>, 'Cmd': <['true']>}", (const char *const *)many));
  config = sv_container_spec_merge_config (NULL, options, TEST_ID, &error);
  g_assert_null (config);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "bytes a process may start with"));
}

/* A Cmd of one empty string has no program; an Entrypoint of one empty string resets the
 * image's, as in docker. */
static void
test_empty_command (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec = NULL;
  JsonArray *args;

  spec = generate (f, "{\"Cmd\":[\"sh\"]}", "{'Cmd': <['']>}", G_MAXUINT64, &error);
  g_assert_null (spec);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "empty string"));
  g_clear_error (&error);

  spec = generate (f, "{\"Entrypoint\":[\"/entry\"]}", "{'Entrypoint': <['']>, 'Cmd': <['id']>}",
                   G_MAXUINT64, &error);
  g_assert_no_error (error);
  args = json_object_get_array_member (get_path (spec, "process", NULL), "args");
  g_assert_cmpuint (json_array_get_length (args), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (args, 0), ==, "id");
}

static void
test_capabilities (Fixture *f, gconstpointer data)
{
  const char *expected[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
  };
  const char *sets[] = { "bounding", "effective", "permitted" };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec = generate (f, "{\"Cmd\":[\"true\"]}", "{}", G_MAXUINT64, &error);
  JsonObject *caps;

  g_assert_no_error (error);
  caps = get_path (spec, "process", "capabilities");
  for (gsize s = 0; s < G_N_ELEMENTS (sets); s++)
    {
      JsonArray *set = json_object_get_array_member (caps, sets[s]);

      g_assert_cmpuint (json_array_get_length (set), ==, G_N_ELEMENTS (expected));
      for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
        g_assert_cmpstr (json_array_get_string_element (set, i), ==, expected[i]);
    }
  g_assert_false (
      json_object_get_boolean_member (get_path (spec, "process", NULL), "noNewPrivileges"));
}

static void
test_linux_section (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec = generate (f, "{\"Cmd\":[\"true\"]}", "{}", G_MAXUINT64, &error);
  JsonObject *linux_object;
  g_autofree char *masked = NULL;
  JsonArray *ns;
  JsonArray *mounts;
  g_autoptr (GString) ns_types = g_string_new (NULL);
  gboolean have_pts = FALSE;

  g_assert_no_error (error);
  linux_object = get_path (spec, "linux", NULL);
  g_assert_cmpstr (json_object_get_string_member (linux_object, "cgroupsPath"), ==,
                   "servin-test/" TEST_ID);
  g_assert_cmpstr (json_object_get_string_member (get_path (spec, "root", NULL), "path"), ==,
                   "rootfs");
  g_assert_cmpstr (json_object_get_string_member (spec, "hostname"), ==, "0123456789ab");

  ns = json_object_get_array_member (linux_object, "namespaces");
  for (guint i = 0; i < json_array_get_length (ns); i++)
    g_string_append_printf (
        ns_types, "%s ",
        json_object_get_string_member (json_array_get_object_element (ns, i), "type"));
  g_assert_cmpstr (ns_types->str, ==, "mount pid uts ipc network cgroup ");

  masked = strv_join (json_object_get_array_member (linux_object, "maskedPaths"));
  g_assert_nonnull (strstr (masked, "/proc/kcore"));
  g_assert_nonnull (strstr (masked, "/sys/firmware"));

  mounts = json_object_get_array_member (spec, "mounts");
  for (guint i = 0; i < json_array_get_length (mounts); i++)
    {
      JsonObject *mount = json_array_get_object_element (mounts, i);
      if (g_str_equal (json_object_get_string_member (mount, "destination"), "/dev/pts"))
        {
          g_autofree char *options = strv_join (json_object_get_array_member (mount, "options"));
          g_assert_cmpstr (options, ==, "nosuid|noexec|newinstance|ptmxmode=0666|mode=0620|gid=5");
          have_pts = TRUE;
        }
    }
  g_assert_true (have_pts);
}

static JsonObject *
find_mount (JsonObject *spec, const char *destination)
{
  JsonArray *mounts = json_object_get_array_member (spec, "mounts");

  for (guint i = 0; i < json_array_get_length (mounts); i++)
    {
      JsonObject *mount = json_array_get_object_element (mounts, i);
      if (g_str_equal (json_object_get_string_member (mount, "destination"), destination))
        return mount;
    }
  return NULL;
}

static void
test_etc_mounts (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) image = parse_object ("{\"Cmd\":[\"true\"]}");
  g_autoptr (GVariant) options = parse_options ("{}");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) config = sv_container_spec_merge_config (image, options, TEST_ID, &error);
  SvContainerSpecInput input = {
    .id = TEST_ID,
    .config = config,
    .layer_paths = fixture_layers (f),
    .cgroup_parent = "servin-test",
  };
  g_autoptr (JsonObject) without = sv_container_spec_generate (&input, &error);
  g_autoptr (JsonObject) with = NULL;
  JsonObject *hostname;

  g_assert_no_error (error);
  g_assert_null (find_mount (without, "/etc/hostname"));
  g_assert_null (find_mount (without, "/etc/hosts"));

  input.etc_folder = "/data/containers/x";
  with = sv_container_spec_generate (&input, &error);
  g_assert_no_error (error);
  hostname = find_mount (with, "/etc/hostname");
  g_assert_nonnull (hostname);
  g_assert_cmpstr (json_object_get_string_member (hostname, "type"), ==, "bind");
  g_assert_cmpstr (json_object_get_string_member (hostname, "source"), ==,
                   "/data/containers/x/hostname");
  g_assert_nonnull (find_mount (with, "/etc/hosts"));
}

static void
test_rlimit_clamp (Fixture *f, gconstpointer data)
{
  struct
  {
    guint64 host;
    gint64 expected;
  } cases[] = {
    { G_MAXUINT64, SV_CONTAINER_DEFAULT_NOFILE },
    { SV_CONTAINER_DEFAULT_NOFILE, SV_CONTAINER_DEFAULT_NOFILE },
    { 4096, 4096 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) spec
          = generate (f, "{\"Cmd\":[\"true\"]}", "{}", cases[i].host, &error);
      JsonArray *rlimits;
      JsonObject *nofile;

      g_assert_no_error (error);
      rlimits = json_object_get_array_member (get_path (spec, "process", NULL), "rlimits");
      g_assert_cmpuint (json_array_get_length (rlimits), ==, 1);
      nofile = json_array_get_object_element (rlimits, 0);
      g_assert_cmpstr (json_object_get_string_member (nofile, "type"), ==, "RLIMIT_NOFILE");
      g_assert_cmpint (json_object_get_int_member (nofile, "hard"), ==, cases[i].expected);
      g_assert_cmpint (json_object_get_int_member (nofile, "soft"), ==, cases[i].expected);
    }
}

static JsonObject *
get_resources (JsonObject *spec, const char *member)
{
  JsonObject *resources = get_path (spec, "linux", "resources");

  if (!json_object_has_member (resources, member))
    return NULL;
  return json_object_get_object_member (resources, member);
}

static void
test_resources_mapping (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec = generate (
      f, "{\"Cmd\":[\"true\"]}",
      "{'Memory': <int64 33554432>, 'MemorySwap': <int64 67108864>, 'PidsLimit': <int64 20>, "
      "'NanoCpus': <int64 500000000>, 'CpuShares': <int64 512>}",
      G_MAXUINT64, &error);
  JsonObject *memory, *pids, *cpu;

  g_assert_no_error (error);
  memory = get_resources (spec, "memory");
  g_assert_nonnull (memory);
  g_assert_cmpint (json_object_get_int_member (memory, "limit"), ==, 33554432);
  g_assert_cmpint (json_object_get_int_member (memory, "swap"), ==, 67108864);
  pids = get_resources (spec, "pids");
  g_assert_nonnull (pids);
  g_assert_cmpint (json_object_get_int_member (pids, "limit"), ==, 20);
  cpu = get_resources (spec, "cpu");
  g_assert_nonnull (cpu);
  g_assert_cmpint (json_object_get_int_member (cpu, "quota"), ==, 50000);
  g_assert_cmpint (json_object_get_int_member (cpu, "period"), ==, 100000);
  g_assert_cmpint (json_object_get_int_member (cpu, "shares"), ==, 512);
}

static void
test_resources_defaults (Fixture *f, gconstpointer data)
{
  struct
  {
    const char *options;
    gint64 swap; /* 0: no swap member */
  } cases[] = {
    { "{'Memory': <int64 33554432>}", 67108864 },
    { "{'Memory': <int64 33554432>, 'MemorySwap': <int64 -1>}", -1 },
    { "{'Memory': <int64 33554432>, 'MemorySwap': <int64 33554432>}", 33554432 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) spec
          = generate (f, "{\"Cmd\":[\"true\"]}", cases[i].options, G_MAXUINT64, &error);
      JsonObject *memory;

      g_assert_no_error (error);
      memory = get_resources (spec, "memory");
      g_assert_nonnull (memory);
      g_assert_cmpint (json_object_get_int_member (memory, "limit"), ==, 33554432);
      g_assert_cmpint (json_object_get_int_member (memory, "swap"), ==, cases[i].swap);
    }

  /* Without limits the spec has no memory, pids or cpu section at all. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonObject) spec
        = generate (f, "{\"Cmd\":[\"true\"]}", "{'PidsLimit': <int64 -1>}", G_MAXUINT64, &error);

    g_assert_no_error (error);
    g_assert_null (get_resources (spec, "memory"));
    g_assert_null (get_resources (spec, "pids"));
    g_assert_null (get_resources (spec, "cpu"));
  }
}

static void
test_resources_invalid (void)
{
  struct
  {
    const char *options;
    const char *in_message;
  } cases[] = {
    { "{'Memory': <int64 1048576>}", "invalid Memory 1048576: the minimum memory limit is 6 MiB" },
    { "{'Memory': <int64 -5>}", "invalid Memory -5" },
    { "{'MemorySwap': <int64 67108864>}", "it needs a Memory limit too" },
    { "{'Memory': <int64 67108864>, 'MemorySwap': <int64 33554432>}",
      "must be at least the Memory limit 67108864" },
    { "{'Memory': <int64 67108864>, 'MemorySwap': <int64 -2>}", "invalid MemorySwap -2" },
    { "{'PidsLimit': <int64 -7>}", "invalid PidsLimit -7" },
    { "{'NanoCpus': <int64 1000>}", "invalid NanoCpus 1000: the range of CPUs is from 0.01" },
    { "{'NanoCpus': <int64 100000000000000>}", "invalid NanoCpus 100000000000000" },
    { "{'CpuShares': <int64 -1>}", "invalid CpuShares -1" },
    { "{'CpuShares': <int64 1>}", "invalid CpuShares 1" },
    { "{'Memory': <'32m'>}", "invalid container option Memory: expected type x, got s" },
    { "{'Ulimits': <[{'Name': <'nofile'>, 'Soft': <int64 10>}]>}", "needs Name (s), Soft (x)" },
    { "{'Ulimits': <[{'Name': <'files'>, 'Soft': <int64 1>, 'Hard': <int64 1>}]>}",
      "invalid ulimit name \"files\"" },
    { "{'Ulimits': <[{'Name': <'nofile'>, 'Soft': <int64 20>, 'Hard': <int64 10>}]>}",
      "invalid ulimit nofile=20:10: the soft limit must not exceed the hard limit" },
    { "{'Ulimits': <[{'Name': <'nproc'>, 'Soft': <int64 -3>, 'Hard': <int64 10>}]>}",
      "limits cannot be negative" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GVariant) options = parse_options (cases[i].options);
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) config
          = sv_container_spec_merge_config (NULL, options, TEST_ID, &error);
      g_autoptr (JsonObject) host_config = NULL;

      if (config != NULL)
        host_config = sv_container_resources_from_options (options, &error);
      g_assert_null (host_config);
      g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i].in_message));
    }
}

static void
test_resources_unsupported (Fixture *f, gconstpointer data)
{
  const SvCgroupSupport no_pids = { .memory = TRUE, .cpu_shares = TRUE, .cpu_quota = TRUE };
  const SvCgroupSupport nothing = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec = NULL;
  JsonObject *memory;

  spec = generate_with (f, "{\"Cmd\":[\"true\"]}", "{'PidsLimit': <int64 10>}", G_MAXUINT64,
                        &no_pids, &error);
  g_assert_null (spec);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "PidsLimit 10 (--pids-limit)"));
  g_assert_nonnull (strstr (error->message, "no pids cgroup controller"));
  g_assert_nonnull (strstr (error->message, "--ignore-unsupported-limits"));
  g_clear_error (&error);

  /* Without swap accounting only an explicit MemorySwap is an error. */
  spec = generate_with (f, "{\"Cmd\":[\"true\"]}", "{'Memory': <int64 33554432>}", G_MAXUINT64,
                        &no_pids, &error);
  g_assert_no_error (error);
  memory = get_resources (spec, "memory");
  g_assert_cmpint (json_object_get_int_member (memory, "limit"), ==, 33554432);
  g_assert_false (json_object_has_member (memory, "swap"));
  g_clear_pointer (&spec, json_object_unref);

  spec = generate_with (f, "{\"Cmd\":[\"true\"]}",
                        "{'Memory': <int64 33554432>, 'MemorySwap': <int64 67108864>}", G_MAXUINT64,
                        &no_pids, &error);
  g_assert_null (spec);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "MemorySwap 67108864 (--memory-swap)"));
  g_assert_nonnull (strstr (error->message, "memory.memsw.limit_in_bytes"));
  g_clear_error (&error);

  spec = generate_with (f, "{\"Cmd\":[\"true\"]}", "{'NanoCpus': <int64 500000000>}", G_MAXUINT64,
                        &nothing, &error);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "NanoCpus 500000000 (--cpus)"));
  g_clear_error (&error);

  /* IgnoreUnsupportedLimits drops what the host lacks, with a warning each, and keeps the
   * rest. */
  g_test_expect_message ("ServinEngine", G_LOG_LEVEL_WARNING,
                         "*MemorySwap 67108864 (--memory-swap) not applied*");
  g_test_expect_message ("ServinEngine", G_LOG_LEVEL_WARNING,
                         "*PidsLimit 10 (--pids-limit) not applied*pids cgroup controller*");
  spec = generate_with (f, "{\"Cmd\":[\"true\"]}",
                        "{'PidsLimit': <int64 10>, 'Memory': <int64 33554432>, "
                        "'MemorySwap': <int64 67108864>, 'CpuShares': <int64 100>, "
                        "'IgnoreUnsupportedLimits': <true>}",
                        G_MAXUINT64, &no_pids, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_null (get_resources (spec, "pids"));
  memory = get_resources (spec, "memory");
  g_assert_cmpint (json_object_get_int_member (memory, "limit"), ==, 33554432);
  g_assert_false (json_object_has_member (memory, "swap"));
  g_assert_cmpint (json_object_get_int_member (get_resources (spec, "cpu"), "shares"), ==, 100);
}

static JsonObject *
find_rlimit (JsonObject *spec, const char *type)
{
  JsonArray *rlimits = json_object_get_array_member (get_path (spec, "process", NULL), "rlimits");

  for (guint i = 0; i < json_array_get_length (rlimits); i++)
    {
      JsonObject *rlimit = json_array_get_object_element (rlimits, i);
      if (g_str_equal (json_object_get_string_member (rlimit, "type"), type))
        return rlimit;
    }
  return NULL;
}

static void
test_ulimits (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) spec = NULL;
  JsonObject *rlimit;

  spec = generate (f, "{\"Cmd\":[\"true\"]}",
                   "{'Ulimits': <[{'Name': <'nofile'>, 'Soft': <int64 1024>, 'Hard': <int64 2048>},"
                   " {'Name': <'nproc'>, 'Soft': <int64 5>, 'Hard': <int64 5>},"
                   " {'Name': <'core'>, 'Soft': <int64 1>, 'Hard': <int64 1>},"
                   " {'Name': <'core'>, 'Soft': <int64 0>, 'Hard': <int64 0>}]>}",
                   G_MAXUINT64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (
                        json_object_get_array_member (get_path (spec, "process", NULL), "rlimits")),
                    ==, 3);
  rlimit = find_rlimit (spec, "RLIMIT_NOFILE");
  g_assert_nonnull (rlimit);
  g_assert_cmpint (json_object_get_int_member (rlimit, "soft"), ==, 1024);
  g_assert_cmpint (json_object_get_int_member (rlimit, "hard"), ==, 2048);
  rlimit = find_rlimit (spec, "RLIMIT_NPROC");
  g_assert_nonnull (rlimit);
  g_assert_cmpint (json_object_get_int_member (rlimit, "hard"), ==, 5);
  /* The last entry of a name wins, as with docker's repeated --ulimit. */
  rlimit = find_rlimit (spec, "RLIMIT_CORE");
  g_assert_nonnull (rlimit);
  g_assert_cmpint (json_object_get_int_member (rlimit, "hard"), ==, 0);
  g_clear_pointer (&spec, json_object_unref);

  /* A hard limit above the host's is lowered to it, with the soft limit when that is higher. */
  g_test_expect_message ("ServinEngine", G_LOG_LEVEL_INFO,
                         "*RLIMIT_NOFILE lowered from 1024:4096 to 1024:1500, the host's hard "
                         "limit*");
  spec = generate (
      f, "{\"Cmd\":[\"true\"]}",
      "{'Ulimits': <[{'Name': <'nofile'>, 'Soft': <int64 1024>, 'Hard': <int64 4096>}]>}", 1500,
      &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  rlimit = find_rlimit (spec, "RLIMIT_NOFILE");
  g_assert_cmpint (json_object_get_int_member (rlimit, "soft"), ==, 1024);
  g_assert_cmpint (json_object_get_int_member (rlimit, "hard"), ==, 1500);
  g_clear_pointer (&spec, json_object_unref);

  spec = generate (
      f, "{\"Cmd\":[\"true\"]}",
      "{'Ulimits': <[{'Name': <'nofile'>, 'Soft': <int64 3000>, 'Hard': <int64 4096>}]>}", 1500,
      &error);
  g_assert_no_error (error);
  rlimit = find_rlimit (spec, "RLIMIT_NOFILE");
  g_assert_cmpint (json_object_get_int_member (rlimit, "soft"), ==, 1500);
  g_assert_cmpint (json_object_get_int_member (rlimit, "hard"), ==, 1500);
}

static void
test_labels_and_stop_signal (void)
{
  g_autoptr (JsonObject) image
      = parse_object ("{\"Labels\":{\"a\":\"image\",\"b\":\"image\"},\"StopSignal\":\"SIGQUIT\"}");
  g_autoptr (GVariant) options = parse_options ("{'Labels': <{'b': 'run', 'c': 'run'}>}");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) config = sv_container_spec_merge_config (image, options, TEST_ID, &error);
  JsonObject *labels;

  g_assert_no_error (error);
  labels = json_object_get_object_member (config, "Labels");
  g_assert_cmpstr (json_object_get_string_member (labels, "a"), ==, "image");
  g_assert_cmpstr (json_object_get_string_member (labels, "b"), ==, "run");
  g_assert_cmpstr (json_object_get_string_member (labels, "c"), ==, "run");
  g_assert_cmpstr (json_object_get_string_member (config, "StopSignal"), ==, "SIGQUIT");
}

#define ADD_FIXTURE_TEST(path, func)                                                               \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/servin/container-spec/args-merging", test_args_merging);
  g_test_add_func ("/servin/container-spec/env-merging", test_env_merging);
  g_test_add_func ("/servin/container-spec/env-invalid", test_env_invalid);
  g_test_add_func ("/servin/container-spec/options-invalid", test_options_invalid);
  g_test_add_func ("/servin/container-spec/env-many", test_env_many);
  g_test_add_func ("/servin/container-spec/env-too-large", test_env_too_large);
  ADD_FIXTURE_TEST ("/servin/container-spec/empty-command", test_empty_command);
  g_test_add_func ("/servin/container-spec/labels-stop-signal", test_labels_and_stop_signal);
  g_test_add_func ("/servin/container-spec/resources-invalid", test_resources_invalid);
  ADD_FIXTURE_TEST ("/servin/container-spec/resources-mapping", test_resources_mapping);
  ADD_FIXTURE_TEST ("/servin/container-spec/resources-defaults", test_resources_defaults);
  ADD_FIXTURE_TEST ("/servin/container-spec/resources-unsupported", test_resources_unsupported);
  ADD_FIXTURE_TEST ("/servin/container-spec/ulimits", test_ulimits);
  ADD_FIXTURE_TEST ("/servin/container-spec/env-defaults", test_env_defaults);
  ADD_FIXTURE_TEST ("/servin/container-spec/env-user-wins", test_env_user_wins);
  ADD_FIXTURE_TEST ("/servin/container-spec/cwd", test_cwd);
  ADD_FIXTURE_TEST ("/servin/container-spec/no-command", test_no_command);
  ADD_FIXTURE_TEST ("/servin/container-spec/user-resolution", test_user_resolution);
  ADD_FIXTURE_TEST ("/servin/container-spec/user-unknown", test_user_unknown);
  ADD_FIXTURE_TEST ("/servin/container-spec/user-in-spec", test_user_in_spec);
  ADD_FIXTURE_TEST ("/servin/container-spec/user-whiteout", test_user_whiteout);
  ADD_FIXTURE_TEST ("/servin/container-spec/user-overlay-whiteout", test_user_overlay_whiteout);
  ADD_FIXTURE_TEST ("/servin/container-spec/user-symlinks", test_user_symlinks);
  ADD_FIXTURE_TEST ("/servin/container-spec/user-database-limits", test_user_database_limits);
  ADD_FIXTURE_TEST ("/servin/container-spec/capabilities", test_capabilities);
  ADD_FIXTURE_TEST ("/servin/container-spec/linux-section", test_linux_section);
  ADD_FIXTURE_TEST ("/servin/container-spec/rlimit-clamp", test_rlimit_clamp);
  ADD_FIXTURE_TEST ("/servin/container-spec/etc-mounts", test_etc_mounts);

  return g_test_run ();
}
