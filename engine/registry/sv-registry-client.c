/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-registry-client.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "sv-build-config.h"
#include "sv-engine-error.h"
#include "sv-manifest.h"

#define MAX_REDIRECTS 10
#define ERROR_BODY_MAX_SIZE (64 * 1024)
#define TOKEN_BODY_MAX_SIZE (1024 * 1024)
#define BLOB_CHUNK_SIZE (256 * 1024)
/* Tokens without "expires_in" last 60 seconds, the default of Docker's token
 * authentication specification. */
#define TOKEN_DEFAULT_LIFETIME_S 60
/* Seconds without progress on a connection before a request fails, unless
 * SERVIN_REGISTRY_TIMEOUT sets another number. */
#define DEFAULT_TIMEOUT_S 60

struct _SvRegistryClient
{
  GObject parent_instance;

  SvConfig *config;
  SoupSession *session;
  guint timeout;                /* seconds */
  GHashTable *tokens;           /* "registry scope identity" -> CachedToken */
  GHashTable *basic_registries; /* "registry identity" that accepted Basic auth */
  guint8 cache_secret[32];      /* HMAC key of the identities in the cache keys */
};

G_DEFINE_FINAL_TYPE (SvRegistryClient, sv_registry_client, G_TYPE_OBJECT)

typedef struct
{
  char *token;
  gint64 expires_at; /* g_get_monotonic_time () units */
} CachedToken;

static void
cached_token_free (CachedToken *cached)
{
  g_free (cached->token);
  g_free (cached);
}

static void
sv_registry_client_finalize (GObject *object)
{
  SvRegistryClient *self = SV_REGISTRY_CLIENT (object);

  g_clear_object (&self->config);
  g_clear_object (&self->session);
  g_clear_pointer (&self->tokens, g_hash_table_unref);
  g_clear_pointer (&self->basic_registries, g_hash_table_unref);

  G_OBJECT_CLASS (sv_registry_client_parent_class)->finalize (object);
}

static void
sv_registry_client_class_init (SvRegistryClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sv_registry_client_finalize;
}

/* SERVIN_REGISTRY_TIMEOUT in seconds, or the default when unset or invalid. */
static guint
read_timeout_setting (void)
{
  const char *text = g_getenv ("SERVIN_REGISTRY_TIMEOUT");
  guint64 value = 0;

  if (text == NULL || *text == '\0')
    return DEFAULT_TIMEOUT_S;
  if (!g_ascii_string_to_unsigned (text, 10, 1, 3600, &value, NULL))
    {
      g_warning ("SERVIN_REGISTRY_TIMEOUT \"%s\" is invalid: use a number of seconds from 1 to "
                 "3600; using %d",
                 text, DEFAULT_TIMEOUT_S);
      return DEFAULT_TIMEOUT_S;
    }
  return (guint)value;
}

static void
sv_registry_client_init (SvRegistryClient *self)
{
  self->timeout = read_timeout_setting ();
  /* Several layers download at once from one registry, so allow more than
   * libsoup's default of 2 connections per host. */
  self->session = soup_session_new_with_options ("user-agent", "servin/" PACKAGE_VERSION,
                                                 "max-conns-per-host", 8, "timeout", self->timeout,
                                                 "idle-timeout", 60, NULL);
  self->tokens
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)cached_token_free);
  self->basic_registries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (gsize i = 0; i < sizeof self->cache_secret; i += 4)
    {
      guint32 random = g_random_int ();
      memcpy (self->cache_secret + i, &random, 4);
    }
}

SvRegistryCredentials *
sv_registry_credentials_new (const char *username, const char *password)
{
  SvRegistryCredentials *credentials = g_new0 (SvRegistryCredentials, 1);

  credentials->username = g_strdup (username);
  credentials->password = g_strdup (password);
  return credentials;
}

SvRegistryCredentials *
sv_registry_credentials_copy (const SvRegistryCredentials *credentials)
{
  return sv_registry_credentials_new (credentials->username, credentials->password);
}

void
sv_registry_credentials_free (SvRegistryCredentials *credentials)
{
  if (credentials == NULL)
    return;
  g_free (credentials->username);
  /* Clear the password so it does not linger in freed memory. */
  if (credentials->password != NULL)
    memset (credentials->password, 0, strlen (credentials->password));
  g_free (credentials->password);
  g_free (credentials);
}

SvRegistryClient *
sv_registry_client_new (SvConfig *config)
{
  SvRegistryClient *self = g_object_new (SV_TYPE_REGISTRY_CLIENT, NULL);

  self->config = g_object_ref (config);
  return self;
}

char *
sv_registry_client_get_base_url (SvRegistryClient *self, const SvReference *ref)
{
  const char *scheme
      = sv_config_is_insecure_registry (self->config, ref->domain) ? "http" : "https";

  return g_strdup_printf ("%s://%s", scheme, sv_reference_get_registry_host (ref));
}

/* "host:port" of @uri, with the scheme's default port when none is given. */
static char *
format_host_port (GUri *uri)
{
  int port = g_uri_get_port (uri);
  const char *host = g_uri_get_host (uri);

  if (port < 0)
    port = g_str_equal (g_uri_get_scheme (uri), "https") ? 443 : 80;
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%d", host, port);
  return g_strdup_printf ("%s:%d", host, port);
}

