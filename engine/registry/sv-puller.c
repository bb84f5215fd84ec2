/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-puller.h"

#include <string.h>
#include <unistd.h>

#include "sv-engine-error.h"
#include "sv-manifest.h"
#include "sv-overlay.h"
#include "sv-reference.h"
#include "sv-registry-client.h"

/* Layers downloading or unpacking at once in one pull. */
#define MAX_PARALLEL_LAYERS 3

struct _SvPuller
{
  GObject parent_instance;

  SvConfig *config;
  SvContentStore *content;
  SvLayerStore *layers;
  SvImageStore *images;
  SvRegistryClient *client;
  /* Blob digests and diff ids that running pulls stored and no pull has
   * recorded in an image yet -> number of running pulls that need them. A
   * failed pull removes those that no other pull needs. */
  GHashTable *provisional;
  /* Blob digest -> SharedDownload, for the blobs that pulls download now. */
  GHashTable *downloads;
  /* Diff id -> GPtrArray of the LayerJobs that wait for its unpack. */
  GHashTable *unpacks;
};

G_DEFINE_FINAL_TYPE (SvPuller, sv_puller, G_TYPE_OBJECT)

static void
sv_puller_finalize (GObject *object)
{
  SvPuller *self = SV_PULLER (object);

  g_clear_object (&self->config);
  g_clear_object (&self->content);
  g_clear_object (&self->layers);
  g_clear_object (&self->images);
  g_clear_object (&self->client);
  g_clear_pointer (&self->provisional, g_hash_table_unref);
  g_clear_pointer (&self->downloads, g_hash_table_unref);
  g_clear_pointer (&self->unpacks, g_hash_table_unref);

  G_OBJECT_CLASS (sv_puller_parent_class)->finalize (object);
}

static void
sv_puller_class_init (SvPullerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_puller_finalize;
}

static void
sv_puller_init (SvPuller *self)
{
  self->provisional = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->downloads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->unpacks
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
}

SvPuller *
sv_puller_new (SvConfig *config, SvContentStore *content, SvLayerStore *layers,
               SvImageStore *images)
{
  SvPuller *self = g_object_new (SV_TYPE_PULLER, NULL);

  self->config = g_object_ref (config);
  self->content = g_object_ref (content);
  self->layers = g_object_ref (layers);
  self->images = g_object_ref (images);
  self->client = sv_registry_client_new (config);
  return self;
}

/* One pull in progress. */
typedef struct
{
  SvPuller *self;
  SvReference *ref;
  char *platform;                     /* requested, NULL for the host's */
  SvRegistryCredentials *credentials; /* NULL: the configured ones */

  /* Cancelled by the caller's cancellable and on the first failure, so the
   * other layers stop too. */
  GCancellable *cancellable;
  GCancellable *caller_cancellable;
  gulong cancelled_id;

  SvPullProgressFunc progress;
  gpointer progress_data;
  GDestroyNotify progress_data_free;

  char *top_digest; /* the manifest or index the reference names */
  char *manifest_digest;
  SvManifest *manifest;
  char *config_digest;
  SvImageConfigInfo *config;

  GPtrArray *new_blobs;  /* digests this pull counts in SvPuller.provisional */
  GPtrArray *new_layers; /* diff ids this pull counts there */

  GArray *pending; /* indexes of the layers still to start */
  guint active;    /* layers downloading or unpacking */
  GError *error;   /* the first layer failure */
  guint64 done_bytes;
  guint64 total_bytes;
} Pull;

/* Count @name (a blob digest in @pull->new_blobs, or a diff id in
 * @pull->new_layers) as new content that @pull needs. That is content this
 * pull stored (@stored), or that another running pull stored and no pull has
 * recorded in an image yet. */
static void
depend_on_new (Pull *pull, GPtrArray *list, const char *name, gboolean stored)
{
  GHashTable *table = pull->self->provisional;
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (table, name));

  if ((count == 0 && !stored) || g_ptr_array_find_with_equal_func (list, name, g_str_equal, NULL))
    return;
  g_hash_table_replace (table, g_strdup (name), GUINT_TO_POINTER (count + 1));
  g_ptr_array_add (list, g_strdup (name));
}

