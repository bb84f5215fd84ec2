/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A command line front to the engine's container store, so that integration tests can run
 * real containers without servind. Each run builds a new store on the data root given by
 * SERVIN_DATA_ROOT (and SERVIN_RUNTIME_STATE, SERVIN_RUNTIME, SERVIN_CGROUP_PARENT), so
 * consecutive runs also exercise reconnecting to running containers. */
#include <errno.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sv-config.h"
#include "sv-container-store.h"
#include "sv-content-store.h"
#include "sv-engine-error.h"
#include "sv-image-loader.h"
#include "sv-image-store.h"
#include "sv-layer-store.h"

typedef struct
{
  SvConfig *config;
  SvContentStore *content;
  SvLayerStore *layers;
  SvImageStore *images;
  SvContainerStore *containers;
  GMainLoop *loop;
} Tool;

static const char *
error_code_name (const GError *error)
{
  static const char *const names[] = {
    "FAILED",      "NOT_FOUND",   "CONFLICT",    "INVALID_ARGUMENT", "DIGEST_MISMATCH",
    "UNREACHABLE", "UNSAFE_PATH", "UNSUPPORTED", "NOT_RUNNING",
  };

  if (error->domain == SV_ENGINE_ERROR && error->code >= 0
      && (gsize)error->code < G_N_ELEMENTS (names))
    return names[error->code];
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "CANCELLED";
  return "FAILED";
}

static int
fail (const GError *error)
{
  fprintf (stderr, "error %s: %s\n", error_code_name (error), error->message);
  return 1;
}

static int
usage (void)
{
  fputs (
      "Usage: sv-container-tool COMMAND ARGS\n"
      "  load ARCHIVE                            load the images of a docker load archive\n"
      "  import ROOTFS REFERENCE [CONFIG_JSON]   make a one-layer image of a folder\n"
      "  create [OPTIONS] IMAGE [CMD...]         print the new container's id\n"
      "  run [OPTIONS] IMAGE [CMD...]            create, attach, start, wait; exit with its code\n"
      "  start ID | attach ID | kill ID SIGNAL | inspect ID | ps | wait [--cancel-after MS] ID\n"
      "  stop [-t SECONDS] ID | rm [-f] ID\n"
      "  logs [-f] [-t] [--tail N] ID\n"
      "Create options: --name N, --user U, --workdir D, --entrypoint E, --env K=V,\n"
      "  --hostname H, --label K=V, --rm, -i, -d (run: start detached, print the id)\n",
      stderr);
  return 2;
}

static gboolean
tool_open (Tool *tool, GError **error)
{
  const char *data_root;

  tool->config = sv_config_new_default ();
  sv_config_apply_environment (tool->config);
  data_root = sv_config_get_data_root (tool->config);
  tool->content = sv_content_store_new (data_root, error);
  if (tool->content == NULL)
    return FALSE;
  tool->layers = sv_layer_store_new (data_root, error);
  if (tool->layers == NULL)
    return FALSE;
  tool->images = sv_image_store_new (tool->content, tool->layers, data_root, error);
  if (tool->images == NULL)
    return FALSE;
  tool->containers = sv_container_store_new (tool->config, tool->images, tool->layers, error);
  tool->loop = g_main_loop_new (NULL, FALSE);
  return tool->containers != NULL;
}

static void
tool_close (Tool *tool)
{
  g_clear_object (&tool->containers);
  g_clear_object (&tool->images);
  g_clear_object (&tool->layers);
  g_clear_object (&tool->content);
  g_clear_object (&tool->config);
  g_clear_pointer (&tool->loop, g_main_loop_unref);
}

/* load: docker load of an OCI layout or docker-archive tar */
static int
cmd_load (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) references = NULL;

  if (argc < 1)
    return usage ();
  references
      = sv_image_load_archive (tool->content, tool->layers, tool->images, argv[0], NULL, &error);
  if (references == NULL)
    return fail (error);
  for (gsize i = 0; references[i] != NULL; i++)
    printf ("%s\n", references[i]);
  return 0;
}

