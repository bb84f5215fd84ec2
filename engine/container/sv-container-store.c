/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-container-store.h"

#include "sv-container-private.h"
#include "sv-container-seccomp.h"
#include "sv-container-spec.h"
#include "sv-engine-error.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

struct _SvContainerStore
{
  GObject parent_instance;

  SvConfig *config;
  SvImageStore *images;
  SvLayerStore *layers;
  char *containers_dir;
  GHashTable *containers; /* id -> SvContainer* */
};

enum
{
  SIGNAL_CONTAINER_ADDED,
  SIGNAL_CONTAINER_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SvContainerStore, sv_container_store, G_TYPE_OBJECT)

/* Words of generated names, as docker's "adjective_surname" (surnames of scientists). */
static const char *const name_adjectives[] = {
  "admiring", "brave",  "busy",     "calm",    "clever",  "eager",    "elegant",  "focused",
  "gallant",  "gentle", "happy",    "hopeful", "jolly",   "keen",     "kind",     "lucid",
  "modest",   "nifty",  "patient",  "quirky",  "relaxed", "serene",   "sharp",    "stoic",
  "sweet",    "tender", "trusting", "upbeat",  "vibrant", "wizardly", "youthful", "zealous",
};

static const char *const name_surnames[] = {
  "agnesi",  "bardeen",  "bohr",     "curie",    "darwin", "dijkstra", "einstein", "euler",
  "faraday", "fermi",    "franklin", "galileo",  "gauss",  "hopper",   "hypatia",  "kepler",
  "lamarr",  "lovelace", "maxwell",  "meitner",  "newton", "noether",  "pasteur",  "planck",
  "ritchie", "shannon",  "tesla",    "thompson", "turing", "wozniak",  "yalow",    "zuse",
};

static void
sv_container_store_finalize (GObject *object)
{
  SvContainerStore *self = SV_CONTAINER_STORE (object);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->containers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    sv_container_set_exit_func (value, NULL, NULL);
  g_hash_table_unref (self->containers);
  g_clear_object (&self->config);
  g_clear_object (&self->images);
  g_clear_object (&self->layers);
  g_free (self->containers_dir);

  G_OBJECT_CLASS (sv_container_store_parent_class)->finalize (object);
}

static void
sv_container_store_class_init (SvContainerStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sv_container_store_finalize;

  signals[SIGNAL_CONTAINER_ADDED]
      = g_signal_new ("container-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, SV_TYPE_CONTAINER);
  signals[SIGNAL_CONTAINER_REMOVED]
      = g_signal_new ("container-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, SV_TYPE_CONTAINER);
}

static void
sv_container_store_init (SvContainerStore *self)
{
  self->containers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
}

static gboolean remove_container (SvContainerStore *self, SvContainer *container, GError **error);
static gboolean check_removable (SvContainerStore *self, SvContainer *container, gboolean force,
                                 GError **error);

static void
on_container_exited (SvContainer *container, gpointer user_data)
{
  SvContainerStore *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sv_container_get_auto_remove (container))
    return;
  if (!check_removable (self, container, FALSE, &error)
      || !remove_container (self, container, &error))
    g_warning ("cannot remove container %s after it exited: %s", sv_container_get_id (container),
               error->message);
}

static void
add_container (SvContainerStore *self, SvContainer *container)
{
  sv_container_set_exit_func (container, on_container_exited, self);
  g_hash_table_insert (self->containers, (char *)sv_container_get_id (container),
                       g_object_ref (container));
}

static gboolean
is_hex_id (const char *text)
{
  if (strlen (text) != 64)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

static void
load_records (SvContainerStore *self)
{
  g_autoptr (GDir) dir = g_dir_open (self->containers_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (self->containers_dir, name, NULL);
      g_autoptr (SvContainer) container = NULL;
      g_autoptr (GError) error = NULL;

      if (!is_hex_id (name) || !g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      container = sv_container_new_from_record (self->config, self->layers, path, &error);
      if (container == NULL)
        {
          /* The folder is kept: it may hold the only copy of someone's data. */
          g_warning ("skipping container %s: %s", name, error->message);
          continue;
        }
      add_container (self, container);
    }
}

/* Load the records, then reconnect to the monitors of containers that still run and record
 * the exits that happened while no store was connected (AutoRemove ones are then removed). */
SvContainerStore *
sv_container_store_new (SvConfig *config, SvImageStore *images, SvLayerStore *layers,
                        GError **error)
{
  g_autoptr (SvContainerStore) self = g_object_new (SV_TYPE_CONTAINER_STORE, NULL);
  g_autoptr (GPtrArray) containers = NULL;

  self->config = g_object_ref (config);
  self->images = g_object_ref (images);
  self->layers = g_object_ref (layers);
  self->containers_dir = g_build_filename (sv_config_get_data_root (config), "containers", NULL);

  if (g_mkdir_with_parents (self->containers_dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create the containers folder %s: %s", self->containers_dir,
                   g_strerror (saved_errno));
      return NULL;
    }

  load_records (self);
  containers = sv_container_store_list (self);
  for (guint i = 0; i < containers->len; i++)
    sv_container_recover (containers->pdata[i]);
  return g_steal_pointer (&self);
}

GPtrArray *
sv_container_store_list (SvContainerStore *self)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (SV_IS_CONTAINER_STORE (self), NULL);

  g_hash_table_iter_init (&iter, self->containers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, g_object_ref (value));
  return list;
}

static SvContainer *
find_by_name (SvContainerStore *self, const char *name)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->containers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_str_equal (sv_container_get_name (value), name))
      return value;
  return NULL;
}

