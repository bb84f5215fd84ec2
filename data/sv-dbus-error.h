/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Errors of the org.servin.Servin1.Error D-Bus domain. Registered with GIO,
 * so a client receives them as GErrors of this domain with plain messages. */
#define SV_DBUS_ERROR (sv_dbus_error_quark ())

typedef enum
{
  SV_DBUS_ERROR_FAILED,
  SV_DBUS_ERROR_NOT_FOUND,
  SV_DBUS_ERROR_CONFLICT,
  SV_DBUS_ERROR_INVALID_ARGUMENT,
  SV_DBUS_ERROR_DIGEST_MISMATCH,
  SV_DBUS_ERROR_UNREACHABLE,
  SV_DBUS_ERROR_UNSAFE_PATH,
  SV_DBUS_ERROR_UNSUPPORTED,
  SV_DBUS_ERROR_NOT_RUNNING,
  SV_DBUS_ERROR_NOT_AUTHORIZED,
  SV_DBUS_ERROR_CANCELLED,
  SV_DBUS_ERROR_AUTHENTICATION_FAILED,
} SvDBusError;

GQuark sv_dbus_error_quark (void);

G_END_DECLS
