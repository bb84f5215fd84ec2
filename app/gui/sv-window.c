/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-window.h"

#include <glib/gi18n.h>

#include "sv-container-details.h"
#include "sv-containers-view.h"
#include "sv-images-view.h"

struct _SvWindow
{
  AdwApplicationWindow parent_instance;

  AdwToastOverlay *toast_overlay;
  GtkStack *main_stack;
  AdwViewStack *view_stack;
  SvContainersView *containers_view;
  SvImagesView *images_view;
  AdwStatusPage *unreachable_page;
  SvContainerDetails *details;
};

G_DEFINE_FINAL_TYPE (SvWindow, sv_window, ADW_TYPE_APPLICATION_WINDOW)

void
sv_window_set_models (SvWindow *self, GListModel *containers, GListModel *images)
{
  sv_containers_view_set_model (self->containers_view, containers);
  sv_images_view_set_model (self->images_view, images);
}

/* Logs each page change, which tests read with G_MESSAGES_DEBUG=ServinGui. */
static void
show_page (SvWindow *self, const char *name)
{
  g_debug ("showing page %s", name);
  gtk_stack_set_visible_child_name (self->main_stack, name);
}

void
sv_window_show_connecting (SvWindow *self)
{
  show_page (self, "connecting");
}

void
sv_window_show_lists (SvWindow *self)
{
  /* The details page stays up while servind runs: it follows its container. */
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "details") == 0)
    return;
  show_page (self, "lists");
}

/* Shows the page that explains how to start servind, with @message from
 * libservin-client, which names the bus and the fix. */
void
sv_window_show_unreachable (SvWindow *self, const char *message)
{
  g_autofree char *description = NULL;

  sv_container_details_set_container (self->details, NULL, FALSE);
  /* Translators: %s is an error message that explains how to start servind */
  description = g_markup_printf_escaped (_ ("%s\n\nThis window shows your containers as soon as "
                                            "servind runs."),
                                         message);
  adw_status_page_set_description (self->unreachable_page, description);
  show_page (self, "unreachable");
}

/* Shows the lists with the view @name, "containers" or "images", in front. */
void
sv_window_show_view (SvWindow *self, const char *name)
{
  sv_container_details_set_container (self->details, NULL, FALSE);
  show_page (self, "lists");
  adw_view_stack_set_visible_child_name (self->view_stack, name);
}

/* Shows @container's details page, on its log when @logs is TRUE. */
void
sv_window_show_container (SvWindow *self, SvClientContainer *container, gboolean logs)
{
  sv_container_details_set_container (self->details, container, logs);
  show_page (self, "details");
}

/* Shows @text in a toast. With G_MESSAGES_DEBUG=ServinGui the text also
 * goes to the log, which is how tests read what the user saw. */
void
sv_window_add_toast (SvWindow *self, const char *text)
{
  AdwToast *toast = adw_toast_new (text);
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  g_debug ("toast: %s", text);
  /* The title is Pango markup, and error messages may contain < or &. */
  adw_toast_set_title (toast, escaped);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* Shows @text in a toast, with a button that opens the whole of @message
 * in a dialog, because a toast shows one line and error messages that explain
 * what to do are often longer. */
void
sv_window_add_error_toast (SvWindow *self, const char *text, const char *message)
{
  AdwToast *toast = adw_toast_new ("");
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  g_debug ("toast: %s", text);
  adw_toast_set_title (toast, escaped);
  adw_toast_set_timeout (toast, 10);
  /* Translators: button of an error toast that shows the whole message */
  adw_toast_set_button_label (toast, _ ("_Details"));
  adw_toast_set_action_name (toast, "toast.details");
  adw_toast_set_action_target_value (toast, g_variant_new ("(ss)", text, message));
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
toast_details_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  const char *text = NULL;
  const char *message = NULL;
  g_autofree char *heading = NULL;
  const char *colon;
  GtkWidget *dialog;

  g_variant_get (parameter, "(&s&s)", &text, &message);
  /* The toast reads "Cannot stop web: reason", and the heading keeps the first part. */
  colon = strstr (text, ": ");
  heading = colon != NULL ? g_strndup (text, colon - text) : g_strdup (text);
  dialog = adw_message_dialog_new (GTK_WINDOW (widget), heading, message);
  /* Translators: button that closes the dialog showing an error message */
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _ ("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_details_back_cb (SvWindow *self, SvContainerDetails *details)
{
  sv_container_details_set_container (self->details, NULL, FALSE);
  show_page (self, "lists");
}

static void
on_details_gone_cb (SvWindow *self)
{
  on_details_back_cb (self, self->details);
}

static void
sv_window_class_init (SvWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  g_type_ensure (SV_TYPE_CONTAINERS_VIEW);
  g_type_ensure (SV_TYPE_IMAGES_VIEW);
  g_type_ensure (SV_TYPE_CONTAINER_DETAILS);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/servin/Desktop/sv-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SvWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SvWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, SvWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, SvWindow, containers_view);
  gtk_widget_class_bind_template_child (widget_class, SvWindow, images_view);
  gtk_widget_class_bind_template_child (widget_class, SvWindow, unreachable_page);
  gtk_widget_class_bind_template_child (widget_class, SvWindow, details);
  gtk_widget_class_bind_template_callback (widget_class, on_details_back_cb);
  gtk_widget_class_install_action (widget_class, "toast.details", "(ss)", toast_details_activated);
}

static void
sv_window_init (SvWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->details, "gone", G_CALLBACK (on_details_gone_cb), self);
}

SvWindow *
sv_window_new (AdwApplication *application)
{
  return g_object_new (SV_TYPE_WINDOW, "application", application, NULL);
}