/* Drop @pull's count of @name. Returns TRUE when no running pull needs it
 * any more and no pull recorded it in an image, so it may go. */
static gboolean
release_new (Pull *pull, const char *name)
{
  GHashTable *table = pull->self->provisional;
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (table, name));

  if (count == 0)
    return FALSE;
  if (count == 1)
    {
      g_hash_table_remove (table, name);
      return TRUE;
    }
  g_hash_table_replace (table, g_strdup (name), GUINT_TO_POINTER (count - 1));
  return FALSE;
}

/* Mark the new content of a successful pull as recorded, so the failure of
 * another pull never removes it. */
static void
pull_commit (Pull *pull)
{
  for (guint i = 0; i < pull->new_layers->len; i++)
    g_hash_table_remove (pull->self->provisional, g_ptr_array_index (pull->new_layers, i));
  for (guint i = 0; i < pull->new_blobs->len; i++)
    g_hash_table_remove (pull->self->provisional, g_ptr_array_index (pull->new_blobs, i));
  g_ptr_array_set_size (pull->new_layers, 0);
  g_ptr_array_set_size (pull->new_blobs, 0);
}

static void
pull_free (Pull *pull)
{
  if (pull->caller_cancellable != NULL)
    {
      g_cancellable_disconnect (pull->caller_cancellable, pull->cancelled_id);
      g_object_unref (pull->caller_cancellable);
    }
  g_object_unref (pull->cancellable);
  if (pull->progress_data_free != NULL)
    pull->progress_data_free (pull->progress_data);
  g_object_unref (pull->self);
  sv_reference_free (pull->ref);
  g_free (pull->platform);
  g_clear_pointer (&pull->credentials, sv_registry_credentials_free);
  g_free (pull->top_digest);
  g_free (pull->manifest_digest);
  g_clear_pointer (&pull->manifest, sv_manifest_free);
  g_free (pull->config_digest);
  g_clear_pointer (&pull->config, sv_image_config_info_free);
  g_ptr_array_unref (pull->new_blobs);
  g_ptr_array_unref (pull->new_layers);
  g_clear_pointer (&pull->pending, g_array_unref);
  g_clear_error (&pull->error);
  g_free (pull);
}

static void
report (Pull *pull, const char *status)
{
  if (pull->progress != NULL)
    pull->progress (pull->done_bytes, pull->total_bytes, status, pull->progress_data);
}

static void
report_digest (Pull *pull, const char *what, const char *digest)
{
  /* 12 hex digits, as docker shows layer ids. */
  g_autofree char *status = g_strdup_printf ("%s %.19s", what, digest);

  report (pull, status);
}

/* Remove the new content this pull needed, so a failed pull leaves the stores
 * as they were, except what another running pull of this SvPuller needs. The
 * last of several failing pulls that need it removes it. */
static void
pull_roll_back (Pull *pull)
{
  SvPuller *self = pull->self;

  for (guint i = 0; i < pull->new_layers->len; i++)
    {
      g_autoptr (GError) error = NULL;
      const char *diff_id = g_ptr_array_index (pull->new_layers, i);

      if (release_new (pull, diff_id)
          && !sv_layer_store_remove_layer (self->layers, diff_id, &error))
        g_warning ("Cannot remove layer %s of a failed pull: %s", diff_id, error->message);
    }
  for (guint i = 0; i < pull->new_blobs->len; i++)
    {
      g_autoptr (GError) error = NULL;
      const char *digest = g_ptr_array_index (pull->new_blobs, i);

      if (release_new (pull, digest)
          && !sv_content_store_remove_blob (self->content, digest, &error))
        g_warning ("Cannot remove blob %s of a failed pull: %s", digest, error->message);
    }
  g_ptr_array_set_size (pull->new_layers, 0);
  g_ptr_array_set_size (pull->new_blobs, 0);
}

