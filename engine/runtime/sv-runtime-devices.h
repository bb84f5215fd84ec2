/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "sv-runtime-spec.h"

G_BEGIN_DECLS

gboolean sv_devices_apply (const char *v1_folder, const char *v2_folder,
                           const SvResources *resources, GPtrArray *devices, GError **error);

G_END_DECLS
