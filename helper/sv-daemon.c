/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-daemon.h"

#include <gio/gunixfdlist.h>
#include <string.h>

#include "sv-authority.h"
#include "sv-build-config.h"
#include "sv-container-object.h"
#include "sv-container-store.h"
#include "sv-content-store.h"
#include "sv-dbus-error.h"
#include "sv-dbus-generated.h"
#include "sv-engine-error.h"
#include "sv-helper-error.h"
#include "sv-image-loader.h"
#include "sv-image-object.h"
#include "sv-image-store.h"
#include "sv-job.h"
#include "sv-layer-store.h"
#include "sv-puller.h"

#define SV_OBJECT_MANAGER_PATH "/org/servin/Servin1"
#define SV_MANAGER_PATH "/org/servin/Servin1/Manager"

/* A completed job stays on the bus this long, so clients can read its result. */
#define JOB_LINGER_SECONDS 300

/* servind's state: the engine's stores and the objects exported for them. */
struct _SvDaemon
{
  GObject parent_instance;

  SvConfig *config;
  SvContentStore *content;
  SvLayerStore *layers;
  SvImageStore *images;
  SvContainerStore *containers;
  SvPuller *puller;
  SvAuthority *authority;

  GDBusConnection *connection;
  GDBusObjectManagerServer *object_manager;
  SvDBusObjectSkeleton *manager_object;
  SvDBusManager *manager;

  GHashTable *container_objects; /* SvContainer* -> SvContainerObject* */
  GHashTable *image_objects;     /* image id -> SvImageObject* */
  GHashTable *exported_images;   /* image id -> the SvImage its exported object shows */
  GMainContext *main_context;    /* where D-Bus objects are exported */
  GHashTable *jobs;              /* object path -> SvJob* */
  guint next_job_number;
};

G_DEFINE_FINAL_TYPE (SvDaemon, sv_daemon, G_TYPE_OBJECT)

static void
sv_daemon_finalize (GObject *object)
{
  SvDaemon *self = SV_DAEMON (object);

  g_clear_pointer (&self->container_objects, g_hash_table_unref);
  g_clear_pointer (&self->image_objects, g_hash_table_unref);
  g_clear_pointer (&self->exported_images, g_hash_table_unref);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_clear_pointer (&self->jobs, g_hash_table_unref);
  g_clear_object (&self->manager);
  g_clear_object (&self->manager_object);
  g_clear_object (&self->object_manager);
  g_clear_object (&self->connection);
  g_clear_object (&self->puller);
  g_clear_object (&self->containers);
  g_clear_object (&self->images);
  g_clear_object (&self->layers);
  g_clear_object (&self->content);
  g_clear_object (&self->authority);
  g_clear_object (&self->config);
  G_OBJECT_CLASS (sv_daemon_parent_class)->finalize (object);
}

static void
sv_daemon_class_init (SvDaemonClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_daemon_finalize;
}

