/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-images-view.h"

#include "sv-client.h"
#include "sv-gui-format.h"
#include "sv-row-actions.h"

/* The images of servind in a table, newest first, filtered by the search
 * entry, or an empty-state page when there are none. */
struct _SvImagesView
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

G_DEFINE_FINAL_TYPE (SvImagesView, sv_images_view, GTK_TYPE_WIDGET)

static void
update_page (SvImagesView *self)
{
  guint n_items = self->model != NULL ? g_list_model_get_n_items (self->model) : 0;

  g_debug ("images view: %u items", n_items);
  gtk_stack_set_visible_child_name (self->stack, n_items == 0 ? "empty" : "list");
}

static void
on_items_changed_cb (SvImagesView *self, guint position, guint removed, guint added,
                     GListModel *model)
{
  update_page (self);
}

void
sv_images_view_set_model (SvImagesView *self, GListModel *model)
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
sv_images_view_dispose (GObject *object)
{
  SvImagesView *self = SV_IMAGES_VIEW (object);

  sv_images_view_set_model (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), SV_TYPE_IMAGES_VIEW);
  G_OBJECT_CLASS (sv_images_view_parent_class)->dispose (object);
}

static void
sv_images_view_class_init (SvImagesViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sv_images_view_dispose;

  /* The builder looks these types up by name in the template. */
  g_type_ensure (SV_TYPE_CLIENT_IMAGE);
  g_type_ensure (SV_TYPE_ROW_ACTIONS);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/servin/Desktop/sv-images-view.ui");
  gtk_widget_class_bind_template_child (widget_class, SvImagesView, stack);
  gtk_widget_class_bind_template_child (widget_class, SvImagesView, column_view);
  gtk_widget_class_bind_template_child (widget_class, SvImagesView, sort_model);
  gtk_widget_class_bind_template_child (widget_class, SvImagesView, filter_model);
  gtk_widget_class_bind_template_child (widget_class, SvImagesView, search_entry);
  gtk_widget_class_bind_template_callback (widget_class, sv_gui_format_state);
  gtk_widget_class_bind_template_callback (widget_class, sv_gui_format_age);
  gtk_widget_class_bind_template_callback (widget_class, sv_gui_format_tags);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sv_images_view_init (SvImagesView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_page (self);
}