static void
pull_fail (GTask *task, GError *error)
{
  Pull *pull = g_task_get_task_data (task);

  pull_roll_back (pull);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static gboolean
store_bytes (Pull *pull, GBytes *bytes, const char *digest, GError **error)
{
  g_autofree char *stored = NULL;

  if (sv_content_store_has_blob (pull->self->content, digest))
    {
      depend_on_new (pull, pull->new_blobs, digest, FALSE);
      return TRUE;
    }
  stored = sv_content_store_add_bytes (pull->self->content, bytes, digest, error);
  if (stored == NULL)
    return FALSE;
  depend_on_new (pull, pull->new_blobs, stored, TRUE);
  return TRUE;
}

/* Blob downloads that pulls share. The first pull that needs a blob downloads
 * it. Pulls that need it meanwhile wait for that download instead of fetching
 * the blob again, and fetch it themselves only when that download fails. */

typedef struct
{
  GPtrArray *waiters; /* GTasks of fetch_blob_async */
} SharedDownload;

typedef struct
{
  Pull *pull; /* the caller keeps the pull alive until the fetch returns */
  char *digest;
  gint64 size;
  SvBlobProgressFunc progress;
  gpointer progress_data;
  gulong cancelled_id;
  gboolean waiting; /* in a SharedDownload's waiters */
} BlobFetchState;

static void
blob_fetch_state_free (BlobFetchState *state)
{
  g_free (state->digest);
  g_free (state);
}

static void fetch_blob_start (GTask *task);

static void
on_shared_download_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BlobFetchState *state = g_task_get_task_data (task);
  SvPuller *self = state->pull->self;
  g_autoptr (GError) error = NULL;
  gboolean stored
      = sv_registry_client_get_blob_finish (SV_REGISTRY_CLIENT (source), result, &error);
  SharedDownload *shared = g_hash_table_lookup (self->downloads, state->digest);

  g_hash_table_remove (self->downloads, state->digest);
  /* Count the blob for every pull that gets it before any of them can fail. */
  if (stored)
    depend_on_new (state->pull, state->pull->new_blobs, state->digest, TRUE);
  for (guint i = 0; shared != NULL && i < shared->waiters->len; i++)
    {
      GTask *waiter = g_ptr_array_index (shared->waiters, i);
      BlobFetchState *waiting = g_task_get_task_data (waiter);

      g_cancellable_disconnect (waiting->pull->cancellable, waiting->cancelled_id);
      waiting->cancelled_id = 0;
      waiting->waiting = FALSE;
      if (stored)
        {
          depend_on_new (waiting->pull, waiting->pull->new_blobs, state->digest, FALSE);
          g_task_return_int (waiter, 0);
          g_object_unref (waiter);
        }
      else
        fetch_blob_start (waiter);
    }
  if (shared != NULL)
    {
      g_ptr_array_unref (shared->waiters);
      g_free (shared);
    }

  if (!stored)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_int (task, 1);
}

static gboolean
on_wait_cancelled_idle (gpointer user_data)
{
  GTask *task = user_data;
  BlobFetchState *state = g_task_get_task_data (task);
  SharedDownload *shared;

  /* The download may have finished and returned to this waiter meanwhile,
   * and its pull may be gone since. */
  if (!state->waiting)
    return G_SOURCE_REMOVE;

  shared = g_hash_table_lookup (state->pull->self->downloads, state->digest);
  if (shared != NULL && g_ptr_array_remove (shared->waiters, task))
    {
      state->waiting = FALSE;
      g_cancellable_disconnect (state->pull->cancellable, state->cancelled_id);
      state->cancelled_id = 0;
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "the pull was cancelled");
      g_object_unref (task);
    }
  return G_SOURCE_REMOVE;
}

static void
on_wait_cancelled (GCancellable *cancellable, gpointer user_data)
{
  /* A ::cancelled handler must not disconnect itself, so return from an idle. */
  g_idle_add_full (G_PRIORITY_DEFAULT, on_wait_cancelled_idle, g_object_ref (user_data),
                   g_object_unref);
}

