/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-application.h"

#include <glib/gi18n.h>

#include "sv-build-config.h"
#include "sv-pull-dialog.h"
#include "sv-run-dialog.h"
#include "sv-window.h"

/* The application's actions take a container or image id as their string
 * parameter, so each is reachable through the org.gtk.Actions interface
 * that GApplication exports at /org/servin/Desktop on the session bus. */

struct _SvApplication
{
  AdwApplication parent_instance;

  GCancellable *cancellable;
  GDBusObjectManager *objects;
  SvDBusManager *manager;
  GListModel *containers;
  GListModel *images;
  gulong owner_id;
  guint watch_id;
  /* The open pull dialog, which app.pull reuses, or NULL when none is open. */
  SvPullDialog *pull_dialog;
  gboolean connecting;
};

G_DEFINE_FINAL_TYPE (SvApplication, sv_application, ADW_TYPE_APPLICATION)

static void connect_to_servind (SvApplication *self);

static SvWindow *
get_window (SvApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    {
      window = GTK_WINDOW (sv_window_new (ADW_APPLICATION (self)));
      if (self->objects == NULL && !self->connecting)
        sv_window_show_connecting (SV_WINDOW (window));
    }
  return SV_WINDOW (window);
}

static void
add_toast (SvApplication *self, const char *text)
{
  sv_window_add_toast (get_window (self), text);
}

/* Shows @error, from a D-Bus call, as "FAILURE: message" in a toast. */
static void
add_error_toast (SvApplication *self, const char *failure, const char *subject, GError *error)
{
  g_autofree char *text = NULL;
  g_autofree char *title = NULL;

  sv_client_error_clean (error);
  g_info ("%s: %s", subject, error->message);
  title = g_strdup_printf (failure, subject);
  /* Translators: the first %s names what failed, the second gives the reason */
  text = g_strdup_printf (_ ("%s: %s"), title, error->message);
  sv_window_add_error_toast (get_window (self), text, error->message);
}

SvClientContainer *
sv_application_lookup_container (SvApplication *self, const char *id)
{
  if (self->containers == NULL)
    return NULL;
  return sv_container_model_lookup (SV_CONTAINER_MODEL (self->containers), id);
}

SvClientImage *
sv_application_lookup_image (SvApplication *self, const char *id)
{
  if (self->images == NULL)
    return NULL;
  return sv_image_model_lookup (SV_IMAGE_MODEL (self->images), id);
}

GDBusObjectManager *
sv_application_get_objects (SvApplication *self)
{
  return self->objects;
}

SvDBusManager *
sv_application_get_manager (SvApplication *self)
{
  return self->manager;
}

/* One method call on a container or image, with what to show if it fails. */
typedef struct
{
  SvApplication *app;
  GDBusProxy *proxy;
  char *subject;
  /* A translated format with one %s for the subject, such as "Cannot stop %s". */
  const char *failure;
  /* Called after the first call succeeds, as restart's Start after Stop. */
  const char *next_method;
} Operation;

static void
operation_free (Operation *op)
{
  g_object_unref (op->app);
  g_object_unref (op->proxy);
  g_free (op->subject);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Operation, operation_free)

static void
on_operation_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Operation) op = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  const char *next_method;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    {
      add_error_toast (op->app, op->failure, op->subject, error);
      return;
    }

  g_debug ("%s: %s done", g_dbus_proxy_get_object_path (op->proxy), op->subject);
  next_method = op->next_method;
  if (next_method == NULL)
    return;

  op->next_method = NULL;
  g_dbus_proxy_call (op->proxy, next_method, NULL,
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, NULL,
                     on_operation_cb, g_steal_pointer (&op));
}

/* Calls @method without a timeout, because Stop waits for the container to
 * exit and polkit may wait for a password, and lets polkit ask for one. */
