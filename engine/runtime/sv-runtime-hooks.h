/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

gboolean sv_hooks_validate (JsonArray *hooks, const char *name, GError **error);
gboolean sv_hooks_run (JsonArray *hooks, const char *name, const char *state_json, GError **error);

G_END_DECLS
