/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A command line front to the engine's image stores and puller, so that
 * integration tests can drive them without servind. */
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>

#include "sv-config.h"
#include "sv-content-store.h"
#include "sv-engine-error.h"
#include "sv-image-store.h"
#include "sv-layer-store.h"
#include "sv-puller.h"

static char *opt_data_root;
static char *opt_config;
static char *opt_platform;

static const GOptionEntry entries[] = {
  { "data-root", 0, 0, G_OPTION_ARG_FILENAME, &opt_data_root, "Data root folder (required)",
    "DIR" },
  { "config", 0, 0, G_OPTION_ARG_FILENAME, &opt_config, "Configuration file to load", "FILE" },
  { "platform", 0, 0, G_OPTION_ARG_STRING, &opt_platform,
    "Platform to pull, os/arch[/variant] (default: the host's)", "PLATFORM" },
  { NULL },
};

typedef struct
{
  SvConfig *config;
  SvContentStore *content;
  SvLayerStore *layers;
  SvImageStore *images;
} Stores;

static const char *
error_code_name (const GError *error)
{
  static const char *const names[] = {
    "FAILED",      "NOT_FOUND",   "CONFLICT",    "INVALID_ARGUMENT", "DIGEST_MISMATCH",
    "UNREACHABLE", "UNSAFE_PATH", "UNSUPPORTED", "NOT_RUNNING", "AUTHENTICATION_FAILED",
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

/* pull */

typedef struct
{
  GMainLoop *loop;
  guint *running;
  const char *reference;
  const char *prefix; /* "" for one pull, "REF " when several run at once */
  SvImage *image;
  GError *error;
  char *last_status;
} PullRun;

static void
on_pull_progress (guint64 done, guint64 total, const char *status, gpointer user_data)
{
  PullRun *run = user_data;

  /* One line per status change keeps the output short for large layers. */
  if (g_strcmp0 (status, run->last_status) == 0)
    return;
  g_free (run->last_status);
  run->last_status = g_strdup (status);
  printf ("%sprogress %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %s\n", run->prefix, done, total,
          status);
  fflush (stdout);
}

static void
on_pull_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PullRun *run = user_data;

  run->image = sv_puller_pull_finish (SV_PULLER (source), result, &run->error);
  if (--*run->running == 0)
    g_main_loop_quit (run->loop);
}

static gboolean
on_stop_signal (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_CONTINUE;
}

/* Pulls every reference given at once with one puller, as servind would. */
static int
command_pull (Stores *stores, int argc, char **argv)
{
  g_autoptr (SvPuller) puller = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree PullRun *runs = NULL;
  guint running = argc;
  guint sigint_id, sigterm_id;
  gint64 started = g_get_monotonic_time ();
  int status = 0;

  if (argc < 1)
    {
      fprintf (stderr, "usage: sv-engine-tool --data-root DIR pull REF... [--platform P]\n");
      return 2;
    }

  sigint_id = g_unix_signal_add (SIGINT, on_stop_signal, cancellable);
  sigterm_id = g_unix_signal_add (SIGTERM, on_stop_signal, cancellable);
  puller = sv_puller_new (stores->config, stores->content, stores->layers, stores->images);
  runs = g_new0 (PullRun, argc);
  for (int i = 0; i < argc; i++)
    {
      runs[i].loop = loop;
      runs[i].running = &running;
      runs[i].reference = argv[i];
      runs[i].prefix = argc > 1 ? g_strconcat (argv[i], " ", NULL) : g_strdup ("");
      sv_puller_pull_async (puller, argv[i], opt_platform, NULL, cancellable, on_pull_progress, &runs[i],
                            NULL, on_pull_done, &runs[i]);
    }
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  if (argc == 1 && runs[0].image != NULL)
    printf ("seconds %.3f\n", (g_get_monotonic_time () - started) / (double)G_USEC_PER_SEC);
  for (int i = 0; i < argc; i++)
    {
      if (runs[i].image != NULL)
        printf ("%sid %s\n", runs[i].prefix, sv_image_get_id (runs[i].image));
      else
        {
          fprintf (stderr, "%s", runs[i].prefix);
          status = fail (runs[i].error);
        }
      g_clear_object (&runs[i].image);
      g_clear_error (&runs[i].error);
      g_free (runs[i].last_status);
      g_free ((char *)runs[i].prefix);
    }
  return status;
}

static int
command_images (Stores *stores, int argc, char **argv)
{
  g_autoptr (GPtrArray) images = sv_image_store_list (stores->images);

  for (guint i = 0; i < images->len; i++)
    {
      SvImage *image = g_ptr_array_index (images, i);
      g_auto (GStrv) tags = sv_image_dup_repo_tags (image);

      if (tags == NULL || tags[0] == NULL)
        printf ("<none> %s\n", sv_image_get_id (image));
      for (guint t = 0; tags != NULL && tags[t] != NULL; t++)
        printf ("%s %s\n", tags[t], sv_image_get_id (image));
    }
  return 0;
}

static int
command_inspect (Stores *stores, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvImage) image = NULL;
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;

  if (argc != 1)
    {
      fprintf (stderr, "usage: sv-engine-tool --data-root DIR inspect REF\n");
      return 2;
    }
  image = sv_image_store_lookup (stores->images, argv[0], &error);
  if (image == NULL)
    return fail (error);

  json_node_set_object (node, sv_image_get_config_document (image));
  text = json_to_string (node, TRUE);
  printf ("%s\n", text);
  return 0;
}

