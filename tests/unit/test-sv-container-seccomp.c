/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-container-seccomp.h"
#include "sv-engine-error.h"

#include <glib/gstdio.h>
#include <string.h>

/* Docker's default capability set, which every container has today. */
static const char *const docker_capabilities[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
  NULL,
};

static JsonObject *
load_default_profile (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sv_container_seccomp_get_profile_path ();
  JsonObject *profile = sv_container_seccomp_load_profile (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (profile);
  return profile;
}

/* @capabilities plus @extra, NULL-terminated. */
static GStrv
with_capability (const char *const *capabilities, const char *extra)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  g_strv_builder_addv (builder, (const char **)capabilities);
  if (extra != NULL)
    g_strv_builder_add (builder, extra);
  return g_strv_builder_end (builder);
}

/* The rules of @seccomp that list @name, in order. */
static GPtrArray *
find_rules (JsonObject *seccomp, const char *name)
{
  GPtrArray *found = g_ptr_array_new ();
  JsonArray *rules = json_object_get_array_member (seccomp, "syscalls");

  for (guint i = 0; i < json_array_get_length (rules); i++)
    {
      JsonObject *rule = json_array_get_object_element (rules, i);
      JsonArray *names = json_object_get_array_member (rule, "names");

      for (guint j = 0; j < json_array_get_length (names); j++)
        if (g_str_equal (json_array_get_string_element (names, j), name))
          g_ptr_array_add (found, rule);
    }
  return found;
}

/* TRUE when @seccomp allows @name without argument conditions. */
static gboolean
allows_unconditionally (JsonObject *seccomp, const char *name)
{
  g_autoptr (GPtrArray) rules = find_rules (seccomp, name);

  for (guint i = 0; i < rules->len; i++)
    {
      JsonObject *rule = rules->pdata[i];

      if (g_str_equal (json_object_get_string_member (rule, "action"), "SCMP_ACT_ALLOW")
          && !json_object_has_member (rule, "args"))
        return TRUE;
    }
  return FALSE;
}

static char *
join_architectures (JsonObject *seccomp)
{
  JsonArray *architectures = json_object_get_array_member (seccomp, "architectures");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) strv = NULL;

  for (guint i = 0; i < json_array_get_length (architectures); i++)
    g_strv_builder_add (builder, json_array_get_string_element (architectures, i));
  strv = g_strv_builder_end (builder);
  return g_strjoinv (",", strv);
}

static void
test_default_capabilities (void)
{
  g_autoptr (JsonObject) profile = load_default_profile ();
  g_autoptr (JsonObject) seccomp
      = sv_container_seccomp_filter (profile, docker_capabilities, "amd64");
  g_autofree char *architectures = join_architectures (seccomp);
  g_autoptr (GPtrArray) socket_rules = find_rules (seccomp, "socket");
  g_autoptr (GPtrArray) personality_rules = find_rules (seccomp, "personality");
  g_autoptr (GPtrArray) clone_rules = find_rules (seccomp, "clone");
  g_autoptr (GPtrArray) clone3_rules = find_rules (seccomp, "clone3");
  JsonArray *rules = json_object_get_array_member (seccomp, "syscalls");
  JsonObject *arg;

  g_assert_cmpstr (json_object_get_string_member (seccomp, "defaultAction"), ==, "SCMP_ACT_ERRNO");
  g_assert_cmpint (json_object_get_int_member (seccomp, "defaultErrnoRet"), ==, 1);
  g_assert_cmpstr (architectures, ==, "SCMP_ARCH_X86_64,SCMP_ARCH_X86,SCMP_ARCH_X32");

  for (const char *const *name
       = (const char *const[]){ "read", "write", "execve", "openat", "ptrace", "chroot",
                                "arch_prctl", "modify_ldt", NULL };
       *name != NULL; name++)
    g_assert_true (allows_unconditionally (seccomp, *name));
  for (const char *const *name
       = (const char *const[]){ "mount", "umount2", "unshare", "setns", "keyctl", "add_key",
                                "init_module", "kcmp", "reboot", "open_by_handle_at", "bpf",
                                "perf_event_open", "syslog", "clock_settime", "iopl",
                                "arm_fadvise64_64", NULL };
       *name != NULL; name++)
    {
      g_autoptr (GPtrArray) found = find_rules (seccomp, *name);
      g_assert_cmpuint (found->len, ==, 0);
    }

  /* socket only without AF_VSOCK (40). */
  g_assert_cmpuint (socket_rules->len, ==, 1);
  arg = json_array_get_object_element (
      json_object_get_array_member (socket_rules->pdata[0], "args"), 0);
  g_assert_cmpstr (json_object_get_string_member (arg, "op"), ==, "SCMP_CMP_NE");
  g_assert_cmpint (json_object_get_int_member (arg, "value"), ==, 40);

  g_assert_cmpuint (personality_rules->len, ==, 5);

  /* clone without namespace flags, and clone3 failing with ENOSYS so libc falls back. */
  g_assert_cmpuint (clone_rules->len, ==, 1);
  arg = json_array_get_object_element (json_object_get_array_member (clone_rules->pdata[0], "args"),
                                       0);
  g_assert_cmpstr (json_object_get_string_member (arg, "op"), ==, "SCMP_CMP_MASKED_EQ");
  g_assert_cmpint (json_object_get_int_member (arg, "value"), ==, 0x7E020000);
  g_assert_cmpuint (clone3_rules->len, ==, 1);
  g_assert_cmpstr (json_object_get_string_member (clone3_rules->pdata[0], "action"), ==,
                   "SCMP_ACT_ERRNO");
  g_assert_cmpint (json_object_get_int_member (clone3_rules->pdata[0], "errnoRet"), ==, 38);

  /* Only OCI members reach config.json. */
  for (guint i = 0; i < json_array_get_length (rules); i++)
    {
      JsonObject *rule = json_array_get_object_element (rules, i);

      g_assert_false (json_object_has_member (rule, "includes"));
      g_assert_false (json_object_has_member (rule, "excludes"));
      g_assert_false (json_object_has_member (rule, "comment"));
    }
  g_assert_false (json_object_has_member (seccomp, "archMap"));
}