static gboolean
same_origin (GUri *a, GUri *b)
{
  return g_strcmp0 (g_uri_get_scheme (a), g_uri_get_scheme (b)) == 0
         && g_ascii_strcasecmp (g_uri_get_host (a), g_uri_get_host (b)) == 0
         && g_uri_get_port (a) == g_uri_get_port (b);
}

/* Turn a failure to get any response into an engine error. */
static GError *
make_send_error (SvRegistryClient *self, GUri *uri, GError *cause)
{
  g_autofree char *host_port = format_host_port (uri);

  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (cause);
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNREACHABLE,
                        "registry %s did not respond within %u s (SERVIN_REGISTRY_TIMEOUT sets "
                        "this limit)",
                        host_port, self->timeout);
  if (cause->domain == G_TLS_ERROR)
    return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNREACHABLE,
                        "TLS connection to registry %s failed: %s (a registry that speaks "
                        "plain HTTP must be listed in registries.insecure)",
                        host_port, cause->message);
  return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNREACHABLE, "cannot reach registry %s: %s",
                      host_port, cause->message);
}

/* Turn a failure while reading a response body into an engine error. */
static GError *
make_read_error (SvRegistryClient *self, const char *registry, const GError *cause)
{
  if (cause->domain == SV_ENGINE_ERROR || g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (cause);
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNREACHABLE,
                        "registry %s sent no data for %u s (SERVIN_REGISTRY_TIMEOUT sets this "
                        "limit)",
                        registry, self->timeout);
  return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                      "the connection to registry %s failed before the end of the response: %s",
                      registry, cause->message);
}

/* Read a whole response body, failing once it passes @limit bytes. */

typedef struct
{
  GInputStream *stream;
  GByteArray *data;
  gsize limit;
} ReadBody;

static void
read_body_free (ReadBody *state)
{
  g_object_unref (state->stream);
  g_byte_array_unref (state->data);
  g_free (state);
}

static void read_body_next (GTask *task);

static void
on_read_body_chunk (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ReadBody *state = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) chunk = g_input_stream_read_bytes_finish (state->stream, result, &error);

  if (chunk == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (g_bytes_get_size (chunk) == 0)
    {
      g_task_return_pointer (task, g_byte_array_free_to_bytes (g_byte_array_ref (state->data)),
                             (GDestroyNotify)g_bytes_unref);
      return;
    }

  if (state->data->len + g_bytes_get_size (chunk) > state->limit)
    {
      g_task_return_new_error (
          task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
          "response body is larger than the limit of %" G_GSIZE_FORMAT " bytes", state->limit);
      return;
    }

  g_byte_array_append (state->data, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
  read_body_next (g_steal_pointer (&task));
}

static void
read_body_next (GTask *task)
{
  ReadBody *state = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (state->stream, 64 * 1024, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), on_read_body_chunk, task);
}

static void
read_body_async (GInputStream *stream, gsize limit, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (stream, cancellable, callback, user_data);
  ReadBody *state = g_new0 (ReadBody, 1);

  state->stream = g_object_ref (stream);
  state->data = g_byte_array_new ();
  state->limit = limit;
  g_task_set_task_data (task, state, (GDestroyNotify)read_body_free);
  read_body_next (task);
}

static GBytes *
read_body_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* A GET sent to a registry, with authentication (Basic, or Bearer tokens
 * fetched anonymously or with credentials) and redirects handled here, so
 * callers see only the final response. */

typedef struct
{
  SvRegistryClient *client;
  char *registry; /* the reference's domain, as error messages name it */
  char *scope;    /* "repository:NAME:pull", or NULL for /v2/ */
  GUri *base;     /* where the registry itself is */
  GUri *uri;      /* the current target, which redirects change */
  char *accept;
  SvRegistryCredentials *credentials; /* NULL: anonymous */
  char *identity;                     /* keys the caches per credentials */
  gboolean allow_http_realm;
  guint redirects;
  gboolean token_tried;
  gboolean basic_tried;
  SoupMessage *message;
} Request;

static void
request_free (Request *request)
{
  g_object_unref (request->client);
  g_free (request->registry);
  g_free (request->scope);
  g_uri_unref (request->base);
  g_uri_unref (request->uri);
  g_free (request->accept);
  g_clear_pointer (&request->credentials, sv_registry_credentials_free);
  g_free (request->identity);
  g_clear_object (&request->message);
  g_free (request);
}

/* A cache key that differs between credentials without containing them. It
 * is an HMAC under a key that exists only in this client, or "" without
 * credentials. */
static char *
identify_credentials (SvRegistryClient *self, const SvRegistryCredentials *credentials)
{
  g_autofree char *text = NULL;
  char *identity;

  if (credentials == NULL)
    return g_strdup ("");
  text = g_strconcat (credentials->username, "\n", credentials->password, NULL);
  identity = g_compute_hmac_for_string (G_CHECKSUM_SHA256, self->cache_secret,
                                        sizeof self->cache_secret, text, -1);
  memset (text, 0, strlen (text));
  return identity;
}

static char *
token_key (Request *request)
{
  return g_strconcat (request->registry, " ", request->scope ? request->scope : "", " ",
                      request->identity, NULL);
}

static char *
basic_key (Request *request)
{
  return g_strconcat (request->registry, " ", request->identity, NULL);
}

