/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-container-seccomp.h"

#include "sv-build-config.h"
#include "sv-engine-error.h"

#include <string.h>

/* The value stored in HostConfig.SecurityOpt for SeccompProfile "unconfined", as docker
 * inspect shows it. */
#define UNCONFINED_SECURITY_OPT "seccomp=unconfined"

/* Architecture names of the profile's "arches" lists and the libseccomp architecture each
 * stands for. */
static const struct
{
  const char *name;
  const char *scmp_arch;
} arch_names[] = {
  { "amd64", "SCMP_ARCH_X86_64" },  { "x32", "SCMP_ARCH_X32" }, { "x86", "SCMP_ARCH_X86" },
  { "arm64", "SCMP_ARCH_AARCH64" }, { "arm", "SCMP_ARCH_ARM" },
};

/* The default profile, parsed and checked on first use and kept for the life of the process.
 * A failed load is not kept, so a repaired file is read at the next container start. */
G_LOCK_DEFINE_STATIC (default_profile);
static JsonObject *default_profile;

/* Find the default profile: in the source tree's data folder when SERVIN_BUILD_ROOT and
 * SERVIN_SOURCE_ROOT are set (tests run from the build tree), else in the installed data
 * folder. */
char *
sv_container_seccomp_get_profile_path (void)
{
  const char *source_root = g_getenv ("SERVIN_SOURCE_ROOT");

  if (g_getenv ("SERVIN_BUILD_ROOT") != NULL && source_root != NULL && *source_root != '\0')
    return g_build_filename (source_root, "data", SV_CONTAINER_SECCOMP_PROFILE_NAME, NULL);
  return g_build_filename (SV_DATADIR, "servin", SV_CONTAINER_SECCOMP_PROFILE_NAME, NULL);
}

/* Return the name of the architecture Servin was built for, as the profile's "arches" lists
 * spell it, or NULL for an architecture the profile does not cover. */
const char *
sv_container_seccomp_get_native_arch (void)
{
#if defined(__x86_64__) && defined(__ILP32__)
  return "x32";
#elif defined(__x86_64__)
  return "amd64";
#elif defined(__i386__)
  return "x86";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#else
  return NULL;
#endif
}

static const char *
get_scmp_arch (const char *arch)
{
  for (gsize i = 0; arch != NULL && i < G_N_ELEMENTS (arch_names); i++)
    if (g_str_equal (arch, arch_names[i].name))
      return arch_names[i].scmp_arch;
  return NULL;
}

static gboolean invalid_profile (GError **error, const char *path, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
invalid_profile (GError **error, const char *path, const char *format, ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
               "invalid seccomp profile %s: %s (reinstall Servin to restore the file)", path,
               detail);
  return FALSE;
}

static gboolean
node_is_type (JsonNode *node, GType type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/* TRUE when @node is missing (and @optional) or an array of strings, non-empty unless
 * @optional. */
static gboolean
is_string_array (JsonNode *node, gboolean optional)
{
  JsonArray *array;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return optional;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  array = json_node_get_array (node);
  if (!optional && json_array_get_length (array) == 0)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (!node_is_type (json_array_get_element (array, i), G_TYPE_STRING))
      return FALSE;
  return TRUE;
}

static gboolean
check_condition (JsonObject *rule, const char *member, const char *path, guint index,
                 GError **error)
{
  JsonNode *node = json_object_get_member (rule, member);
  JsonObject *condition;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid_profile (error, path, "syscalls[%u].%s must be an object", index, member);
  condition = json_node_get_object (node);
  if (!is_string_array (json_object_get_member (condition, "caps"), TRUE))
    return invalid_profile (
        error, path, "syscalls[%u].%s.caps must be an array of capability names", index, member);
  if (!is_string_array (json_object_get_member (condition, "arches"), TRUE))
    return invalid_profile (error, path,
                            "syscalls[%u].%s.arches must be an array of architecture names", index,
                            member);
  return TRUE;
}

static gboolean
check_args (JsonObject *rule, const char *path, guint index, GError **error)
{
  JsonNode *node = json_object_get_member (rule, "args");
  JsonArray *args;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return invalid_profile (error, path, "syscalls[%u].args must be an array", index);
  args = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (args); i++)
    {
      JsonNode *arg_node = json_array_get_element (args, i);
      JsonObject *arg = JSON_NODE_HOLDS_OBJECT (arg_node) ? json_node_get_object (arg_node) : NULL;
      JsonNode *arg_index = arg ? json_object_get_member (arg, "index") : NULL;

      if (arg == NULL || !node_is_type (arg_index, G_TYPE_INT64)
          || json_node_get_int (arg_index) < 0 || json_node_get_int (arg_index) > 5
          || !node_is_type (json_object_get_member (arg, "value"), G_TYPE_INT64)
          || !node_is_type (json_object_get_member (arg, "op"), G_TYPE_STRING))
        return invalid_profile (error, path,
                                "syscalls[%u].args[%u] must have an index from 0 to 5, an "
                                "integer value and an op",
                                index, i);
    }
  return TRUE;
}

