/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-pull-dialog.h"

#include <glib/gi18n.h>

#include "sv-window.h"

/* Pulls one image through Manager.Pull and follows the Job it returns:
 * its Progress property feeds the progress bar, the cancel button calls
 * Job.Cancel, and an error stays in the dialog. */
struct _SvPullDialog
{
  AdwWindow parent_instance;

  GtkWidget *cancel_button;
  GtkWidget *pull_button;
  AdwEntryRow *reference_row;
  GtkProgressBar *progress_bar;
  GtkLabel *status_label;

  SvDBusManager *manager;
  SvDBusJob *job;
  GCancellable *cancellable;
  char *reference;
  gboolean running;
};

G_DEFINE_FINAL_TYPE (SvPullDialog, sv_pull_dialog, ADW_TYPE_WINDOW)

static void
set_running (SvPullDialog *self, gboolean running)
{
  self->running = running;
  gtk_widget_set_sensitive (GTK_WIDGET (self->reference_row), !running);
  gtk_widget_set_sensitive (self->pull_button, !running);
  gtk_button_set_label (GTK_BUTTON (self->cancel_button),
                        running || self->job == NULL ? _ ("_Cancel") : _ ("_Close"));
}

static void
show_error (SvPullDialog *self, const char *message)
{
  g_debug ("pull error: %s", message);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  gtk_label_set_text (self->status_label, message);
  gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
}

static void
on_progress_cb (SvDBusJob *job, gpointer user_data)
{
  SvPullDialog *self = user_data;
  guint64 done = 0;
  guint64 total = 0;
  g_autofree char *done_text = NULL;
  g_autofree char *total_text = NULL;
  g_autofree char *text = NULL;
  const char *status = sv_dbus_job_get_status (job);

  sv_client_job_get_progress (job, &done, &total);
  if (status != NULL && *status != '\0')
    gtk_label_set_text (self->status_label, status);
  if (total == 0)
    {
      gtk_progress_bar_pulse (self->progress_bar);
      return;
    }

  gtk_progress_bar_set_fraction (self->progress_bar, MIN (1.0, (double)done / (double)total));
  done_text = sv_client_format_size (done);
  total_text = sv_client_format_size (total);
  /* Translators: progress of a download, as "12.5MB of 40MB" */
  text = g_strdup_printf (_ ("%s of %s"), done_text, total_text);
  gtk_progress_bar_set_text (self->progress_bar, text);
  g_debug ("pull progress %.6f (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes)",
           gtk_progress_bar_get_fraction (self->progress_bar), done, total);
}

static void
on_wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SvPullDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *image_id = NULL;
  g_autofree char *text = NULL;
  GtkWindow *parent;

  image_id = sv_client_job_wait_finish (SV_DBUS_JOB (source), result, &error);
  if (image_id == NULL && g_cancellable_is_cancelled (self->cancellable))
    return;

  set_running (self, FALSE);
  if (image_id == NULL)
    {
      sv_client_error_clean (error);
      show_error (self, error->message);
      return;
    }

  g_debug ("pulled %s as %s", self->reference, image_id);
  parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  if (SV_IS_WINDOW (parent))
    {
      /* Translators: %s is an image reference */
      text = g_strdup_printf (_ ("Pulled %s"), self->reference);
      sv_window_add_toast (SV_WINDOW (parent), text);
      sv_window_show_view (SV_WINDOW (parent), "images");
    }
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_job_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SvPullDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  SvDBusJob *job;

  job = sv_dbus_job_proxy_new_finish (result, &error);
  if (job == NULL && g_cancellable_is_cancelled (self->cancellable))
    return;
  if (job == NULL)
    {
      set_running (self, FALSE);
      sv_client_error_clean (error);
      show_error (self, error->message);
      return;
    }

  self->job = job;
  on_progress_cb (job, self);
  sv_client_job_wait (job, self->cancellable, on_progress_cb, self, on_wait_cb,
                      g_object_ref (self));
}

static void
on_pull_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SvPullDialog) self = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  GDBusProxy *manager = G_DBUS_PROXY (source);
  const char *path = NULL;

  reply = g_dbus_proxy_call_finish (manager, result, &error);
  if (reply == NULL && g_cancellable_is_cancelled (self->cancellable))
    return;
  if (reply == NULL)
    {
      set_running (self, FALSE);
      sv_client_error_clean (error);
      show_error (self, error->message);
      return;
    }

  g_variant_get (reply, "(&o)", &path);
  g_debug ("pulling %s in job %s", self->reference, path);
  sv_dbus_job_proxy_new (g_dbus_proxy_get_connection (manager),
                         G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, g_dbus_proxy_get_name (manager),
                         path, self->cancellable, on_job_cb, g_object_ref (self));
}

