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
on_image_added (SvImageStore *store, SvImage *image, SvDaemon *self)
{
  SvImageObject *object = sv_image_object_new (self->images, self->containers, image,
                                                   self->authority);

  g_hash_table_replace (self->image_objects, image_id (image), object);
  g_dbus_object_manager_server_export (
      self->object_manager, G_DBUS_OBJECT_SKELETON (sv_image_object_get_object (object)));
}

static void
on_image_removed (SvImageStore *store, SvImage *image, SvDaemon *self)
{
  g_autofree char *id = image_id (image);
  g_autofree char *path = sv_image_object_path_for (id);

  g_dbus_object_manager_server_unexport (self->object_manager, path);
  g_hash_table_remove (self->image_objects, id);
}

static void
on_image_changed (SvImageStore *store, SvImage *image, SvDaemon *self)
{
  g_autofree char *id = image_id (image);
  SvImageObject *object = g_hash_table_lookup (self->image_objects, id);

  if (object != NULL)
    sv_image_object_sync (object);
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
  g_auto (GStrv) references = NULL;
  g_autofree char *fd_path = NULL;
  g_auto (SvFd) fd = -1;
  int index = g_variant_get_handle (archive);

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

  /* NOTE: the load runs on the main loop, so servind handles no other
   * request while a large archive unpacks. */
  fd_path = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_info ("Loading an image archive for %s", g_dbus_method_invocation_get_sender (invocation));
  references = sv_image_load_archive (self->content, self->layers, self->images, fd_path, NULL,
                                      &error);
  if (references == NULL)
    {
      /* The loader names the archive by its descriptor path, which means nothing to the caller. */
      g_autofree char *spaced_path = g_strconcat (" ", fd_path, NULL);
      g_auto (GStrv) parts = g_strsplit (error->message, spaced_path, -1);
      g_autofree char *message = g_strjoinv ("", parts);

      g_free (error->message);
      error->message = g_steal_pointer (&message);
      sv_helper_return_error (invocation, error);
      return TRUE;
    }
  sv_dbus_manager_complete_load (manager, invocation, (const char *const *) references);
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
    on_image_added (self->images, g_ptr_array_index (images, i), self);
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
