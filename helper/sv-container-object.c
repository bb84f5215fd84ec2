/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-container-object.h"

#include <gio/gunixfdlist.h>
#include <json-glib/json-glib.h>
#include <signal.h>

#include "sv-dbus-error.h"
#include "sv-helper-error.h"
#include "sv-helper-options.h"

/* One container on the bus: the engine's SvContainer, with its properties
 * mirrored onto the org.servin.Servin1.Container skeleton and its methods
 * handled here. */
struct _SvContainerObject
{
  GObject parent_instance;

  SvContainerStore *store;
  SvContainer *container;
  SvDBusObjectSkeleton *object;
  SvDBusContainer *iface;
};

G_DEFINE_FINAL_TYPE (SvContainerObject, sv_container_object, G_TYPE_OBJECT)

static void
sv_container_object_finalize (GObject *object)
{
  SvContainerObject *self = SV_CONTAINER_OBJECT (object);

  g_signal_handlers_disconnect_by_data (self->container, self);
  g_clear_object (&self->store);
  g_clear_object (&self->container);
  g_clear_object (&self->object);
  g_clear_object (&self->iface);
  G_OBJECT_CLASS (sv_container_object_parent_class)->finalize (object);
}

static void
sv_container_object_class_init (SvContainerObjectClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_container_object_finalize;
}

static void
sv_container_object_init (SvContainerObject *self)
{
}

char *
sv_container_object_path_for (const char *id)
{
  return g_strdup_printf ("/org/servin/Servin1/containers/%s", id);
}

static const char *
state_to_string (SvContainerState state)
{
  switch (state)
    {
    case SV_CONTAINER_STATE_CREATED:
      return "created";
    case SV_CONTAINER_STATE_RUNNING:
      return "running";
    case SV_CONTAINER_STATE_EXITED:
    default:
      return "exited";
    }
}

static GVariant *
labels_to_variant (const char *const *labels)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  for (guint i = 0; labels != NULL && labels[i] != NULL; i++)
    {
      const char *eq = strchr (labels[i], '=');
      g_autofree char *key = NULL;

      if (eq == NULL)
        continue;
      key = g_strndup (labels[i], eq - labels[i]);
      g_variant_builder_add (&builder, "{ss}", key, eq + 1);
    }
  return g_variant_builder_end (&builder);
}

/* Copy every property from the engine's container to the skeleton. The
 * skeleton emits PropertiesChanged only for values that differ. */
static void
sync_properties (SvContainerObject *self)
{
  g_autofree char *id = NULL, *name = NULL, *image = NULL, *image_id = NULL, *command = NULL;
  g_auto (GStrv) labels = NULL;
  int state = 0, exit_code = 0;
  guint64 created = 0, started_at = 0, finished_at = 0;
  gboolean auto_remove = FALSE, oom_killed = FALSE;

  g_object_get (self->container, "id", &id, "name", &name, "image", &image, "image-id", &image_id,
                "command", &command, "state", &state, "exit-code", &exit_code, "oom-killed",
                &oom_killed, "created", &created, "started-at", &started_at, "finished-at",
                &finished_at, "auto-remove", &auto_remove, "labels", &labels, NULL);

  sv_dbus_container_set_id (self->iface, id);
  sv_dbus_container_set_name (self->iface, name);
  sv_dbus_container_set_image (self->iface, image);
  sv_dbus_container_set_image_id (self->iface, image_id);
  sv_dbus_container_set_command (self->iface, command);
  sv_dbus_container_set_state (self->iface, state_to_string (state));
  sv_dbus_container_set_exit_code (self->iface, exit_code);
  sv_dbus_container_set_oomkilled (self->iface, oom_killed);
  sv_dbus_container_set_created (self->iface, created);
  sv_dbus_container_set_started_at (self->iface, started_at);
  sv_dbus_container_set_finished_at (self->iface, finished_at);
  sv_dbus_container_set_auto_remove (self->iface, auto_remove);
  sv_dbus_container_set_labels (self->iface, labels_to_variant ((const char *const *) labels));
}

static void
on_container_notify (SvContainer *container, GParamSpec *pspec, SvContainerObject *self)
{
  sync_properties (self);
}


static void
return_fd (GDBusMethodInvocation *invocation, int fd)
{
  g_autoptr (GUnixFDList) fd_list = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  int index = g_unix_fd_list_append (fd_list, fd, &error);

  close (fd);
  if (index < 0)
    {
      sv_helper_return_error (invocation, error);
      return;
    }
  g_dbus_method_invocation_return_value_with_unix_fd_list (invocation,
                                                           g_variant_new ("(h)", index), fd_list);
}

