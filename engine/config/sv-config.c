/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-config.h"

#include <yaml.h>

#include "sv-build-config.h"
#include "sv-engine-error.h"

struct _SvConfig
{
  GObject parent_instance;

  char *data_root;
  char *runtime_state;
  char *log_level;
  char *runtime;
  char *cgroup_parent;
  GPtrArray *insecure_registries; /* NULL-terminated array of char * */
};

G_DEFINE_FINAL_TYPE (SvConfig, sv_config, G_TYPE_OBJECT)

static const char *const log_levels[] = { "error", "warning", "info", "debug", NULL };

static void
sv_config_finalize (GObject *object)
{
  SvConfig *self = SV_CONFIG (object);

  g_free (self->data_root);
  g_free (self->runtime_state);
  g_free (self->log_level);
  g_free (self->runtime);
  g_free (self->cgroup_parent);
  g_ptr_array_unref (self->insecure_registries);

  G_OBJECT_CLASS (sv_config_parent_class)->finalize (object);
}

static void
sv_config_class_init (SvConfigClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_config_finalize;
}

static void
sv_config_init (SvConfig *self)
{
  self->data_root = g_strdup (SV_DEFAULT_DATA_ROOT);
  self->runtime_state = g_strdup (SV_DEFAULT_RUNTIME_STATE);
  self->log_level = g_strdup ("info");
  self->runtime = g_strdup ("servin-runtime");
  self->cgroup_parent = g_strdup ("servin");
  self->insecure_registries = g_ptr_array_new_null_terminated (4, g_free, TRUE);
}

SvConfig *
sv_config_new_default (void)
{
  return g_object_new (SV_TYPE_CONFIG, NULL);
}

static const char *
node_scalar (yaml_document_t *doc, yaml_node_t *node)
{
  if (node == NULL || node->type != YAML_SCALAR_NODE)
    return NULL;
  return (const char *) node->data.scalar.value;
}

static gboolean
expect_scalar (yaml_document_t *doc,
               yaml_node_t *node,
               const char *key,
               const char *path,
               const char **out,
               GError **error)
{
  *out = node_scalar (doc, node);
  if (*out != NULL)
    return TRUE;

  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
               "invalid configuration %s: key %s must be a single value (line %zu)", path, key,
               node->start_mark.line + 1);
  return FALSE;
}

static gboolean
set_absolute_path (char **field, const char *value, const char *key, const char *path, GError **error)
{
  if (!g_path_is_absolute (value))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid configuration %s: %s must be an absolute path, not \"%s\"", path, key,
                   value);
      return FALSE;
    }
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static gboolean
check_log_level (const char *level, const char *origin, GError **error)
{
  if (g_strv_contains (log_levels, level))
    return TRUE;

  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
               "invalid log level \"%s\" in %s: use error, warning, info or debug", level, origin);
  return FALSE;
}

static gboolean
load_daemon_section (SvConfig *self,
                     yaml_document_t *doc,
                     yaml_node_t *map,
                     const char *path,
                     GError **error)
{
  for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top;
       pair++)
    {
      const char *key = node_scalar (doc, yaml_document_get_node (doc, pair->key));
      yaml_node_t *value_node = yaml_document_get_node (doc, pair->value);
      const char *value = NULL;

      if (key == NULL)
        continue;

      if (g_str_equal (key, "data_root"))
        {
          if (!expect_scalar (doc, value_node, "daemon.data_root", path, &value, error)
              || !set_absolute_path (&self->data_root, value, "daemon.data_root", path, error))
            return FALSE;
        }
      else if (g_str_equal (key, "log_level"))
        {
          if (!expect_scalar (doc, value_node, "daemon.log_level", path, &value, error)
              || !check_log_level (value, path, error))
            return FALSE;
          g_free (self->log_level);
          self->log_level = g_strdup (value);
        }
      else if (g_str_equal (key, "runtime"))
        {
          if (!expect_scalar (doc, value_node, "daemon.runtime", path, &value, error))
            return FALSE;
          g_free (self->runtime);
          self->runtime = g_strdup (value);
        }
      else if (g_str_equal (key, "cgroup_parent"))
        {
          if (!expect_scalar (doc, value_node, "daemon.cgroup_parent", path, &value, error))
            return FALSE;
          g_free (self->cgroup_parent);
          self->cgroup_parent = g_strdup (value);
        }
      else
        g_warning ("Unknown configuration key daemon.%s in %s, ignored", key, path);
    }
  return TRUE;
}

