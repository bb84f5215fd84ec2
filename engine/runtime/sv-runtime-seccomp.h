/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

GBytes *sv_seccomp_compile (JsonObject *seccomp, unsigned int *filter_flags, GError **error);

G_END_DECLS