static const char *
lookup_token (Request *request)
{
  g_autofree char *key = token_key (request);
  CachedToken *cached = g_hash_table_lookup (request->client->tokens, key);

  if (cached == NULL)
    return NULL;
  if (g_get_monotonic_time () >= cached->expires_at)
    {
      g_hash_table_remove (request->client->tokens, key);
      return NULL;
    }
  return cached->token;
}

static char *
format_basic_authorization (const SvRegistryCredentials *credentials)
{
  g_autofree char *pair = g_strconcat (credentials->username, ":", credentials->password, NULL);
  g_autofree char *encoded = g_base64_encode ((const guchar *)pair, strlen (pair));
  char *value = g_strconcat ("Basic ", encoded, NULL);

  memset (pair, 0, strlen (pair));
  memset (encoded, 0, strlen (encoded));
  return value;
}

static void request_send (GTask *task);

static void on_request_sent (GObject *source, GAsyncResult *result, gpointer user_data);

static void
request_send (GTask *task)
{
  Request *request = g_task_get_task_data (task);
  SoupMessageHeaders *headers;
  const char *token;

  g_clear_object (&request->message);
  request->message = soup_message_new_from_uri ("GET", request->uri);
  soup_message_add_flags (request->message, SOUP_MESSAGE_NO_REDIRECT);
  headers = soup_message_get_request_headers (request->message);
  if (request->accept != NULL)
    soup_message_headers_replace (headers, "Accept", request->accept);

  /* Tokens and credentials are for the registry only, never for storage it
   * redirects to. */
  if (same_origin (request->uri, request->base))
    {
      g_autofree char *key = basic_key (request);

      token = lookup_token (request);
      if (token != NULL)
        {
          g_autofree char *value = g_strconcat ("Bearer ", token, NULL);
          soup_message_headers_replace (headers, "Authorization", value);
        }
      else if (request->credentials != NULL
               && (request->basic_tried
                   || g_hash_table_contains (request->client->basic_registries, key)))
        {
          g_autofree char *value = format_basic_authorization (request->credentials);

          request->basic_tried = TRUE;
          soup_message_headers_replace (headers, "Authorization", value);
          memset (value, 0, strlen (value));
        }
    }

  soup_session_send_async (request->client->session, request->message, G_PRIORITY_DEFAULT,
                           g_task_get_cancellable (task), on_request_sent, task);
}

/* The scheme ("bearer" or "basic", lowercase) and parameters of a
 * WWW-Authenticate challenge, or NULL. */
static GHashTable *
parse_challenge (SoupMessage *message, char **scheme)
{
  const char *header = soup_message_headers_get_one (soup_message_get_response_headers (message),
                                                     "WWW-Authenticate");
  const char *space;

  if (header == NULL)
    return NULL;
  space = strchr (header, ' ');
  *scheme = g_ascii_strdown (header, space ? space - header : -1);
  return soup_header_parse_param_list (space ? space + 1 : "");
}

static GError *
make_login_needed_error (const char *registry)
{
  return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_AUTHENTICATION_FAILED,
                      "registry %s requires a login: give credentials for %s in registries.auths "
                      "of the configuration, in SERVIN_REGISTRY_USER and SERVIN_REGISTRY_PASS, "
                      "or with the pull",
                      registry, registry);
}

static GError *
make_authentication_failed_error (const char *registry, const char *by, guint status)
{
  return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_AUTHENTICATION_FAILED,
                      "authentication failed for %s: %s rejected the username and password "
                      "with HTTP %u; check the credentials",
                      registry, by, status);
}

typedef struct
{
  GTask *request_task;
  char *key;
  char *realm; /* without the query */
} TokenFetch;

static void
token_fetch_free (TokenFetch *fetch)
{
  g_free (fetch->key);
  g_free (fetch->realm);
  g_free (fetch);
}

/* The token and its lifetime in seconds from a token response body, or NULL. */
static char *
parse_token_response (GBytes *body, gint64 *lifetime)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *object;
  const char *token;

  if (g_bytes_get_size (body) > TOKEN_BODY_MAX_SIZE
      || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                      g_bytes_get_size (body), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  object = json_node_get_object (json_parser_get_root (parser));

  /* "token" is the distribution spec's name, "access_token" OAuth 2's. */
  token = json_object_get_string_member_with_default (object, "token", NULL);
  if (token == NULL || *token == '\0')
    token = json_object_get_string_member_with_default (object, "access_token", NULL);
  if (token == NULL || *token == '\0')
    return NULL;

  *lifetime = json_object_get_int_member_with_default (object, "expires_in", 0);
  if (*lifetime <= 0)
    *lifetime = TOKEN_DEFAULT_LIFETIME_S;
  return g_strdup (token);
}