static gboolean
load_registries_section (SvConfig *self,
                         yaml_document_t *doc,
                         yaml_node_t *map,
                         const char *path,
                         GError **error)
{
  for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top;
       pair++)
    {
      const char *key = node_scalar (doc, yaml_document_get_node (doc, pair->key));
      yaml_node_t *value_node = yaml_document_get_node (doc, pair->value);

      if (key == NULL)
        continue;

      if (!g_str_equal (key, "insecure"))
        {
          g_warning ("Unknown configuration key registries.%s in %s, ignored", key, path);
          continue;
        }

      if (value_node->type != YAML_SEQUENCE_NODE)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid configuration %s: registries.insecure must be a list of "
                       "registry hosts (line %zu)",
                       path, value_node->start_mark.line + 1);
          return FALSE;
        }

      for (yaml_node_item_t *item = value_node->data.sequence.items.start;
           item < value_node->data.sequence.items.top; item++)
        {
          yaml_node_t *entry = yaml_document_get_node (doc, *item);
          const char *host = NULL;

          if (!expect_scalar (doc, entry, "registries.insecure[]", path, &host, error))
            return FALSE;
          g_ptr_array_add (self->insecure_registries, g_strdup (host));
        }
    }
  return TRUE;
}

static gboolean
load_document (SvConfig *self, yaml_document_t *doc, const char *path, GError **error)
{
  yaml_node_t *root = yaml_document_get_root_node (doc);

  /* An empty file is a valid configuration that changes nothing. */
  if (root == NULL || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
    return TRUE;

  if (root->type != YAML_MAPPING_NODE)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid configuration %s: the top level must be a mapping of sections", path);
      return FALSE;
    }

  for (yaml_node_pair_t *pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top;
       pair++)
    {
      const char *section = node_scalar (doc, yaml_document_get_node (doc, pair->key));
      yaml_node_t *value = yaml_document_get_node (doc, pair->value);

      if (section == NULL)
        continue;

      if (value->type != YAML_MAPPING_NODE)
        {
          if (value->type == YAML_SCALAR_NODE && value->data.scalar.length == 0)
            continue;
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid configuration %s: section %s must be a mapping (line %zu)", path,
                       section, value->start_mark.line + 1);
          return FALSE;
        }

      if (g_str_equal (section, "daemon"))
        {
          if (!load_daemon_section (self, doc, value, path, error))
            return FALSE;
        }
      else if (g_str_equal (section, "registries"))
        {
          if (!load_registries_section (self, doc, value, path, error))
            return FALSE;
        }
      else
        g_warning ("Unknown configuration section %s in %s, ignored", section, path);
    }
  return TRUE;
}

/* Layer the YAML file at @path over the current values. */
gboolean
sv_config_merge_file (SvConfig *self, const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  yaml_parser_t parser;
  yaml_document_t doc;
  gboolean ok;

  if (!g_file_get_contents (path, &contents, &length, error))
    {
      g_prefix_error (error, "cannot read configuration: ");
      return FALSE;
    }

  yaml_parser_initialize (&parser);
  yaml_parser_set_input_string (&parser, (const unsigned char *) contents, length);
  if (!yaml_parser_load (&parser, &doc))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid YAML in %s at line %zu: %s", path, parser.problem_mark.line + 1,
                   parser.problem ? parser.problem : "syntax error");
      yaml_parser_delete (&parser);
      return FALSE;
    }

  ok = load_document (self, &doc, path, error);
  yaml_document_delete (&doc);
  yaml_parser_delete (&parser);
  return ok;
}

/* Apply SERVIN_DATA_ROOT, SERVIN_RUNTIME_STATE, SERVIN_LOG_LEVEL and SERVIN_RUNTIME.
 * Invalid values are logged and ignored so the file's value stays in force. */
