/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-dbus-error.h"

static const GDBusErrorEntry sv_dbus_error_entries[] = {
  { SV_DBUS_ERROR_FAILED, "org.servin.Servin1.Error.Failed" },
  { SV_DBUS_ERROR_NOT_FOUND, "org.servin.Servin1.Error.NotFound" },
  { SV_DBUS_ERROR_CONFLICT, "org.servin.Servin1.Error.Conflict" },
  { SV_DBUS_ERROR_INVALID_ARGUMENT, "org.servin.Servin1.Error.InvalidArgument" },
  { SV_DBUS_ERROR_DIGEST_MISMATCH, "org.servin.Servin1.Error.DigestMismatch" },
  { SV_DBUS_ERROR_UNREACHABLE, "org.servin.Servin1.Error.Unreachable" },
  { SV_DBUS_ERROR_UNSAFE_PATH, "org.servin.Servin1.Error.UnsafePath" },
  { SV_DBUS_ERROR_UNSUPPORTED, "org.servin.Servin1.Error.Unsupported" },
  { SV_DBUS_ERROR_NOT_RUNNING, "org.servin.Servin1.Error.NotRunning" },
  { SV_DBUS_ERROR_NOT_AUTHORIZED, "org.servin.Servin1.Error.NotAuthorized" },
  { SV_DBUS_ERROR_CANCELLED, "org.servin.Servin1.Error.Cancelled" },
  { SV_DBUS_ERROR_AUTHENTICATION_FAILED, "org.servin.Servin1.Error.AuthenticationFailed" },
};

GQuark
sv_dbus_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("sv-dbus-error-quark", &quark, sv_dbus_error_entries,
                                      G_N_ELEMENTS (sv_dbus_error_entries));
  return (GQuark) quark;
}