static void
on_token_received (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TokenFetch *fetch = user_data;
  g_autoptr (GTask) task = fetch->request_task;
  Request *request = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body
      = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *message = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  guint status = soup_message_get_status (message);
  g_autofree char *token = NULL;
  gint64 lifetime = 0;
  CachedToken *cached;

  if (body == NULL)
    {
      g_task_return_error (
          task, make_send_error (request->client, soup_message_get_uri (message), error));
      token_fetch_free (fetch);
      return;
    }

  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    {
      g_autofree char *by = g_strdup_printf ("the token service %s", fetch->realm);

      g_task_return_error (task,
                           request->credentials != NULL
                               ? make_authentication_failed_error (request->registry, by, status)
                               : make_login_needed_error (request->registry));
      token_fetch_free (fetch);
      return;
    }
  if (status != SOUP_STATUS_OK)
    {
      g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                               "cannot get a token from %s for registry %s: HTTP %u %s",
                               fetch->realm, request->registry, status,
                               soup_message_get_reason_phrase (message));
      token_fetch_free (fetch);
      return;
    }

  token = parse_token_response (body, &lifetime);
  if (token == NULL)
    {
      g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                               "invalid token response from %s for registry %s: no \"token\" "
                               "member",
                               fetch->realm, request->registry);
      token_fetch_free (fetch);
      return;
    }

  /* Expire the token a little early so it does not expire in flight. */
  cached = g_new0 (CachedToken, 1);
  cached->token = g_steal_pointer (&token);
  cached->expires_at = g_get_monotonic_time () + MAX (lifetime - 5, 1) * G_USEC_PER_SEC;
  g_hash_table_replace (request->client->tokens, g_steal_pointer (&fetch->key), cached);
  token_fetch_free (fetch);

  request_send (g_steal_pointer (&task));
}

/* The realm of a Bearer challenge, checked: HTTPS, or plain HTTP for a
 * registry that may be reached over plain HTTP itself. */
static GUri *
parse_realm (Request *request, const char *realm, GError **error)
{
  g_autoptr (GUri) uri = NULL;

  if (realm != NULL)
    uri = g_uri_parse (realm, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL
      || (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "http") != 0))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "registry %s sent a Bearer challenge without a valid realm URL",
                   request->registry);
      return NULL;
    }
  if (g_str_equal (g_uri_get_scheme (uri), "http") && !request->allow_http_realm)
    {
      g_autofree char *shown = g_uri_to_string_partial (uri, G_URI_HIDE_QUERY);

      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                   "registry %s names the plain HTTP token realm %s; Servin gets tokens over "
                   "plain HTTP only for registries on loopback or listed in registries.insecure",
                   request->registry, shown);
      return NULL;
    }
  return g_steal_pointer (&uri);
}

/* Handle a Bearer challenge by fetching a token from its realm, with the
 * credentials when there are any. */
static void
request_fetch_token (GTask *task, GHashTable *challenge)
{
  Request *request = g_task_get_task_data (task);
  const char *service = g_hash_table_lookup (challenge, "service");
  const char *scope = g_hash_table_lookup (challenge, "scope");
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) realm_uri
      = parse_realm (request, g_hash_table_lookup (challenge, "realm"), &error);
  g_autoptr (GString) query = g_string_new (NULL);
  g_autoptr (GUri) token_uri = NULL;
  g_autoptr (SoupMessage) message = NULL;
  TokenFetch *fetch;

  if (realm_uri == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  if (scope == NULL)
    scope = request->scope;
  if (g_uri_get_query (realm_uri) != NULL)
    g_string_append (query, g_uri_get_query (realm_uri));
  if (service != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (service, NULL, FALSE);
      g_string_append_printf (query, "%sservice=%s", query->len ? "&" : "", escaped);
    }
  if (scope != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (scope, NULL, FALSE);
      g_string_append_printf (query, "%sscope=%s", query->len ? "&" : "", escaped);
    }
  if (request->credentials != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (request->credentials->username, NULL, FALSE);
      g_string_append_printf (query, "%saccount=%s", query->len ? "&" : "", escaped);
    }

  token_uri = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (realm_uri), NULL,
                           g_uri_get_host (realm_uri), g_uri_get_port (realm_uri),
                           g_uri_get_path (realm_uri), query->len ? query->str : NULL, NULL);
  message = soup_message_new_from_uri ("GET", token_uri);
  /* A redirect would carry the credentials to wherever it points. */
  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);
  if (request->credentials != NULL)
    {
      g_autofree char *value = format_basic_authorization (request->credentials);

      soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization",
                                    value);
      memset (value, 0, strlen (value));
    }

  fetch = g_new0 (TokenFetch, 1);
  fetch->request_task = task;
  fetch->key = token_key (request);
  fetch->realm = g_uri_to_string_partial (realm_uri, G_URI_HIDE_QUERY);
  soup_session_send_and_read_async (request->client->session, message, G_PRIORITY_DEFAULT,
                                    g_task_get_cancellable (task), on_token_received, fetch);
}

static gboolean
request_follow_redirect (GTask *task)
{
  Request *request = g_task_get_task_data (task);
  const char *location = soup_message_headers_get_one (
      soup_message_get_response_headers (request->message), "Location");
  g_autoptr (GError) error = NULL;
  GUri *target;

  if (location == NULL)
    return FALSE;

  if (++request->redirects > MAX_REDIRECTS)
    {
      g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                               "registry %s redirected more than %d times", request->registry,
                               MAX_REDIRECTS);
      return TRUE;
    }

  target = g_uri_parse_relative (request->uri, location, G_URI_FLAGS_ENCODED, &error);
  if (target == NULL)
    {
      g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                               "registry %s redirected to an invalid URL \"%s\": %s",
                               request->registry, location, error->message);
      return TRUE;
    }

  g_uri_unref (request->uri);
  request->uri = target;
  request_send (task);
  return TRUE;
}

/* Handle a 401 from the registry itself. Returns FALSE when the caller
 * should return the response as it is. */