static void
fetch_blob_start (GTask *task)
{
  BlobFetchState *state = g_task_get_task_data (task);
  Pull *pull = state->pull;
  SvPuller *self = pull->self;
  SharedDownload *shared = g_hash_table_lookup (self->downloads, state->digest);

  if (shared == NULL && sv_content_store_has_blob (self->content, state->digest))
    {
      depend_on_new (pull, pull->new_blobs, state->digest, FALSE);
      g_task_return_int (task, 0);
      g_object_unref (task);
      return;
    }
  if (g_cancellable_is_cancelled (pull->cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "the pull was cancelled");
      g_object_unref (task);
      return;
    }

  if (shared != NULL)
    {
      g_ptr_array_add (shared->waiters, task);
      state->waiting = TRUE;
      state->cancelled_id
          = g_cancellable_connect (pull->cancellable, G_CALLBACK (on_wait_cancelled), task, NULL);
      return;
    }

  shared = g_new0 (SharedDownload, 1);
  shared->waiters = g_ptr_array_new ();
  g_hash_table_insert (self->downloads, g_strdup (state->digest), shared);
  sv_registry_client_get_blob_async (
      self->client, pull->ref, pull->credentials, state->digest, state->size, self->content,
      state->progress, state->progress_data, pull->cancellable, on_shared_download_done, task);
}

/* Store blob @digest of @size bytes, downloading it unless another pull of
 * this puller is downloading it already. */
static void
fetch_blob_async (Pull *pull, const char *digest, gint64 size, SvBlobProgressFunc progress,
                  gpointer progress_data, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  BlobFetchState *state = g_new0 (BlobFetchState, 1);

  state->pull = pull;
  state->digest = g_strdup (digest);
  state->size = size;
  state->progress = progress;
  state->progress_data = progress_data;
  g_task_set_task_data (task, state, (GDestroyNotify)blob_fetch_state_free);
  fetch_blob_start (task);
}

/* Returns 1 when this pull stored the blob, 0 when it was there or another
 * pull stored it, and -1 on failure. */
static int
fetch_blob_finish (GAsyncResult *result, GError **error)
{
  GError *local_error = NULL;
  gssize value = g_task_propagate_int (G_TASK (result), &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return -1;
    }
  return (int)value;
}

static gboolean
check_layer_count (Pull *pull, GError **error)
{
  /* Checked before the download, with the same options builder the container mount uses. */
  guint max = sv_overlay_get_max_layers ();
  g_autofree char *text = NULL;

  if (pull->manifest->layers->len <= max)
    return TRUE;
  text = sv_reference_to_familiar (pull->ref);
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
               "image %s has %u layers, more than the %u layers that overlayfs can stack for a "
               "container",
               text, pull->manifest->layers->len, max);
  return FALSE;
}

/* Step 5: record the image and its references. */
static void
pull_add_image (GTask *task)
{
  Pull *pull = g_task_get_task_data (task);
  SvPuller *self = pull->self;
  g_autoptr (GError) error = NULL;
  g_autofree char *reference = sv_reference_to_string (pull->ref);
  g_autoptr (SvImage) image = NULL;

  image = sv_image_store_add (self->images, pull->manifest_digest, pull->config_digest, reference,
                              &error);
  if (image == NULL)
    {
      pull_fail (task, g_steal_pointer (&error));
      return;
    }

  /* Record name@digest of what the reference named, as docker's RepoDigests. */
  if (pull->ref->tag != NULL)
    {
      g_autofree char *name = sv_reference_get_name (pull->ref);
      g_autofree char *by_digest = g_strconcat (name, "@", pull->top_digest, NULL);

      if (!sv_image_store_tag (self->images, image, by_digest, &error))
        g_warning ("Cannot record %s for image %s: %s", by_digest, sv_image_get_id (image),
                   error->message);
    }

  pull_commit (pull);
  report_digest (pull, "Pulled image", sv_image_get_id (image));
  g_task_return_pointer (task, g_steal_pointer (&image), g_object_unref);
  g_object_unref (task);
}

