/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-run-dialog.h"

#include <glib/gi18n.h>

/* Asks for a name, command and environment, then activates app.run, which
 * creates and starts the container and shows any error in a toast. */
struct _SvRunDialog
{
  AdwWindow parent_instance;

  AdwWindowTitle *window_title;
  AdwEntryRow *name_row;
  AdwEntryRow *command_row;
  AdwEntryRow *environment_row;
  GtkLabel *error_label;

  char *image;
};

G_DEFINE_FINAL_TYPE (SvRunDialog, sv_run_dialog, ADW_TYPE_WINDOW)

static void
show_error (SvRunDialog *self, const char *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
}

/* Splits @text as a shell would, without expansion. "" gives an empty list. */
static gboolean
split_words (const char *text, char ***words, GError **error)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text != NULL ? text : ""));

  if (*trimmed == '\0')
    {
      *words = g_new0 (char *, 1);
      return TRUE;
    }
  return g_shell_parse_argv (trimmed, NULL, words, error);
}

static void
on_run_button_clicked_cb (SvRunDialog *self)
{
  g_auto (GStrv) command = NULL;
  g_auto (GStrv) environment = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;

  if (!split_words (gtk_editable_get_text (GTK_EDITABLE (self->command_row)), &command, &error))
    {
      /* Translators: %s explains why the command cannot be split into words */
      message = g_strdup_printf (_ ("Invalid command: %s"), error->message);
      show_error (self, message);
      return;
    }
  if (!split_words (gtk_editable_get_text (GTK_EDITABLE (self->environment_row)), &environment,
                    &error))
    {
      /* Translators: %s explains why the environment cannot be split into words */
      message = g_strdup_printf (_ ("Invalid environment: %s"), error->message);
      show_error (self, message);
      return;
    }
  for (guint i = 0; environment[i] != NULL; i++)
    {
      const char *equals = strchr (environment[i], '=');

      if (equals == NULL || equals == environment[i])
        {
          /* Translators: %s is what the user typed in place of KEY=value */
          message = g_strdup_printf (_ ("Invalid environment variable “%s”: write it as KEY=value"),
                                     environment[i]);
          show_error (self, message);
          return;
        }
    }

  name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  gtk_widget_activate_action (GTK_WIDGET (self), "app.run", "(ss^as^as)", self->image, name,
                              command, environment);
  gtk_window_close (GTK_WINDOW (self));
}

static void
sv_run_dialog_finalize (GObject *object)
{
  SvRunDialog *self = SV_RUN_DIALOG (object);

  g_free (self->image);
  G_OBJECT_CLASS (sv_run_dialog_parent_class)->finalize (object);
}

static void
sv_run_dialog_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), SV_TYPE_RUN_DIALOG);
  G_OBJECT_CLASS (sv_run_dialog_parent_class)->dispose (object);
}

static void
sv_run_dialog_class_init (SvRunDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sv_run_dialog_dispose;
  object_class->finalize = sv_run_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/servin/Desktop/sv-run-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SvRunDialog, window_title);
  gtk_widget_class_bind_template_child (widget_class, SvRunDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, SvRunDialog, command_row);
  gtk_widget_class_bind_template_child (widget_class, SvRunDialog, environment_row);
  gtk_widget_class_bind_template_child (widget_class, SvRunDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_run_button_clicked_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
sv_run_dialog_init (SvRunDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/* A dialog that runs a container from @image, a reference or an image id. */
SvRunDialog *
sv_run_dialog_new (GtkWindow *parent, const char *image)
{
  SvRunDialog *self = g_object_new (SV_TYPE_RUN_DIALOG, "transient-for", parent, NULL);

  self->image = g_strdup (image);
  adw_window_title_set_subtitle (self->window_title, image);
  return self;
}