static gboolean
on_handle_attach (SvDBusContainer *iface,
                  GDBusMethodInvocation *invocation,
                  GVariant *options,
                  SvContainerObject *self)
{
  g_autoptr (GError) error = NULL;
  int fd = sv_container_attach (self->container, &error);

  if (fd < 0)
    sv_helper_return_error (invocation, error);
  else
    return_fd (invocation, fd);
  return TRUE;
}

static gboolean
on_handle_start (SvDBusContainer *iface, GDBusMethodInvocation *invocation, SvContainerObject *self)
{
  g_autoptr (GError) error = NULL;

  g_info ("Starting container %s for %s", sv_dbus_container_get_id (self->iface),
          g_dbus_method_invocation_get_sender (invocation));
  if (!sv_container_start (self->container, &error))
    sv_helper_return_error (invocation, error);
  else
    sv_dbus_container_complete_start (iface, invocation);
  return TRUE;
}

static void
on_stop_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;

  if (!sv_container_stop_finish (SV_CONTAINER (source), result, &error))
    sv_helper_return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
on_handle_stop (SvDBusContainer *iface,
                GDBusMethodInvocation *invocation,
                guint timeout,
                SvContainerObject *self)
{
  g_info ("Stopping container %s (timeout %u s) for %s", sv_dbus_container_get_id (self->iface),
          timeout, g_dbus_method_invocation_get_sender (invocation));
  sv_container_stop_async (self->container, timeout, NULL, on_stop_done,
                           g_object_ref (invocation));
  return TRUE;
}

/* Parse "KILL", "SIGKILL" or "9" into a signal number; -1 when invalid. */
static int
parse_signal (const char *text)
{
  static const struct
  {
    const char *name;
    int number;
  } names[] = {
    { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
    { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
    { "CONT", SIGCONT }, { "ALRM", SIGALRM }, { "WINCH", SIGWINCH },
  };
  guint64 number = 0;

  if (g_ascii_string_to_unsigned (text, 10, 1, SIGRTMAX, &number, NULL))
    return (int) number;
  if (g_str_has_prefix (text, "SIG"))
    text += 3;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_ascii_strcasecmp (text, names[i].name) == 0)
        return names[i].number;
    }
  return -1;
}

/* Seconds Kill with SIGKILL waits for the container to exit before it returns. */
#define KILL_WAIT_SECONDS 10

static void
on_kill_wait_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;

  sv_container_wait_finish (SV_CONTAINER (source), result, &error);
  if (error != NULL)
    g_message ("Container at %s did not exit within %d s of SIGKILL: %s",
               g_dbus_method_invocation_get_object_path (invocation), KILL_WAIT_SECONDS,
               error->message);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
on_kill_wait_timeout (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

static gboolean
on_handle_kill (SvDBusContainer *iface,
                GDBusMethodInvocation *invocation,
                const char *signal_text,
                SvContainerObject *self)
{
  g_autoptr (GError) error = NULL;
  int signal_number = parse_signal (signal_text);

  if (signal_number < 0)
    {
      error = g_error_new (SV_DBUS_ERROR, SV_DBUS_ERROR_INVALID_ARGUMENT,
                           "invalid signal \"%s\": use a name such as KILL or TERM, or a number",
                           signal_text);
      sv_helper_return_error (invocation, error);
      return TRUE;
    }

  g_info ("Sending signal %d to container %s for %s", signal_number,
          sv_dbus_container_get_id (self->iface), g_dbus_method_invocation_get_sender (invocation));
  if (!sv_container_kill (self->container, signal_number, &error))
    {
      sv_helper_return_error (invocation, error);
    }
  else if (signal_number == SIGKILL)
    {
      /* Like docker, return once a killed container has exited, so that a
       * following remove does not find it still running. */
      g_autoptr (GCancellable) cancellable = g_cancellable_new ();

      g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, KILL_WAIT_SECONDS, on_kill_wait_timeout,
                                  g_object_ref (cancellable), g_object_unref);
      sv_container_wait_async (self->container, cancellable, on_kill_wait_done,
                               g_object_ref (invocation));
    }
  else
    {
      sv_dbus_container_complete_kill (iface, invocation);
    }
  return TRUE;
}

/* Completes Remove without the container object, which the removal may have unexported. */
static void
on_remove_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;

  if (sv_container_store_remove_finish (SV_CONTAINER_STORE (source), result, &error))
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    sv_helper_return_error (invocation, error);
}