static void
sv_daemon_init (SvDaemon *self)
{
  self->container_objects = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->image_objects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->exported_images = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->main_context = g_main_context_ref_thread_default ();
  self->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

/* Containers */

static void
export_container (SvDaemon *self, SvContainer *container)
{
  SvContainerObject *object = sv_container_object_new (self->containers, container,
                                                       self->authority);

  g_hash_table_replace (self->container_objects, container, object);
  g_dbus_object_manager_server_export (
      self->object_manager, G_DBUS_OBJECT_SKELETON (sv_container_object_get_object (object)));
}

static void
on_container_added (SvContainerStore *store, SvContainer *container, SvDaemon *self)
{
  export_container (self, container);
}

static void
on_container_removed (SvContainerStore *store, SvContainer *container, SvDaemon *self)
{
  SvContainerObject *object = g_hash_table_lookup (self->container_objects, container);
  const char *path;

  if (object == NULL)
    return;
  path = g_dbus_object_get_object_path (G_DBUS_OBJECT (sv_container_object_get_object (object)));
  g_dbus_object_manager_server_unexport (self->object_manager, path);
  g_hash_table_remove (self->container_objects, container);
}

/* Images */

static char *
image_id (SvImage *image)
{
  char *id = NULL;

  g_object_get (image, "id", &id, NULL);
  return id;
}

static void
unexport_image (SvDaemon *self, const char *id)
{
  g_autofree char *path = sv_image_object_path_for (id);

  g_dbus_object_manager_server_unexport (self->object_manager, path);
  g_hash_table_remove (self->image_objects, id);
  g_hash_table_remove (self->exported_images, id);
}

static void
export_image (SvDaemon *self, SvImage *image)
{
  SvImageObject *object
      = sv_image_object_new (self->images, self->containers, image, self->authority);

  g_hash_table_replace (self->image_objects, image_id (image), object);
  g_hash_table_replace (self->exported_images, image_id (image), g_object_ref (image));
  g_dbus_object_manager_server_export (
      self->object_manager, G_DBUS_OBJECT_SKELETON (sv_image_object_get_object (object)));
}

/* Makes the exported object of image @id match the store: exported while the store has
 * the image, showing its current tags, and gone once it is removed. Reading the store's
 * state, not the signal that led here, keeps the result right when changes from several
 * threads arrive out of order. Runs on the main context only. */
static void
sync_image (SvDaemon *self, const char *id)
{
  g_autoptr (SvImage) image = sv_image_store_lookup (self->images, id, NULL);
  SvImageObject *object = g_hash_table_lookup (self->image_objects, id);
  SvImage *exported = g_hash_table_lookup (self->exported_images, id);

  if (image == NULL)
    {
      if (object != NULL)
        unexport_image (self, id);
      return;
    }

  if (object != NULL && exported == image)
    {
      sv_image_object_sync (object);
      return;
    }

  /* The image was removed and added again since the object was exported. */
  if (object != NULL)
    unexport_image (self, id);
  export_image (self, image);
}

typedef struct
{
  SvDaemon *daemon;
  char *id;
} ImageSync;

static void
image_sync_free (ImageSync *sync)
{
  g_object_unref (sync->daemon);
  g_free (sync->id);
  g_free (sync);
}

static gboolean
on_image_sync_idle (gpointer user_data)
{
  ImageSync *sync = user_data;

  sync_image (sync->daemon, sync->id);
  return G_SOURCE_REMOVE;
}

/* The image store emits its signals in the thread that made the change, which is a
 * worker thread for a Load. D-Bus objects are exported from the main context only, so
 * a change from another thread is synced from there, later. */
static void
queue_image_sync (SvDaemon *self, SvImage *image)
{
  g_autofree char *id = image_id (image);
  g_autoptr (GSource) source = NULL;
  ImageSync *sync;

  if (g_main_context_is_owner (self->main_context))
    {
      sync_image (self, id);
      return;
    }

  sync = g_new0 (ImageSync, 1);
  sync->daemon = g_object_ref (self);
  sync->id = g_steal_pointer (&id);
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, on_image_sync_idle, sync, (GDestroyNotify)image_sync_free);
  g_source_attach (source, self->main_context);
}

static void
on_image_added (SvImageStore *store, SvImage *image, SvDaemon *self)
{
  queue_image_sync (self, image);
}

static void
on_image_removed (SvImageStore *store, SvImage *image, SvDaemon *self)
{
  queue_image_sync (self, image);
}

static void
on_image_changed (SvImageStore *store, SvImage *image, SvDaemon *self)
{
  queue_image_sync (self, image);
}

/* Jobs */

static void
remove_job (SvDaemon *self, SvJob *job)
{
  g_autofree char *path = g_strdup (
      g_dbus_object_get_object_path (G_DBUS_OBJECT (sv_job_get_object (job))));

  g_debug ("Removing job %s", path);
  g_dbus_object_manager_server_unexport (self->object_manager, path);
  g_hash_table_remove (self->jobs, path);
}

typedef struct
{
  SvDaemon *daemon;
  SvJob *job;
  guint watch_id;
  gboolean owner_gone;
} JobWatch;

