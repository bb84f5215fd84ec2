/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-dbus-generated.h"

G_BEGIN_DECLS

/* Calls of methods that pass file descriptors. The generated proxies carry
 * no descriptor lists for them, so these send the GUnixFDList themselves. */
int sv_client_container_attach (SvDBusContainer *container, GVariant *options,
                                GCancellable *cancellable, GError **error);
int sv_client_container_logs (SvDBusContainer *container, GVariant *options,
                              GCancellable *cancellable, GError **error);
char **sv_client_manager_load (SvDBusManager *manager, int archive_fd, GVariant *options,
                               GCancellable *cancellable, GError **error);

G_END_DECLS
