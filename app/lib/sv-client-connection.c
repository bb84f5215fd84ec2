/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-connection.h"

#include "sv-client-error.h"
#include "sv-dbus-error.h"

/* The address GIO connects to for G_BUS_TYPE_SYSTEM, for messages. */
const char *
sv_client_get_system_bus_address (void)
{
  const char *address = g_getenv ("DBUS_SYSTEM_BUS_ADDRESS");

  return (address != NULL && *address != '\0') ? address : SV_CLIENT_DEFAULT_SYSTEM_BUS;
}

static void
set_no_service_error (GError **error, const char *detail)
{
  if (detail != NULL)
    g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NO_SERVICE,
                 "servind is not running on the system bus (%s). %s", detail,
                 SV_CLIENT_NO_SERVICE_ADVICE);
  else
    g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NO_SERVICE,
                 "servind is not running on the system bus. %s", SV_CLIENT_NO_SERVICE_ADVICE);
}

static gboolean
name_has_owner (GDBusConnection *bus, GCancellable *cancellable)
{
  g_autoptr (GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new ("(s)", SV_CLIENT_BUS_NAME), G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1,
      cancellable, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

/* Turns the error of StartServiceByName into SV_CLIENT_ERROR_NO_SERVICE,
 * keeping cancellation as it is. */
static void
propagate_start_error (GError *start_error, GError **error)
{
  if (g_error_matches (start_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, start_error);
      return;
    }

  if (g_error_matches (start_error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN))
    set_no_service_error (error, NULL);
  else
    {
      /* The bus has a service file, but starting servind failed. */
      g_dbus_error_strip_remote_error (start_error);
      set_no_service_error (error, start_error->message);
    }
  g_error_free (start_error);
}

/* Asks the bus to start servind unless it already runs. dbus-daemon returns
 * ServiceUnknown when it has no service file for the name, even while the
 * name has an owner, so the owner is checked first. */
static gboolean
start_service (GDBusConnection *bus, GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  GError *local_error = NULL;

  if (name_has_owner (bus, cancellable))
    return TRUE;

  reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "StartServiceByName", g_variant_new ("(su)", SV_CLIENT_BUS_NAME, 0), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, -1, cancellable, &local_error);
  if (reply != NULL)
    return TRUE;

  propagate_start_error (local_error, error);
  return FALSE;
}

static void
set_no_bus_error (GError **error, GError *bus_error)
{
  g_dbus_error_strip_remote_error (bus_error);
  g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NO_BUS,
               "cannot connect to the system bus at %s: %s. Start the system bus, or set "
               "DBUS_SYSTEM_BUS_ADDRESS",
               sv_client_get_system_bus_address (), bus_error->message);
}

/* Returns @objects while servind owns its name, or NULL with @error set. */
static GDBusObjectManager *
check_objects (GDBusObjectManager *objects, GError *list_error, GError **error)
{
  g_autofree char *owner = NULL;

  if (objects == NULL)
    {
      g_dbus_error_strip_remote_error (list_error);
      g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_FAILED,
                   "cannot list servind's objects at %s: %s", SV_CLIENT_ROOT_PATH,
                   list_error->message);
      return NULL;
    }

  /* servind may have exited between the start request and the listing. */
  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (objects));
  if (owner == NULL)
    {
      set_no_service_error (error, NULL);
      g_object_unref (objects);
      return NULL;
    }
  return objects;
}

/**
 * sv_client_connect:
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Connects to the system bus (GIO honours DBUS_SYSTEM_BUS_ADDRESS), starts
 * servind through bus activation when it is installed that way, and returns
 * a client of the object manager at /org/servin/Servin1 that lists every
 * container, image and job as #SvDBusObject.
 *
 * Fails with %SV_CLIENT_ERROR_NO_BUS when the bus cannot be reached and with
 * %SV_CLIENT_ERROR_NO_SERVICE when servind does not run. Both messages tell
 * the user what to do.
 *
 * Returns: (transfer full): the object manager client, or %NULL
 */