static void
test_sys_admin (void)
{
  g_autoptr (JsonObject) profile = load_default_profile ();
  g_auto (GStrv) capabilities = with_capability (docker_capabilities, "CAP_SYS_ADMIN");
  g_autoptr (JsonObject) seccomp
      = sv_container_seccomp_filter (profile, (const char *const *)capabilities, "amd64");
  g_autoptr (GPtrArray) clone_rules = find_rules (seccomp, "clone");
  g_autoptr (GPtrArray) clone3_rules = find_rules (seccomp, "clone3");

  for (const char *const *name = (const char *const[]){ "mount", "umount2", "unshare", "setns",
                                                        "sethostname", "syslog", NULL };
       *name != NULL; name++)
    g_assert_true (allows_unconditionally (seccomp, *name));

  /* The namespace-free clone rule and clone3's ENOSYS give way to plain allow rules. */
  g_assert_cmpuint (clone_rules->len, ==, 1);
  g_assert_false (json_object_has_member (clone_rules->pdata[0], "args"));
  g_assert_cmpuint (clone3_rules->len, ==, 1);
  g_assert_cmpstr (json_object_get_string_member (clone3_rules->pdata[0], "action"), ==,
                   "SCMP_ACT_ALLOW");
}

/* Each capability group adds its syscalls only with its capability. */
static void
test_capability_groups (void)
{
  static const struct
  {
    const char *capability;
    const char *syscall;
  } groups[] = {
    { "CAP_SYS_PTRACE", "kcmp" },
    { "CAP_SYS_PTRACE", "pidfd_getfd" },
    { "CAP_SYS_MODULE", "init_module" },
    { "CAP_SYS_MODULE", "finit_module" },
    { "CAP_SYS_MODULE", "delete_module" },
    { "CAP_SYS_BOOT", "reboot" },
    { "CAP_SYS_PACCT", "acct" },
    { "CAP_SYS_RAWIO", "iopl" },
    { "CAP_SYS_TIME", "clock_settime" },
    { "CAP_SYS_TIME", "settimeofday" },
    { "CAP_SYS_TTY_CONFIG", "vhangup" },
    { "CAP_SYS_NICE", "mbind" },
    { "CAP_SYSLOG", "syslog" },
    { "CAP_BPF", "bpf" },
    { "CAP_PERFMON", "perf_event_open" },
    { "CAP_DAC_READ_SEARCH", "open_by_handle_at" },
  };
  g_autoptr (JsonObject) profile = load_default_profile ();

  for (gsize i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      g_auto (GStrv) capabilities = with_capability (docker_capabilities, groups[i].capability);
      g_autoptr (JsonObject) with
          = sv_container_seccomp_filter (profile, (const char *const *)capabilities, "amd64");
      g_autoptr (JsonObject) without
          = sv_container_seccomp_filter (profile, docker_capabilities, "amd64");

      g_test_message ("%s with %s", groups[i].syscall, groups[i].capability);
      g_assert_true (allows_unconditionally (with, groups[i].syscall));
      g_assert_false (allows_unconditionally (without, groups[i].syscall));
    }
}

/* Without CAP_SYS_CHROOT, which is in Docker's default set, chroot is blocked. */
static void
test_no_capabilities (void)
{
  g_autoptr (JsonObject) profile = load_default_profile ();
  g_autoptr (JsonObject) seccomp = sv_container_seccomp_filter (profile, NULL, "amd64");

  g_assert_true (allows_unconditionally (seccomp, "read"));
  g_assert_false (allows_unconditionally (seccomp, "chroot"));
}