/* import: tar the folder, unpack it as a layer, and record an image with the given config. */
static int
cmd_import (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp_dir = NULL;
  g_autofree char *tar_path = NULL;
  g_autofree char *tar_data = NULL;
  g_autofree char *diff_id = NULL;
  g_autofree char *config_text = NULL;
  g_autofree char *config_digest = NULL;
  g_autoptr (GBytes) config_bytes = NULL;
  g_autofree char *manifest_text = NULL;
  g_autofree char *manifest_digest = NULL;
  g_autoptr (GBytes) manifest_bytes = NULL;
  g_autoptr (SvImage) image = NULL;
  gsize tar_length;
  gsize length;
  int status = 0;

  if (argc < 2)
    return usage ();

  tmp_dir = g_dir_make_tmp ("sv-container-tool-XXXXXX", &error);
  if (tmp_dir == NULL)
    return fail (error);
  tar_path = g_build_filename (tmp_dir, "layer.tar", NULL);
  {
    const char *tar_argv[]
        = { "tar", "--numeric-owner", "-C", argv[0], "-cf", tar_path, ".", NULL };
    if (!g_spawn_sync (NULL, (char **)tar_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                       &status, &error)
        || !g_spawn_check_wait_status (status, &error))
      return fail (error);
  }
  if (!g_file_get_contents (tar_path, &tar_data, &tar_length, &error))
    return fail (error);
  diff_id = g_strconcat (
      "sha256:", g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *)tar_data, tar_length),
      NULL);
  if (!sv_layer_store_unpack (tool->layers, tar_path, diff_id, NULL, &error))
    return fail (error);
  unlink (tar_path);
  rmdir (tmp_dir);

  config_text = g_strdup_printf ("{\"architecture\":\"amd64\",\"os\":\"linux\","
                                 "\"config\":%s,\"rootfs\":{\"type\":\"layers\","
                                 "\"diff_ids\":[\"%s\"]}}",
                                 argc > 2 ? argv[2] : "{}", diff_id);
  length = strlen (config_text);
  config_bytes = g_bytes_new_take (g_steal_pointer (&config_text), length);
  config_digest = sv_content_store_add_bytes (tool->content, config_bytes, NULL, &error);
  if (config_digest == NULL)
    return fail (error);
  manifest_text = g_strdup_printf (
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
      "\"digest\":\"%s\",\"size\":%" G_GSIZE_FORMAT "},"
      "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
      "\"digest\":\"%s\",\"size\":%" G_GSIZE_FORMAT "}]}",
      config_digest, g_bytes_get_size (config_bytes), diff_id, tar_length);
  length = strlen (manifest_text);
  manifest_bytes = g_bytes_new_take (g_steal_pointer (&manifest_text), length);
  manifest_digest = sv_content_store_add_bytes (tool->content, manifest_bytes, NULL, &error);
  if (manifest_digest == NULL)
    return fail (error);
  image = sv_image_store_add (tool->images, manifest_digest, config_digest, argv[1], &error);
  if (image == NULL)
    return fail (error);
  printf ("%s\n", sv_image_get_id (image));
  return 0;
}

typedef struct
{
  const char *name;
  gboolean detach;
  gboolean interactive;
} CreateExtras;

