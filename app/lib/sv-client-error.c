/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-error.h"

#include "sv-client-connection.h"
#include "sv-dbus-error.h"

G_DEFINE_QUARK (sv - client - error - quark, sv_client_error)

/**
 * sv_client_error_clean:
 * @error: an error returned by a D-Bus call or by this library
 *
 * Removes the "GDBus.Error:NAME: " prefix that GIO puts in front of the
 * message of a remote error, so the message can be shown as it is. An error
 * saying that servind is gone from the bus (it exited or crashed during the
 * call) is rewritten into the advice sv_client_connect() gives.
 */
void
sv_client_error_clean (GError *error)
{
  if (error == NULL)
    return;

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY))
    {
      g_autofree char *message = NULL;

      g_dbus_error_strip_remote_error (error);
      message = g_steal_pointer (&error->message);
      error->message = g_strdup_printf ("servind stopped responding (%s). %s", message,
                                        SV_CLIENT_NO_SERVICE_ADVICE);
      return;
    }

  g_dbus_error_strip_remote_error (error);
}

/* TRUE for "no such container or image", whether the client or servind found out. */
gboolean
sv_client_error_is_not_found (const GError *error)
{
  return g_error_matches (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_NOT_FOUND)
         || g_error_matches (error, SV_DBUS_ERROR, SV_DBUS_ERROR_NOT_FOUND);
}
