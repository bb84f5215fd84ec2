/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-cli.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  FILE *out;
  gboolean tty;
  char *last_status;
  gboolean line_open;
} PullProgress;

/* On a terminal one line shows the status and the bytes so far; otherwise
 * each new status is printed on a line of its own. */
static void
on_pull_progress_cb (SvDBusJob *job, gpointer user_data)
{
  PullProgress *progress = user_data;
  const char *status = sv_dbus_job_get_status (job);
  guint64 done;
  guint64 total;

  if (status == NULL || *status == '\0')
    return;

  if (progress->tty)
    {
      g_autofree char *done_text = NULL;
      g_autofree char *total_text = NULL;

      sv_client_job_get_progress (job, &done, &total);
      done_text = sv_client_format_size (done);
      total_text = sv_client_format_size (total);
      fprintf (progress->out, "\r\033[K%s", status);
      if (total > 0)
        fprintf (progress->out, " %s/%s", done_text, total_text);
      fflush (progress->out);
      progress->line_open = TRUE;
      return;
    }

  if (g_strcmp0 (status, progress->last_status) == 0)
    return;
  g_free (progress->last_status);
  progress->last_status = g_strdup (status);
  fprintf (progress->out, "%s\n", status);
  fflush (progress->out);
}

/* Ctrl-C cancels the pull in servind, as it does in docker, instead of
 * leaving it to run on. The wait then ends with the job's error. */
static gboolean
on_pull_interrupted_cb (gpointer user_data)
{
  SvDBusJob *job = user_data;
  g_autoptr (GError) error = NULL;

  if (!sv_dbus_job_call_cancel_sync (job, NULL, &error))
    sv_cli_print_error (error);
  return G_SOURCE_CONTINUE;
}

static const char *
find_image_id (GDBusObjectManager *objects, const char *reference, char **id)
{
  g_autoptr (SvDBusImage) image = NULL;
  GList *images = sv_client_list_images (objects);

  for (GList *l = images; l != NULL && image == NULL; l = l->next)
    {
      if (sv_client_image_has_reference (l->data, reference))
        image = g_object_ref (l->data);
    }
  g_list_free_full (images, g_object_unref);
  *id = image ? g_strdup (sv_dbus_image_get_id (image)) : NULL;
  return *id;
}

/* Adds the reference to a pull error unless the message names it already. */
static void
name_reference (GError *error, const char *reference, const char *full)
{
  char *message;

  sv_client_error_clean (error);
  if (strstr (error->message, reference) != NULL || strstr (error->message, full) != NULL)
    return;
  message = g_strdup_printf ("cannot pull %s: %s", reference, error->message);
  g_free (error->message);
  error->message = message;
}

/**
 * sv_cli_pull_image:
 * @objects: the connection from sv_cli_connect()
 * @manager: servind's manager
 * @reference: the reference as the user typed it
 * @platform: (nullable): "os/arch[/variant]", or %NULL for the host's
 * @out: where the progress goes: stdout for pull, stderr for run
 * @error: return location for an error that names @reference
 *
 * Pulls an image through Manager.Pull and follows the job to its end,
 * printing docker's "Status:" line and the full reference at the end.
 */
