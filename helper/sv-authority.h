/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The annotation in data/org.servin.Servin1.xml naming each method's polkit action. */
#define SV_ACTION_ANNOTATION "org.servin.Servin1.Action"

#define SV_TYPE_AUTHORITY (sv_authority_get_type ())
G_DECLARE_FINAL_TYPE (SvAuthority, sv_authority, SV, AUTHORITY, GObject)

SvAuthority *sv_authority_new (GError **error);
void sv_authority_guard (SvAuthority *self, GDBusInterfaceSkeleton *skeleton);

G_END_DECLS