static void
job_watch_free (JobWatch *watch)
{
  if (watch->watch_id != 0)
    g_bus_unwatch_name (watch->watch_id);
  g_object_unref (watch->job);
  g_object_unref (watch->daemon);
  g_free (watch);
}

static gboolean
on_job_linger_done (gpointer user_data)
{
  JobWatch *watch = user_data;

  remove_job (watch->daemon, watch->job);
  job_watch_free (watch);
  return G_SOURCE_REMOVE;
}

static void
on_job_finished (SvJob *job, JobWatch *watch)
{
  if (watch->owner_gone)
    on_job_linger_done (watch);
  else
    g_timeout_add_seconds (JOB_LINGER_SECONDS, on_job_linger_done, watch);
}

/* A caller that leaves the bus no longer needs its job's result: a finished
 * job goes at once, a running one as soon as it finishes. */
static void
on_job_owner_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  JobWatch *watch = user_data;

  watch->owner_gone = TRUE;
  if (sv_job_get_completed (watch->job))
    {
      g_clear_handle_id (&watch->watch_id, g_bus_unwatch_name);
      g_source_remove_by_user_data (watch);
      on_job_linger_done (watch);
    }
}

static SvJob *
add_job (SvDaemon *self, const char *operation, const char *target, const char *owner)
{
  g_autofree char *path = g_strdup_printf ("%s/jobs/%u", SV_OBJECT_MANAGER_PATH,
                                           ++self->next_job_number);
  SvJob *job = sv_job_new (path, operation, target, owner);
  JobWatch *watch = g_new0 (JobWatch, 1);
  SvDBusJob *iface = sv_dbus_object_get_job (SV_DBUS_OBJECT (sv_job_get_object (job)));

  sv_authority_guard (self->authority, G_DBUS_INTERFACE_SKELETON (iface));
  g_object_unref (iface);
  g_hash_table_insert (self->jobs, g_strdup (path), job);
  g_dbus_object_manager_server_export (self->object_manager,
                                       G_DBUS_OBJECT_SKELETON (sv_job_get_object (job)));

  watch->daemon = g_object_ref (self);
  watch->job = g_object_ref (job);
  watch->watch_id = g_bus_watch_name_on_connection (self->connection, owner,
                                                    G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                                    on_job_owner_vanished, watch, NULL);
  g_signal_connect (job, "finished", G_CALLBACK (on_job_finished), watch);
  return job;
}

/* Manager methods */

static gboolean
on_handle_info (SvDBusManager *manager, GDBusMethodInvocation *invocation, SvDaemon *self)
{
  g_autoptr (GPtrArray) containers = sv_container_store_list (self->containers);
  g_autoptr (GPtrArray) images = sv_image_store_list (self->images);
  GVariantDict info;
  guint running = 0;

  for (guint i = 0; i < containers->len; i++)
    {
      int state = 0;

      g_object_get (g_ptr_array_index (containers, i), "state", &state, NULL);
      if (state == SV_CONTAINER_STATE_RUNNING)
        running++;
    }

  g_variant_dict_init (&info, NULL);
  g_variant_dict_insert (&info, "Containers", "u", containers->len);
  g_variant_dict_insert (&info, "ContainersRunning", "u", running);
  g_variant_dict_insert (&info, "Images", "u", images->len);
  g_variant_dict_insert (&info, "DataRoot", "s", sv_config_get_data_root (self->config));
  g_variant_dict_insert (&info, "Runtime", "s", sv_config_get_runtime (self->config));
  sv_dbus_manager_complete_info (manager, invocation, g_variant_dict_end (&info));
  return TRUE;
}

static gboolean
on_handle_create (SvDBusManager *manager,
                  GDBusMethodInvocation *invocation,
                  const char *name,
                  GVariant *config,
                  SvDaemon *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SvContainer) container = NULL;
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;

  container = sv_container_store_create (self->containers, *name != '\0' ? name : NULL, config,
                                         &error);
  if (container == NULL)
    {
      sv_helper_return_error (invocation, error);
      return TRUE;
    }

  g_object_get (container, "id", &id, NULL);
  g_info ("Created container %s for %s", id, g_dbus_method_invocation_get_sender (invocation));
  path = sv_container_object_path_for (id);
  sv_dbus_manager_complete_create (manager, invocation, path);
  return TRUE;
}