/* Step 4: layers, up to MAX_PARALLEL_LAYERS at once. */

typedef struct
{
  GTask *pull_task;
  guint index;
  char *digest;
  gint64 size;
  char *diff_id;
  char *blob_path;
} LayerJob;

static void
layer_job_free (LayerJob *job)
{
  g_object_unref (job->pull_task);
  g_free (job->digest);
  g_free (job->diff_id);
  g_free (job->blob_path);
  g_free (job);
}

static void pull_start_layers (GTask *task);

static void
layer_job_done (LayerJob *job, GError *error)
{
  g_autoptr (GTask) task = g_object_ref (job->pull_task);
  Pull *pull = g_task_get_task_data (task);

  layer_job_free (job);
  pull->active--;

  if (error != NULL)
    {
      if (pull->error == NULL)
        {
          pull->error = error;
          g_cancellable_cancel (pull->cancellable);
        }
      else
        g_error_free (error);
    }

  if (pull->error == NULL && pull->pending->len > 0)
    {
      pull_start_layers (task);
      return;
    }
  if (pull->active > 0)
    return;

  if (pull->error != NULL)
    {
      /* Report the caller's cancel rather than the failures it caused. */
      if (g_cancellable_is_cancelled (pull->caller_cancellable))
        g_clear_error (&pull->error);
      pull_fail (g_steal_pointer (&task),
                 pull->error ? g_steal_pointer (&pull->error)
                             : g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                    "the pull was cancelled"));
      return;
    }
  pull_add_image (g_steal_pointer (&task));
}

static void
unpack_in_thread (GTask *task, gpointer source_object, gpointer task_data,
                  GCancellable *cancellable)
{
  LayerJob *job = task_data;
  Pull *pull = g_task_get_task_data (job->pull_task);
  GError *error = NULL;

  if (!sv_layer_store_unpack (pull->self->layers, job->blob_path, job->diff_id, cancellable,
                              &error))
    {
      g_prefix_error (&error, "layer blob %s: ", job->digest);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void layer_job_unpack (LayerJob *job);

static void
on_layer_unpacked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LayerJob *job = user_data;
  Pull *pull = g_task_get_task_data (job->pull_task);
  SvPuller *self = pull->self;
  GError *error = NULL;
  gboolean unpacked = g_task_propagate_boolean (G_TASK (result), &error);
  g_autofree char *key = NULL;
  g_autoptr (GPtrArray) waiters = NULL;

  g_hash_table_steal_extended (self->unpacks, job->diff_id, (gpointer *)&key, (gpointer *)&waiters);

  /* Count the layer for every pull that gets it before any of them can end. */
  if (unpacked)
    depend_on_new (pull, pull->new_layers, job->diff_id, TRUE);
  for (guint i = 0; unpacked && waiters != NULL && i < waiters->len; i++)
    {
      LayerJob *waiter = g_ptr_array_index (waiters, i);
      Pull *waiting = g_task_get_task_data (waiter->pull_task);

      depend_on_new (waiting, waiting->new_layers, job->diff_id, FALSE);
    }

  /* Pulls that waited for a failed unpack try it themselves. */
  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    {
      LayerJob *waiter = g_ptr_array_index (waiters, i);
      Pull *waiting = g_task_get_task_data (waiter->pull_task);

      if (!unpacked)
        {
          layer_job_unpack (waiter);
          continue;
        }
      report_digest (waiting, "Pull complete", waiter->digest);
      layer_job_done (waiter, NULL);
    }

  if (!unpacked)
    {
      layer_job_done (job, error);
      return;
    }
  report_digest (pull, "Pull complete", job->digest);
  layer_job_done (job, NULL);
}

/* Unpack the job's layer, unless it is there already or another pull of this
 * puller is unpacking it, in which case the job waits for that unpack. */
static void
layer_job_unpack (LayerJob *job)
{
  Pull *pull = g_task_get_task_data (job->pull_task);
  SvPuller *self = pull->self;
  GPtrArray *waiters = g_hash_table_lookup (self->unpacks, job->diff_id);
  g_autoptr (GTask) unpack = NULL;

  if (waiters != NULL)
    {
      report_digest (pull, "Waiting", job->digest);
      g_ptr_array_add (waiters, job);
      return;
    }
  if (sv_layer_store_has_layer (self->layers, job->diff_id))
    {
      depend_on_new (pull, pull->new_layers, job->diff_id, FALSE);
      report_digest (pull, "Pull complete", job->digest);
      layer_job_done (job, NULL);
      return;
    }

  g_hash_table_insert (self->unpacks, g_strdup (job->diff_id), g_ptr_array_new ());
  unpack = g_task_new (NULL, pull->cancellable, on_layer_unpacked, job);
  report_digest (pull, "Extracting", job->digest);
  job->blob_path = sv_content_store_get_blob_path (self->content, job->digest);
  g_task_set_task_data (unpack, job, NULL);
  /* A layer unpacked just as the pull is cancelled is reported as unpacked,
   * so the rollback removes it. */
  g_task_set_check_cancellable (unpack, FALSE);
  g_task_run_in_thread (unpack, unpack_in_thread);
}

static void
on_layer_progress (guint64 bytes, gpointer user_data)
{
  LayerJob *job = user_data;
  Pull *pull = g_task_get_task_data (job->pull_task);
  g_autofree char *status = g_strdup_printf ("Downloading %.19s", job->digest);

  pull->done_bytes += bytes;
  report (pull, status);
}

static void
on_layer_downloaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LayerJob *job = user_data;
  Pull *pull = g_task_get_task_data (job->pull_task);
  GError *error = NULL;
  int stored = fetch_blob_finish (result, &error);

  if (stored < 0)
    {
      layer_job_done (job, error);
      return;
    }
  if (stored == 0)
    {
      /* Another pull downloaded it, so count its bytes as done. */
      pull->done_bytes += job->size;
      report_digest (pull, "Download complete", job->digest);
    }
  layer_job_unpack (job);
}

