/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-cli.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sv-build-config.h"

/* Go's names for the machine types, which docker and OCI platforms use. */
static const char *
go_architecture (const char *machine)
{
  if (g_str_equal (machine, "x86_64"))
    return "amd64";
  if (g_str_equal (machine, "aarch64"))
    return "arm64";
  if (g_str_has_prefix (machine, "armv"))
    return "arm";
  if (g_str_equal (machine, "i686") || g_str_equal (machine, "i386"))
    return "386";
  return machine;
}

/* docker version: the client's version, then the server's. */
int
sv_cli_version (const SvCliInvocation *invocation)
{
  const SvCliOption options[] = { { NULL } };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (SvDBusManager) manager = NULL;
  struct utsname system;
  int exit_code;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 0, 0, NULL, &exit_code);
  if (args == NULL)
    return exit_code;

  uname (&system);
  printf ("Client:\n");
  printf (" Version:      %s\n", PACKAGE_VERSION);
  printf (" OS/Arch:      linux/%s\n", go_architecture (system.machine));
  fflush (stdout);

  objects = sv_cli_connect ();
  manager = objects ? sv_cli_get_manager (objects) : NULL;
  if (manager == NULL)
    return 1;

  printf ("\nServer: Servin\n");
  printf (" Version:      %s\n", sv_dbus_manager_get_version (manager));
  printf (" Bus address:  %s\n", sv_client_get_system_bus_address ());
  return 0;
}

/* The servind to run: the build tree's when SERVIN_BUILD_ROOT is set, so
 * tests and developers run what they built, else the installed one. */
static char *
find_servind (void)
{
  const char *build_root = g_getenv ("SERVIN_BUILD_ROOT");

  if (build_root != NULL && *build_root != '\0')
    return g_build_filename (build_root, "helper", "servind", NULL);
  return g_build_filename (SV_LIBEXECDIR, "servind", NULL);
}

/* servin daemon: replaces itself with servind, passing every argument on. */
int
sv_cli_daemon (const SvCliInvocation *invocation)
{
  g_autofree char *servind = find_servind ();
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, servind);
  for (int i = 0; i < invocation->argc; i++)
    g_ptr_array_add (argv, invocation->argv[i]);
  g_ptr_array_add (argv, NULL);

  execv (servind, (char **)argv->pdata);
  sv_cli_print_message ("cannot run servind at %s: %s. Install Servin, or set SERVIN_BUILD_ROOT "
                        "to a build folder that contains helper/servind",
                        servind, g_strerror (errno));
  return 1;
}

/* Parses @json and adds it to @array, so the output is one document. */
static gboolean
add_document (JsonArray *array, const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (!json_parser_load_from_data (parser, json, -1, error))
    {
      g_prefix_error (error, "servind returned invalid JSON: ");
      return FALSE;
    }
  json_array_add_element (array, json_node_copy (json_parser_get_root (parser)));
  return TRUE;
}

static char *
inspect_one (GDBusObjectManager *objects, const char *name, const char *type, GError **error)
{
  g_autoptr (GError) container_error = NULL;
  char *json = NULL;

  if (type == NULL || g_str_equal (type, "container"))
    {
      g_autoptr (SvDBusContainer) container = NULL;

      container = sv_client_find_container (objects, name, &container_error);
      if (container != NULL)
        {
          if (!sv_dbus_container_call_inspect_sync (container, &json, NULL, error))
            return NULL;
          return json;
        }
    }

  if (type == NULL || g_str_equal (type, "image"))
    {
      g_autoptr (SvDBusImage) image = NULL;

      image = sv_client_find_image (objects, name, error);
      if (image == NULL)
        return NULL;
      if (!sv_dbus_image_call_inspect_sync (image, &json, NULL, error))
        return NULL;
      return json;
    }

  g_propagate_error (error, g_steal_pointer (&container_error));
  return NULL;
}

/* docker inspect: one JSON array of the containers' or images' documents. */
int
sv_cli_inspect (const SvCliInvocation *invocation)
{
  g_autofree char *type = NULL;
  const SvCliOption options[] = {
    { "type", 0, SV_CLI_OPTION_STRING, &type, "string",
      "Only look for this type of object: container or image" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  int exit_code;

  args
      = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 1, -1, "NAME|ID", &exit_code);
  if (args == NULL)
    return exit_code;
  if (type != NULL && !g_str_equal (type, "container") && !g_str_equal (type, "image"))
    return sv_cli_usage_error (invocation,
                               "invalid value \"%s\" for --type: use container or image", type);

  objects = sv_cli_connect ();
  if (objects == NULL)
    return 1;

  for (guint i = 0; i < args->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *json = inspect_one (objects, args->pdata[i], type, &error);

      if (json == NULL || !add_document (array, json, &error))
        {
          if (sv_client_error_is_not_found (error) && type == NULL)
            {
              g_clear_error (&error);
              g_set_error (&error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NOT_FOUND, "No such object: %s",
                           (const char *)args->pdata[i]);
            }
          sv_cli_print_error (error);
          exit_code = 1;
        }
    }

  json_node_set_array (root, array);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 4);
  text = json_generator_to_data (generator, NULL);
  printf ("%s\n", text);
  return exit_code;
}