void
sv_config_apply_environment (SvConfig *self)
{
  const char *value;

  value = g_getenv ("SERVIN_DATA_ROOT");
  if (value != NULL && *value != '\0')
    {
      if (g_path_is_absolute (value))
        sv_config_set_data_root (self, value);
      else
        g_warning ("SERVIN_DATA_ROOT must be an absolute path, not \"%s\"; ignored", value);
    }

  value = g_getenv ("SERVIN_RUNTIME_STATE");
  if (value != NULL && *value != '\0')
    {
      if (g_path_is_absolute (value))
        sv_config_set_runtime_state (self, value);
      else
        g_warning ("SERVIN_RUNTIME_STATE must be an absolute path, not \"%s\"; ignored", value);
    }

  value = g_getenv ("SERVIN_LOG_LEVEL");
  if (value != NULL && *value != '\0')
    {
      if (g_strv_contains (log_levels, value))
        sv_config_set_log_level (self, value);
      else
        g_warning ("SERVIN_LOG_LEVEL \"%s\" is invalid: use error, warning, info or debug", value);
    }

  value = g_getenv ("SERVIN_RUNTIME");
  if (value != NULL && *value != '\0')
    sv_config_set_runtime (self, value);

  value = g_getenv ("SERVIN_CGROUP_PARENT");
  if (value != NULL && *value != '\0')
    {
      g_free (self->cgroup_parent);
      self->cgroup_parent = g_strdup (value);
    }
}

/* Load @path over the defaults, then the environment over that. */
SvConfig *
sv_config_load (const char *path, GError **error)
{
  g_autoptr (SvConfig) self = sv_config_new_default ();

  if (path != NULL && !sv_config_merge_file (self, path, error))
    return NULL;
  sv_config_apply_environment (self);
  return g_steal_pointer (&self);
}

/* Load the system configuration: SERVIN_CONFIG if set, which must then exist,
 * else /etc/servin/config.yaml when it exists. */
SvConfig *
sv_config_load_system (GError **error)
{
  const char *path = g_getenv ("SERVIN_CONFIG");

  if (path == NULL || *path == '\0')
    {
      path = SV_DEFAULT_CONFIG;
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        path = NULL;
    }
  return sv_config_load (path, error);
}

const char *
sv_config_get_data_root (SvConfig *self)
{
  return self->data_root;
}

const char *
sv_config_get_runtime_state (SvConfig *self)
{
  return self->runtime_state;
}

const char *
sv_config_get_log_level (SvConfig *self)
{
  return self->log_level;
}

const char *
sv_config_get_runtime (SvConfig *self)
{
  return self->runtime;
}

const char *
sv_config_get_cgroup_parent (SvConfig *self)
{
  return self->cgroup_parent;
}

const char *const *
sv_config_get_insecure_registries (SvConfig *self)
{
  return (const char *const *) self->insecure_registries->pdata;
}

/* Whether @host (host or host:port) may be reached over plain HTTP: loopback
 * registries always may, others only when listed in registries.insecure. */
gboolean
sv_config_is_insecure_registry (SvConfig *self, const char *host)
{
  if (g_str_equal (host, "127.0.0.1") || g_str_has_prefix (host, "127.0.0.1:")
      || g_str_equal (host, "localhost") || g_str_has_prefix (host, "localhost:")
      || g_str_equal (host, "[::1]") || g_str_has_prefix (host, "[::1]:"))
    return TRUE;

  for (guint i = 0; i < self->insecure_registries->len; i++)
    {
      if (g_str_equal (g_ptr_array_index (self->insecure_registries, i), host))
        return TRUE;
    }
  return FALSE;
}

void
sv_config_set_data_root (SvConfig *self, const char *path)
{
  g_free (self->data_root);
  self->data_root = g_strdup (path);
}

void
sv_config_set_runtime_state (SvConfig *self, const char *path)
{
  g_free (self->runtime_state);
  self->runtime_state = g_strdup (path);
}

void
sv_config_set_log_level (SvConfig *self, const char *level)
{
  g_free (self->log_level);
  self->log_level = g_strdup (level);
}

void
sv_config_set_runtime (SvConfig *self, const char *runtime)
{
  g_free (self->runtime);
  self->runtime = g_strdup (runtime);
}
