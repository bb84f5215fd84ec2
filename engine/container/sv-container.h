/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  SV_CONTAINER_STATE_CREATED,
  SV_CONTAINER_STATE_RUNNING,
  SV_CONTAINER_STATE_EXITED,
} SvContainerState;

#define SV_TYPE_CONTAINER_STATE (sv_container_state_get_type ())
GType sv_container_state_get_type (void);
const char *sv_container_state_to_string (SvContainerState state);

#define SV_TYPE_CONTAINER (sv_container_get_type ())
G_DECLARE_FINAL_TYPE (SvContainer, sv_container, SV, CONTAINER, GObject)

const char *sv_container_get_id (SvContainer *self);
const char *sv_container_get_name (SvContainer *self);
const char *sv_container_get_image (SvContainer *self);
const char *sv_container_get_image_id (SvContainer *self);
const char *sv_container_get_command (SvContainer *self);
SvContainerState sv_container_get_state (SvContainer *self);
int sv_container_get_exit_code (SvContainer *self);
gboolean sv_container_get_oom_killed (SvContainer *self);
guint64 sv_container_get_created (SvContainer *self);
guint64 sv_container_get_started_at (SvContainer *self);
guint64 sv_container_get_finished_at (SvContainer *self);
int sv_container_get_pid (SvContainer *self);
gboolean sv_container_get_auto_remove (SvContainer *self);
const char *const *sv_container_get_labels (SvContainer *self);
const char *sv_container_get_log_path (SvContainer *self);

JsonObject *sv_container_get_inspect (SvContainer *self);

int sv_container_attach (SvContainer *self, GError **error);
gboolean sv_container_start (SvContainer *self, GError **error);
void sv_container_stop_async (SvContainer *self, guint timeout_seconds, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean sv_container_stop_finish (SvContainer *self, GAsyncResult *result, GError **error);
gboolean sv_container_kill (SvContainer *self, int signal, GError **error);
void sv_container_wait_async (SvContainer *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
int sv_container_wait_finish (SvContainer *self, GAsyncResult *result, GError **error);
int sv_container_open_logs (SvContainer *self, gboolean follow, gboolean timestamps, int tail,
                            GError **error);

G_END_DECLS