GDBusObjectManager *
sv_client_connect (GCancellable *cancellable, GError **error)
{
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GError) local_error = NULL;
  GDBusObjectManager *objects;

  /* Registers servind's D-Bus error names, so its errors arrive as
   * SV_DBUS_ERROR codes instead of G_IO_ERROR_DBUS_ERROR. */
  sv_dbus_error_quark ();

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, cancellable, &local_error);
  if (bus == NULL)
    {
      set_no_bus_error (error, local_error);
      return NULL;
    }

  if (!start_service (bus, cancellable, error))
    return NULL;

  objects = sv_dbus_object_manager_client_new_sync (
      bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, SV_CLIENT_BUS_NAME,
      SV_CLIENT_ROOT_PATH, cancellable, &local_error);
  return check_objects (objects, local_error, error);
}

/* Returns the unique name of servind's connection, or NULL when the name
 * has no owner. */
static char *
get_name_owner (GDBusConnection *bus, GCancellable *cancellable)
{
  g_autoptr (GVariant) reply = NULL;
  char *owner = NULL;

  reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
      g_variant_new ("(s)", SV_CLIENT_BUS_NAME), G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1,
      cancellable, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(s)", &owner);
  return owner;
}

/**
 * sv_client_connect_direct:
 * @owner: (out): the unique bus name of servind
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Connects to the system bus and starts servind as sv_client_connect()
 * does, with the same errors, but lists none of its objects. For commands
 * that know the objects they call: proxies made for @owner skip the
 * look-up of the name's owner. They do not follow servind across a restart.
 *
 * Returns: (transfer full): the bus connection, or %NULL
 */
GDBusConnection *
sv_client_connect_direct (char **owner, GCancellable *cancellable, GError **error)
{
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GError) local_error = NULL;

  sv_dbus_error_quark ();

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, cancellable, &local_error);
  if (bus == NULL)
    {
      set_no_bus_error (error, local_error);
      return NULL;
    }

  *owner = get_name_owner (bus, cancellable);
  if (*owner != NULL)
    return g_steal_pointer (&bus);

  if (!start_service (bus, cancellable, error))
    return NULL;
  *owner = get_name_owner (bus, cancellable);
  if (*owner == NULL)
    {
      /* servind exited right after it started. */
      set_no_service_error (error, NULL);
      return NULL;
    }
  return g_steal_pointer (&bus);
}

/* The steps of sv_client_connect_async(), each a callback of the one before:
 * get the bus, ask whether servind runs, start it if not, list its objects. */

static void
on_objects_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) local_error = NULL;
  GError *error = NULL;
  GDBusObjectManager *objects;

  objects = sv_dbus_object_manager_client_new_finish (result, &local_error);
  if (objects == NULL && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&local_error));
      return;
    }
  objects = check_objects (objects, local_error, &error);
  if (objects == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, objects, g_object_unref);
}

static void
list_objects_async (GTask *task)
{
  GDBusConnection *bus = g_task_get_task_data (task);

  sv_dbus_object_manager_client_new (bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                                     SV_CLIENT_BUS_NAME, SV_CLIENT_ROOT_PATH,
                                     g_task_get_cancellable (task), on_objects_ready_cb, task);
}

static void
on_service_started_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  g_autoptr (GVariant) reply = NULL;
  GError *local_error = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &local_error);
  if (reply == NULL)
    {
      propagate_start_error (local_error, &error);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  list_objects_async (task);
}

static void
on_name_has_owner_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GDBusConnection *bus = G_DBUS_CONNECTION (source);
  g_autoptr (GVariant) reply = NULL;
  GError *local_error = NULL;
  gboolean has_owner = FALSE;

  reply = g_dbus_connection_call_finish (bus, result, &local_error);
  if (reply == NULL && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, local_error);
      g_object_unref (task);
      return;
    }
  /* After any other failure of NameHasOwner, StartServiceByName decides. */
  g_clear_error (&local_error);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);

  if (has_owner)
    {
      list_objects_async (task);
      return;
    }
  g_dbus_connection_call (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "StartServiceByName", g_variant_new ("(su)", SV_CLIENT_BUS_NAME, 0), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, -1, g_task_get_cancellable (task), on_service_started_cb, task);
}