static void
test_architectures (void)
{
  g_autoptr (JsonObject) profile = load_default_profile ();
  g_autoptr (JsonObject) arm64
      = sv_container_seccomp_filter (profile, docker_capabilities, "arm64");
  g_autoptr (JsonObject) x86 = sv_container_seccomp_filter (profile, docker_capabilities, "x86");
  g_autoptr (JsonObject) unknown = sv_container_seccomp_filter (profile, docker_capabilities, NULL);
  g_autofree char *arm64_architectures = join_architectures (arm64);

  g_assert_cmpstr (arm64_architectures, ==, "SCMP_ARCH_AARCH64,SCMP_ARCH_ARM");
  g_assert_true (allows_unconditionally (arm64, "arm_fadvise64_64"));
  g_assert_true (allows_unconditionally (arm64, "set_tls"));
  g_assert_false (allows_unconditionally (arm64, "arch_prctl"));
  g_assert_false (allows_unconditionally (arm64, "modify_ldt"));

  /* No archMap entry for x86: the runtime's native architecture only. */
  g_assert_false (json_object_has_member (x86, "architectures"));
  g_assert_true (allows_unconditionally (x86, "modify_ldt"));
  g_assert_false (allows_unconditionally (x86, "arch_prctl"));

  g_assert_false (json_object_has_member (unknown, "architectures"));
  g_assert_true (allows_unconditionally (unknown, "read"));
  g_assert_false (allows_unconditionally (unknown, "modify_ldt"));
}

static void
test_invalid_profiles (void)
{
  static const struct
  {
    const char *contents;
    const char *message;
  } cases[] = {
    { "", "the file is empty" },
    { "{\"defaultAction\": ", "invalid seccomp profile" },
    { "[]", "the top level must be an object" },
    { "{\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
      "defaultAction must be a string" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\"}", "syscalls must be a non-empty array" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": []}",
      "syscalls must be a non-empty array" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [7]}",
      "syscalls[0] must be an object" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [], \"action\": "
      "\"SCMP_ACT_ALLOW\"}]}",
      "syscalls[0].names must be a non-empty array" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\", 3], "
      "\"action\": \"SCMP_ACT_ALLOW\"}]}",
      "syscalls[0].names must be a non-empty array" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"]}]}",
      "syscalls[0].action must be a string" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
      "\"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 6, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
      "syscalls[0].args[0] must have an index from 0 to 5" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
      "\"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": \"CAP_SYS_ADMIN\"}}]}",
      "syscalls[0].includes.caps must be an array" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": {}, \"syscalls\": [{\"names\": "
      "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
      "archMap must be an array" },
  };
  g_autofree char *dir = g_dir_make_tmp ("test-sv-container-seccomp-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "profile.json", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) profile = NULL;

      g_test_message ("profile: %s", cases[i].contents);
      g_assert_true (g_file_set_contents (path, cases[i].contents, -1, NULL));
      profile = sv_container_seccomp_load_profile (path, &error);
      g_assert_null (profile);
      g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, cases[i].message));
    }
  g_assert_cmpint (g_unlink (path), ==, 0);

  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonObject) profile = sv_container_seccomp_load_profile (path, &error);

    g_assert_null (profile);
    g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, path));
    g_assert_nonnull (strstr (error->message, "No such file or directory"));
  }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_option (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) host_config = json_object_new ();
  g_autoptr (JsonObject) linux_object = json_object_new ();
  g_autoptr (GVariant) empty
      = g_variant_ref_sink (g_variant_new_parsed ("{'SeccompProfile': <''>}"));
  g_autoptr (GVariant) unconfined
      = g_variant_ref_sink (g_variant_new_parsed ("{'SeccompProfile': <'unconfined'>}"));
  g_autoptr (GVariant) path
      = g_variant_ref_sink (g_variant_new_parsed ("{'SeccompProfile': <'/tmp/profile.json'>}"));

  g_assert_true (sv_container_seccomp_read_option (empty, host_config, &error));
  g_assert_no_error (error);
  g_assert_false (sv_container_seccomp_is_unconfined (host_config));
  g_assert_false (sv_container_seccomp_is_unconfined (NULL));
  g_assert_true (
      sv_container_seccomp_add_to_linux (linux_object, host_config, docker_capabilities, &error));
  g_assert_no_error (error);
  g_assert_true (json_object_has_member (linux_object, "seccomp"));

  g_assert_false (sv_container_seccomp_read_option (path, host_config, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "/tmp/profile.json"));
  g_clear_error (&error);

  g_assert_true (sv_container_seccomp_read_option (unconfined, host_config, &error));
  g_assert_no_error (error);
  g_assert_true (sv_container_seccomp_is_unconfined (host_config));
  json_object_remove_member (linux_object, "seccomp");
  g_assert_true (
      sv_container_seccomp_add_to_linux (linux_object, host_config, docker_capabilities, &error));
  g_assert_no_error (error);
  g_assert_false (json_object_has_member (linux_object, "seccomp"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/servin/container-seccomp/default-capabilities", test_default_capabilities);
  g_test_add_func ("/servin/container-seccomp/sys-admin", test_sys_admin);
  g_test_add_func ("/servin/container-seccomp/capability-groups", test_capability_groups);
  g_test_add_func ("/servin/container-seccomp/no-capabilities", test_no_capabilities);
  g_test_add_func ("/servin/container-seccomp/architectures", test_architectures);
  g_test_add_func ("/servin/container-seccomp/invalid-profiles", test_invalid_profiles);
  g_test_add_func ("/servin/container-seccomp/option", test_option);
  return g_test_run ();
}
