/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-container-details.h"

#include <gio/gunixfdlist.h>
#include <gio/gunixinputstream.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "sv-application.h"

/* A container's fields from Container.Inspect, and its log followed live
 * from the descriptor that Container.Logs returns. */
struct _SvContainerDetails
{
  GtkWidget parent_instance;

  GtkWidget *box;
  AdwWindowTitle *window_title;
  GtkStack *page_stack;
  GtkStack *fields_stack;
  GtkListBox *fields_list;
  AdwStatusPage *fields_error;
  GtkTextView *log_view;

  SvClientContainer *container;
  GCancellable *cancellable;
  gulong status_id;
  gulong removed_id;
  GDBusObjectManager *objects;
  SvClientDemux *demux;
};

G_DEFINE_FINAL_TYPE (SvContainerDetails, sv_container_details, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_BACK,
  SIGNAL_GONE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Maximum bytes requested by each read of the log stream. */
#define LOG_READ_SIZE 16384

/* Nesting depth of Inspect's JSON shown as separate rows, as State.Status. */
#define MAX_FIELD_DEPTH 2

static void
clear_fields (SvContainerDetails *self)
{
  GtkWidget *row;

  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->fields_list))) != NULL)
    gtk_list_box_remove (self->fields_list, row);
}

static void
add_field (SvContainerDetails *self, const char *key, const char *value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label = gtk_label_new (value);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), key);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_RIGHT);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "dim-label");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  gtk_list_box_append (self->fields_list, row);
}

/* Joins the scalar members of @array, one per line, as for Config.Env. */
static char *
format_array (JsonArray *array)
{
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (node))
        {
          if (text->len > 0)
            g_string_append_c (text, '\n');
          if (json_node_get_value_type (node) == G_TYPE_STRING)
            g_string_append (text, json_node_get_string (node));
          else
            {
              g_autofree char *scalar = json_to_string (node, FALSE);
              g_string_append (text, scalar);
            }
        }
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
add_fields (SvContainerDetails *self, const char *prefix, JsonObject *object, guint depth)
{
  g_autoptr (GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (object, name);
      g_autofree char *key = prefix ? g_strconcat (prefix, ".", name, NULL) : g_strdup (name);
      g_autofree char *value = NULL;

      if (JSON_NODE_HOLDS_NULL (node))
        continue;
      if (JSON_NODE_HOLDS_OBJECT (node) && depth < MAX_FIELD_DEPTH)
        {
          add_fields (self, key, json_node_get_object (node), depth + 1);
          continue;
        }

      if (JSON_NODE_HOLDS_ARRAY (node))
        value = format_array (json_node_get_array (node));
      else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        value = g_strdup (json_node_get_string (node));
      else
        value = json_to_string (node, FALSE);

      /* Empty strings and lists add nothing and only lengthen the page. */
      if (*value != '\0' && g_strcmp0 (value, "{}") != 0)
        add_field (self, key, value);
    }
}

static void
show_fields_error (SvContainerDetails *self, const char *message)
{
  adw_status_page_set_description (self->fields_error, message);
  gtk_stack_set_visible_child_name (self->fields_stack, "error");
}

static void
on_inspect_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SvContainerDetails) self = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *json = NULL;
  JsonNode *root;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (reply == NULL)
    {
      sv_client_error_clean (error);
      g_debug ("inspect failed: %s", error->message);
      show_fields_error (self, error->message);
      return;
    }

  g_variant_get (reply, "(&s)", &json);
  if (!json_parser_load_from_data (parser, json, -1, &error))
    {
      g_autofree char *message = g_strdup_printf ("invalid JSON from Inspect: %s", error->message);
      show_fields_error (self, message);
      return;
    }

  root = json_parser_get_root (parser);
  clear_fields (self);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    add_fields (self, NULL, json_node_get_object (root), 0);
  gtk_stack_set_visible_child_name (self->fields_stack, "fields");
}

static void
append_log (SvContainerDetails *self, const char *text, gsize length)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  g_autofree char *valid = g_utf8_make_valid (text, length);
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert (buffer, &end, valid, -1);
  gtk_text_view_scroll_to_mark (self->log_view, gtk_text_buffer_get_insert (buffer), 0, FALSE, 0,
                                0);
}

static gboolean
on_log_frame_cb (SvClientStream stream, const guint8 *data, gsize length, gpointer user_data,
                 GError **error)
{
  SvContainerDetails *self = user_data;

  append_log (self, (const char *)data, length);
  return TRUE;
}

static void read_log (SvContainerDetails *self, GInputStream *input);

static void
on_log_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SvContainerDetails) self = user_data;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  GInputStream *input = G_INPUT_STREAM (source);

  bytes = g_input_stream_read_bytes_finish (input, result, &error);
  if (bytes == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (bytes == NULL)
    {
      g_debug ("log stream failed: %s", error->message);
      append_log (self, error->message, strlen (error->message));
      return;
    }

  if (g_bytes_get_size (bytes) == 0)
    {
      if (!sv_client_demux_finish (self->demux, &error))
        append_log (self, error->message, strlen (error->message));
      g_debug ("log stream ended");
      return;
    }

  if (!sv_client_demux_feed (self->demux, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                             &error))
    {
      append_log (self, error->message, strlen (error->message));
      return;
    }
  read_log (self, input);
}

static void
read_log (SvContainerDetails *self, GInputStream *input)
{
  g_input_stream_read_bytes_async (input, LOG_READ_SIZE, G_PRIORITY_DEFAULT, self->cancellable,
                                   on_log_read_cb, g_object_ref (self));
}