static void
call_method (SvApplication *self, GDBusProxy *proxy, const char *subject, const char *method,
             GVariant *parameters, const char *failure, const char *next_method)
{
  Operation *op = g_new0 (Operation, 1);

  op->app = g_object_ref (self);
  op->proxy = g_object_ref (proxy);
  op->subject = g_strdup (subject);
  op->failure = failure;
  op->next_method = next_method;
  g_dbus_proxy_call (proxy, method, parameters, G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
                     G_MAXINT, NULL, on_operation_cb, op);
}

static SvClientContainer *
find_container (SvApplication *self, GVariant *parameter)
{
  const char *id = g_variant_get_string (parameter, NULL);
  SvClientContainer *container = sv_application_lookup_container (self, id);
  g_autofree char *text = NULL;

  if (container != NULL)
    return container;

  /* Translators: %s is a container id */
  text = g_strdup_printf (_ ("Container %s not found. It may have been removed."), id);
  add_toast (self, text);
  return NULL;
}

static SvClientImage *
find_image (SvApplication *self, GVariant *parameter)
{
  const char *id = g_variant_get_string (parameter, NULL);
  SvClientImage *image = sv_application_lookup_image (self, id);
  g_autofree char *text = NULL;

  if (image != NULL)
    return image;

  /* Translators: %s is an image id */
  text = g_strdup_printf (_ ("Image %s not found. It may have been removed."), id);
  add_toast (self, text);
  return NULL;
}

static char *
container_name (SvClientContainer *container)
{
  char *name = NULL;

  g_object_get (container, "name", &name, NULL);
  return name;
}

static void
container_start_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  SvClientContainer *container = find_container (self, parameter);
  g_autofree char *name = NULL;

  if (container == NULL)
    return;
  name = container_name (container);
  call_method (self, G_DBUS_PROXY (sv_client_container_get_proxy (container)), name, "Start", NULL,
               _ ("Cannot start %s"), NULL);
}

/* Seconds between SIGTERM and SIGKILL, as docker stop's default. */
#define STOP_TIMEOUT 10

static void
container_stop_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  SvClientContainer *container = find_container (self, parameter);
  g_autofree char *name = NULL;

  if (container == NULL)
    return;
  name = container_name (container);
  call_method (self, G_DBUS_PROXY (sv_client_container_get_proxy (container)), name, "Stop",
               g_variant_new ("(u)", STOP_TIMEOUT), _ ("Cannot stop %s"), NULL);
}

static void
container_restart_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  SvClientContainer *container = find_container (self, parameter);
  g_autofree char *name = NULL;

  if (container == NULL)
    return;
  name = container_name (container);
  call_method (self, G_DBUS_PROXY (sv_client_container_get_proxy (container)), name, "Stop",
               g_variant_new ("(u)", STOP_TIMEOUT), _ ("Cannot restart %s"), "Start");
}

static void
remove_container (SvApplication *self, SvClientContainer *container, gboolean force)
{
  g_autofree char *name = container_name (container);
  g_autoptr (GVariantDict) options = g_variant_dict_new (NULL);

  if (force)
    g_variant_dict_insert (options, "Force", "b", TRUE);
  call_method (self, G_DBUS_PROXY (sv_client_container_get_proxy (container)), name, "Remove",
               g_variant_new ("(@a{sv})", g_variant_dict_end (options)), _ ("Cannot remove %s"),
               NULL);
}

static void
on_remove_dialog_response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  SvApplication *self = user_data;
  const char *id = g_object_get_data (G_OBJECT (dialog), "container-id");
  SvClientContainer *container;

  if (g_strcmp0 (response, "remove") != 0)
    return;

  /* The container may have gone while the dialog was open. */
  container = sv_application_lookup_container (self, id);
  if (container != NULL)
    remove_container (self, container, TRUE);
}