static void
on_pull_progress (guint64 done, guint64 total, const char *status, gpointer user_data)
{
  sv_job_set_progress (SV_JOB (user_data), done, total, status);
}

static void
on_pull_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SvJob) job = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SvImage) image = sv_puller_pull_finish (SV_PULLER (source), result, &error);
  const char *path = g_dbus_object_get_object_path (G_DBUS_OBJECT (sv_job_get_object (job)));
  g_autofree char *id = NULL;

  if (image == NULL)
    {
      g_message ("Pull job %s failed: %s", path, error->message);
      sv_job_complete (job, NULL, error);
      return;
    }

  id = image_id (image);
  g_info ("Pull job %s done: image %s", path, id);
  sv_job_complete (job, id, NULL);
}

/* The string option @key of a Pull call, or NULL when absent; an error when
 * it has another type. */
static gboolean
lookup_string_option (GVariant *options, const char *key, const char **value, GError **error)
{
  g_autoptr (GVariant) variant = g_variant_lookup_value (options, key, NULL);

  *value = NULL;
  if (variant == NULL)
    return TRUE;
  if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid pull option %s: expected a string (s), got type %s", key,
                   g_variant_get_type_string (variant));
      return FALSE;
    }
  *value = g_variant_get_string (variant, NULL);
  return TRUE;
}

/* Credentials from the Username and Password options, or NULL when both are
 * absent. The error never contains the password. */
static gboolean
parse_pull_credentials (GVariant *options, SvRegistryCredentials **credentials, GError **error)
{
  const char *username = NULL;
  const char *password = NULL;

  *credentials = NULL;
  if (!lookup_string_option (options, "Username", &username, error)
      || !lookup_string_option (options, "Password", &password, error))
    return FALSE;
  if (username == NULL && password == NULL)
    return TRUE;
  if (username == NULL || *username == '\0' || password == NULL)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "invalid pull options: Username and Password go together, and "
                           "Username must not be empty");
      return FALSE;
    }
  if (strchr (username, ':') != NULL)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                           "invalid pull option Username: it must not contain \":\", which HTTP "
                           "Basic authentication uses as the separator");
      return FALSE;
    }
  *credentials = sv_registry_credentials_new (username, password);
  return TRUE;
}

static gboolean
on_handle_pull (SvDBusManager *manager,
                GDBusMethodInvocation *invocation,
                const char *reference,
                GVariant *options,
                SvDaemon *self)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  const char *platform = NULL;
  g_autoptr (SvRegistryCredentials) credentials = NULL;
  g_autoptr (GError) error = NULL;
  SvJob *job;
  const char *path;

  if (!lookup_string_option (options, "Platform", &platform, &error)
      || !parse_pull_credentials (options, &credentials, &error))
    {
      sv_helper_return_error (invocation, error);
      return TRUE;
    }
  job = add_job (self, "pull", reference, sender);
  path = g_dbus_object_get_object_path (G_DBUS_OBJECT (sv_job_get_object (job)));
  /* Only whether credentials came with the call is logged, never them. */
  g_info ("Pulling %s as job %s for %s%s", reference, path, sender,
          credentials != NULL ? " with the caller's credentials" : "");

  sv_puller_pull_async (self->puller, reference, platform, credentials,
                        sv_job_get_cancellable (job),
                        on_pull_progress, g_object_ref (job), g_object_unref, on_pull_done,
                        g_object_ref (job));
  sv_dbus_manager_complete_pull (manager, invocation, path);
  return TRUE;
}