static int
command_rmi (Stores *stores, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  if (argc != 1)
    {
      fprintf (stderr, "usage: sv-engine-tool --data-root DIR rmi REF\n");
      return 2;
    }
  if (!sv_image_store_remove (stores->images, argv[0], FALSE, &error))
    return fail (error);
  printf ("removed %s\n", argv[0]);
  return 0;
}

static int
command_layer_path (Stores *stores, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvImage) image = NULL;
  const char *const *diff_ids;
  guint64 index;
  g_autofree char *path = NULL;

  if (argc != 2 || !g_ascii_string_to_unsigned (argv[1], 10, 0, G_MAXUINT, &index, NULL))
    {
      fprintf (stderr, "usage: sv-engine-tool --data-root DIR layer-path REF N\n");
      return 2;
    }
  image = sv_image_store_lookup (stores->images, argv[0], &error);
  if (image == NULL)
    return fail (error);

  diff_ids = sv_image_get_diff_ids (image);
  if (index >= g_strv_length ((GStrv)diff_ids))
    {
      fprintf (stderr, "error NOT_FOUND: image %s has %u layers, no layer %" G_GUINT64_FORMAT "\n",
               argv[0], g_strv_length ((GStrv)diff_ids), index);
      return 1;
    }
  path = sv_layer_store_get_layer_path (stores->layers, diff_ids[index]);
  printf ("%s\n", path);
  return 0;
}

static gboolean
open_stores (Stores *stores, GError **error)
{
  if (opt_config != NULL)
    stores->config = sv_config_load (opt_config, error);
  else
    stores->config = sv_config_new_default ();
  if (stores->config == NULL)
    return FALSE;
  sv_config_set_data_root (stores->config, opt_data_root);

  stores->content = sv_content_store_new (opt_data_root, error);
  if (stores->content == NULL)
    return FALSE;
  stores->layers = sv_layer_store_new (opt_data_root, error);
  if (stores->layers == NULL)
    return FALSE;
  stores->images = sv_image_store_new (stores->content, stores->layers, opt_data_root, error);
  return stores->images != NULL;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (
      "COMMAND [ARGS] - pull REF..., images, inspect REF, rmi REF, layer-path REF N");
  g_autoptr (GError) error = NULL;
  Stores stores = { NULL };
  const char *command;
  int status;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "sv-engine-tool: %s\n", error->message);
      return 2;
    }
  if (opt_data_root == NULL || argc < 2)
    {
      fprintf (stderr, "usage: sv-engine-tool --data-root DIR [--config FILE] COMMAND [ARGS]\n");
      return 2;
    }

  if (!open_stores (&stores, &error))
    status = fail (error);
  else
    {
      command = argv[1];
      argc -= 2;
      argv += 2;
      if (g_str_equal (command, "pull"))
        status = command_pull (&stores, argc, argv);
      else if (g_str_equal (command, "images"))
        status = command_images (&stores, argc, argv);
      else if (g_str_equal (command, "inspect"))
        status = command_inspect (&stores, argc, argv);
      else if (g_str_equal (command, "rmi"))
        status = command_rmi (&stores, argc, argv);
      else if (g_str_equal (command, "layer-path"))
        status = command_layer_path (&stores, argc, argv);
      else
        {
          fprintf (stderr, "sv-engine-tool: unknown command \"%s\"\n", command);
          status = 2;
        }
    }

  g_clear_object (&stores.images);
  g_clear_object (&stores.layers);
  g_clear_object (&stores.content);
  g_clear_object (&stores.config);
  return status;
}