/* Find a container by full id, name ("/name" too) or unique id prefix, in that order. */
SvContainer *
sv_container_store_lookup (SvContainerStore *self, const char *id_or_name, GError **error)
{
  SvContainer *found;
  SvContainer *match = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gsize length;

  g_return_val_if_fail (SV_IS_CONTAINER_STORE (self), NULL);

  if (id_or_name == NULL || *id_or_name == '\0')
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "no container id or name given");
      return NULL;
    }
  found = g_hash_table_lookup (self->containers, id_or_name);
  if (found == NULL)
    found = find_by_name (self, id_or_name[0] == '/' ? id_or_name + 1 : id_or_name);
  if (found != NULL)
    return g_object_ref (found);

  length = strlen (id_or_name);
  g_hash_table_iter_init (&iter, self->containers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (strncmp (key, id_or_name, length) != 0)
        continue;
      if (match != NULL)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                       "container id prefix %s matches several containers: give more of the id",
                       id_or_name);
          return NULL;
        }
      match = value;
    }
  if (match == NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND, "container not found: %s",
                   id_or_name);
      return NULL;
    }
  return g_object_ref (match);
}

static gboolean
is_valid_name (const char *name)
{
  if (!g_ascii_isalnum (name[0]))
    return FALSE;
  for (const char *p = name + 1; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '.' && *p != '-')
      return FALSE;
  return TRUE;
}

static char *
generate_name (SvContainerStore *self)
{
  for (guint attempt = 0;; attempt++)
    {
      const char *adjective
          = name_adjectives[g_random_int_range (0, G_N_ELEMENTS (name_adjectives))];
      const char *surname = name_surnames[g_random_int_range (0, G_N_ELEMENTS (name_surnames))];
      g_autofree char *name = attempt < 16 ? g_strdup_printf ("%s_%s", adjective, surname)
                                           : g_strdup_printf ("%s_%s%u", adjective, surname,
                                                              g_random_int_range (0, 100000));
      if (find_by_name (self, name) == NULL)
        return g_steal_pointer (&name);
    }
}

static char *
generate_id (SvContainerStore *self)
{
  for (;;)
    {
      guint8 bytes[32];
      GString *id = g_string_sized_new (64);

      if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
        for (gsize i = 0; i < sizeof bytes; i++)
          bytes[i] = g_random_int_range (0, 256);
      for (gsize i = 0; i < sizeof bytes; i++)
        g_string_append_printf (id, "%02x", bytes[i]);
      if (g_hash_table_contains (self->containers, id->str))
        {
          g_string_free (id, TRUE);
          continue;
        }
      return g_string_free (id, FALSE);
    }
}

static gboolean
check_name (SvContainerStore *self, const char *name, GError **error)
{
  SvContainer *holder;

  if (!is_valid_name (name))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid container name \"%s\": use letters, digits, '_', '.' and '-', "
                   "starting with a letter or digit",
                   name);
      return FALSE;
    }
  holder = find_by_name (self, name);
  if (holder != NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "container name \"%s\" is already in use by container %s: remove that "
                   "container or choose another name",
                   name, sv_container_get_id (holder));
      return FALSE;
    }
  return TRUE;
}

static SvImage *
lookup_image (SvContainerStore *self, GVariant *config, const char **reference, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  SvImage *image;

  if (!g_variant_lookup (config, "Image", "&s", reference) || **reference == '\0')
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "missing container option Image: name the image to run");
      return NULL;
    }
  image = sv_image_store_lookup (self->images, *reference, &local_error);
  if (image == NULL)
    {
      if (g_error_matches (local_error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND))
        g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND, "image not found: %s",
                     *reference);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
    }
  return image;
}

/* Create a container record from Docker-style options (see sv_container_spec_merge_config).
 * The user and the command are checked against the image now, so a bad one fails here and
 * not at start. Nothing is mounted yet. */
