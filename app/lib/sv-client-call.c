/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-call.h"

#include <gio/gunixfdlist.h>

#include "sv-client-error.h"

/* Calls @method, which returns one descriptor as its only ("h") argument,
 * and returns the descriptor, owned by the caller. */
static int
call_returning_fd (GDBusProxy *proxy, const char *method, GVariant *options,
                   GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  gint32 handle = -1;
  int fd;

  if (options == NULL)
    options = g_variant_new ("a{sv}", NULL);

  reply = g_dbus_proxy_call_with_unix_fd_list_sync (
      proxy, method, g_variant_new ("(@a{sv})", options), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &fds,
      cancellable, error);
  if (reply == NULL)
    {
      sv_client_error_clean (error ? *error : NULL);
      return -1;
    }

  g_variant_get (reply, "(h)", &handle);
  if (fds == NULL || handle < 0 || handle >= g_unix_fd_list_get_length (fds))
    {
      g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_FAILED,
                   "servind's reply to %s carries no file descriptor", method);
      return -1;
    }

  fd = g_unix_fd_list_get (fds, handle, error);
  return fd;
}

/**
 * sv_client_container_attach:
 * @container: a container
 * @options: (nullable) (transfer floating): Attach's options, none yet
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Calls Container.Attach. Call it before Start to receive all output.
 *
 * Returns: a socket carrying the framed stream, owned by the caller, or -1
 */
int
sv_client_container_attach (SvDBusContainer *container, GVariant *options,
                            GCancellable *cancellable, GError **error)
{
  return call_returning_fd (G_DBUS_PROXY (container), "Attach", options, cancellable, error);
}

/**
 * sv_client_container_logs:
 * @container: a container
 * @options: (nullable) (transfer floating): Follow (b), Timestamps (b), Tail (i)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Calls Container.Logs.
 *
 * Returns: a readable descriptor carrying the framed log, owned by the
 *   caller, or -1
 */
int
sv_client_container_logs (SvDBusContainer *container, GVariant *options, GCancellable *cancellable,
                          GError **error)
{
  return call_returning_fd (G_DBUS_PROXY (container), "Logs", options, cancellable, error);
}

/**
 * sv_client_manager_load:
 * @manager: the manager
 * @archive_fd: a readable descriptor of an OCI layout or docker-save tar
 *   archive; the caller keeps it
 * @options: (nullable) (transfer floating): Load's options, none yet
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Calls Manager.Load, without a D-Bus timeout because large archives take
 * long.
 *
 * Returns: (transfer full): the references the archive tagged, or %NULL
 */
char **
sv_client_manager_load (SvDBusManager *manager, int archive_fd, GVariant *options,
                        GCancellable *cancellable, GError **error)
{
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GVariant) reply = NULL;
  char **references = NULL;
  int handle;

  handle = g_unix_fd_list_append (fds, archive_fd, error);
  if (handle < 0)
    return NULL;

  if (options == NULL)
    options = g_variant_new ("a{sv}", NULL);

  reply = g_dbus_proxy_call_with_unix_fd_list_sync (
      G_DBUS_PROXY (manager), "Load", g_variant_new ("(h@a{sv})", handle, options),
      G_DBUS_CALL_FLAGS_NONE, G_MAXINT, fds, NULL, cancellable, error);
  if (reply == NULL)
    {
      sv_client_error_clean (error ? *error : NULL);
      return NULL;
    }

  g_variant_get (reply, "(^as)", &references);
  return references;
}
