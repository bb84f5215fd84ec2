/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Errors raised by libservin-client itself. Errors that servind returns
 * arrive in the SV_DBUS_ERROR domain instead (data/sv-dbus-error.h). */
#define SV_CLIENT_ERROR (sv_client_error_quark ())

typedef enum
{
  SV_CLIENT_ERROR_FAILED,
  /* The system bus cannot be reached. */
  SV_CLIENT_ERROR_NO_BUS,
  /* The bus runs, but servind neither runs nor can be activated. */
  SV_CLIENT_ERROR_NO_SERVICE,
  /* No container or image matches the name, id or reference. */
  SV_CLIENT_ERROR_NOT_FOUND,
  /* An id prefix matches more than one container or image. */
  SV_CLIENT_ERROR_AMBIGUOUS,
  SV_CLIENT_ERROR_INVALID_ARGUMENT,
  /* The framed stream ended inside a frame or carried an unknown stream type. */
  SV_CLIENT_ERROR_BAD_STREAM,
} SvClientError;

GQuark sv_client_error_quark (void);

void sv_client_error_clean (GError *error);
gboolean sv_client_error_is_not_found (const GError *error);

G_END_DECLS