static void
on_logs_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SvContainerDetails) self = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) input = NULL;
  gint32 handle = 0;
  int fd;

  reply = g_dbus_proxy_call_with_unix_fd_list_finish (G_DBUS_PROXY (source), &fds, result, &error);
  if (reply == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (reply == NULL)
    {
      sv_client_error_clean (error);
      append_log (self, error->message, strlen (error->message));
      return;
    }

  g_variant_get (reply, "(h)", &handle);
  fd = fds != NULL ? g_unix_fd_list_get (fds, handle, &error) : -1;
  if (fd < 0)
    {
      const char *message = error ? error->message : "servind sent no log descriptor";
      append_log (self, message, strlen (message));
      return;
    }

  g_clear_pointer (&self->demux, sv_client_demux_free);
  self->demux = sv_client_demux_new (on_log_frame_cb, self);
  input = g_unix_input_stream_new (fd, TRUE);
  read_log (self, input);
}

static void
update_title (SvContainerDetails *self)
{
  g_autofree char *status = NULL;

  if (self->container == NULL)
    {
      adw_window_title_set_title (self->window_title, "");
      adw_window_title_set_subtitle (self->window_title, "");
      return;
    }
  status = sv_client_container_dup_status_text (self->container);
  adw_window_title_set_title (self->window_title, sv_client_container_get_name (self->container));
  adw_window_title_set_subtitle (self->window_title, status);
}

static void
on_object_removed_cb (SvContainerDetails *self, GDBusObject *object, GDBusObjectManager *objects)
{
  if (self->container == NULL
      || g_strcmp0 (g_dbus_object_get_object_path (object),
                    sv_client_container_get_object_path (self->container))
             != 0)
    return;
  g_signal_emit (self, signals[SIGNAL_GONE], 0);
}

static void
load (SvContainerDetails *self)
{
  GDBusProxy *proxy = G_DBUS_PROXY (sv_client_container_get_proxy (self->container));
  g_autoptr (GVariantDict) options = g_variant_dict_new (NULL);

  g_dbus_proxy_call (proxy, "Inspect", NULL, G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1,
                     self->cancellable, on_inspect_cb, g_object_ref (self));

  g_variant_dict_insert (options, "Follow", "b", TRUE);
  g_variant_dict_insert (options, "Tail", "i", -1);
  g_dbus_proxy_call_with_unix_fd_list (proxy, "Logs",
                                       g_variant_new ("(@a{sv})", g_variant_dict_end (options)),
                                       G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1, NULL,
                                       self->cancellable, on_logs_cb, g_object_ref (self));
}

static void
stop_following (SvContainerDetails *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->demux, sv_client_demux_free);
  if (self->container != NULL)
    g_clear_signal_handler (&self->status_id, self->container);
  if (self->objects != NULL)
    g_clear_signal_handler (&self->removed_id, self->objects);
  g_clear_object (&self->objects);
  g_clear_object (&self->container);
}

/* Shows @container, on the log page when @logs is TRUE, or clears the page
 * and stops following the log for NULL. */
void
sv_container_details_set_container (SvContainerDetails *self, SvClientContainer *container,
                                    gboolean logs)
{
  GApplication *app = g_application_get_default ();

  stop_following (self);
  g_set_object (&self->container, container);

  clear_fields (self);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->log_view), "", -1);
  gtk_stack_set_visible_child_name (self->fields_stack, "fields");
  update_title (self);
  if (container == NULL)
    return;

  self->status_id = g_signal_connect_swapped (container, "notify::status-text",
                                              G_CALLBACK (update_title), self);
  if (SV_IS_APPLICATION (app) && sv_application_get_objects (SV_APPLICATION (app)) != NULL)
    {
      self->objects = g_object_ref (sv_application_get_objects (SV_APPLICATION (app)));
      self->removed_id = g_signal_connect_swapped (self->objects, "object-removed",
                                                   G_CALLBACK (on_object_removed_cb), self);
    }
  self->cancellable = g_cancellable_new ();
  gtk_stack_set_visible_child_name (self->page_stack, logs ? "logs" : "fields");
  load (self);
}

static void
on_back_button_clicked_cb (SvContainerDetails *self, GtkButton *button)
{
  g_signal_emit (self, signals[SIGNAL_BACK], 0);
}

static void
sv_container_details_dispose (GObject *object)
{
  SvContainerDetails *self = SV_CONTAINER_DETAILS (object);

  stop_following (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), SV_TYPE_CONTAINER_DETAILS);
  G_OBJECT_CLASS (sv_container_details_parent_class)->dispose (object);
}

static void
sv_container_details_class_init (SvContainerDetailsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sv_container_details_dispose;

  /* The user asked to return to the lists. */
  signals[SIGNAL_BACK] = g_signal_new ("back", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* The container shown was removed. */
  signals[SIGNAL_GONE] = g_signal_new ("gone", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/servin/Desktop/sv-container-details.ui");
  gtk_widget_class_bind_template_child (widget_class, SvContainerDetails, box);
  gtk_widget_class_bind_template_child (widget_class, SvContainerDetails, window_title);
  gtk_widget_class_bind_template_child (widget_class, SvContainerDetails, page_stack);
  gtk_widget_class_bind_template_child (widget_class, SvContainerDetails, fields_stack);
  gtk_widget_class_bind_template_child (widget_class, SvContainerDetails, fields_list);
  gtk_widget_class_bind_template_child (widget_class, SvContainerDetails, fields_error);
  gtk_widget_class_bind_template_child (widget_class, SvContainerDetails, log_view);
  gtk_widget_class_bind_template_callback (widget_class, on_back_button_clicked_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sv_container_details_init (SvContainerDetails *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