static gboolean
on_handle_remove (SvDBusContainer *iface,
                  GDBusMethodInvocation *invocation,
                  GVariant *options,
                  SvContainerObject *self)
{
  g_autoptr (GError) error = NULL;
  gboolean force = FALSE;

  if (!sv_helper_lookup_option (options, "Remove", "Force", "b", &force, &error))
    {
      sv_helper_return_error (invocation, error);
      return TRUE;
    }

  g_info ("Removing container %s%s for %s", sv_dbus_container_get_id (self->iface),
          force ? " (forced)" : "", g_dbus_method_invocation_get_sender (invocation));
  sv_container_store_remove_async (self->store, self->container, force, on_remove_done,
                                   g_object_ref (invocation));
  return TRUE;
}

static void
on_wait_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  int exit_code = sv_container_wait_finish (SV_CONTAINER (source), result, &error);

  if (error != NULL)
    sv_helper_return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(i)", exit_code));
}

static gboolean
on_handle_wait (SvDBusContainer *iface, GDBusMethodInvocation *invocation, SvContainerObject *self)
{
  sv_container_wait_async (self->container, NULL, on_wait_done, g_object_ref (invocation));
  return TRUE;
}


static gboolean
on_handle_logs (SvDBusContainer *iface,
                GDBusMethodInvocation *invocation,
                GVariant *options,
                SvContainerObject *self)
{
  g_autoptr (GError) error = NULL;
  gboolean follow = FALSE;
  gboolean timestamps = FALSE;
  gint32 tail = -1;
  int fd;

  if (!sv_helper_lookup_option (options, "Logs", "Tail", "i", &tail, &error)
      || !sv_helper_lookup_option (options, "Logs", "Follow", "b", &follow, &error)
      || !sv_helper_lookup_option (options, "Logs", "Timestamps", "b", &timestamps, &error))
    {
      sv_helper_return_error (invocation, error);
      return TRUE;
    }
  fd = sv_container_open_logs (self->container, follow, timestamps, tail, &error);
  if (fd < 0)
    sv_helper_return_error (invocation, error);
  else
    return_fd (invocation, fd);
  return TRUE;
}

static gboolean
on_handle_inspect (SvDBusContainer *iface,
                   GDBusMethodInvocation *invocation,
                   SvContainerObject *self)
{
  g_autoptr (JsonObject) document = sv_container_get_inspect (self->container);
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), document);
  g_autofree char *text = json_to_string (node, TRUE);

  sv_dbus_container_complete_inspect (iface, invocation, text);
  return TRUE;
}

SvContainerObject *
sv_container_object_new (SvContainerStore *store, SvContainer *container, SvAuthority *authority)
{
  SvContainerObject *self = g_object_new (SV_TYPE_CONTAINER_OBJECT, NULL);
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;

  self->store = g_object_ref (store);
  self->container = g_object_ref (container);
  g_object_get (container, "id", &id, NULL);
  path = sv_container_object_path_for (id);
  self->object = sv_dbus_object_skeleton_new (path);
  self->iface = sv_dbus_container_skeleton_new ();
  sync_properties (self);

  g_signal_connect (container, "notify", G_CALLBACK (on_container_notify), self);
  g_signal_connect_object (self->iface, "handle-attach", G_CALLBACK (on_handle_attach), self, 0);
  g_signal_connect_object (self->iface, "handle-start", G_CALLBACK (on_handle_start), self, 0);
  g_signal_connect_object (self->iface, "handle-stop", G_CALLBACK (on_handle_stop), self, 0);
  g_signal_connect_object (self->iface, "handle-kill", G_CALLBACK (on_handle_kill), self, 0);
  g_signal_connect_object (self->iface, "handle-remove", G_CALLBACK (on_handle_remove), self, 0);
  g_signal_connect_object (self->iface, "handle-wait", G_CALLBACK (on_handle_wait), self, 0);
  g_signal_connect_object (self->iface, "handle-logs", G_CALLBACK (on_handle_logs), self, 0);
  g_signal_connect_object (self->iface, "handle-inspect", G_CALLBACK (on_handle_inspect), self,
                           0);
  sv_authority_guard (authority, G_DBUS_INTERFACE_SKELETON (self->iface));
  sv_dbus_object_skeleton_set_container (self->object, self->iface);
  return self;
}

SvDBusObjectSkeleton *
sv_container_object_get_object (SvContainerObject *self)
{
  return self->object;
}