/* A Load running in a worker thread. */
typedef struct
{
  SvContentStore *content;
  SvLayerStore *layers;
  SvImageStore *images;
  SvDBusManager *manager;
  GDBusMethodInvocation *invocation; /* owned until the call is completed */
  int fd;
  GCancellable *cancellable; /* cancelled when the caller leaves the bus */
  guint watch_id;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_object_unref (data->content);
  g_object_unref (data->layers);
  g_object_unref (data->images);
  g_object_unref (data->manager);
  g_clear_object (&data->invocation);
  sv_fd_close (data->fd);
  g_object_unref (data->cancellable);
  g_free (data);
}

/* Each load has a thread of its own, not one of GTask's shared pool. A caller can keep
 * a load waiting on a pipe for as long as it stays on the bus, and the pool's few
 * threads also unpack the layers of pulls. */
static gpointer
load_in_thread (gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  LoadData *data = g_task_get_task_data (task);
  GError *error = NULL;
  GStrv references;

  references = sv_image_load_archive_fd (data->content, data->layers, data->images, data->fd,
                                         data->cancellable, &error);
  if (references == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, references, (GDestroyNotify)g_strfreev);
  return NULL;
}

static void
on_load_caller_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  LoadData *data = user_data;

  g_info ("Cancelling the load for %s, which left the bus", name);
  g_cancellable_cancel (data->cancellable);
}

/* Runs on the main context, after the images the load added were exported. */
static void
on_load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LoadData *data = g_task_get_task_data (G_TASK (result));
  g_autofree char *sender = g_strdup (g_dbus_method_invocation_get_sender (data->invocation));
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) references = g_task_propagate_pointer (G_TASK (result), &error);

  /* The last reference to the task may go in the load's thread, so the watch, which
   * calls back on the main context, ends here. */
  g_clear_handle_id (&data->watch_id, g_bus_unwatch_name);

  if (references == NULL)
    {
      sv_helper_return_error (g_steal_pointer (&data->invocation), error);
      return;
    }

  g_info ("Loaded an image archive for %s: %u references", sender, g_strv_length (references));
  sv_dbus_manager_complete_load (data->manager, g_steal_pointer (&data->invocation),
                                 (const char *const *)references);
}

/* The load reads the archive in a worker thread, so a slow or stalled writer of the
 * descriptor never holds up other requests. */
static gboolean
on_handle_load (SvDBusManager *manager,
                GDBusMethodInvocation *invocation,
                GVariant *archive,
                GVariant *options,
                SvDaemon *self)
{
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);
  GUnixFDList *fd_list = g_dbus_message_get_unix_fd_list (message);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTask) task = NULL;
  g_autoptr (GThread) thread = NULL;
  LoadData *data;
  int index = g_variant_get_handle (archive);
  int fd;

  if (fd_list == NULL || index < 0 || index >= g_unix_fd_list_get_length (fd_list))
    {
      error = g_error_new (SV_DBUS_ERROR, SV_DBUS_ERROR_INVALID_ARGUMENT,
                           "Load needs a readable file descriptor of the archive");
      sv_helper_return_error (invocation, error);
      return TRUE;
    }

  fd = g_unix_fd_list_get (fd_list, index, &error);
  if (fd < 0)
    {
      sv_helper_return_error (invocation, error);
      return TRUE;
    }

  g_info ("Loading an image archive for %s", g_dbus_method_invocation_get_sender (invocation));
  data = g_new0 (LoadData, 1);
  data->content = g_object_ref (self->content);
  data->layers = g_object_ref (self->layers);
  data->images = g_object_ref (self->images);
  data->manager = g_object_ref (manager);
  /* The handler owns @invocation and hands it to the task, which completes it. */
  data->invocation = invocation;
  data->fd = fd;
  data->cancellable = g_cancellable_new ();

  task = g_task_new (self, NULL, on_load_done, NULL);
  g_task_set_source_tag (task, on_handle_load);
  g_task_set_task_data (task, data, (GDestroyNotify)load_data_free);
  data->watch_id = g_bus_watch_name_on_connection (
      self->connection, g_dbus_method_invocation_get_sender (invocation),
      G_BUS_NAME_WATCHER_FLAGS_NONE, NULL, on_load_caller_vanished, data, NULL);

  thread = g_thread_try_new ("sv-load", load_in_thread, g_object_ref (task), &error);
  if (thread == NULL)
    {
      g_prefix_error (&error, "cannot start a thread to load the image archive: ");
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
    }
  return TRUE;
}

