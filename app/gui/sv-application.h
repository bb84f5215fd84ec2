/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

#include "sv-client.h"

G_BEGIN_DECLS

#define SV_TYPE_APPLICATION (sv_application_get_type ())
G_DECLARE_FINAL_TYPE (SvApplication, sv_application, SV, APPLICATION, AdwApplication)

SvApplication *sv_application_new (void);

GDBusObjectManager *sv_application_get_objects (SvApplication *self);
SvDBusManager *sv_application_get_manager (SvApplication *self);
SvClientContainer *sv_application_lookup_container (SvApplication *self, const char *id);
SvClientImage *sv_application_lookup_image (SvApplication *self, const char *id);

G_END_DECLS