/* Parse create options into an a{sv} like Manager.Create's. Returns the index of IMAGE. */
static GVariant *
parse_create (int argc, char **argv, CreateExtras *extras, GError **error)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_auto (GVariantBuilder) labels = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));
  g_autoptr (GPtrArray) env = g_ptr_array_new ();
  gboolean have_labels = FALSE;
  int i;

  for (i = 0; i < argc && argv[i][0] == '-'; i++)
    {
      const char *opt = argv[i];
      const char *value = i + 1 < argc ? argv[i + 1] : NULL;
      gboolean takes_value = TRUE;

      if (g_str_equal (opt, "--rm"))
        g_variant_builder_add (&builder, "{sv}", "AutoRemove", g_variant_new_boolean (TRUE)),
            takes_value = FALSE;
      else if (g_str_equal (opt, "-i"))
        g_variant_builder_add (&builder, "{sv}", "OpenStdin", g_variant_new_boolean (TRUE)),
            extras->interactive = TRUE, takes_value = FALSE;
      else if (g_str_equal (opt, "-d"))
        extras->detach = TRUE, takes_value = FALSE;
      else if (value == NULL)
        break;
      else if (g_str_equal (opt, "--name"))
        extras->name = value;
      else if (g_str_equal (opt, "--user"))
        g_variant_builder_add (&builder, "{sv}", "User", g_variant_new_string (value));
      else if (g_str_equal (opt, "--workdir"))
        g_variant_builder_add (&builder, "{sv}", "WorkingDir", g_variant_new_string (value));
      else if (g_str_equal (opt, "--hostname"))
        g_variant_builder_add (&builder, "{sv}", "Hostname", g_variant_new_string (value));
      else if (g_str_equal (opt, "--env"))
        g_ptr_array_add (env, (char *)value);
      else if (g_str_equal (opt, "--entrypoint"))
        {
          const char *entry[] = { value, NULL };
          g_variant_builder_add (&builder, "{sv}", "Entrypoint",
                                 g_variant_new_strv (entry, *value != '\0' ? 1 : 0));
        }
      else if (g_str_equal (opt, "--label"))
        {
          g_auto (GStrv) kv = g_strsplit (value, "=", 2);
          g_variant_builder_add (&labels, "{ss}", kv[0], kv[1] != NULL ? kv[1] : "");
          have_labels = TRUE;
        }
      else
        break;
      if (takes_value)
        i++;
    }
  if (i >= argc || argv[i][0] == '-')
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "expected IMAGE after the options, got %s", i < argc ? argv[i] : "nothing");
      return NULL;
    }
  g_variant_builder_add (&builder, "{sv}", "Image", g_variant_new_string (argv[i]));
  if (i + 1 < argc)
    g_variant_builder_add (&builder, "{sv}", "Cmd",
                           g_variant_new_strv ((const char *const *)argv + i + 1, argc - i - 1));
  if (env->len > 0)
    g_variant_builder_add (&builder, "{sv}", "Env",
                           g_variant_new_strv ((const char *const *)env->pdata, env->len));
  if (have_labels)
    g_variant_builder_add (&builder, "{sv}", "Labels", g_variant_builder_end (&labels));
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static int
cmd_create (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  CreateExtras extras = { 0 };
  g_autoptr (GVariant) options = parse_create (argc, argv, &extras, &error);
  g_autoptr (SvContainer) container = NULL;

  if (options == NULL)
    return fail (error);
  container = sv_container_store_create (tool->containers, extras.name, options, &error);
  if (container == NULL)
    return fail (error);
  printf ("%s\n", sv_container_get_id (container));
  return 0;
}

/* Copies a framed stream (8-byte headers) to stdout and stderr until end of file. */
typedef struct
{
  int fd;
  GMainLoop *loop;
  gint done;
} Demux;

static gboolean
read_exact (int fd, void *buffer, gsize length)
{
  char *p = buffer;

  while (length > 0)
    {
      ssize_t n = read (fd, p, length);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      length -= n;
    }
  return TRUE;
}

static gpointer
demux_thread (gpointer data)
{
  Demux *demux = data;
  guint8 header[8];

  while (read_exact (demux->fd, header, sizeof header))
    {
      guint32 length = (guint32)header[4] << 24 | header[5] << 16 | header[6] << 8 | header[7];
      g_autofree char *payload = g_malloc (length + 1);
      FILE *out = header[0] == 2 ? stderr : stdout;

      if (!read_exact (demux->fd, payload, length))
        break;
      fwrite (payload, 1, length, out);
      fflush (out);
    }
  close (demux->fd);
  g_atomic_int_set (&demux->done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

/* Copies this program's stdin to the attach socket, then shuts down its sending side, which the
 * monitor passes on as end of file on the container's stdin. */
static gpointer
stdin_thread (gpointer data)
{
  g_auto (SvFd) fd = GPOINTER_TO_INT (data);
  char buffer[4096];
  ssize_t n;

  while ((n = read (STDIN_FILENO, buffer, sizeof buffer)) > 0)
    if (send (fd, buffer, n, MSG_NOSIGNAL) != n)
      break;
  shutdown (fd, SHUT_WR);
  return NULL;
}

typedef struct
{
  Tool *tool;
  int exit_code;
  GError *error;
  gboolean finished;
} WaitRun;

static void
on_wait_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WaitRun *run = user_data;

  run->exit_code = sv_container_wait_finish (SV_CONTAINER (source), result, &run->error);
  run->finished = TRUE;
}

static void
on_stop_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WaitRun *run = user_data;

  sv_container_stop_finish (SV_CONTAINER (source), result, &run->error);
  run->finished = TRUE;
}