static gboolean
request_handle_unauthorized (GTask *task, GInputStream *stream)
{
  Request *request = g_task_get_task_data (task);
  g_autofree char *scheme = NULL;
  g_autoptr (GHashTable) challenge = parse_challenge (request->message, &scheme);

  if (challenge == NULL || !same_origin (request->uri, request->base))
    return FALSE;

  if (g_str_equal (scheme, "basic"))
    {
      g_autofree char *key = basic_key (request);

      if (request->credentials == NULL)
        {
          g_task_return_error (task, make_login_needed_error (request->registry));
          return TRUE;
        }
      if (request->basic_tried)
        {
          g_autofree char *by = g_strdup_printf ("registry %s", request->registry);

          g_hash_table_remove (request->client->basic_registries, key);
          g_task_return_error (
              task, make_authentication_failed_error (request->registry, by,
                                                      soup_message_get_status (request->message)));
          return TRUE;
        }
      g_input_stream_close (stream, NULL, NULL);
      g_hash_table_add (request->client->basic_registries, g_steal_pointer (&key));
      request->basic_tried = TRUE;
      request_send (task);
      return TRUE;
    }

  /* Without credentials, /v2/ returns 401 to everyone on a registry with
   * tokens, which is no failure. Repositories get an anonymous token. */
  if (g_str_equal (scheme, "bearer") && !request->token_tried
      && (request->scope != NULL || request->credentials != NULL))
    {
      g_autofree char *key = token_key (request);

      request->token_tried = TRUE;
      g_hash_table_remove (request->client->tokens, key);
      g_input_stream_close (stream, NULL, NULL);
      request_fetch_token (task, challenge);
      return TRUE;
    }
  return FALSE;
}

static void
on_request_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Request *request = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream
      = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  guint status;

  if (stream == NULL)
    {
      g_task_return_error (task, make_send_error (request->client, request->uri, error));
      return;
    }

  status = soup_message_get_status (request->message);

  if (status == SOUP_STATUS_UNAUTHORIZED && request_handle_unauthorized (task, stream))
    {
      g_steal_pointer (&task);
      return;
    }

  if (SOUP_STATUS_IS_REDIRECTION (status) && status != SOUP_STATUS_NOT_MODIFIED)
    {
      g_input_stream_close (stream, NULL, NULL);
      if (request_follow_redirect (task))
        {
          g_steal_pointer (&task);
          return;
        }
    }

  g_task_return_pointer (task, g_steal_pointer (&stream), g_object_unref);
}

/* Credentials for @ref: @given when set, else SERVIN_REGISTRY_USER and
 * SERVIN_REGISTRY_PASS when both are set, else registries.auths. */
static SvRegistryCredentials *
resolve_credentials (SvRegistryClient *self, const SvReference *ref,
                     const SvRegistryCredentials *given)
{
  const char *username = g_getenv ("SERVIN_REGISTRY_USER");
  const char *password = g_getenv ("SERVIN_REGISTRY_PASS");

  if (given != NULL)
    return sv_registry_credentials_copy (given);
  if (username != NULL && *username != '\0' && password != NULL)
    return sv_registry_credentials_new (username, password);
  if (sv_config_get_registry_auth (self->config, ref->domain, &username, &password)
      || sv_config_get_registry_auth (self->config, sv_reference_get_registry_host (ref), &username,
                                      &password))
    return sv_registry_credentials_new (username, password);
  return NULL;
}

static void
request_async (SvRegistryClient *self, const SvReference *ref,
               const SvRegistryCredentials *credentials, const char *path, const char *accept,
               gboolean with_scope, GCancellable *cancellable, GAsyncReadyCallback callback,
               gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Request *request = g_new0 (Request, 1);
  g_autofree char *base = sv_registry_client_get_base_url (self, ref);
  g_autofree char *url = g_strconcat (base, path, NULL);
  g_autoptr (GError) error = NULL;

  request->client = g_object_ref (self);
  request->registry = g_strdup (ref->domain);
  request->scope = with_scope ? g_strdup_printf ("repository:%s:pull", ref->path) : NULL;
  request->accept = g_strdup (accept);
  request->credentials = resolve_credentials (self, ref, credentials);
  request->identity = identify_credentials (self, request->credentials);
  request->allow_http_realm = sv_config_is_insecure_registry (self->config, ref->domain);
  g_task_set_task_data (task, request, (GDestroyNotify)request_free);

  request->base = g_uri_parse (base, G_URI_FLAGS_ENCODED, &error);
  if (request->base == NULL)
    {
      request->base = g_uri_parse ("http://invalid", G_URI_FLAGS_NONE, NULL);
      request->uri = g_uri_ref (request->base);
      g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                               "invalid registry address %s: %s", base, error->message);
      g_object_unref (task);
      return;
    }
  request->uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  request_send (task);
}

/* Returns the body stream; @message receives the final response and
 * @authenticated whether credentials went with the request. */
static GInputStream *
request_finish (GAsyncResult *result, SoupMessage **message, gboolean *authenticated,
                GError **error)
{
  Request *request = g_task_get_task_data (G_TASK (result));
  GInputStream *stream = g_task_propagate_pointer (G_TASK (result), error);

  if (stream != NULL && message != NULL)
    *message = g_object_ref (request->message);
  if (authenticated != NULL)
    *authenticated = request->credentials != NULL;
  return stream;
}