SvContainer *
sv_container_store_create (SvContainerStore *self, const char *name, GVariant *config,
                           GError **error)
{
  g_autoptr (SvImage) image = NULL;
  g_autoptr (JsonObject) merged = NULL;
  g_autoptr (SvContainer) container = NULL;
  g_autoptr (JsonObject) spec = NULL;
  g_autoptr (JsonObject) host_config = NULL;
  g_autofree char *generated_name = NULL;
  g_autofree char *id = NULL;
  const char *reference = NULL;
  gboolean auto_remove = FALSE;

  g_return_val_if_fail (SV_IS_CONTAINER_STORE (self), NULL);

  if (config == NULL || !g_variant_is_of_type (config, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid container options: expected a{sv}, got %s",
                   config != NULL ? g_variant_get_type_string (config) : "nothing");
      return NULL;
    }
  if (name != NULL && *name == '/')
    name++;
  if (name == NULL || *name == '\0')
    name = generated_name = generate_name (self);
  else if (!check_name (self, name, error))
    return NULL;

  id = generate_id (self);
  image = lookup_image (self, config, &reference, error);
  if (image == NULL)
    return NULL;
  merged = sv_container_spec_merge_config (sv_image_get_config (image), config, id, error);
  if (merged == NULL)
    return NULL;
  host_config = sv_container_resources_from_options (config, error);
  if (host_config == NULL || !sv_container_seccomp_read_option (config, host_config, error))
    return NULL;
  g_variant_lookup (config, "AutoRemove", "b", &auto_remove);
  json_object_set_boolean_member (host_config, "AutoRemove", auto_remove);

  container
      = sv_container_new (self->config, self->layers, id, name, reference, sv_image_get_id (image),
                          merged, host_config, sv_image_get_diff_ids (image));
  spec = sv_container_generate_spec (container, FALSE, error);
  if (spec == NULL || !sv_container_save (container, error))
    return NULL;

  add_container (self, container);
  g_info ("created container %s (%s) from image %s", id, name, reference);
  g_signal_emit (self, signals[SIGNAL_CONTAINER_ADDED], 0, container);
  return g_steal_pointer (&container);
}

/* Remove a container that is not running, with its record, log, upper folder and runtime
 * state, and emit "container-removed". */
static gboolean
remove_container (SvContainerStore *self, SvContainer *container, GError **error)
{
  g_autoptr (SvContainer) hold = g_object_ref (container);
  g_autoptr (GError) removed_error = NULL;
  g_autofree char *dir = NULL;
  const char *id = sv_container_get_id (container);

  sv_container_set_exit_func (container, NULL, NULL);
  sv_container_disconnect (container);
  sv_container_release_runtime_state (container);
  dir = g_build_filename (self->containers_dir, id, NULL);
  if (!sv_remove_tree (dir, error))
    {
      g_prefix_error (error, "cannot remove container %s: ", sv_container_get_name (container));
      sv_container_set_exit_func (container, on_container_exited, self);
      return FALSE;
    }

  g_hash_table_steal (self->containers, id);
  g_info ("removed container %s (%s)", id, sv_container_get_name (container));
  removed_error = g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                               "container %s was removed", sv_container_get_name (container));
  sv_container_fail_waiters (container, removed_error);
  g_signal_emit (self, signals[SIGNAL_CONTAINER_REMOVED], 0, container);
  /* Drop the table's reference, stolen above. */
  g_object_unref (container);
  return TRUE;
}

static gboolean
check_removable (SvContainerStore *self, SvContainer *container, gboolean force, GError **error)
{
  const char *id = sv_container_get_id (container);

  if (g_hash_table_lookup (self->containers, id) != container)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND, "container not found: %s",
                   id);
      return FALSE;
    }
  if (container->removing)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "cannot remove container %s: removal already in progress",
                   sv_container_get_name (container));
      return FALSE;
    }
  if (sv_container_get_state (container) == SV_CONTAINER_STATE_RUNNING && !force)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_CONFLICT,
                   "container %s is running: stop it first or use force",
                   sv_container_get_name (container));
      return FALSE;
    }
  return TRUE;
}

static void
on_kill_and_reap_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SvContainerStore *self = g_task_get_source_object (task);
  SvContainer *container = SV_CONTAINER (source);
  GError *error = NULL;

  container->removing = FALSE;
  if (!sv_container_kill_and_reap_finish (container, result, &error))
    {
      sv_container_set_exit_func (container, on_container_exited, self);
      g_task_return_error (task, error);
      return;
    }
  if (!remove_container (self, container, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* Remove a container with its record, log, upper folder and runtime state. A running
 * container is CONFLICT unless @force, which sends it SIGKILL and finishes once its exit is
 * recorded, or with an error naming it after 15 s. While that wait lasts, another removal
 * of the container is CONFLICT and so is a start. */
void
sv_container_store_remove_async (SvContainerStore *self, SvContainer *container, gboolean force,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  GError *error = NULL;

  g_return_if_fail (SV_IS_CONTAINER_STORE (self));
  g_return_if_fail (SV_IS_CONTAINER (container));

  g_task_set_source_tag (task, sv_container_store_remove_async);
  if (!check_removable (self, container, force, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (sv_container_get_state (container) != SV_CONTAINER_STATE_RUNNING)
    {
      if (remove_container (self, container, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, error);
      return;
    }

  g_info ("sending SIGKILL to container %s (%s) to remove it", sv_container_get_id (container),
          sv_container_get_name (container));
  container->removing = TRUE;
  /* The exit must not trigger AutoRemove while this removal is under way. */
  sv_container_set_exit_func (container, NULL, NULL);
  sv_container_kill_and_reap_async (container, on_kill_and_reap_done, g_steal_pointer (&task));
}

gboolean
sv_container_store_remove_finish (SvContainerStore *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