static int
cmd_run (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  CreateExtras extras = { 0 };
  g_autoptr (GVariant) options = parse_create (argc, argv, &extras, &error);
  g_autoptr (SvContainer) container = NULL;
  Demux demux = { .fd = -1 };
  WaitRun run = { .tool = tool };
  g_autoptr (GThread) thread = NULL;

  if (options == NULL)
    return fail (error);
  container = sv_container_store_create (tool->containers, extras.name, options, &error);
  if (container == NULL)
    return fail (error);
  if (extras.detach)
    {
      if (!sv_container_start (container, &error))
        return fail (error);
      printf ("%s\n", sv_container_get_id (container));
      return 0;
    }

  demux.fd = sv_container_attach (container, &error);
  if (demux.fd < 0)
    return fail (error);
  thread = g_thread_new ("demux", demux_thread, &demux);
  if (extras.interactive)
    g_thread_unref (g_thread_new ("stdin", stdin_thread, GINT_TO_POINTER (dup (demux.fd))));
  if (!sv_container_start (container, &error))
    return fail (error);

  sv_container_wait_async (container, NULL, on_wait_done, &run);
  while (!run.finished || !g_atomic_int_get (&demux.done))
    g_main_context_iteration (NULL, TRUE);
  if (run.error != NULL)
    return fail (run.error);
  return run.exit_code;
}

static SvContainer *
lookup (Tool *tool, int argc, char **argv, GError **error)
{
  if (argc < 1)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT, "missing ID");
      return NULL;
    }
  return sv_container_store_lookup (tool->containers, argv[argc - 1], error);
}

/* attach ID: copy the output of a running container until it exits */
static int
cmd_attach (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvContainer) container = lookup (tool, argc, argv, &error);
  Demux demux = { .fd = -1 };
  g_autoptr (GThread) thread = NULL;

  if (container == NULL)
    return fail (error);
  demux.fd = sv_container_attach (container, &error);
  if (demux.fd < 0)
    return fail (error);
  thread = g_thread_new ("demux", demux_thread, &demux);
  while (!g_atomic_int_get (&demux.done))
    g_main_context_iteration (NULL, TRUE);
  return 0;
}

static int
cmd_start (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvContainer) container = lookup (tool, argc, argv, &error);

  if (container == NULL || !sv_container_start (container, &error))
    return fail (error);
  return 0;
}

static int
cmd_stop (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvContainer) container = lookup (tool, argc, argv, &error);
  WaitRun run = { .tool = tool };
  guint timeout = 10;

  if (argc >= 3 && g_str_equal (argv[0], "-t"))
    timeout = atoi (argv[1]);
  if (container == NULL)
    return fail (error);
  sv_container_stop_async (container, timeout, NULL, on_stop_done, &run);
  while (!run.finished)
    g_main_context_iteration (NULL, TRUE);
  if (run.error != NULL)
    return fail (run.error);
  printf ("%d\n", sv_container_get_exit_code (container));
  return 0;
}

static int
cmd_kill (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvContainer) container = NULL;

  if (argc < 2)
    return usage ();
  container = sv_container_store_lookup (tool->containers, argv[0], &error);
  if (container == NULL || !sv_container_kill (container, atoi (argv[1]), &error))
    return fail (error);
  /* Let the reply arrive before the connection closes. */
  g_main_context_iteration (NULL, FALSE);
  return 0;
}