gboolean
sv_cli_pull_image (GDBusObjectManager *objects, SvDBusManager *manager, const char *reference,
                   const char *platform, FILE *out, GError **error)
{
  g_autofree char *full = NULL;
  g_autofree char *familiar = NULL;
  g_autofree char *tag = NULL;
  g_autofree char *old_id = NULL;
  g_autofree char *new_id = NULL;
  g_autofree char *path = NULL;
  g_autoptr (SvDBusJob) job = NULL;
  g_autoptr (GError) local_error = NULL;
  PullProgress progress = { out, isatty (fileno (out)), NULL, FALSE };
  GVariantDict options;

  full = sv_client_reference_normalize (reference, error);
  if (full == NULL)
    return FALSE;
  familiar = sv_client_reference_familiar (full);
  sv_client_reference_split (reference, NULL, &tag);
  if (tag == NULL && strchr (reference, '@') == NULL)
    fprintf (out, "Using default tag: latest\n");
  find_image_id (objects, full, &old_id);

  g_variant_dict_init (&options, NULL);
  if (platform != NULL)
    g_variant_dict_insert (&options, "Platform", "s", platform);

  if (!sv_dbus_manager_call_pull_sync (manager, reference, g_variant_dict_end (&options), &path,
                                       NULL, &local_error))
    goto failed;

  job = sv_client_get_job (objects, path, NULL, &local_error);
  if (job != NULL)
    {
      guint interrupt_watch = g_unix_signal_add (SIGINT, on_pull_interrupted_cb, job);
      guint terminate_watch = g_unix_signal_add (SIGTERM, on_pull_interrupted_cb, job);

      new_id = sv_client_job_wait_sync (job, NULL, on_pull_progress_cb, &progress, &local_error);
      g_source_remove (interrupt_watch);
      g_source_remove (terminate_watch);
    }
  if (progress.line_open)
    fprintf (out, "\n");
  g_free (progress.last_status);
  if (new_id == NULL)
    goto failed;

  if (*new_id != '\0')
    fprintf (out, "Image ID: %s\n", new_id);
  if (old_id != NULL && g_strcmp0 (old_id, new_id) == 0)
    fprintf (out, "Status: Image is up to date for %s\n", familiar);
  else
    fprintf (out, "Status: Downloaded newer image for %s\n", familiar);
  fprintf (out, "%s\n", full);
  return TRUE;

failed:
  name_reference (local_error, reference, full);
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

int
sv_cli_pull (const SvCliInvocation *invocation)
{
  g_autofree char *platform = NULL;
  const SvCliOption options[] = {
    { "platform", 0, SV_CLI_OPTION_STRING, &platform, "string",
      "Pull the image for this platform (os/arch[/variant]) instead of the host's" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (SvDBusManager) manager = NULL;
  g_autoptr (GError) error = NULL;
  int exit_code;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 1, 1, "NAME[:TAG|@DIGEST]",
                       &exit_code);
  if (args == NULL)
    return exit_code;

  objects = sv_cli_connect ();
  manager = objects ? sv_cli_get_manager (objects) : NULL;
  if (manager == NULL)
    return 1;

  if (!sv_cli_pull_image (objects, manager, args->pdata[0], platform, stdout, &error))
    {
      sv_cli_print_error (error);
      return 1;
    }
  return 0;
}

typedef struct
{
  char *repository;
  char *tag;
  char *id;
  guint64 created;
  guint64 size;
} ImageRow;

static void
image_row_free (ImageRow *row)
{
  g_free (row->repository);
  g_free (row->tag);
  g_free (row->id);
  g_free (row);
}

/* The rows of docker images: one per tag, "<none>" for an untagged image. */
static void
add_image_rows (GPtrArray *rows, SvDBusImage *image, const char *filter)
{
  const char *const *tags = sv_dbus_image_get_repo_tags (image);
  g_autofree char *filter_repository = NULL;
  g_autofree char *filter_tag = NULL;
  gboolean tagged = tags != NULL && tags[0] != NULL;

  if (filter != NULL)
    {
      g_autofree char *full = sv_client_reference_normalize (filter, NULL);

      if (full == NULL)
        return;
      sv_client_reference_split (full, &filter_repository, NULL);
      /* "images busybox" lists every tag; "images busybox:1" one of them. */
      sv_client_reference_split (filter, NULL, &filter_tag);
    }

  for (guint i = 0; tagged && tags[i] != NULL; i++)
    {
      ImageRow *row;
      g_autofree char *repository = NULL;
      g_autofree char *tag = NULL;

      sv_client_reference_split (tags[i], &repository, &tag);
      if (filter_repository != NULL && g_strcmp0 (repository, filter_repository) != 0)
        continue;
      if (filter_tag != NULL && g_strcmp0 (tag, filter_tag) != 0)
        continue;

      row = g_new0 (ImageRow, 1);
      row->repository = sv_client_reference_familiar (repository);
      row->tag = tag ? g_steal_pointer (&tag) : g_strdup ("<none>");
      row->id = g_strdup (sv_dbus_image_get_id (image));
      row->created = sv_dbus_image_get_created (image);
      row->size = sv_dbus_image_get_size (image);
      g_ptr_array_add (rows, row);
    }

  if (!tagged && filter == NULL)
    {
      ImageRow *row = g_new0 (ImageRow, 1);

      row->repository = g_strdup ("<none>");
      row->tag = g_strdup ("<none>");
      row->id = g_strdup (sv_dbus_image_get_id (image));
      row->created = sv_dbus_image_get_created (image);
      row->size = sv_dbus_image_get_size (image);
      g_ptr_array_add (rows, row);
    }
}

static gint
compare_rows (gconstpointer a, gconstpointer b)
{
  const ImageRow *row_a = *(const ImageRow **)a;
  const ImageRow *row_b = *(const ImageRow **)b;
  int result;

  if (row_a->created != row_b->created)
    return row_a->created > row_b->created ? -1 : 1;
  result = g_strcmp0 (row_a->repository, row_b->repository);
  return result != 0 ? result : g_strcmp0 (row_a->tag, row_b->tag);
}

/* docker images: REPOSITORY TAG IMAGE ID CREATED SIZE, newest first. */
int
sv_cli_images (const SvCliInvocation *invocation)
{
  gboolean all = FALSE;
  gboolean quiet = FALSE;
  gboolean no_trunc = FALSE;
  const SvCliOption options[] = {
    { "all", 'a', SV_CLI_OPTION_BOOL, &all, NULL,
      "Show all images (Servin keeps no intermediate images, so this changes nothing)" },
    { "no-trunc", 0, SV_CLI_OPTION_BOOL, &no_trunc, NULL, "Don't truncate output" },
    { "quiet", 'q', SV_CLI_OPTION_BOOL, &quiet, NULL, "Only show image IDs" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify)image_row_free);
  g_autoptr (SvCliTable) table = sv_cli_table_new (5);
  guint64 now = g_get_real_time () / G_USEC_PER_SEC;
  GList *images;
  int exit_code;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 0, 1, NULL, &exit_code);
  if (args == NULL)
    return exit_code;

  objects = sv_cli_connect ();
  if (objects == NULL)
    return 1;

  images = sv_client_list_images (objects);
  for (GList *l = images; l != NULL; l = l->next)
    add_image_rows (rows, l->data, args->len > 0 ? args->pdata[0] : NULL);
  g_list_free_full (images, g_object_unref);
  g_ptr_array_sort (rows, compare_rows);

  sv_cli_table_add_row (table, "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", NULL);
  for (guint i = 0; i < rows->len; i++)
    {
      ImageRow *row = rows->pdata[i];
      g_autofree char *id = no_trunc ? g_strdup (row->id) : sv_client_format_short_id (row->id);
      g_autofree char *created = sv_client_format_time_ago (row->created, now);
      g_autofree char *size = sv_client_format_size (row->size);

      if (quiet)
        printf ("%s\n", id);
      else
        sv_cli_table_add_row (table, row->repository, row->tag, id, created, size, NULL);
    }

  if (!quiet)
    sv_cli_table_print (table, stdout);
  return 0;
}

/* TRUE while servind still exports an object at @path. The object manager
 * client learns of removals only from signals, so ask servind directly. */
static gboolean
object_exists (GDBusObjectManager *objects, const char *path)
{
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_sync (sv_client_get_connection (objects), SV_CLIENT_BUS_NAME, path,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", "org.servin.Servin1.Image", "Id"),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  return reply != NULL;
}

static gboolean
remove_image (GDBusObjectManager *objects, const char *name, gboolean force, GError **error)
{
  g_autoptr (SvDBusImage) image = NULL;
  g_auto (GStrv) tags = NULL;
  g_autofree char *full = NULL;
  g_autofree char *id = NULL;
  GVariantDict options;
  gboolean by_reference;

  image = sv_client_find_image (objects, name, error);
  if (image == NULL)
    return FALSE;
  id = g_strdup (sv_dbus_image_get_id (image));
  tags = sv_dbus_image_dup_repo_tags (image);

  /* A tag the user named is removed alone; an id removes the whole image. */
  by_reference = sv_client_image_has_reference (image, name);
  g_variant_dict_init (&options, NULL);
  if (by_reference)
    {
      full = sv_client_reference_normalize (name, NULL);
      g_variant_dict_insert (&options, "Reference", "s", full);
    }
  if (force)
    g_variant_dict_insert (&options, "Force", "b", TRUE);

  if (!sv_dbus_image_call_remove_sync (image, g_variant_dict_end (&options), NULL, error))
    return FALSE;

  for (guint i = 0; tags != NULL && tags[i] != NULL; i++)
    {
      g_autofree char *familiar = NULL;

      if (by_reference && g_strcmp0 (tags[i], full) != 0)
        continue;
      familiar = sv_client_reference_familiar (tags[i]);
      printf ("Untagged: %s\n", familiar);
    }
  if (!object_exists (objects, g_dbus_proxy_get_object_path (G_DBUS_PROXY (image))))
    printf ("Deleted: %s\n", id);
  return TRUE;
}

int
sv_cli_rmi (const SvCliInvocation *invocation)
{
  gboolean force = FALSE;
  const SvCliOption options[] = {
    { "force", 'f', SV_CLI_OPTION_BOOL, &force, NULL,
      "Force removal of an image with several tags" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  int exit_code;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 1, -1, "IMAGE", &exit_code);
  if (args == NULL)
    return exit_code;

  objects = sv_cli_connect ();
  if (objects == NULL)
    return 1;

  for (guint i = 0; i < args->len; i++)
    {
      g_autoptr (GError) error = NULL;

      if (!remove_image (objects, args->pdata[i], force, &error))
        {
          sv_cli_print_error (error);
          exit_code = 1;
        }
    }
  return exit_code;
}

/* docker load: an image archive from a file or stdin. */
int
sv_cli_load (const SvCliInvocation *invocation)
{
  g_autofree char *input = NULL;
  gboolean quiet = FALSE;
  const SvCliOption options[] = {
    { "input", 'i', SV_CLI_OPTION_STRING, &input, "string",
      "Read from a tar archive file, instead of STDIN" },
    { "quiet", 'q', SV_CLI_OPTION_BOOL, &quiet, NULL, "Suppress the load output" },
    { NULL },
  };
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (SvDBusManager) manager = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) references = NULL;
  int exit_code;
  int fd = STDIN_FILENO;

  args = sv_cli_parse (invocation, options, SV_CLI_PARSE_INTERSPERSED, 0, 0, NULL, &exit_code);
  if (args == NULL)
    return exit_code;

  if (input == NULL && isatty (STDIN_FILENO))
    {
      sv_cli_print_message ("requested load from stdin, but stdin is a terminal. Give the archive "
                            "with -i FILE or redirect stdin from it");
      return 1;
    }
  if (input != NULL)
    {
      fd = open (input, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          sv_cli_print_message ("cannot open %s: %s", input, g_strerror (errno));
          return 1;
        }
    }

  objects = sv_cli_connect ();
  manager = objects ? sv_cli_get_manager (objects) : NULL;
  if (manager != NULL)
    references = sv_client_manager_load (manager, fd, NULL, NULL, &error);
  if (fd != STDIN_FILENO)
    close (fd);
  if (manager == NULL)
    return 1;
  if (references == NULL)
    {
      sv_cli_print_error (error);
      return 1;
    }

  for (guint i = 0; !quiet && references[i] != NULL; i++)
    {
      g_autofree char *familiar = sv_client_reference_familiar (references[i]);

      printf ("Loaded image: %s\n", familiar);
    }
  return 0;
}
