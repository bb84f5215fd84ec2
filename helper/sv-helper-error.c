/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-helper-error.h"

#include "sv-dbus-error.h"
#include "sv-engine-error.h"

static SvDBusError
map_engine_code (int code)
{
  switch ((SvEngineError) code)
    {
    case SV_ENGINE_ERROR_NOT_FOUND:
      return SV_DBUS_ERROR_NOT_FOUND;
    case SV_ENGINE_ERROR_CONFLICT:
      return SV_DBUS_ERROR_CONFLICT;
    case SV_ENGINE_ERROR_INVALID_ARGUMENT:
      return SV_DBUS_ERROR_INVALID_ARGUMENT;
    case SV_ENGINE_ERROR_DIGEST_MISMATCH:
      return SV_DBUS_ERROR_DIGEST_MISMATCH;
    case SV_ENGINE_ERROR_UNREACHABLE:
      return SV_DBUS_ERROR_UNREACHABLE;
    case SV_ENGINE_ERROR_UNSAFE_PATH:
      return SV_DBUS_ERROR_UNSAFE_PATH;
    case SV_ENGINE_ERROR_UNSUPPORTED:
      return SV_DBUS_ERROR_UNSUPPORTED;
    case SV_ENGINE_ERROR_NOT_RUNNING:
      return SV_DBUS_ERROR_NOT_RUNNING;
    case SV_ENGINE_ERROR_AUTHENTICATION_FAILED:
      return SV_DBUS_ERROR_AUTHENTICATION_FAILED;
    case SV_ENGINE_ERROR_FAILED:
    default:
      return SV_DBUS_ERROR_FAILED;
    }
}

/* Translate an engine or GIO error into the org.servin.Servin1.Error domain,
 * keeping its message, so clients can act on the code. */
GError *
sv_helper_error_to_dbus (const GError *error)
{
  SvDBusError code = SV_DBUS_ERROR_FAILED;

  if (error->domain == SV_DBUS_ERROR)
    return g_error_copy (error);
  if (error->domain == SV_ENGINE_ERROR)
    code = map_engine_code (error->code);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    code = SV_DBUS_ERROR_CANCELLED;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    code = SV_DBUS_ERROR_NOT_FOUND;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    code = SV_DBUS_ERROR_INVALID_ARGUMENT;

  return g_error_new_literal (SV_DBUS_ERROR, code, error->message);
}

/* Return @error to the caller of @invocation and log the failed request with
 * the object it was made on and the caller. */
void
sv_helper_return_error (GDBusMethodInvocation *invocation, const GError *error)
{
  g_autoptr (GError) dbus_error = sv_helper_error_to_dbus (error);

  g_message ("Request %s on %s from %s failed: %s",
             g_dbus_method_invocation_get_method_name (invocation),
             g_dbus_method_invocation_get_object_path (invocation),
             g_dbus_method_invocation_get_sender (invocation), error->message);
  g_dbus_method_invocation_return_gerror (invocation, dbus_error);
}
