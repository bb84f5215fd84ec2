/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define SV_TYPE_CONFIG (sv_config_get_type ())
G_DECLARE_FINAL_TYPE (SvConfig, sv_config, SV, CONFIG, GObject)

SvConfig *sv_config_new_default (void);
SvConfig *sv_config_load (const char *path, GError **error);
SvConfig *sv_config_load_system (GError **error);
gboolean sv_config_merge_file (SvConfig *self, const char *path, GError **error);
void sv_config_apply_environment (SvConfig *self);

const char *sv_config_get_data_root (SvConfig *self);
const char *sv_config_get_runtime_state (SvConfig *self);
const char *sv_config_get_log_level (SvConfig *self);
const char *sv_config_get_runtime (SvConfig *self);
const char *sv_config_get_cgroup_parent (SvConfig *self);
const char *sv_config_get_log_file (SvConfig *self);
const char *const *sv_config_get_insecure_registries (SvConfig *self);
gboolean sv_config_is_insecure_registry (SvConfig *self, const char *host);
gboolean sv_config_get_registry_auth (SvConfig *self, const char *host, const char **username,
                                      const char **password);

void sv_config_set_data_root (SvConfig *self, const char *path);
void sv_config_set_runtime_state (SvConfig *self, const char *path);
void sv_config_set_log_level (SvConfig *self, const char *level);
void sv_config_set_log_file (SvConfig *self, const char *path);
void sv_config_set_runtime (SvConfig *self, const char *runtime);

G_END_DECLS
