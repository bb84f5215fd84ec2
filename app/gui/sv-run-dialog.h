/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SV_TYPE_RUN_DIALOG (sv_run_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SvRunDialog, sv_run_dialog, SV, RUN_DIALOG, AdwWindow)

SvRunDialog *sv_run_dialog_new (GtkWindow *parent, const char *image);

G_END_DECLS