static void
container_remove_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  SvClientContainer *container = find_container (self, parameter);
  g_autofree char *state = NULL;
  g_autofree char *name = NULL;
  AdwMessageDialog *dialog;

  if (container == NULL)
    return;

  g_object_get (container, "state", &state, "name", &name, NULL);
  if (g_strcmp0 (state, "running") != 0)
    {
      remove_container (self, container, FALSE);
      return;
    }

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (get_window (self)),
                                                       _ ("Remove Running Container?"), NULL));
  /* Translators: %s is a container name */
  adw_message_dialog_format_body (dialog,
                                  _ ("%s is running. Removing it stops its processes and "
                                     "deletes its files."),
                                  name);
  adw_message_dialog_add_responses (dialog, "cancel", _ ("_Cancel"), "remove", _ ("_Remove"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "container-id", g_variant_dup_string (parameter, NULL),
                          g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_remove_dialog_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
container_show_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  SvClientContainer *container = find_container (self, parameter);

  if (container != NULL)
    sv_window_show_container (get_window (self), container, FALSE);
}

static void
container_logs_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  SvClientContainer *container = find_container (self, parameter);

  if (container != NULL)
    sv_window_show_container (get_window (self), container, TRUE);
}

static char *
image_display_name (SvClientImage *image)
{
  g_auto (GStrv) tags = NULL;
  char *short_id = NULL;

  g_object_get (image, "display-tags", &tags, "short-id", &short_id, NULL);
  if (tags != NULL && tags[0] != NULL)
    {
      g_free (short_id);
      return g_strdup (tags[0]);
    }
  return short_id;
}

static void
image_remove_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  SvClientImage *image = find_image (self, parameter);
  g_autofree char *name = NULL;

  if (image == NULL)
    return;
  name = image_display_name (image);
  call_method (self, G_DBUS_PROXY (sv_client_image_get_proxy (image)), name, "Remove",
               g_variant_new ("(@a{sv})", g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
               _ ("Cannot remove %s"), NULL);
}

static void
image_run_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  SvClientImage *image = find_image (self, parameter);
  g_autofree char *name = NULL;
  SvRunDialog *dialog;

  if (image == NULL)
    return;
  name = image_display_name (image);
  dialog = sv_run_dialog_new (GTK_WINDOW (get_window (self)), name);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Creating a container then starting it, as servin run -d does. */
typedef struct
{
  SvApplication *app;
  char *name;
} RunData;

static void
run_data_free (RunData *data)
{
  g_object_unref (data->app);
  g_free (data->name);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunData, run_data_free)

static void
on_run_start_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (RunData) data = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    add_error_toast (data->app, _ ("Cannot start %s"), data->name, error);
}

static void
on_run_create_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (RunData) data = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  const char *path = NULL;
  GDBusProxy *proxy = G_DBUS_PROXY (source);

  reply = g_dbus_proxy_call_finish (proxy, result, &error);
  if (reply == NULL)
    {
      add_error_toast (data->app, _ ("Cannot create %s"), data->name, error);
      return;
    }

  g_variant_get (reply, "(&o)", &path);
  g_debug ("created container %s", path);
  sv_window_show_view (get_window (data->app), "containers");
  g_dbus_connection_call (g_dbus_proxy_get_connection (proxy), g_dbus_proxy_get_name (proxy), path,
                          "org.servin.Servin1.Container", "Start", NULL, NULL,
                          G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, NULL,
                          on_run_start_cb, g_steal_pointer (&data));
}

/* Parameter (image, name, command, environment): name may be "" to have
 * servind pick one, command empty for the image's default. */
static void
run_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  const char *image = NULL;
  const char *name = NULL;
  g_autofree const char **command = NULL;
  g_autofree const char **environment = NULL;
  g_autoptr (GVariantDict) config = g_variant_dict_new (NULL);
  RunData *data;

  if (self->manager == NULL)
    {
      add_toast (self, _ ("Cannot run a container: not connected to servind"));
      return;
    }

  g_variant_get (parameter, "(&s&s^a&s^a&s)", &image, &name, &command, &environment);
  g_variant_dict_insert (config, "Image", "s", image);
  if (command != NULL && command[0] != NULL)
    g_variant_dict_insert_value (config, "Cmd", g_variant_new_strv (command, -1));
  if (environment != NULL && environment[0] != NULL)
    g_variant_dict_insert_value (config, "Env", g_variant_new_strv (environment, -1));

  data = g_new0 (RunData, 1);
  data->app = g_object_ref (self);
  data->name = g_strdup (*name != '\0' ? name : image);
  g_dbus_proxy_call (G_DBUS_PROXY (self->manager), "Create",
                     g_variant_new ("(s@a{sv})", name, g_variant_dict_end (config)),
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, NULL,
                     on_run_create_cb, data);
}