/* The "code: message" of the first error in a registry error body, or NULL. */
static char *
describe_registry_error (GBytes *body)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;
  JsonArray *errors;
  JsonObject *first;

  if (body == NULL
      || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                      g_bytes_get_size (body), NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root)
      || !json_object_has_member (json_node_get_object (root), "errors"))
    return NULL;
  errors = json_object_get_array_member (json_node_get_object (root), "errors");
  if (errors == NULL || json_array_get_length (errors) == 0
      || !JSON_NODE_HOLDS_OBJECT (json_array_get_element (errors, 0)))
    return NULL;
  first = json_array_get_object_element (errors, 0);
  return g_strdup_printf ("%s: %s",
                          json_object_get_string_member_with_default (first, "code", "UNKNOWN"),
                          json_object_get_string_member_with_default (first, "message", ""));
}

/* An error for a response other than 200. @not_found is the message for a
 * 404, such as "manifest unknown: REF"; @authenticated is TRUE when
 * credentials went with the request. */
static GError *
make_http_error (SoupMessage *message, const char *registry, const char *not_found,
                 gboolean authenticated, GBytes *body)
{
  guint status = soup_message_get_status (message);
  g_autofree char *detail = describe_registry_error (body);
  g_autofree char *path
      = g_uri_to_string_partial (soup_message_get_uri (message), G_URI_HIDE_QUERY);

  if (status == SOUP_STATUS_NOT_FOUND)
    return g_error_new_literal (SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND, not_found);
  if ((status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) && authenticated)
    return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                        "%s (registry %s denied access with the given credentials with HTTP "
                        "%u%s%s; the repository may not exist or the user may lack access)",
                        not_found, registry, status, detail ? ": " : "", detail ? detail : "");
  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                        "%s (registry %s denied anonymous access with HTTP %u%s%s; the "
                        "repository may not exist or may need a login: give credentials for "
                        "%s in registries.auths of the configuration, in SERVIN_REGISTRY_USER "
                        "and SERVIN_REGISTRY_PASS, or with the pull)",
                        not_found, registry, status, detail ? ": " : "", detail ? detail : "",
                        registry);
  if (status == 429) /* Too Many Requests */
    return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                        "registry %s rejected the request with 429 Too Many Requests; try "
                        "again later",
                        registry);
  return g_error_new (SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                      "registry %s returned HTTP %u %s for GET %s%s%s", registry, status,
                      soup_message_get_reason_phrase (message), path, detail ? ": " : "",
                      detail ? detail : "");
}

/* Read the error body of a failed response, then return the error. */

typedef struct
{
  SoupMessage *message;
  char *registry;
  char *not_found;
  gboolean authenticated;
} HttpFailure;

static void
http_failure_free (HttpFailure *failure)
{
  g_object_unref (failure->message);
  g_free (failure->registry);
  g_free (failure->not_found);
  g_free (failure);
}

static void
on_error_body_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  HttpFailure *failure = g_object_get_data (G_OBJECT (task), "sv-http-failure");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = read_body_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_error (task, make_http_error (failure->message, failure->registry,
                                              failure->not_found, failure->authenticated, body));
}

/* Make @task fail with the HTTP error of @message, after reading its body. */
static void
fail_with_http_error (GTask *task, GInputStream *stream, SoupMessage *message, const char *registry,
                      const char *not_found, gboolean authenticated)
{
  HttpFailure *failure = g_new0 (HttpFailure, 1);

  failure->authenticated = authenticated;
  failure->message = g_object_ref (message);
  failure->registry = g_strdup (registry);
  failure->not_found = g_strdup (not_found);
  g_object_set_data_full (G_OBJECT (task), "sv-http-failure", failure,
                          (GDestroyNotify)http_failure_free);
  read_body_async (stream, ERROR_BODY_MAX_SIZE, g_task_get_cancellable (task), on_error_body_read,
                   task);
}

/* GET /v2/ */

static void
on_ping_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  const char *registry = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupMessage) message = NULL;
  g_autoptr (GInputStream) stream = request_finish (result, &message, NULL, &error);
  guint status;

  if (stream == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  status = soup_message_get_status (message);
  g_input_stream_close (stream, NULL, NULL);
  if (status == SOUP_STATUS_OK || status == SOUP_STATUS_UNAUTHORIZED)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                           "%s is not a registry: GET /v2/ returned HTTP %u %s", registry, status,
                           soup_message_get_reason_phrase (message));
}

void
sv_registry_client_ping_async (SvRegistryClient *self, const SvReference *ref,
                               const SvRegistryCredentials *credentials, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, sv_registry_client_ping_async);
  g_task_set_task_data (task, g_strdup (ref->domain), g_free);
  request_async (self, ref, credentials, "/v2/", NULL, FALSE, cancellable, on_ping_sent, task);
}

