/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-containers-view.h"

#include "sv-client.h"
#include "sv-gui-format.h"
#include "sv-row-actions.h"

/* The containers of servind in a table, newest first, filtered by the search
 * entry, or an empty-state page when there are none. */
struct _SvContainersView
{
  GtkWidget parent_instance;

  GtkStack *stack;
  GtkColumnView *column_view;
  GtkSortListModel *sort_model;
  GtkFilterListModel *filter_model;
  GtkSearchEntry *search_entry;

  GListModel *model;
  gulong items_changed_id;
};

G_DEFINE_FINAL_TYPE (SvContainersView, sv_containers_view, GTK_TYPE_WIDGET)

static void
update_page (SvContainersView *self)
{
  guint n_items = self->model != NULL ? g_list_model_get_n_items (self->model) : 0;

  g_debug ("containers view: %u items", n_items);
  gtk_stack_set_visible_child_name (self->stack, n_items == 0 ? "empty" : "list");
}

static void
on_items_changed_cb (SvContainersView *self, guint position, guint removed, guint added,
                     GListModel *model)
{
  update_page (self);
}

void
sv_containers_view_set_model (SvContainersView *self, GListModel *model)
{
  if (self->model != NULL)
    g_clear_signal_handler (&self->items_changed_id, self->model);
  g_set_object (&self->model, model);
  if (model != NULL)
    self->items_changed_id
        = g_signal_connect_swapped (model, "items-changed", G_CALLBACK (on_items_changed_cb), self);
  gtk_sort_list_model_set_model (self->sort_model, model);
  update_page (self);
}

static void
on_column_view_activate_cb (SvContainersView *self, guint position, GtkColumnView *column_view)
{
  g_autoptr (GObject) item = g_list_model_get_item (G_LIST_MODEL (self->filter_model), position);
  g_autofree char *id = NULL;

  if (item == NULL)
    return;
  g_object_get (item, "id", &id, NULL);
  gtk_widget_activate_action (GTK_WIDGET (self), "app.container-show", "s", id);
}

static void
sv_containers_view_dispose (GObject *object)
{
  SvContainersView *self = SV_CONTAINERS_VIEW (object);

  sv_containers_view_set_model (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), SV_TYPE_CONTAINERS_VIEW);
  G_OBJECT_CLASS (sv_containers_view_parent_class)->dispose (object);
}

static void
sv_containers_view_class_init (SvContainersViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sv_containers_view_dispose;

  /* The builder looks these types up by name in the template. */
  g_type_ensure (SV_TYPE_CLIENT_CONTAINER);
  g_type_ensure (SV_TYPE_ROW_ACTIONS);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/servin/Desktop/sv-containers-view.ui");
  gtk_widget_class_bind_template_child (widget_class, SvContainersView, stack);
  gtk_widget_class_bind_template_child (widget_class, SvContainersView, column_view);
  gtk_widget_class_bind_template_child (widget_class, SvContainersView, sort_model);
  gtk_widget_class_bind_template_child (widget_class, SvContainersView, filter_model);
  gtk_widget_class_bind_template_child (widget_class, SvContainersView, search_entry);
  gtk_widget_class_bind_template_callback (widget_class, sv_gui_format_state);
  gtk_widget_class_bind_template_callback (widget_class, sv_gui_format_age);
  gtk_widget_class_bind_template_callback (widget_class, sv_gui_format_tags);
  gtk_widget_class_bind_template_callback (widget_class, on_column_view_activate_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sv_containers_view_init (SvContainersView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_page (self);
}