static void
pull_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  const char *reference = g_variant_get_string (parameter, NULL);

  if (self->manager == NULL)
    {
      add_toast (self, _ ("Cannot pull an image: not connected to servind"));
      return;
    }

  if (self->pull_dialog == NULL)
    {
      self->pull_dialog = sv_pull_dialog_new (GTK_WINDOW (get_window (self)), self->manager);
      g_object_add_weak_pointer (G_OBJECT (self->pull_dialog), (gpointer *)&self->pull_dialog);
    }
  gtk_window_present (GTK_WINDOW (self->pull_dialog));
  if (*reference != '\0')
    sv_pull_dialog_start (self->pull_dialog, reference);
}

static void
show_view_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  const char *name = g_variant_get_string (parameter, NULL);

  if (g_strcmp0 (name, "containers") != 0 && g_strcmp0 (name, "images") != 0)
    {
      g_warning ("app.show-view takes \"containers\" or \"images\", not \"%s\"", name);
      return;
    }
  sv_window_show_view (get_window (self), name);
}

static void
reconnect_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  connect_to_servind (user_data);
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SvApplication *self = user_data;
  const char *developers[] = { "Servin contributors", NULL };

  adw_show_about_window (GTK_WINDOW (get_window (self)), "application-name", _ ("Servin"),
                         "application-icon", "org.servin.Desktop", "version", PACKAGE_VERSION,
                         "developers", developers, "license-type", GTK_LICENSE_GPL_2_0, NULL);
}

static void
quit_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "container-start", container_start_activated, "s" },
  { "container-stop", container_stop_activated, "s" },
  { "container-restart", container_restart_activated, "s" },
  { "container-remove", container_remove_activated, "s" },
  { "container-show", container_show_activated, "s" },
  { "container-logs", container_logs_activated, "s" },
  { "image-remove", image_remove_activated, "s" },
  { "image-run", image_run_activated, "s" },
  { "run", run_activated, "(ssasas)" },
  { "pull", pull_activated, "s" },
  { "show-view", show_view_activated, "s" },
  { "reconnect", reconnect_activated },
  { "about", about_activated },
  { "quit", quit_activated },
};

static void
disconnect_objects (SvApplication *self)
{
  if (self->objects != NULL)
    g_clear_signal_handler (&self->owner_id, self->objects);
  g_clear_object (&self->objects);
  g_clear_object (&self->manager);
  g_clear_object (&self->containers);
  g_clear_object (&self->images);
}

static void
on_name_appeared_cb (GDBusConnection *connection, const char *name, const char *owner,
                     gpointer user_data)
{
  SvApplication *self = user_data;

  g_debug ("%s appeared on the system bus as %s", name, owner);
  g_bus_unwatch_name (self->watch_id);
  self->watch_id = 0;
  connect_to_servind (self);
}

static void
show_unreachable (SvApplication *self, GError *error)
{
  g_info ("servind cannot be reached: %s", error->message);
  sv_window_show_unreachable (get_window (self), error->message);

  /* When the bus runs, the page turns into the lists once servind takes its name. */
  if (self->watch_id == 0 && !g_error_matches (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NO_BUS))
    self->watch_id
        = g_bus_watch_name (G_BUS_TYPE_SYSTEM, SV_CLIENT_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                            on_name_appeared_cb, NULL, self, NULL);
}

