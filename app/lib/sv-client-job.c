/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-job.h"

#include "sv-client-connection.h"
#include "sv-client-error.h"
#include "sv-dbus-error.h"

/**
 * sv_client_get_job:
 * @objects: the object manager client from sv_client_connect()
 * @object_path: a job's path, as Manager.Pull returns it
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Makes a proxy for the job at @object_path. The proxy subscribes to the
 * job's signals before it reads the properties, so no change between the two
 * is lost.
 *
 * Returns: (transfer full): the job, or %NULL
 */
SvDBusJob *
sv_client_get_job (GDBusObjectManager *objects, const char *object_path, GCancellable *cancellable,
                   GError **error)
{
  SvDBusJob *job;

  job = sv_dbus_job_proxy_new_sync (sv_client_get_connection (objects),
                                    G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, SV_CLIENT_BUS_NAME,
                                    object_path, cancellable, error);
  if (job == NULL)
    sv_client_error_clean (error ? *error : NULL);
  return job;
}

/* Reads Progress as (done, total) bytes. Both are 0 until servind has counted them. */
void
sv_client_job_get_progress (SvDBusJob *job, guint64 *done, guint64 *total)
{
  GVariant *progress = sv_dbus_job_get_progress (job);

  *done = 0;
  *total = 0;
  if (progress != NULL && g_variant_is_of_type (progress, G_VARIANT_TYPE ("(tt)")))
    g_variant_get (progress, "(tt)", done, total);
}

typedef struct
{
  SvDBusJob *job;
  SvClientJobProgressFunc progress;
  gpointer progress_data;
  gulong properties_id;
  gulong completed_id;
  gulong owner_id;
  GCancellable *cancellable;
  gulong cancelled_id;
  /* Copies of the job's properties, read when the wait starts: the proxy
   * drops its cached properties once servind leaves the bus. */
  char *operation;
  char *target;
  /* Set once the outcome is being read, so later signals change nothing. */
  gboolean finishing;
  /* Set once the task has returned: it must return only once. */
  gboolean returned;
} WaitData;

static void
wait_data_free (WaitData *data)
{
  g_clear_signal_handler (&data->properties_id, data->job);
  g_clear_signal_handler (&data->completed_id, data->job);
  g_clear_signal_handler (&data->owner_id, data->job);
  if (data->cancellable != NULL)
    {
      g_cancellable_disconnect (data->cancellable, data->cancelled_id);
      g_object_unref (data->cancellable);
    }
  g_object_unref (data->job);
  g_free (data->operation);
  g_free (data->target);
  g_free (data);
}

/* TRUE the first time it is called for @task, so the caller may return it. */
static gboolean
claim_return (GTask *task)
{
  WaitData *data = g_task_get_task_data (task);

  if (data == NULL)
    return TRUE;
  if (data->returned)
    return FALSE;
  data->returned = TRUE;
  return TRUE;
}

static void
return_outcome (GTask *task, gboolean success, const char *result, const char *error_name,
                const char *error_message)
{
  SvDBusJob *job = g_task_get_source_object (task);
  GError *error;

  if (!claim_return (task))
    return;

  if (success)
    {
      g_task_return_pointer (task, g_strdup (result ? result : ""), g_free);
      return;
    }

  if (error_name == NULL || *error_name == '\0')
    {
      g_task_return_new_error (task, SV_DBUS_ERROR, SV_DBUS_ERROR_FAILED, "%s %s failed: %s",
                               sv_dbus_job_get_operation (job), sv_dbus_job_get_target (job),
                               error_message && *error_message ? error_message : "no reason given");
      return;
    }

  error = g_dbus_error_new_for_dbus_error (error_name, error_message ? error_message : "");
  g_dbus_error_strip_remote_error (error);
  g_task_return_error (task, error);
}

/* Returns the outcome from the properties servind sent last. */
static void
return_cached_outcome (GTask *task)
{
  SvDBusJob *job = g_task_get_source_object (task);

  return_outcome (task, sv_dbus_job_get_success (job), sv_dbus_job_get_result (job),
                  sv_dbus_job_get_error_name (job), sv_dbus_job_get_error_message (job));
}

static const char *
lookup_string (GVariant *dict, const char *key)
{
  const char *value = NULL;

  g_variant_lookup (dict, key, "&s", &value);
  return value;
}

static void
on_get_all_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) properties = NULL;
  gboolean success = FALSE;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);
  if (reply == NULL)
    {
      /* The job was removed meanwhile: what the proxy has seen is all there is. */
      return_cached_outcome (task);
      return;
    }

  properties = g_variant_get_child_value (reply, 0);
  g_variant_lookup (properties, "Success", "b", &success);
  return_outcome (task, success, lookup_string (properties, "Result"),
                  lookup_string (properties, "ErrorName"),
                  lookup_string (properties, "ErrorMessage"));
}

/* The Completed signal and the PropertiesChanged signal carrying the result
 * may arrive in either order, so the outcome is read afresh once either
 * shows the job is done. */
static void
finish_from_server (GTask *task)
{
  WaitData *data = g_task_get_task_data (task);
  GDBusProxy *proxy = G_DBUS_PROXY (data->job);

  if (data->finishing)
    return;
  data->finishing = TRUE;

  g_dbus_connection_call (g_dbus_proxy_get_connection (proxy), g_dbus_proxy_get_name (proxy),
                          g_dbus_proxy_get_object_path (proxy), "org.freedesktop.DBus.Properties",
                          "GetAll", g_variant_new ("(s)", "org.servin.Servin1.Job"),
                          G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1,
                          g_task_get_cancellable (task), on_get_all_cb, g_object_ref (task));
}

