/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean sv_helper_lookup_option (GVariant *options,
                                  const char *method,
                                  const char *key,
                                  const char *type,
                                  gpointer value,
                                  GError **error);

G_END_DECLS
