/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

#include "sv-client.h"

G_BEGIN_DECLS

#define SV_TYPE_PULL_DIALOG (sv_pull_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SvPullDialog, sv_pull_dialog, SV, PULL_DIALOG, AdwWindow)

SvPullDialog *sv_pull_dialog_new (GtkWindow *parent, SvDBusManager *manager);
void sv_pull_dialog_start (SvPullDialog *self, const char *reference);

G_END_DECLS
