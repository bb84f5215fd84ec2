/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

GBytes *sv_seccomp_compile (JsonObject *seccomp, unsigned int *filter_flags, GError **error);
gboolean sv_seccomp_parse_flags (JsonObject *seccomp, unsigned int *filter_flags, GError **error);

/* Returns the BPF program of linux.seccomp from the cache under root, the runtime's state
 * folder, or compiles it with sv_seccomp_compile and stores it there. */
GBytes *sv_seccomp_load_program (JsonObject *seccomp, const char *root, unsigned int *filter_flags,
                                 GError **error);

G_END_DECLS
