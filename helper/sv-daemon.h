/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-config.h"

G_BEGIN_DECLS

#define SV_TYPE_DAEMON (sv_daemon_get_type ())
G_DECLARE_FINAL_TYPE (SvDaemon, sv_daemon, SV, DAEMON, GObject)

SvDaemon *sv_daemon_new (SvConfig *config, GError **error);
gboolean sv_daemon_export (SvDaemon *self, GDBusConnection *connection, GError **error);

G_END_DECLS
