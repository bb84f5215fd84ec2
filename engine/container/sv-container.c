/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-container-private.h"

#include "sv-container-spec.h"
#include "sv-engine-error.h"

#include <errno.h>
#include <string.h>

G_DEFINE_ENUM_TYPE (SvContainerState, sv_container_state,
                    G_DEFINE_ENUM_VALUE (SV_CONTAINER_STATE_CREATED, "created"),
                    G_DEFINE_ENUM_VALUE (SV_CONTAINER_STATE_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (SV_CONTAINER_STATE_EXITED, "exited"))

G_DEFINE_FINAL_TYPE (SvContainer, sv_container, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_IMAGE,
  PROP_IMAGE_ID,
  PROP_COMMAND,
  PROP_STATE,
  PROP_EXIT_CODE,
  PROP_OOM_KILLED,
  PROP_CREATED,
  PROP_STARTED_AT,
  PROP_FINISHED_AT,
  PROP_PID,
  PROP_AUTO_REMOVE,
  PROP_LABELS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

const char *
sv_container_state_to_string (SvContainerState state)
{
  switch (state)
    {
    case SV_CONTAINER_STATE_CREATED:
      return "created";
    case SV_CONTAINER_STATE_RUNNING:
      return "running";
    case SV_CONTAINER_STATE_EXITED:
      return "exited";
    }
  return "unknown";
}

static gboolean
state_from_string (const char *text, SvContainerState *state)
{
  for (SvContainerState s = SV_CONTAINER_STATE_CREATED; s <= SV_CONTAINER_STATE_EXITED; s++)
    if (g_strcmp0 (text, sv_container_state_to_string (s)) == 0)
      {
        *state = s;
        return TRUE;
      }
  return FALSE;
}

static void
sv_container_finalize (GObject *object)
{
  SvContainer *self = SV_CONTAINER (object);

  sv_container_disconnect (self);
  g_clear_object (&self->config);
  g_clear_object (&self->layers);
  g_free (self->id);
  g_free (self->name);
  g_free (self->image);
  g_free (self->image_id);
  g_clear_pointer (&self->container_config, json_object_unref);
  g_clear_pointer (&self->host_config, json_object_unref);
  g_strfreev (self->diff_ids);
  g_free (self->command);
  g_strfreev (self->labels);
  g_free (self->dir);
  g_free (self->log_path);
  g_free (self->state_dir);
  for (guint i = 0; i < self->pending_attach_fds->len; i++)
    sv_fd_close (g_array_index (self->pending_attach_fds, int, i));
  g_array_unref (self->pending_attach_fds);

  G_OBJECT_CLASS (sv_container_parent_class)->finalize (object);
}

static void
sv_container_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SvContainer *self = SV_CONTAINER (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_IMAGE:
      g_value_set_string (value, self->image);
      break;
    case PROP_IMAGE_ID:
      g_value_set_string (value, self->image_id);
      break;
    case PROP_COMMAND:
      g_value_set_string (value, self->command);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_EXIT_CODE:
      g_value_set_int (value, self->exit_code);
      break;
    case PROP_OOM_KILLED:
      g_value_set_boolean (value, self->oom_killed);
      break;
    case PROP_CREATED:
      g_value_set_uint64 (value, self->created);
      break;
    case PROP_STARTED_AT:
      g_value_set_uint64 (value, self->started_at);
      break;
    case PROP_FINISHED_AT:
      g_value_set_uint64 (value, self->finished_at);
      break;
    case PROP_PID:
      g_value_set_int (value, self->pid);
      break;
    case PROP_AUTO_REMOVE:
      g_value_set_boolean (value, self->auto_remove);
      break;
    case PROP_LABELS:
      g_value_set_boxed (value, self->labels);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sv_container_class_init (SvContainerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = sv_container_finalize;
  object_class->get_property = sv_container_get_property;

  properties[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_IMAGE] = g_param_spec_string ("image", NULL, NULL, NULL, flags);
  properties[PROP_IMAGE_ID] = g_param_spec_string ("image-id", NULL, NULL, NULL, flags);
  properties[PROP_COMMAND] = g_param_spec_string ("command", NULL, NULL, NULL, flags);
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, SV_TYPE_CONTAINER_STATE,
                                              SV_CONTAINER_STATE_CREATED, flags);
  properties[PROP_EXIT_CODE]
      = g_param_spec_int ("exit-code", NULL, NULL, G_MININT, G_MAXINT, 0, flags);
  properties[PROP_OOM_KILLED] = g_param_spec_boolean ("oom-killed", NULL, NULL, FALSE, flags);
  properties[PROP_CREATED] = g_param_spec_uint64 ("created", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  properties[PROP_STARTED_AT]
      = g_param_spec_uint64 ("started-at", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  properties[PROP_FINISHED_AT]
      = g_param_spec_uint64 ("finished-at", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  properties[PROP_PID] = g_param_spec_int ("pid", NULL, NULL, 0, G_MAXINT, 0, flags);
  properties[PROP_AUTO_REMOVE] = g_param_spec_boolean ("auto-remove", NULL, NULL, FALSE, flags);
  properties[PROP_LABELS] = g_param_spec_boxed ("labels", NULL, NULL, G_TYPE_STRV, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sv_container_init (SvContainer *self)
{
  g_queue_init (&self->ctl_requests);
  self->pending_attach_fds = g_array_new (FALSE, FALSE, sizeof (int));
}

/* Quote one argument for display the way a shell user would write it. */
static void
append_display_argument (GString *out, const char *arg)
{
  gboolean plain = *arg != '\0';

  for (const char *p = arg; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("_-./:=@%+,", *p) == NULL)
      plain = FALSE;

  if (out->len > 0)
    g_string_append_c (out, ' ');
  if (plain)
    g_string_append (out, arg);
  else
    {
      g_autofree char *quoted = g_shell_quote (arg);
      g_string_append (out, quoted);
    }
}

static void
set_derived_fields (SvContainer *self)
{
  g_auto (GStrv) args = sv_container_spec_get_args (self->container_config);
  g_autoptr (GString) command = g_string_new (NULL);
  g_autoptr (GStrvBuilder) labels = g_strv_builder_new ();
  JsonObject *label_object = NULL;
  g_autofree char *short_id = g_strndup (self->id, 12);
  g_autofree char *log_name = g_strdup_printf ("%s-json.log", self->id);

  for (gsize i = 0; args[i] != NULL; i++)
    append_display_argument (command, args[i]);
  self->command = g_string_free (g_steal_pointer (&command), FALSE);

  if (json_object_has_member (self->container_config, "Labels")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (self->container_config, "Labels")))
    label_object = json_object_get_object_member (self->container_config, "Labels");
  if (label_object != NULL)
    {
      g_autoptr (GList) members = json_object_get_members (label_object);
      for (GList *l = members; l != NULL; l = l->next)
        {
          g_autofree char *pair = g_strdup_printf (
              "%s=%s", (char *)l->data,
              json_object_get_string_member_with_default (label_object, l->data, ""));
          g_strv_builder_add (labels, pair);
        }
    }
  self->labels = g_strv_builder_end (labels);

  self->dir
      = g_build_filename (sv_config_get_data_root (self->config), "containers", self->id, NULL);
  self->log_path = g_build_filename (self->dir, log_name, NULL);
  self->state_dir
      = g_build_filename (sv_config_get_runtime_state (self->config), "c", short_id, NULL);
}

SvContainer *
sv_container_new (SvConfig *config, SvLayerStore *layers, const char *id, const char *name,
                  const char *image, const char *image_id, JsonObject *container_config,
                  JsonObject *host_config, const char *const *diff_ids)
{
  SvContainer *self = g_object_new (SV_TYPE_CONTAINER, NULL);

  self->config = g_object_ref (config);
  self->layers = g_object_ref (layers);
  self->id = g_strdup (id);
  self->name = g_strdup (name);
  self->image = g_strdup (image);
  self->image_id = g_strdup (image_id);
  self->container_config = json_object_ref (container_config);
  self->diff_ids = g_strdupv ((char **)diff_ids);
  self->host_config = json_object_ref (host_config);
  self->auto_remove
      = json_object_get_boolean_member_with_default (host_config, "AutoRemove", FALSE);
  self->created = g_get_real_time () / G_USEC_PER_SEC;
  self->state = SV_CONTAINER_STATE_CREATED;
  self->log_open = 1;
  set_derived_fields (self);
  return self;
}

static gboolean
is_container_id (const char *text)
{
  if (text == NULL || strlen (text) != 64)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

static char **
strv_from_array (JsonArray *array)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (node));
    }
  return g_strv_builder_end (builder);
}

static JsonObject *
get_object (JsonObject *object, const char *key)
{
  JsonNode *node = json_object_get_member (object, key);
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
get_array (JsonObject *object, const char *key)
{
  JsonNode *node = json_object_get_member (object, key);
  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* Load the record DIR/config.v2.json written by sv_container_save (). */
SvContainer *
sv_container_new_from_record (SvConfig *config, SvLayerStore *layers, const char *dir,
                              GError **error)
{
  g_autofree char *path = g_build_filename (dir, "config.v2.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (SvContainer) self = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *base_name = g_path_get_basename (dir);
  JsonNode *root;
  JsonObject *record, *container_config, *state, *host_config;

  if (!json_parser_load_from_mapped_file (parser, path, &local_error))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot read container record %s: %s", path, local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  record = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  container_config = record != NULL ? get_object (record, "Config") : NULL;
  state = record != NULL ? get_object (record, "State") : NULL;
  host_config = record != NULL ? get_object (record, "HostConfig") : NULL;
  if (record == NULL || container_config == NULL || state == NULL
      || !is_container_id (json_object_get_string_member_with_default (record, "Id", NULL))
      || json_object_get_string_member_with_default (record, "Name", NULL) == NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "invalid container record %s: Id, Name, Config or State is missing", path);
      return NULL;
    }

  self = g_object_new (SV_TYPE_CONTAINER, NULL);
  self->config = g_object_ref (config);
  self->layers = g_object_ref (layers);
  self->id = g_strdup (json_object_get_string_member (record, "Id"));
  self->name = g_strdup (json_object_get_string_member (record, "Name"));
  self->image = g_strdup (json_object_get_string_member_with_default (record, "Image", ""));
  self->image_id = g_strdup (json_object_get_string_member_with_default (record, "ImageID", ""));
  self->container_config = json_object_ref (container_config);
  self->diff_ids = strv_from_array (get_array (record, "LayerDiffIds"));
  self->created = json_object_get_int_member_with_default (record, "Created", 0);
  self->host_config = host_config != NULL ? json_object_ref (host_config) : json_object_new ();
  self->auto_remove
      = json_object_get_boolean_member_with_default (self->host_config, "AutoRemove", FALSE);
  if (!state_from_string (json_object_get_string_member_with_default (state, "Status", ""),
                          &self->state))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "invalid container record %s: unknown State.Status", path);
      return NULL;
    }
  self->exit_code = json_object_get_int_member_with_default (state, "ExitCode", 0);
  self->oom_killed = json_object_get_boolean_member_with_default (state, "OOMKilled", FALSE);
  self->pid = json_object_get_int_member_with_default (state, "Pid", 0);
  self->started_at = json_object_get_int_member_with_default (state, "StartedAt", 0);
  self->finished_at = json_object_get_int_member_with_default (state, "FinishedAt", 0);
  if (!g_str_equal (base_name, self->id))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "invalid container record %s: its Id %s does not match the folder", path,
                   self->id);
      return NULL;
    }
  set_derived_fields (self);
  g_atomic_int_set (&self->log_open, self->state != SV_CONTAINER_STATE_EXITED);
  return g_steal_pointer (&self);
}

static JsonObject *
build_record (SvContainer *self)
{
  JsonObject *record = json_object_new ();
  JsonObject *state = json_object_new ();
  JsonArray *diff_ids = json_array_new ();

  json_object_set_string_member (record, "Id", self->id);
  json_object_set_string_member (record, "Name", self->name);
  json_object_set_int_member (record, "Created", self->created);
  json_object_set_string_member (record, "Image", self->image);
  json_object_set_string_member (record, "ImageID", self->image_id);
  json_object_set_object_member (record, "Config", json_object_ref (self->container_config));
  for (gsize i = 0; self->diff_ids[i] != NULL; i++)
    json_array_add_string_element (diff_ids, self->diff_ids[i]);
  json_object_set_array_member (record, "LayerDiffIds", diff_ids);
  json_object_set_object_member (record, "HostConfig", json_object_ref (self->host_config));

  json_object_set_string_member (state, "Status", sv_container_state_to_string (self->state));
  json_object_set_int_member (state, "ExitCode", self->exit_code);
  json_object_set_boolean_member (state, "OOMKilled", self->oom_killed);
  json_object_set_int_member (state, "Pid", self->pid);
  json_object_set_int_member (state, "StartedAt", self->started_at);
  json_object_set_int_member (state, "FinishedAt", self->finished_at);
  json_object_set_object_member (record, "State", state);
  return record;
}

/* Write the record to a temporary name and rename it over config.v2.json, so a crash leaves
 * either the old or the new record. */
gboolean
sv_container_save (SvContainer *self, GError **error)
{
  g_autoptr (JsonObject) record = build_record (self);
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *path = g_build_filename (self->dir, "config.v2.json", NULL);
  g_autofree char *data = NULL;
  gsize length;

  json_node_set_object (root, record);
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, &length);

  if (g_mkdir_with_parents (self->dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create container folder %s: %s", self->dir, g_strerror (saved_errno));
      return FALSE;
    }
  /* g_file_set_contents writes a temporary file, fsyncs it and renames it into place. */
  if (!g_file_set_contents_full (path, data, length, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    {
      g_prefix_error (error, "cannot save container record of %s: ", self->id);
      return FALSE;
    }
  return TRUE;
}

void
sv_container_set_exit_func (SvContainer *self, SvContainerExitFunc func, gpointer user_data)
{
  self->exit_func = func;
  self->exit_data = user_data;
}

/* The layer folders of the container's image, top layer first as overlayfs lowerdir wants. */
char **
sv_container_get_layer_paths (SvContainer *self, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  guint n = g_strv_length (self->diff_ids);

  for (guint i = n; i > 0; i--)
    {
      const char *diff_id = self->diff_ids[i - 1];

      if (!sv_layer_store_has_layer (self->layers, diff_id))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                       "layer %s of container %s is missing: pull the image %s again", diff_id,
                       self->name, self->image);
          return NULL;
        }
      g_autofree char *path = sv_layer_store_get_layer_path (self->layers, diff_id);
      g_strv_builder_add (builder, path);
    }
  return g_strv_builder_end (builder);
}

JsonObject *
sv_container_generate_spec (SvContainer *self, gboolean for_start, GError **error)
{
  g_auto (GStrv) layer_paths = sv_container_get_layer_paths (self, error);
  SvCgroupSupport support;
  struct rlimit host_rlimits[RLIM_NLIMITS];
  SvContainerSpecInput input = {
    .id = self->id,
    .config = self->container_config,
    .layer_paths = (const char *const *)layer_paths,
    .cgroup_parent = sv_config_get_cgroup_parent (self->config),
    /* A check at create needs neither the host's rlimits (applied and logged at start) nor
     * the /etc files, which start writes. */
    .host_config = self->host_config,
    .cgroup_support = &support,
    .host_rlimits = for_start ? host_rlimits : NULL,
    .etc_folder = for_start ? self->dir : NULL,
  };

  if (layer_paths == NULL)
    return NULL;
  sv_container_resources_detect_support (&support);
  sv_container_spec_get_host_rlimits (host_rlimits);
  return sv_container_spec_generate (&input, error);
}

/* Docker's time format: RFC 3339 in UTC, and year 1 for "never". */
static char *
format_time (guint64 seconds)
{
  g_autoptr (GDateTime) time = NULL;

  if (seconds == 0)
    return g_strdup ("0001-01-01T00:00:00Z");
  time = g_date_time_new_from_unix_utc (seconds);
  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ");
}

static void
set_time_member (JsonObject *object, const char *key, guint64 seconds)
{
  g_autofree char *text = format_time (seconds);
  json_object_set_string_member (object, key, text);
}

/* A document like docker inspect's. It contains the environment, so callers show it only to
 * those allowed to manage the container. */
JsonObject *
sv_container_get_inspect (SvContainer *self)
{
  JsonObject *inspect = json_object_new ();
  JsonObject *state = json_object_new ();
  JsonObject *config = json_object_new ();
  g_autofree char *name = g_strconcat ("/", self->name, NULL);
  g_auto (GStrv) args = sv_container_spec_get_args (self->container_config);
  g_autoptr (GList) members = json_object_get_members (self->container_config);
  JsonArray *arg_array = json_array_new ();

  json_object_set_string_member (inspect, "Id", self->id);
  json_object_set_string_member (inspect, "Name", name);
  set_time_member (inspect, "Created", self->created);
  json_object_set_string_member (inspect, "Path", args[0] != NULL ? args[0] : "");
  for (gsize i = 1; args[0] != NULL && args[i] != NULL; i++)
    json_array_add_string_element (arg_array, args[i]);
  json_object_set_array_member (inspect, "Args", arg_array);

  json_object_set_string_member (state, "Status", sv_container_state_to_string (self->state));
  json_object_set_boolean_member (state, "Running", self->state == SV_CONTAINER_STATE_RUNNING);
  json_object_set_boolean_member (state, "OOMKilled", self->oom_killed);
  json_object_set_int_member (state, "ExitCode", self->exit_code);
  json_object_set_int_member (state, "Pid", self->pid);
  set_time_member (state, "StartedAt", self->started_at);
  set_time_member (state, "FinishedAt", self->finished_at);
  json_object_set_object_member (inspect, "State", state);

  json_object_set_string_member (inspect, "Image", self->image_id);
  for (GList *l = members; l != NULL; l = l->next)
    json_object_set_member (
        config, l->data, json_node_copy (json_object_get_member (self->container_config, l->data)));
  json_object_set_string_member (config, "Image", self->image);
  json_object_set_object_member (inspect, "Config", config);
  json_object_set_object_member (inspect, "HostConfig", json_object_ref (self->host_config));
  json_object_set_string_member (inspect, "LogPath", self->log_path);
  return inspect;
}

const char *
sv_container_get_id (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), NULL);
  return self->id;
}

