/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-config.h"

#include <string.h>
#include <sys/stat.h>
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
  char *log_file;
  GPtrArray *insecure_registries; /* NULL-terminated array of char * */
  GHashTable *registry_auths;     /* "host[:port]" -> RegistryAuth */
};

typedef struct
{
  char *username;
  char *password;
} RegistryAuth;

static void
registry_auth_free (RegistryAuth *auth)
{
  g_free (auth->username);
  /* Clear the password so it does not linger in freed memory. */
  if (auth->password != NULL)
    memset (auth->password, 0, strlen (auth->password));
  g_free (auth->password);
  g_free (auth);
}

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
  g_free (self->log_file);
  g_ptr_array_unref (self->insecure_registries);
  g_hash_table_unref (self->registry_auths);

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
  self->registry_auths
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)registry_auth_free);
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
      else if (g_str_equal (key, "log_file"))
        {
          if (!expect_scalar (doc, value_node, "daemon.log_file", path, &value, error)
              || !set_absolute_path (&self->log_file, value, "daemon.log_file", path, error))
            return FALSE;
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
load_insecure_list (SvConfig *self,
                    yaml_document_t *doc,
                    yaml_node_t *value_node,
                    const char *path,
                    GError **error)
{
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
  return TRUE;
}

/* A registry host as references spell it: "host" or "host:port", without a
 * scheme or path. */
static gboolean
is_valid_registry_host (const char *host)
{
  if (*host == '\0' || strstr (host, "://") != NULL)
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    {
      if (*p == '/' || g_ascii_isspace (*p) || *p == '@')
        return FALSE;
    }
  return TRUE;
}

/* One entry of registries.auths: HOST: {username: NAME, password: SECRET}.
 * Errors name the key and the line but never the password. */
static gboolean
load_registry_auth (SvConfig *self,
                    yaml_document_t *doc,
                    const char *host,
                    yaml_node_t *entry,
                    const char *path,
                    GError **error)
{
  g_autofree char *key = g_strdup_printf ("registries.auths.%s", host);
  const char *username = NULL;
  const char *password = NULL;
  RegistryAuth *auth;

  if (!is_valid_registry_host (host))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid configuration %s: registries.auths key \"%s\" must be a registry "
                   "host or host:port, such as registry.example:5000 (line %zu)",
                   path, host, entry->start_mark.line + 1);
      return FALSE;
    }
  if (entry->type != YAML_MAPPING_NODE)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid configuration %s: %s must be a mapping with username and password "
                   "(line %zu)",
                   path, key, entry->start_mark.line + 1);
      return FALSE;
    }

  for (yaml_node_pair_t *pair = entry->data.mapping.pairs.start;
       pair < entry->data.mapping.pairs.top; pair++)
    {
      const char *name = node_scalar (doc, yaml_document_get_node (doc, pair->key));
      yaml_node_t *value_node = yaml_document_get_node (doc, pair->value);
      g_autofree char *full_key = g_strdup_printf ("%s.%s", key, name ? name : "?");

      if (g_strcmp0 (name, "username") == 0)
        {
          if (!expect_scalar (doc, value_node, full_key, path, &username, error))
            return FALSE;
        }
      else if (g_strcmp0 (name, "password") == 0)
        {
          if (!expect_scalar (doc, value_node, full_key, path, &password, error))
            return FALSE;
        }
      else
        g_warning ("Unknown configuration key %s in %s, ignored", full_key, path);
    }

  if (username == NULL || *username == '\0' || password == NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid configuration %s: %s needs both a non-empty username and a "
                   "password (line %zu)",
                   path, key, entry->start_mark.line + 1);
      return FALSE;
    }
  if (strchr (username, ':') != NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid configuration %s: %s.username must not contain \":\", which HTTP "
                   "Basic authentication uses as the separator (line %zu)",
                   path, key, entry->start_mark.line + 1);
      return FALSE;
    }

  auth = g_new0 (RegistryAuth, 1);
  auth->username = g_strdup (username);
  auth->password = g_strdup (password);
  g_hash_table_replace (self->registry_auths, g_strdup (host), auth);
  return TRUE;
}

/* Passwords in a file that every user can read are no secret. */
static void
warn_if_readable_by_others (const char *path)
{
  struct stat st;

  if (stat (path, &st) == 0 && (st.st_mode & S_IROTH) != 0)
    g_warning ("Configuration %s contains registry passwords in registries.auths but every user "
               "can read it: run chmod o-r %s",
               path, path);
}

static gboolean
load_auths_mapping (SvConfig *self,
                    yaml_document_t *doc,
                    yaml_node_t *value_node,
                    const char *path,
                    GError **error)
{
  if (value_node->type != YAML_MAPPING_NODE)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid configuration %s: registries.auths must be a mapping from registry "
                   "host to username and password (line %zu)",
                   path, value_node->start_mark.line + 1);
      return FALSE;
    }

  for (yaml_node_pair_t *pair = value_node->data.mapping.pairs.start;
       pair < value_node->data.mapping.pairs.top; pair++)
    {
      yaml_node_t *key_node = yaml_document_get_node (doc, pair->key);
      const char *host = node_scalar (doc, key_node);

      if (host == NULL)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid configuration %s: registries.auths keys must be registry hosts "
                       "(line %zu)",
                       path, key_node->start_mark.line + 1);
          return FALSE;
        }
      if (!load_registry_auth (self, doc, host, yaml_document_get_node (doc, pair->value), path,
                               error))
        return FALSE;
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

      if (g_str_equal (key, "insecure"))
        {
          if (!load_insecure_list (self, doc, value_node, path, error))
            return FALSE;
        }
      else if (g_str_equal (key, "auths"))
        {
          if (!load_auths_mapping (self, doc, value_node, path, error))
            return FALSE;
          warn_if_readable_by_others (path);
        }
      else
        g_warning ("Unknown configuration key registries.%s in %s, ignored", key, path);
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

/* Apply SERVIN_DATA_ROOT, SERVIN_RUNTIME_STATE, SERVIN_LOG_LEVEL, SERVIN_LOG_FILE and SERVIN_RUNTIME.
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

  value = g_getenv ("SERVIN_LOG_FILE");
  if (value != NULL && *value != '\0')
    {
      if (g_path_is_absolute (value))
        sv_config_set_log_file (self, value);
      else
        g_warning ("SERVIN_LOG_FILE must be an absolute path, not \"%s\"; ignored", value);
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

/* The file servind appends its log to, or NULL for standard error. */
const char *
sv_config_get_log_file (SvConfig *self)
{
  return self->log_file;
}

void
sv_config_set_log_file (SvConfig *self, const char *path)
{
  g_free (self->log_file);
  self->log_file = g_strdup (path);
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

/* Look up the credentials registries.auths gives for @host ("host" or
 * "host:port", as in image references). The strings belong to @self. */
gboolean
sv_config_get_registry_auth (SvConfig *self,
                             const char *host,
                             const char **username,
                             const char **password)
{
  RegistryAuth *auth = g_hash_table_lookup (self->registry_auths, host);

  if (auth == NULL)
    return FALSE;
  *username = auth->username;
  *password = auth->password;
  return TRUE;
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
