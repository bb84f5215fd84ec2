/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "sv-config.h"
#include "sv-container.h"
#include "sv-layer-store.h"

G_BEGIN_DECLS

typedef void (*SvContainerExitFunc) (SvContainer *container, gpointer user_data);

struct _SvContainer
{
  GObject parent_instance;

  SvConfig *config;
  SvLayerStore *layers;

  /* Fixed at create */
  char *id;
  char *name;
  char *image;
  char *image_id;
  JsonObject *container_config; /* Docker's "Config": the image's merged with the options */
  char **diff_ids;              /* bottom layer first */
  JsonObject *host_config;      /* Docker's "HostConfig" resource fields and AutoRemove */
  gboolean auto_remove;
  guint64 created;
  char *command;
  char **labels;

  /* Paths */
  char *dir;       /* DATA_ROOT/containers/ID */
  char *log_path;  /* DIR/ID-json.log */
  char *state_dir; /* RUNTIME_STATE/c/SHORTID: bundle and monitor state */

  /* State, saved in the record */
  SvContainerState state;
  int exit_code;
  gboolean oom_killed; /* the kernel's OOM killer killed a process of the last run */
  guint64 started_at;
  guint64 finished_at;
  int pid;

  /* 1 while the container may still write to its log; read by log followers in threads */
  gint log_open;

  /* Connection to servin-monitor */
  GSocketConnection *ctl;
  GDataInputStream *ctl_in;
  GCancellable *ctl_cancellable;
  GQueue ctl_requests; /* of char*: the request each pending reply belongs to */
  GArray *pending_attach_fds;

  GList *waiters;  /* GTask* of wait_async */
  GList *stoppers; /* GTask* of stop_async */
  guint kill_timeout_id;
  guint liveness_id; /* polls a running container whose monitor could not be reached */
  gboolean removing; /* a forced removal waits for the exit; Start is rejected meanwhile */

  SvContainerExitFunc exit_func;
  gpointer exit_data;
};

SvContainer *sv_container_new_from_record (SvConfig *config, SvLayerStore *layers, const char *dir,
                                           GError **error);
SvContainer *sv_container_new (SvConfig *config, SvLayerStore *layers, const char *id,
                               const char *name, const char *image, const char *image_id,
                               JsonObject *container_config, JsonObject *host_config,
                               const char *const *diff_ids);
gboolean sv_container_save (SvContainer *self, GError **error);
void sv_container_set_exit_func (SvContainer *self, SvContainerExitFunc func, gpointer user_data);
char **sv_container_get_layer_paths (SvContainer *self, GError **error);
JsonObject *sv_container_generate_spec (SvContainer *self, gboolean for_start, GError **error);
void sv_container_notify_state (SvContainer *self);

/* sv-container-monitor.c */
void sv_container_recover (SvContainer *self);
void sv_container_kill_and_reap_async (SvContainer *self, GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean sv_container_kill_and_reap_finish (SvContainer *self, GAsyncResult *result,
                                            GError **error);
void sv_container_release_runtime_state (SvContainer *self);
void sv_container_disconnect (SvContainer *self);
void sv_container_fail_waiters (SvContainer *self, const GError *error);
gboolean sv_remove_tree (const char *path, GError **error);

G_END_DECLS
