/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-authority.h"

#include <polkit/polkit.h>

#include "sv-dbus-error.h"

/* The one authorisation hook of servind: every method call on every
 * exported interface passes through sv_authority_authorize_method before
 * its handler runs. The polkit action comes from the method's annotation in
 * the introspection XML, so a method without one is refused. */
struct _SvAuthority
{
  GObject parent_instance;

  PolkitAuthority *authority;
};

G_DEFINE_FINAL_TYPE (SvAuthority, sv_authority, G_TYPE_OBJECT)

static void
sv_authority_finalize (GObject *object)
{
  SvAuthority *self = SV_AUTHORITY (object);

  g_clear_object (&self->authority);
  G_OBJECT_CLASS (sv_authority_parent_class)->finalize (object);
}

static void
sv_authority_class_init (SvAuthorityClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_authority_finalize;
}

static void
sv_authority_init (SvAuthority *self)
{
}

SvAuthority *
sv_authority_new (GError **error)
{
  g_autoptr (SvAuthority) self = g_object_new (SV_TYPE_AUTHORITY, NULL);

  self->authority = polkit_authority_get_sync (NULL, error);
  if (self->authority == NULL)
    {
      g_prefix_error (error, "cannot reach polkit on the system bus: ");
      return NULL;
    }
  return g_steal_pointer (&self);
}

static const char *
lookup_action (GDBusMethodInvocation *invocation)
{
  const GDBusMethodInfo *info = g_dbus_method_invocation_get_method_info (invocation);

  if (info == NULL)
    return NULL;
  return g_dbus_annotation_info_lookup (info->annotations, SV_ACTION_ANNOTATION);
}

/* Runs in a thread GDBus dedicates to this call, so the blocking polkit
 * check, which may wait for an authentication dialog, holds up no one else. */
static gboolean
sv_authority_authorize_method (GDBusInterfaceSkeleton *skeleton,
                               GDBusMethodInvocation *invocation,
                               SvAuthority *self)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  const char *path = g_dbus_method_invocation_get_object_path (invocation);
  const char *action = lookup_action (invocation);
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);
  PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
  g_autoptr (PolkitSubject) subject = NULL;
  g_autoptr (PolkitDetails) details = NULL;
  g_autoptr (PolkitAuthorizationResult) result = NULL;
  g_autoptr (GError) error = NULL;

  if (action == NULL)
    {
      g_warning ("Refused %s on %s from %s: the method names no polkit action", method, path,
                 sender);
      g_dbus_method_invocation_return_error (invocation, SV_DBUS_ERROR,
                                             SV_DBUS_ERROR_NOT_AUTHORIZED,
                                             "method %s has no authorization rule", method);
      return FALSE;
    }

  if (g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
    flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;

  subject = polkit_system_bus_name_new (sender);
  details = polkit_details_new ();
  polkit_details_insert (details, "method", method);
  polkit_details_insert (details, "object", path);

  result = polkit_authority_check_authorization_sync (self->authority, subject, action, details,
                                                      flags, NULL, &error);
  if (result == NULL)
    {
      g_warning ("Refused %s on %s from %s: polkit check of %s failed: %s", method, path, sender,
                 action, error->message);
      g_dbus_method_invocation_return_error (invocation, SV_DBUS_ERROR,
                                             SV_DBUS_ERROR_NOT_AUTHORIZED,
                                             "cannot check authorization for %s: %s", action,
                                             error->message);
      return FALSE;
    }

  if (!polkit_authorization_result_get_is_authorized (result))
    {
      gboolean challenge = polkit_authorization_result_get_is_challenge (result);

      g_info ("Refused %s on %s from %s: not authorized for %s", method, path, sender, action);
      g_dbus_method_invocation_return_error (
          invocation, SV_DBUS_ERROR, SV_DBUS_ERROR_NOT_AUTHORIZED,
          "not authorized to call %s: the polkit action %s was not granted. %s", method, action,
          challenge ? "It needs an administrator's password, and no authentication agent "
                      "answered; run the command as root, or ask an administrator to add you "
                      "to the servin group (usermod -aG servin USER) and log in again"
                    : "Ask an administrator to add you to the servin group "
                      "(usermod -aG servin USER), then log in again");
      return FALSE;
    }

  g_debug ("Authorized %s on %s from %s for %s", method, path, sender, action);
  return TRUE;
}

/* Check every method call on @skeleton before its handler runs. With a
 * g-authorize-method handler connected, GDBus runs the check in a worker
 * thread and then the method's handler back in the main context. */
void
sv_authority_guard (SvAuthority *self, GDBusInterfaceSkeleton *skeleton)
{
  g_signal_connect_object (skeleton, "g-authorize-method",
                           G_CALLBACK (sv_authority_authorize_method), self, 0);
}