static void
pull_start_layers (GTask *task)
{
  /* A layer job may finish at once and end the pull inside this loop. */
  g_autoptr (GTask) hold = g_object_ref (task);
  Pull *pull = g_task_get_task_data (task);
  SvPuller *self = pull->self;

  while (pull->active < MAX_PARALLEL_LAYERS && pull->pending->len > 0)
    {
      guint index = g_array_index (pull->pending, guint, 0);
      const SvDescriptor *layer = g_ptr_array_index (pull->manifest->layers, index);
      LayerJob *job = g_new0 (LayerJob, 1);

      g_array_remove_index (pull->pending, 0);
      job->pull_task = g_object_ref (task);
      job->index = index;
      job->digest = g_strdup (layer->digest);
      job->size = layer->size;
      job->diff_id = g_strdup (pull->config->diff_ids[index]);
      pull->active++;

      if (sv_content_store_has_blob (self->content, layer->digest))
        {
          depend_on_new (pull, pull->new_blobs, layer->digest, FALSE);
          layer_job_unpack (job);
        }
      else
        fetch_blob_async (pull, layer->digest, layer->size, on_layer_progress, job,
                          on_layer_downloaded, job);
    }
}

static void
pull_layers (GTask *task)
{
  Pull *pull = g_task_get_task_data (task);
  SvPuller *self = pull->self;
  GPtrArray *layers = pull->manifest->layers;

  pull->pending = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < layers->len; i++)
    {
      const SvDescriptor *layer = g_ptr_array_index (layers, i);

      if (sv_layer_store_has_layer (self->layers, pull->config->diff_ids[i]))
        {
          depend_on_new (pull, pull->new_blobs, layer->digest, FALSE);
          depend_on_new (pull, pull->new_layers, pull->config->diff_ids[i], FALSE);
          report_digest (pull, "Already exists", layer->digest);
          continue;
        }
      g_array_append_val (pull->pending, i);
      if (!sv_content_store_has_blob (self->content, layer->digest))
        pull->total_bytes += layer->size;
    }

  if (pull->pending->len == 0)
    {
      pull_add_image (task);
      return;
    }
  report (pull, "Downloading layers");
  pull_start_layers (task);
}