/* Starts pulling @reference, as typed: servind resolves short names. */
void
sv_pull_dialog_start (SvPullDialog *self, const char *reference)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *full = NULL;
  g_autofree char *text = g_strstrip (g_strdup (reference));

  if (self->running)
    return;

  gtk_editable_set_text (GTK_EDITABLE (self->reference_row), text);
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
  gtk_label_set_text (self->status_label, "");
  if (*text == '\0')
    {
      show_error (self, _ ("Enter an image reference, such as debian:12."));
      return;
    }
  full = sv_client_reference_normalize (text, &error);
  if (full == NULL)
    {
      show_error (self, error->message);
      return;
    }

  g_clear_object (&self->job);
  g_free (self->reference);
  self->reference = g_steal_pointer (&text);
  set_running (self, TRUE);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_progress_bar_set_text (self->progress_bar, _ ("Starting…"));
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), TRUE);

  g_dbus_proxy_call (G_DBUS_PROXY (self->manager), "Pull",
                     g_variant_new ("(s@a{sv})", self->reference,
                                    g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, self->cancellable,
                     on_pull_cb, g_object_ref (self));
}

static void
on_pull_button_clicked_cb (SvPullDialog *self)
{
  sv_pull_dialog_start (self, gtk_editable_get_text (GTK_EDITABLE (self->reference_row)));
}

static void
on_cancel_job_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  /* The wait then ends with the job's cancelled error, which the dialog shows. */
  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    g_debug ("cannot cancel the pull: %s", error->message);
}

/* Asks servind to stop the pull. Returns FALSE when no job runs yet. */
static gboolean
cancel_job (SvPullDialog *self)
{
  if (!self->running || self->job == NULL)
    return FALSE;
  g_debug ("cancelling %s", g_dbus_proxy_get_object_path (G_DBUS_PROXY (self->job)));
  g_dbus_proxy_call (G_DBUS_PROXY (self->job), "Cancel", NULL,
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1, NULL, on_cancel_job_cb,
                     NULL);
  return TRUE;
}

static void
on_cancel_button_clicked_cb (SvPullDialog *self)
{
  if (cancel_job (self))
    {
      gtk_label_set_text (self->status_label, _ ("Cancelling…"));
      return;
    }
  gtk_window_close (GTK_WINDOW (self));
}

/* Closing the dialog ends the pull too: nothing else would show its end. */
static gboolean
on_close_request_cb (SvPullDialog *self)
{
  cancel_job (self);
  g_cancellable_cancel (self->cancellable);
  return FALSE;
}

static void
sv_pull_dialog_dispose (GObject *object)
{
  SvPullDialog *self = SV_PULL_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), SV_TYPE_PULL_DIALOG);
  G_OBJECT_CLASS (sv_pull_dialog_parent_class)->dispose (object);
}

static void
sv_pull_dialog_finalize (GObject *object)
{
  SvPullDialog *self = SV_PULL_DIALOG (object);

  g_clear_object (&self->manager);
  g_clear_object (&self->job);
  g_clear_object (&self->cancellable);
  g_free (self->reference);
  G_OBJECT_CLASS (sv_pull_dialog_parent_class)->finalize (object);
}

static void
sv_pull_dialog_class_init (SvPullDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sv_pull_dialog_dispose;
  object_class->finalize = sv_pull_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/servin/Desktop/sv-pull-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SvPullDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SvPullDialog, pull_button);
  gtk_widget_class_bind_template_child (widget_class, SvPullDialog, reference_row);
  gtk_widget_class_bind_template_child (widget_class, SvPullDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, SvPullDialog, status_label);
  gtk_widget_class_bind_template_callback (widget_class, on_pull_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_close_request_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
sv_pull_dialog_init (SvPullDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
}

SvPullDialog *
sv_pull_dialog_new (GtkWindow *parent, SvDBusManager *manager)
{
  SvPullDialog *self = g_object_new (SV_TYPE_PULL_DIALOG, "transient-for", parent, NULL);

  self->manager = g_object_ref (manager);
  return self;
}