static void
on_bus_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GDBusConnection *bus;
  g_autoptr (GError) local_error = NULL;
  GError *error = NULL;

  bus = g_bus_get_finish (result, &local_error);
  if (bus == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&local_error));
      else
        {
          set_no_bus_error (&error, local_error);
          g_task_return_error (task, error);
        }
      g_object_unref (task);
      return;
    }

  g_task_set_task_data (task, bus, g_object_unref);
  g_dbus_connection_call (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new ("(s)", SV_CLIENT_BUS_NAME), G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1,
      g_task_get_cancellable (task), on_name_has_owner_cb, task);
}

/**
 * sv_client_connect_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: called on the caller's thread-default main context when done
 * @user_data: data for @callback
 *
 * Does what sv_client_connect() does without blocking: connects to the
 * system bus, starts servind through bus activation if needed and lists
 * its objects. Call sv_client_connect_finish() in @callback.
 */
void
sv_client_connect_async (GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, sv_client_connect_async);
  sv_dbus_error_quark ();
  g_bus_get (G_BUS_TYPE_SYSTEM, cancellable, on_bus_ready_cb, task);
}

/**
 * sv_client_connect_finish:
 * @result: the result passed to the callback of sv_client_connect_async()
 * @error: return location for an error
 *
 * Fails with the errors of sv_client_connect(), or %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer full): the object manager client, or %NULL
 */
GDBusObjectManager *
sv_client_connect_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == sv_client_connect_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The bus connection that @objects, from sv_client_connect(), uses. */
GDBusConnection *
sv_client_get_connection (GDBusObjectManager *objects)
{
  return g_dbus_object_manager_client_get_connection (G_DBUS_OBJECT_MANAGER_CLIENT (objects));
}

/**
 * sv_client_get_manager:
 * @objects: the object manager client from sv_client_connect()
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Returns: (transfer full): a proxy of the Manager object at
 *   /org/servin/Servin1/Manager, with its properties loaded
 */
SvDBusManager *
sv_client_get_manager (GDBusObjectManager *objects, GCancellable *cancellable, GError **error)
{
  SvDBusManager *manager;

  manager = sv_dbus_manager_proxy_new_sync (
      sv_client_get_connection (objects), G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, SV_CLIENT_BUS_NAME,
      SV_CLIENT_MANAGER_PATH, cancellable, error);
  if (manager == NULL)
    sv_client_error_clean (error ? *error : NULL);
  return manager;
}

/* Sets ALLOW_INTERACTIVE_AUTHORIZATION on each method call except those to
 * the bus itself. Proxies address servind by its unique name, so the
 * destination cannot tell servind's calls apart. A message must be copied
 * before a filter may change it. */
static GDBusMessage *
allow_interaction_filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming,
                          gpointer user_data)
{
  GDBusMessage *copy;

  if (incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL
      || g_strcmp0 (g_dbus_message_get_destination (message), "org.freedesktop.DBus") == 0)
    return message;

  /* Without a copy the call goes out unchanged, and polkit denies it instead of asking. */
  copy = g_dbus_message_copy (message, NULL);
  if (copy == NULL)
    return message;
  g_object_unref (message);
  g_dbus_message_set_flags (copy, g_dbus_message_get_flags (copy)
                                      | G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION);
  return copy;
}

/**
 * sv_client_allow_interactive_authorization:
 * @objects: the object manager client from sv_client_connect()
 *
 * Lets polkit ask the user to authenticate, through the polkit agent of the
 * session or one the caller started, when a call to servind needs it. Calls
 * then wait for the user, so the caller should only do this when a user is
 * there to type a password.
 */
void
sv_client_allow_interactive_authorization (GDBusObjectManager *objects)
{
  g_dbus_connection_add_filter (sv_client_get_connection (objects), allow_interaction_filter, NULL,
                                NULL);
}
