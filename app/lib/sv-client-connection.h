/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-dbus-generated.h"

G_BEGIN_DECLS

#define SV_CLIENT_BUS_NAME "org.servin.Servin1"
#define SV_CLIENT_ROOT_PATH "/org/servin/Servin1"
#define SV_CLIENT_MANAGER_PATH "/org/servin/Servin1/Manager"

/* The address GIO uses when DBUS_SYSTEM_BUS_ADDRESS is not set. */
#define SV_CLIENT_DEFAULT_SYSTEM_BUS "unix:path=/var/run/dbus/system_bus_socket"

#define SV_CLIENT_NO_SERVICE_ADVICE                                                                \
  "Start it with `servin daemon` as root, or install Servin's D-Bus service so the bus starts it"

GDBusObjectManager *sv_client_connect (GCancellable *cancellable, GError **error);
GDBusConnection *sv_client_connect_direct (char **owner, GCancellable *cancellable, GError **error);
void sv_client_connect_async (GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
GDBusObjectManager *sv_client_connect_finish (GAsyncResult *result, GError **error);
SvDBusManager *sv_client_get_manager (GDBusObjectManager *objects, GCancellable *cancellable,
                                      GError **error);
GDBusConnection *sv_client_get_connection (GDBusObjectManager *objects);
const char *sv_client_get_system_bus_address (void);
void sv_client_allow_interactive_authorization (GDBusObjectManager *objects);

G_END_DECLS
