/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* The record servin-runtime keeps in ROOT/ID/state for one container. It is a GLib key file, so
 * that the commands after create read it without a JSON library. */
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
  char **cgroup_paths; /* leaf cgroup folders that delete removes */
  char *annotations;   /* JSON object text, or NULL */
  char *poststart;     /* JSON array text of hooks.poststart, for start, or NULL */
  char *poststop;      /* JSON array text of hooks.poststop, for delete, or NULL */
} SvRuntimeState;

SvRuntimeState *sv_runtime_state_load (const char *root, const char *id, GError **error);
gboolean sv_runtime_state_save (SvRuntimeState *state, GError **error);
void sv_runtime_state_free (SvRuntimeState *state);
void sv_runtime_state_remove_folder (const char *folder);

gboolean sv_runtime_state_is_alive (SvRuntimeState *state);
int sv_runtime_state_open_pidfd (SvRuntimeState *state);
const char *sv_runtime_state_status (SvRuntimeState *state);
char *sv_runtime_state_to_json (SvRuntimeState *state, const char *status, gboolean pretty);

guint64 sv_process_start_time (pid_t pid, char *run_state);
gboolean sv_runtime_id_is_valid (const char *id);
void sv_json_append_string (GString *out, const char *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvRuntimeState, sv_runtime_state_free)

G_END_DECLS
