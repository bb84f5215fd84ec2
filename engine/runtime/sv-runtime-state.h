/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* The record servin-runtime keeps in ROOT/ID/state.json for one container. */
typedef struct
{
  char *id;
  char *folder; /* ROOT/ID */
  pid_t pid;
  guint64 start_time; /* field 22 of /proc/PID/stat, to tell a reused pid apart */
  char *bundle;
  char *rootfs;
  char *created; /* RFC 3339 with nanoseconds */
  char *oci_version;
  char **cgroup_paths;   /* leaf cgroup folders that delete removes */
  JsonNode *annotations; /* object or NULL */
  JsonNode *poststart;   /* hooks.poststart array for start, or NULL */
  JsonNode *poststop;    /* hooks.poststop array for delete, or NULL */
} SvRuntimeState;

SvRuntimeState *sv_runtime_state_load (const char *root, const char *id, GError **error);
gboolean sv_runtime_state_save (SvRuntimeState *state, GError **error);
void sv_runtime_state_free (SvRuntimeState *state);

gboolean sv_runtime_state_is_alive (SvRuntimeState *state);
const char *sv_runtime_state_status (SvRuntimeState *state);
char *sv_runtime_state_to_json (SvRuntimeState *state);
char *sv_runtime_state_to_hook_json (SvRuntimeState *state, const char *status);

guint64 sv_process_start_time (pid_t pid, char *run_state);
gboolean sv_runtime_id_is_valid (const char *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvRuntimeState, sv_runtime_state_free)

G_END_DECLS
