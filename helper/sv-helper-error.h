/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GError *sv_helper_error_to_dbus (const GError *error);
void sv_helper_return_error (GDBusMethodInvocation *invocation, const GError *error);

G_END_DECLS