static void
on_properties_changed_cb (GDBusProxy *proxy, GVariant *changed, GStrv invalidated,
                          gpointer user_data)
{
  GTask *task = user_data;
  WaitData *data = g_task_get_task_data (task);

  if (data->progress != NULL && !data->finishing)
    data->progress (data->job, data->progress_data);
  if (sv_dbus_job_get_completed (data->job))
    finish_from_server (task);
}

static void
on_completed_cb (SvDBusJob *job, gboolean success, const char *error_name,
                 const char *error_message, gpointer user_data)
{
  finish_from_server (user_data);
}

static void
on_name_owner_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  GTask *task = user_data;
  WaitData *data = g_task_get_task_data (task);
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (object));

  if (owner != NULL || data->finishing || !claim_return (task))
    return;
  data->finishing = TRUE;
  g_task_return_new_error (task, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NO_SERVICE,
                           "servind left the bus before %s %s completed. %s", data->operation,
                           data->target, SV_CLIENT_NO_SERVICE_ADVICE);
}

static gboolean
return_cancelled_cb (gpointer user_data)
{
  GTask *task = user_data;

  if (claim_return (task))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "stopped waiting for the job to complete");
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/* A cancelled handler must not disconnect itself, which wait_data_free
 * does, so the task returns from an idle callback. */
static void
on_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;

  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, return_cancelled_cb, g_object_ref (task), NULL);
  g_source_attach (source, g_task_get_context (task));
  g_source_unref (source);
}

/**
 * sv_client_job_wait:
 * @job: a job from sv_client_get_job()
 * @cancellable: (nullable): stops the wait, not the job
 * @progress: (nullable): called on each change of Progress or Status
 * @progress_data: data for @progress
 * @callback: called when the job has completed
 * @user_data: data for @callback
 *
 * Waits for @job to complete. A job that completed before this call (or
 * before the proxy was made) is reported at once from its properties.
 * Signals are handled in the main context that was the thread-default one
 * when the proxy was made.
 */
void
sv_client_job_wait (SvDBusJob *job, GCancellable *cancellable, SvClientJobProgressFunc progress,
                    gpointer progress_data, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (job, cancellable, callback, user_data);
  g_auto (GStrv) names = g_dbus_proxy_get_cached_property_names (G_DBUS_PROXY (job));
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (job));
  WaitData *data;

  g_task_set_source_tag (task, sv_client_job_wait);

  if (names == NULL || names[0] == NULL || owner == NULL)
    {
      g_task_return_new_error (task, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NOT_FOUND,
                               "job %s no longer exists on the bus",
                               g_dbus_proxy_get_object_path (G_DBUS_PROXY (job)));
      return;
    }

  if (sv_dbus_job_get_completed (job))
    {
      return_cached_outcome (task);
      return;
    }

  data = g_new0 (WaitData, 1);
  data->job = g_object_ref (job);
  data->progress = progress;
  data->progress_data = progress_data;
  data->operation = g_strdup (sv_dbus_job_get_operation (job) ?: "the job");
  data->target = g_strdup (sv_dbus_job_get_target (job)
                               ?: g_dbus_proxy_get_object_path (G_DBUS_PROXY (job)));
  g_task_set_task_data (task, data, (GDestroyNotify)wait_data_free);

  /* The handlers hold no reference: the task lives until it returns, and
   * wait_data_free disconnects them then. */
  data->properties_id
      = g_signal_connect (job, "g-properties-changed", G_CALLBACK (on_properties_changed_cb), task);
  data->completed_id = g_signal_connect (job, "completed", G_CALLBACK (on_completed_cb), task);
  data->owner_id
      = g_signal_connect (job, "notify::g-name-owner", G_CALLBACK (on_name_owner_cb), task);
  if (cancellable != NULL)
    {
      data->cancellable = g_object_ref (cancellable);
      data->cancelled_id
          = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled_cb), task, NULL);
    }

  /* The task keeps itself alive through the extra reference until it returns. */
  g_object_ref (task);
  g_signal_connect_swapped (task, "notify::completed", G_CALLBACK (g_object_unref), task);
}

/**
 * sv_client_job_wait_finish:
 * @job: the job passed to sv_client_job_wait()
 * @result: the result passed to the callback
 * @error: return location for the job's error, without the D-Bus prefix
 *
 * Returns: (transfer full): the job's Result (for a pull, the image id), or
 *   %NULL when the job failed
 */
char *
sv_client_job_wait_finish (SvDBusJob *job, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, job), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  GMainLoop *loop;
  GAsyncResult *result;
} SyncData;

static void
on_wait_sync_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SyncData *data = user_data;

  data->result = g_object_ref (result);
  g_main_loop_quit (data->loop);
}

/**
 * sv_client_job_wait_sync:
 *
 * Runs sv_client_job_wait() to the end in the thread-default main context,
 * which must be the one the proxy was made in.
 *
 * Returns: (transfer full): the job's Result, or %NULL when the job failed
 */
char *
sv_client_job_wait_sync (SvDBusJob *job, GCancellable *cancellable,
                         SvClientJobProgressFunc progress, gpointer progress_data, GError **error)
{
  SyncData data = { 0 };
  char *result;

  data.loop = g_main_loop_new (g_main_context_get_thread_default (), FALSE);
  sv_client_job_wait (job, cancellable, progress, progress_data, on_wait_sync_cb, &data);
  if (data.result == NULL)
    g_main_loop_run (data.loop);

  result = sv_client_job_wait_finish (job, data.result, error);
  g_object_unref (data.result);
  g_main_loop_unref (data.loop);
  return result;
}
