/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* File name of the default seccomp profile in Servin's data folder. */
#define SV_CONTAINER_SECCOMP_PROFILE_NAME "seccomp-default.json"

/* Value of Create's SeccompProfile option that runs a container without a seccomp filter. */
#define SV_CONTAINER_SECCOMP_UNCONFINED "unconfined"

char *sv_container_seccomp_get_profile_path (void);
const char *sv_container_seccomp_get_native_arch (void);
JsonObject *sv_container_seccomp_load_profile (const char *path, GError **error);
JsonObject *sv_container_seccomp_filter (JsonObject *profile, const char *const *capabilities,
                                         const char *arch);
gboolean sv_container_seccomp_read_option (GVariant *options, JsonObject *host_config,
                                           GError **error);
gboolean sv_container_seccomp_is_unconfined (JsonObject *host_config);
gboolean sv_container_seccomp_add_to_linux (JsonObject *linux_object, JsonObject *host_config,
                                            const char *const *capabilities, GError **error);

G_END_DECLS