static gboolean
check_rule (JsonNode *node, const char *path, guint index, GError **error)
{
  JsonObject *rule = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  JsonNode *errno_ret;

  if (rule == NULL)
    return invalid_profile (error, path, "syscalls[%u] must be an object", index);
  if (!is_string_array (json_object_get_member (rule, "names"), FALSE))
    return invalid_profile (error, path,
                            "syscalls[%u].names must be a non-empty array of syscall names", index);
  if (!node_is_type (json_object_get_member (rule, "action"), G_TYPE_STRING))
    return invalid_profile (error, path,
                            "syscalls[%u].action must be a string such as "
                            "SCMP_ACT_ALLOW",
                            index);
  errno_ret = json_object_get_member (rule, "errnoRet");
  if (errno_ret != NULL && !node_is_type (errno_ret, G_TYPE_INT64))
    return invalid_profile (error, path, "syscalls[%u].errnoRet must be an integer", index);
  return check_args (rule, path, index, error)
         && check_condition (rule, "includes", path, index, error)
         && check_condition (rule, "excludes", path, index, error);
}

static gboolean
check_arch_map (JsonObject *profile, const char *path, GError **error)
{
  JsonNode *node = json_object_get_member (profile, "archMap");
  JsonArray *arch_map;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return invalid_profile (error, path, "archMap must be an array");
  arch_map = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (arch_map); i++)
    {
      JsonNode *entry_node = json_array_get_element (arch_map, i);
      JsonObject *entry
          = JSON_NODE_HOLDS_OBJECT (entry_node) ? json_node_get_object (entry_node) : NULL;

      if (entry == NULL
          || !node_is_type (json_object_get_member (entry, "architecture"), G_TYPE_STRING)
          || !is_string_array (json_object_get_member (entry, "subArchitectures"), TRUE))
        return invalid_profile (error, path,
                                "archMap[%u] must have an architecture and an array of "
                                "subArchitectures",
                                i);
    }
  return TRUE;
}

static gboolean
check_profile (JsonNode *root, const char *path, GError **error)
{
  JsonObject *profile = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *syscalls_node, *errno_ret;
  JsonArray *syscalls;

  if (profile == NULL)
    return invalid_profile (error, path, "the top level must be an object");
  if (!node_is_type (json_object_get_member (profile, "defaultAction"), G_TYPE_STRING))
    return invalid_profile (error, path, "defaultAction must be a string such as SCMP_ACT_ERRNO");
  errno_ret = json_object_get_member (profile, "defaultErrnoRet");
  if (errno_ret != NULL && !node_is_type (errno_ret, G_TYPE_INT64))
    return invalid_profile (error, path, "defaultErrnoRet must be an integer");
  if (!check_arch_map (profile, path, error))
    return FALSE;

  syscalls_node = json_object_get_member (profile, "syscalls");
  if (syscalls_node == NULL || !JSON_NODE_HOLDS_ARRAY (syscalls_node)
      || json_array_get_length (json_node_get_array (syscalls_node)) == 0)
    return invalid_profile (error, path, "syscalls must be a non-empty array of rules");
  syscalls = json_node_get_array (syscalls_node);
  for (guint i = 0; i < json_array_get_length (syscalls); i++)
    if (!check_rule (json_array_get_element (syscalls, i), path, i, error))
      return FALSE;
  return TRUE;
}