static gboolean
on_cancel_timeout (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* wait [--cancel-after MS] ID */
static int
cmd_wait (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvContainer) container = lookup (tool, argc, argv, &error);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  WaitRun run = { .tool = tool };

  if (container == NULL)
    return fail (error);
  if (argc >= 3 && g_str_equal (argv[0], "--cancel-after"))
    g_timeout_add (atoi (argv[1]), on_cancel_timeout, cancellable);
  sv_container_wait_async (container, cancellable, on_wait_done, &run);
  while (!run.finished)
    g_main_context_iteration (NULL, TRUE);
  if (run.error != NULL)
    return fail (run.error);
  printf ("%d\n", run.exit_code);
  return 0;
}

static void
on_remove_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WaitRun *run = user_data;

  sv_container_store_remove_finish (SV_CONTAINER_STORE (source), result, &run->error);
  run->finished = TRUE;
}

static int
cmd_rm (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvContainer) container = lookup (tool, argc, argv, &error);
  gboolean force = argc >= 2 && g_str_equal (argv[0], "-f");
  WaitRun run = { .tool = tool };

  if (container == NULL)
    return fail (error);
  sv_container_store_remove_async (tool->containers, container, force, on_remove_done, &run);
  while (!run.finished)
    g_main_context_iteration (NULL, TRUE);
  if (run.error != NULL)
    return fail (run.error);
  return 0;
}

static int
cmd_logs (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvContainer) container = lookup (tool, argc, argv, &error);
  gboolean follow = FALSE, timestamps = FALSE;
  int tail = -1;
  Demux demux = { .fd = -1 };
  g_autoptr (GThread) thread = NULL;

  for (int i = 0; i < argc - 1; i++)
    {
      if (g_str_equal (argv[i], "-f"))
        follow = TRUE;
      else if (g_str_equal (argv[i], "-t"))
        timestamps = TRUE;
      else if (g_str_equal (argv[i], "--tail") && i + 1 < argc - 1)
        tail = atoi (argv[++i]);
    }
  if (container == NULL)
    return fail (error);
  demux.fd = sv_container_open_logs (container, follow, timestamps, tail, &error);
  if (demux.fd < 0)
    return fail (error);
  thread = g_thread_new ("demux", demux_thread, &demux);
  while (!g_atomic_int_get (&demux.done))
    g_main_context_iteration (NULL, TRUE);
  return 0;
}

static int
cmd_inspect (Tool *tool, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvContainer) container = lookup (tool, argc, argv, &error);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;

  if (container == NULL)
    return fail (error);
  json_node_take_object (node, sv_container_get_inspect (container));
  text = json_to_string (node, TRUE);
  printf ("%s\n", text);
  return 0;
}

static int
cmd_ps (Tool *tool, int argc, char **argv)
{
  g_autoptr (GPtrArray) list = sv_container_store_list (tool->containers);

  for (guint i = 0; i < list->len; i++)
    {
      SvContainer *c = list->pdata[i];
      printf ("%s %s %s %d %d\n", sv_container_get_id (c), sv_container_get_name (c),
              sv_container_state_to_string (sv_container_get_state (c)),
              sv_container_get_exit_code (c), sv_container_get_pid (c));
    }
  return 0;
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    int (*func) (Tool *tool, int argc, char **argv);
  } commands[] = {
    { "load", cmd_load },     { "attach", cmd_attach }, { "import", cmd_import },
    { "create", cmd_create }, { "run", cmd_run },       { "start", cmd_start },
    { "stop", cmd_stop },     { "kill", cmd_kill },     { "wait", cmd_wait },
    { "rm", cmd_rm },         { "logs", cmd_logs },     { "inspect", cmd_inspect },
    { "ps", cmd_ps },
  };
  g_autoptr (GError) error = NULL;
  Tool tool = { 0 };
  int status = -1;

  setlocale (LC_ALL, "");
  /* Log messages must not mix with the container output on stdout. */
  g_log_writer_default_set_use_stderr (TRUE);
  if (argc < 2)
    return usage ();

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (!g_str_equal (argv[1], commands[i].name))
        continue;
      if (!tool_open (&tool, &error))
        return fail (error);
      status = commands[i].func (&tool, argc - 2, argv + 2);
      break;
    }
  if (status < 0)
    return usage ();
  fflush (stdout);
  tool_close (&tool);
  return status;
}