const char *
sv_container_get_name (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), NULL);
  return self->name;
}

const char *
sv_container_get_image (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), NULL);
  return self->image;
}

const char *
sv_container_get_image_id (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), NULL);
  return self->image_id;
}

const char *
sv_container_get_command (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), NULL);
  return self->command;
}

SvContainerState
sv_container_get_state (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), SV_CONTAINER_STATE_CREATED);
  return self->state;
}

int
sv_container_get_exit_code (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), 0);
  return self->exit_code;
}

guint64
sv_container_get_created (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), 0);
  return self->created;
}

guint64
sv_container_get_started_at (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), 0);
  return self->started_at;
}

guint64
sv_container_get_finished_at (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), 0);
  return self->finished_at;
}

int
sv_container_get_pid (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), 0);
  return self->pid;
}

gboolean
sv_container_get_oom_killed (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), FALSE);
  return self->oom_killed;
}

gboolean
sv_container_get_auto_remove (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), FALSE);
  return self->auto_remove;
}

const char *const *
sv_container_get_labels (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), NULL);
  return (const char *const *)self->labels;
}

const char *
sv_container_get_log_path (SvContainer *self)
{
  g_return_val_if_fail (SV_IS_CONTAINER (self), NULL);
  return self->log_path;
}

/* Notify each property that a state change touched, on the caller's (the store's) context. */
void
sv_container_notify_state (SvContainer *self)
{
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXIT_CODE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OOM_KILLED]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STARTED_AT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINISHED_AT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PID]);
  g_object_thaw_notify (G_OBJECT (self));
}