gboolean
sv_registry_client_ping_finish (SvRegistryClient *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The repository name as docker shows it: "busybox", "127.0.0.1:5000/app". */
static char *
format_repository (const SvReference *ref)
{
  SvReference name = { ref->domain, ref->path, NULL, NULL };

  return sv_reference_to_familiar (&name);
}

/* GET /v2/NAME/manifests/REF */

typedef struct
{
  SvRegistryClient *client;
  char *registry;
  char *description; /* "127.0.0.1:5000/app:latest" or "app@sha256:..." */
  char *manifest_ref;
  char *content_type;
  char *header_digest;
  char *digest;
  SoupMessage *message;
} ManifestFetch;

static void
manifest_fetch_free (ManifestFetch *fetch)
{
  g_object_unref (fetch->client);
  g_free (fetch->registry);
  g_free (fetch->description);
  g_free (fetch->manifest_ref);
  g_free (fetch->content_type);
  g_free (fetch->header_digest);
  g_free (fetch->digest);
  g_clear_object (&fetch->message);
  g_free (fetch);
}

static void
on_manifest_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ManifestFetch *fetch = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = read_body_finish (result, &error);
  g_autofree char *checksum = NULL;

  if (body == NULL)
    {
      if (g_error_matches (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT))
        g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                                 "manifest %s is larger than the limit of %d bytes (4 MiB)",
                                 fetch->description, SV_MANIFEST_MAX_SIZE);
      else
        {
          GError *read_error = make_read_error (fetch->client, fetch->registry, error);

          g_prefix_error (&read_error, "cannot read manifest %s: ", fetch->description);
          g_task_return_error (task, read_error);
        }
      return;
    }

  checksum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, body);
  fetch->digest = g_strconcat ("sha256:", checksum, NULL);

  if (sv_digest_is_valid (fetch->manifest_ref) && !g_str_equal (fetch->manifest_ref, fetch->digest))
    {
      g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_DIGEST_MISMATCH,
                               "manifest %s from registry %s has digest %s instead",
                               fetch->description, fetch->registry, fetch->digest);
      return;
    }
  if (fetch->header_digest != NULL && !g_str_equal (fetch->header_digest, fetch->digest))
    {
      g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_DIGEST_MISMATCH,
                               "manifest %s from registry %s has digest %s but the registry "
                               "announced %s in Docker-Content-Digest",
                               fetch->description, fetch->registry, fetch->digest,
                               fetch->header_digest);
      return;
    }

  g_task_return_pointer (task, g_steal_pointer (&body), (GDestroyNotify)g_bytes_unref);
}

static void
on_manifest_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ManifestFetch *fetch = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  gboolean authenticated = FALSE;
  g_autoptr (GInputStream) stream
      = request_finish (result, &fetch->message, &authenticated, &error);
  SoupMessageHeaders *headers;
  g_autofree char *not_found = NULL;

  if (stream == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, "cannot fetch manifest %s: ", fetch->description);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (soup_message_get_status (fetch->message) != SOUP_STATUS_OK)
    {
      not_found = g_strdup_printf ("manifest unknown: %s", fetch->description);
      fail_with_http_error (g_steal_pointer (&task), stream, fetch->message, fetch->registry,
                            not_found, authenticated);
      return;
    }

  headers = soup_message_get_response_headers (fetch->message);
  if (soup_message_headers_get_content_length (headers) > SV_MANIFEST_MAX_SIZE)
    {
      g_task_return_new_error (
          task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
          "manifest %s is %" G_GOFFSET_FORMAT " bytes, larger than the limit of %d bytes (4 MiB)",
          fetch->description, soup_message_headers_get_content_length (headers),
          SV_MANIFEST_MAX_SIZE);
      return;
    }

  fetch->content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  fetch->header_digest = g_strdup (soup_message_headers_get_one (headers, "Docker-Content-Digest"));
  read_body_async (stream, SV_MANIFEST_MAX_SIZE, g_task_get_cancellable (task), on_manifest_read,
                   task);
  g_steal_pointer (&task);
}

void
sv_registry_client_get_manifest_async (SvRegistryClient *self, const SvReference *ref,
                                       const SvRegistryCredentials *credentials,
                                       const char *manifest_ref, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  ManifestFetch *fetch = g_new0 (ManifestFetch, 1);
  g_autofree char *repository = format_repository (ref);
  g_autofree char *path = g_strdup_printf ("/v2/%s/manifests/%s", ref->path, manifest_ref);

  g_task_set_source_tag (task, sv_registry_client_get_manifest_async);
  fetch->client = g_object_ref (self);
  fetch->registry = g_strdup (ref->domain);
  fetch->manifest_ref = g_strdup (manifest_ref);
  fetch->description = g_strdup_printf (
      "%s%s%s", repository, sv_digest_is_valid (manifest_ref) ? "@" : ":", manifest_ref);
  g_task_set_task_data (task, fetch, (GDestroyNotify)manifest_fetch_free);

  request_async (self, ref, credentials, path, SV_MANIFEST_ACCEPT, TRUE, cancellable,
                 on_manifest_sent, task);
}

GBytes *
sv_registry_client_get_manifest_finish (SvRegistryClient *self, GAsyncResult *result,
                                        char **content_type, char **digest, GError **error)
{
  ManifestFetch *fetch = g_task_get_task_data (G_TASK (result));
  GBytes *bytes = g_task_propagate_pointer (G_TASK (result), error);

  if (bytes == NULL)
    return NULL;
  if (content_type != NULL)
    *content_type = g_strdup (fetch->content_type);
  if (digest != NULL)
    *digest = g_strdup (fetch->digest);
  return bytes;
}

/* GET /v2/NAME/blobs/DIGEST into the content store */

typedef struct
{
  SvRegistryClient *client;
  SvContentStore *store;
  SvBlobWriter *writer;
  GInputStream *stream;
  char *registry;
  char *repository;
  char *digest;
  gint64 size;
  SvBlobProgressFunc progress;
  gpointer progress_data;
  guint8 *buffer;
} BlobFetch;