static void
on_name_owner_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  SvApplication *self = user_data;
  g_autofree char *owner = NULL;
  g_autoptr (GError) error = NULL;

  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (object));
  g_debug ("servind's name owner is now %s", owner ? owner : "(none)");
  if (owner != NULL)
    {
      sv_window_show_lists (get_window (self));
      return;
    }

  /* The object manager client follows the name, so the lists refill when servind returns. */
  error = g_error_new (SV_CLIENT_ERROR, SV_CLIENT_ERROR_NO_SERVICE,
                       "servind left the system bus. %s", SV_CLIENT_NO_SERVICE_ADVICE);
  g_info ("servind cannot be reached: %s", error->message);
  sv_window_show_unreachable (get_window (self), error->message);
}

static void
on_manager_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SvApplication) self = user_data;
  g_autoptr (GError) error = NULL;
  SvDBusManager *manager;

  manager = sv_dbus_manager_proxy_new_finish (result, &error);
  if (manager == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        add_error_toast (self, "%s", _ ("Cannot reach servind's manager"), error);
      return;
    }
  g_clear_object (&self->manager);
  self->manager = manager;
}

static void
on_connect_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SvApplication) self = user_data;
  g_autoptr (GError) error = NULL;
  GDBusObjectManager *objects;

  objects = sv_client_connect_finish (result, &error);
  if (objects == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->connecting = FALSE;
  if (objects == NULL)
    {
      show_unreachable (self, error);
      return;
    }

  self->objects = objects;
  sv_client_allow_interactive_authorization (objects);
  self->containers = G_LIST_MODEL (sv_container_model_new (objects));
  self->images = G_LIST_MODEL (sv_image_model_new (objects));
  self->owner_id
      = g_signal_connect (objects, "notify::name-owner", G_CALLBACK (on_name_owner_cb), self);
  sv_dbus_manager_proxy_new (
      sv_client_get_connection (objects), G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, SV_CLIENT_BUS_NAME,
      SV_CLIENT_MANAGER_PATH, self->cancellable, on_manager_cb, g_object_ref (self));

  sv_window_set_models (get_window (self), self->containers, self->images);
  sv_window_show_lists (get_window (self));
}

static void
connect_to_servind (SvApplication *self)
{
  if (self->connecting)
    return;

  disconnect_objects (self);
  if (self->watch_id != 0)
    {
      g_bus_unwatch_name (self->watch_id);
      self->watch_id = 0;
    }

  self->connecting = TRUE;
  sv_window_show_connecting (get_window (self));
  sv_client_connect_async (self->cancellable, on_connect_cb, g_object_ref (self));
}

static void
sv_application_activate (GApplication *app)
{
  SvApplication *self = SV_APPLICATION (app);

  gtk_window_present (GTK_WINDOW (get_window (self)));
  if (self->objects == NULL && !self->connecting && self->watch_id == 0)
    connect_to_servind (self);
}

static void
sv_application_startup (GApplication *app)
{
  const char *quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (sv_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
}

static void
sv_application_shutdown (GApplication *app)
{
  SvApplication *self = SV_APPLICATION (app);

  if (self->pull_dialog != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->pull_dialog), (gpointer *)&self->pull_dialog);
  self->pull_dialog = NULL;
  g_cancellable_cancel (self->cancellable);
  if (self->watch_id != 0)
    {
      g_bus_unwatch_name (self->watch_id);
      self->watch_id = 0;
    }
  disconnect_objects (self);

  G_APPLICATION_CLASS (sv_application_parent_class)->shutdown (app);
}

static void
sv_application_finalize (GObject *object)
{
  SvApplication *self = SV_APPLICATION (object);

  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (sv_application_parent_class)->finalize (object);
}

static void
sv_application_class_init (SvApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = sv_application_finalize;
  app_class->activate = sv_application_activate;
  app_class->startup = sv_application_startup;
  app_class->shutdown = sv_application_shutdown;
}

static void
sv_application_init (SvApplication *self)
{
  self->cancellable = g_cancellable_new ();
}

SvApplication *
sv_application_new (void)
{
  return g_object_new (SV_TYPE_APPLICATION, "application-id", "org.servin.Desktop", "flags",
                       G_APPLICATION_DEFAULT_FLAGS, "resource-base-path", "/org/servin/Desktop",
                       NULL);
}
