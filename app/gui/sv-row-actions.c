/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-row-actions.h"

#include "sv-client.h"

/* The buttons at the end of a row of the containers or images table. Each
 * activates an app action with the item's id, and only the buttons that
 * fit the item's type and state show. */
struct _SvRowActions
{
  GtkWidget parent_instance;

  GtkWidget *box;
  GtkWidget *start_button;
  GtkWidget *stop_button;
  GtkWidget *restart_button;
  GtkWidget *remove_button;
  GtkWidget *details_button;
  GtkWidget *run_button;
  GtkWidget *remove_image_button;

  GObject *item;
  gulong state_id;
};

G_DEFINE_FINAL_TYPE (SvRowActions, sv_row_actions, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_target (GtkWidget *button, const char *id)
{
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button),
                                          g_variant_new_string (id != NULL ? id : ""));
}

static void
update_buttons (SvRowActions *self)
{
  gboolean container = SV_IS_CLIENT_CONTAINER (self->item);
  gboolean image = SV_IS_CLIENT_IMAGE (self->item);
  g_autofree char *id = NULL;
  g_autofree char *state = NULL;
  gboolean running;

  if (self->item != NULL)
    g_object_get (self->item, "id", &id, NULL);
  if (container)
    g_object_get (self->item, "state", &state, NULL);
  running = g_strcmp0 (state, "running") == 0;

  gtk_widget_set_visible (self->start_button, container && !running);
  gtk_widget_set_visible (self->stop_button, container && running);
  gtk_widget_set_visible (self->restart_button, container);
  gtk_widget_set_visible (self->remove_button, container);
  gtk_widget_set_visible (self->details_button, container);
  gtk_widget_set_visible (self->run_button, image);
  gtk_widget_set_visible (self->remove_image_button, image);

  set_target (self->start_button, id);
  set_target (self->stop_button, id);
  set_target (self->restart_button, id);
  set_target (self->remove_button, id);
  set_target (self->details_button, id);
  set_target (self->run_button, id);
  set_target (self->remove_image_button, id);
}

void
sv_row_actions_set_item (SvRowActions *self, GObject *item)
{
  if (self->item == item)
    return;

  if (self->item != NULL)
    g_clear_signal_handler (&self->state_id, self->item);
  g_set_object (&self->item, item);
  if (SV_IS_CLIENT_CONTAINER (item))
    self->state_id
        = g_signal_connect_swapped (item, "notify::state", G_CALLBACK (update_buttons), self);
  update_buttons (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}

static void
sv_row_actions_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SvRowActions *self = SV_ROW_ACTIONS (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sv_row_actions_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  SvRowActions *self = SV_ROW_ACTIONS (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      sv_row_actions_set_item (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sv_row_actions_dispose (GObject *object)
{
  SvRowActions *self = SV_ROW_ACTIONS (object);

  sv_row_actions_set_item (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), SV_TYPE_ROW_ACTIONS);
  G_OBJECT_CLASS (sv_row_actions_parent_class)->dispose (object);
}

static void
sv_row_actions_class_init (SvRowActionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = sv_row_actions_get_property;
  object_class->set_property = sv_row_actions_set_property;
  object_class->dispose = sv_row_actions_dispose;

  /* A SvClientContainer or a SvClientImage, or NULL while the row is unbound. */
  properties[PROP_ITEM]
      = g_param_spec_object ("item", NULL, NULL, G_TYPE_OBJECT,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/servin/Desktop/sv-row-actions.ui");
  gtk_widget_class_bind_template_child (widget_class, SvRowActions, box);
  gtk_widget_class_bind_template_child (widget_class, SvRowActions, start_button);
  gtk_widget_class_bind_template_child (widget_class, SvRowActions, stop_button);
  gtk_widget_class_bind_template_child (widget_class, SvRowActions, restart_button);
  gtk_widget_class_bind_template_child (widget_class, SvRowActions, remove_button);
  gtk_widget_class_bind_template_child (widget_class, SvRowActions, details_button);
  gtk_widget_class_bind_template_child (widget_class, SvRowActions, run_button);
  gtk_widget_class_bind_template_child (widget_class, SvRowActions, remove_image_button);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sv_row_actions_init (SvRowActions *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_buttons (self);
}