/* Parse and check the seccomp profile at @path. Every error names the file. */
JsonObject *
sv_container_seccomp_load_profile (const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  JsonNode *root;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot load the seccomp profile: %s (reinstall Servin to restore the file)",
                   local_error->message);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, contents, length, &local_error))
    {
      invalid_profile (error, path, "%s", local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      invalid_profile (error, path, "the file is empty");
      return NULL;
    }
  if (!check_profile (root, path, error))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

static gboolean
array_contains (JsonArray *array, const char *value)
{
  for (guint i = 0; value != NULL && array != NULL && i < json_array_get_length (array); i++)
    if (g_strcmp0 (json_array_get_string_element (array, i), value) == 0)
      return TRUE;
  return FALSE;
}

static JsonArray *
get_condition_array (JsonObject *rule, const char *condition, const char *member)
{
  JsonNode *condition_node = json_object_get_member (rule, condition);
  JsonObject *object = condition_node != NULL && JSON_NODE_HOLDS_OBJECT (condition_node)
                           ? json_node_get_object (condition_node)
                           : NULL;
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* The rule selection of moby's profiles/seccomp: "includes" needs every listed capability and one
 * of the listed architectures, "excludes" drops the rule on any listed capability or architecture.
 */
static gboolean
rule_applies (JsonObject *rule, const char *const *capabilities, const char *arch)
{
  JsonArray *include_caps = get_condition_array (rule, "includes", "caps");
  JsonArray *include_arches = get_condition_array (rule, "includes", "arches");
  JsonArray *exclude_caps = get_condition_array (rule, "excludes", "caps");
  JsonArray *exclude_arches = get_condition_array (rule, "excludes", "arches");

  for (guint i = 0; include_caps != NULL && i < json_array_get_length (include_caps); i++)
    if (!g_strv_contains (capabilities, json_array_get_string_element (include_caps, i)))
      return FALSE;
  if (include_arches != NULL && json_array_get_length (include_arches) > 0
      && !array_contains (include_arches, arch))
    return FALSE;
  for (gsize i = 0; capabilities[i] != NULL; i++)
    if (array_contains (exclude_caps, capabilities[i]))
      return FALSE;
  return !array_contains (exclude_arches, arch);
}

/* The filter's architectures: the archMap entry of @arch with its subarchitectures, or no
 * list (the runtime's native architecture only) when the map has no entry for it. */
static JsonArray *
build_architectures (JsonObject *profile, const char *arch)
{
  const char *scmp_arch = get_scmp_arch (arch);
  JsonNode *node = json_object_get_member (profile, "archMap");
  JsonArray *arch_map = node != NULL ? json_node_get_array (node) : NULL;

  for (guint i = 0; scmp_arch != NULL && arch_map != NULL && i < json_array_get_length (arch_map);
       i++)
    {
      JsonObject *entry = json_array_get_object_element (arch_map, i);
      JsonNode *sub_node = json_object_get_member (entry, "subArchitectures");
      JsonArray *architectures;

      if (g_strcmp0 (json_object_get_string_member (entry, "architecture"), scmp_arch) != 0)
        continue;
      architectures = json_array_new ();
      json_array_add_string_element (architectures, scmp_arch);
      for (guint j = 0; sub_node != NULL && JSON_NODE_HOLDS_ARRAY (sub_node)
                        && j < json_array_get_length (json_node_get_array (sub_node));
           j++)
        json_array_add_string_element (
            architectures, json_array_get_string_element (json_node_get_array (sub_node), j));
      return architectures;
    }
  return NULL;
}

/* Build the OCI linux.seccomp object for a container with @capabilities (NULL-terminated
 * CAP_* names) on @arch (as from sv_container_seccomp_get_native_arch): the rules whose
 * "includes" and "excludes" select them, without those two members and comments.
 * @profile must have passed sv_container_seccomp_load_profile. */
JsonObject *
sv_container_seccomp_filter (JsonObject *profile, const char *const *capabilities, const char *arch)
{
  static const char *const rule_members[] = { "names", "action", "errnoRet", "args" };
  static const char *const no_capabilities[] = { NULL };
  JsonObject *seccomp = json_object_new ();
  JsonArray *syscalls = json_array_new ();
  JsonArray *rules = json_object_get_array_member (profile, "syscalls");
  JsonArray *architectures = build_architectures (profile, arch);

  if (capabilities == NULL)
    capabilities = no_capabilities;
  json_object_set_string_member (seccomp, "defaultAction",
                                 json_object_get_string_member (profile, "defaultAction"));
  if (json_object_has_member (profile, "defaultErrnoRet"))
    json_object_set_int_member (seccomp, "defaultErrnoRet",
                                json_object_get_int_member (profile, "defaultErrnoRet"));
  if (architectures != NULL)
    json_object_set_array_member (seccomp, "architectures", architectures);

  for (guint i = 0; i < json_array_get_length (rules); i++)
    {
      JsonObject *rule = json_array_get_object_element (rules, i);
      JsonObject *copy;

      if (!rule_applies (rule, capabilities, arch))
        continue;
      copy = json_object_new ();
      for (gsize j = 0; j < G_N_ELEMENTS (rule_members); j++)
        {
          JsonNode *node = json_object_get_member (rule, rule_members[j]);

          if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
            json_object_set_member (copy, rule_members[j], json_node_copy (node));
        }
      json_array_add_object_element (syscalls, copy);
    }
  json_object_set_array_member (seccomp, "syscalls", syscalls);
  return seccomp;
}

/* Check Create's SeccompProfile option (its type is checked already) and record "unconfined"
 * in @host_config's SecurityOpt the way docker does. An empty or missing value keeps the
 * default profile. */
gboolean
sv_container_seccomp_read_option (GVariant *options, JsonObject *host_config, GError **error)
{
  const char *profile = NULL;
  JsonArray *security_opt;

  g_variant_lookup (options, "SeccompProfile", "&s", &profile);
  if (profile == NULL || *profile == '\0')
    return TRUE;
  if (!g_str_equal (profile, SV_CONTAINER_SECCOMP_UNCONFINED))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid SeccompProfile \"%s\": give \"unconfined\" to run without a seccomp "
                   "filter, or leave it empty for the default profile",
                   profile);
      return FALSE;
    }
  security_opt = json_array_new ();
  json_array_add_string_element (security_opt, UNCONFINED_SECURITY_OPT);
  json_object_set_array_member (host_config, "SecurityOpt", security_opt);
  return TRUE;
}