static void
blob_fetch_free (BlobFetch *fetch)
{
  /* Freeing an uncommitted writer removes its temporary file. */
  g_clear_pointer (&fetch->writer, sv_blob_writer_free);
  g_clear_object (&fetch->stream);
  g_object_unref (fetch->client);
  g_object_unref (fetch->store);
  g_free (fetch->registry);
  g_free (fetch->repository);
  g_free (fetch->digest);
  g_free (fetch->buffer);
  g_free (fetch);
}

static void
commit_blob_in_thread (GTask *task, gpointer source_object, gpointer task_data,
                       GCancellable *cancellable)
{
  BlobFetch *fetch = task_data;
  GError *error = NULL;

  if (!sv_blob_writer_commit (fetch->writer, &error))
    {
      g_prefix_error (&error, "blob %s from %s: ", fetch->digest, fetch->repository);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void blob_read_next (GTask *task);

static void
on_blob_chunk_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BlobFetch *fetch = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (fetch->stream, result, &error);

  if (n < 0)
    {
      GError *read_error = make_read_error (fetch->client, fetch->registry, error);

      if (!g_error_matches (read_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&read_error, "cannot download blob %s from %s: ", fetch->digest,
                        fetch->repository);
      g_task_return_error (task, read_error);
      return;
    }

  if (n == 0)
    {
      g_input_stream_close (fetch->stream, NULL, NULL);
      /* The commit fsyncs, which must not block the main loop. */
      g_task_run_in_thread (task, commit_blob_in_thread);
      return;
    }

  if (!sv_blob_writer_write (fetch->writer, fetch->buffer, n, &error))
    {
      g_prefix_error (&error, "cannot download from %s: ", fetch->repository);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (fetch->progress != NULL)
    fetch->progress (n, fetch->progress_data);

  blob_read_next (g_steal_pointer (&task));
}

static void
blob_read_next (GTask *task)
{
  BlobFetch *fetch = g_task_get_task_data (task);

  g_input_stream_read_async (fetch->stream, fetch->buffer, BLOB_CHUNK_SIZE, G_PRIORITY_DEFAULT,
                             g_task_get_cancellable (task), on_blob_chunk_read, task);
}

static void
on_blob_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BlobFetch *fetch = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupMessage) message = NULL;
  gboolean authenticated = FALSE;
  g_autoptr (GInputStream) stream = request_finish (result, &message, &authenticated, &error);
  goffset length;

  if (stream == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, "cannot download blob %s from %s: ", fetch->digest,
                        fetch->repository);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (soup_message_get_status (message) != SOUP_STATUS_OK)
    {
      g_autofree char *not_found
          = g_strdup_printf ("blob unknown: %s in %s", fetch->digest, fetch->repository);
      fail_with_http_error (g_steal_pointer (&task), stream, message, fetch->registry, not_found,
                            authenticated);
      return;
    }

  /* The writer also stops at the descriptor's size, for bodies without a
   * Content-Length or longer than it. */
  length = soup_message_headers_get_content_length (soup_message_get_response_headers (message));
  if (fetch->size >= 0 && length > fetch->size)
    {
      g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                               "blob %s from %s is %" G_GOFFSET_FORMAT " bytes, larger than the "
                               "%" G_GINT64_FORMAT " bytes its descriptor gives",
                               fetch->digest, fetch->repository, length, fetch->size);
      return;
    }

  fetch->writer = sv_content_store_begin_blob (fetch->store, fetch->digest, fetch->size, &error);
  if (fetch->writer == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  fetch->stream = g_steal_pointer (&stream);
  fetch->buffer = g_malloc (BLOB_CHUNK_SIZE);
  blob_read_next (g_steal_pointer (&task));
}

void
sv_registry_client_get_blob_async (SvRegistryClient *self, const SvReference *ref,
                                   const SvRegistryCredentials *credentials, const char *digest,
                                   gint64 size, SvContentStore *store, SvBlobProgressFunc progress,
                                   gpointer progress_data, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  BlobFetch *fetch = g_new0 (BlobFetch, 1);
  g_autofree char *path = NULL;

  g_task_set_source_tag (task, sv_registry_client_get_blob_async);
  /* A blob committed just as the cancellable fires is reported as stored, so
   * the caller knows to remove it. */
  g_task_set_check_cancellable (task, FALSE);
  fetch->client = g_object_ref (self);
  fetch->store = g_object_ref (store);
  fetch->registry = g_strdup (ref->domain);
  fetch->repository = format_repository (ref);
  fetch->digest = g_strdup (digest);
  fetch->size = size;
  fetch->progress = progress;
  fetch->progress_data = progress_data;
  g_task_set_task_data (task, fetch, (GDestroyNotify)blob_fetch_free);

  if (!sv_digest_is_valid (digest))
    {
      g_task_return_new_error (task, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                               "invalid blob digest \"%s\": expected sha256: and 64 lowercase "
                               "hex digits",
                               digest);
      g_object_unref (task);
      return;
    }

  path = g_strdup_printf ("/v2/%s/blobs/%s", ref->path, digest);
  request_async (self, ref, credentials, path, NULL, TRUE, cancellable, on_blob_sent, task);
}

gboolean
sv_registry_client_get_blob_finish (SvRegistryClient *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
