/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-job.h"

#include "sv-dbus-error.h"
#include "sv-helper-error.h"

/* A long operation exported at /org/servin/Servin1/jobs/N. Progress reaches
 * clients as PropertiesChanged; the result stays in the properties after
 * completion, so a client that subscribes late still learns it. */
struct _SvJob
{
  GObject parent_instance;

  SvDBusObjectSkeleton *object;
  SvDBusJob *iface;
  GCancellable *cancellable;
  char *owner;
  gint64 last_progress_us;
};

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SvJob, sv_job, G_TYPE_OBJECT)

/* Progress updates closer together than this are merged, so a fast pull
 * does not flood the bus with PropertiesChanged signals. */
#define PROGRESS_INTERVAL_US (100 * 1000)

static void
sv_job_finalize (GObject *object)
{
  SvJob *self = SV_JOB (object);

  g_clear_object (&self->object);
  g_clear_object (&self->iface);
  g_clear_object (&self->cancellable);
  g_free (self->owner);
  G_OBJECT_CLASS (sv_job_parent_class)->finalize (object);
}

static void
sv_job_class_init (SvJobClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_job_finalize;

  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
sv_job_init (SvJob *self)
{
  self->cancellable = g_cancellable_new ();
}

static gboolean
caller_is_root (GDBusMethodInvocation *invocation)
{
  g_autoptr (GVariant) reply = NULL;
  guint32 uid = G_MAXUINT32;

  reply = g_dbus_connection_call_sync (
      g_dbus_method_invocation_get_connection (invocation), "org.freedesktop.DBus",
      "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixUser",
      g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &uid);
  return uid == 0;
}

static gboolean
on_handle_cancel (SvDBusJob *iface, GDBusMethodInvocation *invocation, SvJob *self)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);

  if (g_strcmp0 (sender, self->owner) != 0 && !caller_is_root (invocation))
    {
      g_autoptr (GError) error = g_error_new (SV_DBUS_ERROR, SV_DBUS_ERROR_NOT_AUTHORIZED,
                                              "only the caller that started job %s may cancel it",
                                              g_dbus_object_get_object_path (
                                                  G_DBUS_OBJECT (self->object)));
      sv_helper_return_error (invocation, error);
      return TRUE;
    }

  if (!sv_dbus_job_get_completed (self->iface))
    {
      g_info ("Cancelling job %s (%s %s) for %s",
              g_dbus_object_get_object_path (G_DBUS_OBJECT (self->object)),
              sv_dbus_job_get_operation (self->iface), sv_dbus_job_get_target (self->iface),
              sender);
      g_cancellable_cancel (self->cancellable);
    }
  sv_dbus_job_complete_cancel (iface, invocation);
  return TRUE;
}

SvJob *
sv_job_new (const char *object_path, const char *operation, const char *target, const char *owner)
{
  SvJob *self = g_object_new (SV_TYPE_JOB, NULL);

  self->owner = g_strdup (owner);
  self->object = sv_dbus_object_skeleton_new (object_path);
  self->iface = sv_dbus_job_skeleton_new ();
  sv_dbus_job_set_operation (self->iface, operation);
  sv_dbus_job_set_target (self->iface, target);
  sv_dbus_job_set_progress (self->iface, g_variant_new ("(tt)", (guint64) 0, (guint64) 0));
  sv_dbus_job_set_status (self->iface, "starting");
  sv_dbus_job_set_result (self->iface, "");
  sv_dbus_job_set_error_name (self->iface, "");
  sv_dbus_job_set_error_message (self->iface, "");
  g_signal_connect_object (self->iface, "handle-cancel", G_CALLBACK (on_handle_cancel), self, 0);
  sv_dbus_object_skeleton_set_job (self->object, self->iface);
  return self;
}

/* The skeleton carrying the Job interface, to export with the object manager
 * and to guard with the authority. */
SvDBusObjectSkeleton *
sv_job_get_object (SvJob *self)
{
  return self->object;
}

GCancellable *
sv_job_get_cancellable (SvJob *self)
{
  return self->cancellable;
}

const char *
sv_job_get_owner (SvJob *self)
{
  return self->owner;
}

gboolean
sv_job_get_completed (SvJob *self)
{
  return sv_dbus_job_get_completed (self->iface);
}

void
sv_job_set_progress (SvJob *self, guint64 done, guint64 total, const char *status)
{
  gint64 now = g_get_monotonic_time ();
  gboolean status_changed = status != NULL
                            && g_strcmp0 (status, sv_dbus_job_get_status (self->iface)) != 0;

  if (!status_changed && done != total && now - self->last_progress_us < PROGRESS_INTERVAL_US)
    return;

  self->last_progress_us = now;
  sv_dbus_job_set_progress (self->iface, g_variant_new ("(tt)", done, total));
  if (status_changed)
    sv_dbus_job_set_status (self->iface, status);
}

/* Record the outcome: @result on success, or @error. Emits the Completed
 * D-Bus signal and the "finished" GObject signal. */
void
sv_job_complete (SvJob *self, const char *result, const GError *error)
{
  g_autoptr (GError) dbus_error = NULL;
  g_autofree char *error_name = NULL;

  if (error != NULL)
    {
      dbus_error = sv_helper_error_to_dbus (error);
      error_name = g_dbus_error_encode_gerror (dbus_error);
      sv_dbus_job_set_error_name (self->iface, error_name);
      sv_dbus_job_set_error_message (self->iface, dbus_error->message);
      sv_dbus_job_set_status (self->iface, "failed");
    }
  else
    {
      sv_dbus_job_set_result (self->iface, result != NULL ? result : "");
      sv_dbus_job_set_status (self->iface, "done");
    }

  sv_dbus_job_set_success (self->iface, error == NULL);
  sv_dbus_job_set_completed (self->iface, TRUE);
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self->iface));
  sv_dbus_job_emit_completed (self->iface, error == NULL, error_name != NULL ? error_name : "",
                              dbus_error != NULL ? dbus_error->message : "");
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}