/* Step 3: the image config. */

static gboolean
check_config_platform (Pull *pull, GError **error)
{
  g_autofree char *os = NULL;
  g_autofree char *arch = NULL;
  g_autofree char *variant = NULL;
  g_autofree char *have_os = NULL;
  g_autofree char *have_arch = NULL;
  g_autofree char *have_variant = NULL;
  g_autofree char *have = NULL;
  g_autofree char *text = NULL;

  /* An index already chose the platform; a single manifest is checked only
   * against a platform the caller asked for. */
  if (pull->platform == NULL || pull->top_digest == NULL
      || !g_str_equal (pull->top_digest, pull->manifest_digest))
    return TRUE;

  have = g_strdup_printf ("%s/%s", pull->config->os ? pull->config->os : "unknown",
                          pull->config->architecture ? pull->config->architecture : "unknown");
  if (!sv_platform_parse (pull->platform, &os, &arch, &variant, error)
      || !sv_platform_parse (have, &have_os, &have_arch, &have_variant, NULL))
    return FALSE;
  if (g_str_equal (os, have_os) && g_str_equal (arch, have_arch))
    return TRUE;

  text = sv_reference_to_familiar (pull->ref);
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
               "image %s is for platform %s, not the requested %s", text, have, pull->platform);
  return FALSE;
}

static void
on_config_downloaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Pull *pull = g_task_get_task_data (task);
  SvPuller *self = pull->self;
  GError *error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (result != NULL)
    {
      if (fetch_blob_finish (result, &error) < 0)
        {
          pull_fail (task, error);
          return;
        }
    }

  bytes = sv_content_store_read_blob (self->content, pull->config_digest, SV_MANIFEST_MAX_SIZE,
                                      &error);
  if (bytes != NULL)
    pull->config = sv_image_config_info_parse (bytes, &error);
  if (pull->config == NULL)
    {
      g_prefix_error (&error, "image config %s: ", pull->config_digest);
      pull_fail (task, error);
      return;
    }

  if (g_strv_length (pull->config->diff_ids) != pull->manifest->layers->len)
    {
      pull_fail (task, g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                                    "invalid image: manifest %s lists %u layers but its config "
                                    "%s lists %u diff ids",
                                    pull->manifest_digest, pull->manifest->layers->len,
                                    pull->config_digest, g_strv_length (pull->config->diff_ids)));
      return;
    }
  if (!check_config_platform (pull, &error))
    {
      pull_fail (task, error);
      return;
    }

  pull_layers (task);
}

static void
pull_config (GTask *task)
{
  Pull *pull = g_task_get_task_data (task);
  SvPuller *self = pull->self;
  const SvDescriptor *config = pull->manifest->config;

  pull->config_digest = g_strdup (config->digest);
  if (sv_content_store_has_blob (self->content, config->digest))
    {
      depend_on_new (pull, pull->new_blobs, config->digest, FALSE);
      on_config_downloaded (NULL, NULL, task);
      return;
    }
  fetch_blob_async (pull, config->digest, config->size, NULL, NULL, on_config_downloaded, task);
}

/* Step 2: the manifest, through an index when the reference names one. */