/* TRUE when @host_config (nullable) turns seccomp off. */
gboolean
sv_container_seccomp_is_unconfined (JsonObject *host_config)
{
  JsonNode *node = host_config ? json_object_get_member (host_config, "SecurityOpt") : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node)
         && array_contains (json_node_get_array (node), UNCONFINED_SECURITY_OPT);
}

static JsonObject *
get_default_profile (GError **error)
{
  g_autofree char *path = NULL;
  JsonObject *profile;

  G_LOCK (default_profile);
  if (default_profile == NULL)
    {
      path = sv_container_seccomp_get_profile_path ();
      default_profile = sv_container_seccomp_load_profile (path, error);
      if (default_profile != NULL)
        g_info ("loaded the default seccomp profile from %s", path);
    }
  profile = default_profile ? json_object_ref (default_profile) : NULL;
  G_UNLOCK (default_profile);
  return profile;
}

/* Set linux.seccomp of @linux_object to the default profile filtered for @capabilities, unless
 * @host_config (nullable) is unconfined. Fails when the profile file is missing or invalid, so
 * no container runs without the filter by accident. */
gboolean
sv_container_seccomp_add_to_linux (JsonObject *linux_object, JsonObject *host_config,
                                   const char *const *capabilities, GError **error)
{
  g_autoptr (JsonObject) profile = NULL;

  if (sv_container_seccomp_is_unconfined (host_config))
    return TRUE;
  profile = get_default_profile (error);
  if (profile == NULL)
    return FALSE;
  json_object_set_object_member (
      linux_object, "seccomp",
      sv_container_seccomp_filter (profile, capabilities, sv_container_seccomp_get_native_arch ()));
  return TRUE;
}