/* Setup */

SvDaemon *
sv_daemon_new (SvConfig *config, GError **error)
{
  g_autoptr (SvDaemon) self = g_object_new (SV_TYPE_DAEMON, NULL);
  const char *data_root = sv_config_get_data_root (config);

  self->config = g_object_ref (config);
  self->authority = sv_authority_new (error);
  if (self->authority == NULL)
    return NULL;

  self->content = sv_content_store_new (data_root, error);
  if (self->content == NULL)
    return NULL;
  self->layers = sv_layer_store_new (data_root, error);
  if (self->layers == NULL)
    return NULL;
  self->images = sv_image_store_new (self->content, self->layers, data_root, error);
  if (self->images == NULL)
    return NULL;
  /* servind is the only user of its data root, and no pull or load runs yet, so the
   * files in the tmp folder and the content no image uses are leftovers of a crash. */
  if (!sv_image_store_collect_garbage (self->images, error))
    return NULL;
  self->containers = sv_container_store_new (config, self->images, self->layers, error);
  if (self->containers == NULL)
    return NULL;
  self->puller = sv_puller_new (config, self->content, self->layers, self->images);
  return g_steal_pointer (&self);
}

static void
export_manager (SvDaemon *self)
{
  self->manager_object = sv_dbus_object_skeleton_new (SV_MANAGER_PATH);
  self->manager = sv_dbus_manager_skeleton_new ();
  sv_dbus_manager_set_version (self->manager, PACKAGE_VERSION);
  g_signal_connect_object (self->manager, "handle-info", G_CALLBACK (on_handle_info), self, 0);
  g_signal_connect_object (self->manager, "handle-create", G_CALLBACK (on_handle_create), self,
                           0);
  g_signal_connect_object (self->manager, "handle-pull", G_CALLBACK (on_handle_pull), self, 0);
  g_signal_connect_object (self->manager, "handle-load", G_CALLBACK (on_handle_load), self, 0);
  sv_authority_guard (self->authority, G_DBUS_INTERFACE_SKELETON (self->manager));
  sv_dbus_object_skeleton_set_manager (self->manager_object, self->manager);
  g_dbus_object_manager_server_export (self->object_manager,
                                       G_DBUS_OBJECT_SKELETON (self->manager_object));
}

/* Export the manager, every container and every image on @connection, and
 * follow the stores from now on. */
gboolean
sv_daemon_export (SvDaemon *self, GDBusConnection *connection, GError **error)
{
  g_autoptr (GPtrArray) containers = NULL;
  g_autoptr (GPtrArray) images = NULL;

  self->connection = g_object_ref (connection);
  self->object_manager = g_dbus_object_manager_server_new (SV_OBJECT_MANAGER_PATH);
  export_manager (self);

  images = sv_image_store_list (self->images);
  for (guint i = 0; i < images->len; i++)
    export_image (self, g_ptr_array_index (images, i));
  g_signal_connect_object (self->images, "image-added", G_CALLBACK (on_image_added), self, 0);
  g_signal_connect_object (self->images, "image-removed", G_CALLBACK (on_image_removed), self, 0);
  g_signal_connect_object (self->images, "image-changed", G_CALLBACK (on_image_changed), self, 0);

  containers = sv_container_store_list (self->containers);
  for (guint i = 0; i < containers->len; i++)
    export_container (self, g_ptr_array_index (containers, i));
  g_signal_connect_object (self->containers, "container-added", G_CALLBACK (on_container_added),
                           self, 0);
  g_signal_connect_object (self->containers, "container-removed",
                           G_CALLBACK (on_container_removed), self, 0);

  g_dbus_object_manager_server_set_connection (self->object_manager, connection);
  return TRUE;
}