static void
on_manifest_received (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Pull *pull = g_task_get_task_data (task);
  GError *error = NULL;
  g_autofree char *content_type = NULL;
  g_autofree char *digest = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (SvManifest) manifest = NULL;

  bytes = sv_registry_client_get_manifest_finish (SV_REGISTRY_CLIENT (source), result,
                                                  &content_type, &digest, &error);
  if (bytes != NULL)
    manifest = sv_manifest_parse (bytes, content_type, &error);
  if (manifest == NULL)
    {
      pull_fail (task, error);
      return;
    }
  if (pull->top_digest == NULL)
    pull->top_digest = g_strdup (digest);

  if (manifest->kind == SV_MANIFEST_KIND_INDEX)
    {
      const SvDescriptor *entry;

      /* An index names manifests, never another index. */
      if (!g_str_equal (pull->top_digest, digest))
        {
          pull_fail (task, g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                                        "unsupported image: index %s lists another index %s",
                                        pull->top_digest, digest));
          return;
        }
      entry = sv_manifest_choose_platform (manifest, pull->platform, &error);
      if (entry == NULL || !store_bytes (pull, bytes, digest, &error))
        {
          g_autofree char *text = sv_reference_to_familiar (pull->ref);

          g_prefix_error (&error, "%s: ", text);
          pull_fail (task, error);
          return;
        }
      sv_registry_client_get_manifest_async (pull->self->client, pull->ref, pull->credentials,
                                             entry->digest, pull->cancellable, on_manifest_received,
                                             task);
      return;
    }

  if (!store_bytes (pull, bytes, digest, &error))
    {
      pull_fail (task, error);
      return;
    }
  pull->manifest_digest = g_strdup (digest);
  pull->manifest = g_steal_pointer (&manifest);
  if (!check_layer_count (pull, &error))
    {
      pull_fail (task, error);
      return;
    }
  report_digest (pull, "Digest:", pull->top_digest);
  pull_config (task);
}

/* Step 1: check that the registry responds. */
static void
on_registry_pinged (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Pull *pull = g_task_get_task_data (task);
  GError *error = NULL;

  if (!sv_registry_client_ping_finish (SV_REGISTRY_CLIENT (source), result, &error))
    {
      pull_fail (task, error);
      return;
    }
  sv_registry_client_get_manifest_async (pull->self->client, pull->ref, pull->credentials,
                                         sv_reference_get_manifest_ref (pull->ref),
                                         pull->cancellable, on_manifest_received, task);
}

static void
on_caller_cancelled (GCancellable *caller, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

void
sv_puller_pull_async (SvPuller *self, const char *reference, const char *platform,
                      const SvRegistryCredentials *credentials, GCancellable *cancellable,
                      SvPullProgressFunc progress, gpointer progress_data,
                      GDestroyNotify progress_data_free, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Pull *pull = g_new0 (Pull, 1);
  GError *error = NULL;
  g_autofree char *text = NULL;

  g_task_set_source_tag (task, sv_puller_pull_async);
  pull->self = g_object_ref (self);
  pull->platform = g_strdup (platform);
  if (credentials != NULL)
    pull->credentials = sv_registry_credentials_copy (credentials);
  pull->progress = progress;
  pull->progress_data = progress_data;
  pull->progress_data_free = progress_data_free;
  pull->cancellable = g_cancellable_new ();
  pull->new_blobs = g_ptr_array_new_with_free_func (g_free);
  pull->new_layers = g_ptr_array_new_with_free_func (g_free);
  if (cancellable != NULL)
    {
      pull->caller_cancellable = g_object_ref (cancellable);
      pull->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                                  g_object_ref (pull->cancellable), g_object_unref);
    }
  g_task_set_task_data (task, pull, (GDestroyNotify)pull_free);

  pull->ref = sv_reference_parse (reference, &error);
  if (pull->ref == NULL)
    {
      pull_fail (task, error);
      return;
    }
  if (platform != NULL)
    {
      g_autofree char *os = NULL;
      g_autofree char *arch = NULL;
      g_autofree char *variant = NULL;

      if (!sv_platform_parse (platform, &os, &arch, &variant, &error))
        {
          pull_fail (task, error);
          return;
        }
    }

  text = sv_reference_to_familiar (pull->ref);
  g_info ("Pulling %s", text);
  report (pull, "Pulling");
  sv_registry_client_ping_async (self->client, pull->ref, pull->credentials, pull->cancellable,
                                 on_registry_pinged, task);
}

SvImage *
sv_puller_pull_finish (SvPuller *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
