/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The registry client against a SoupServer on 127.0.0.1 that plays the parts
 * of the protocol a stock docker-registry cannot be made to show: Bearer
 * challenges, tokens that expire, redirects to storage on another port, wrong
 * digests, and connections that stall, break off or carry too many bytes.
 * Pulls from the real docker-registry are covered by
 * tests/integration/test_pull.py and test_pull_auth.py. */
#include <ftw.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "sv-engine-error.h"
#include "sv-manifest.h"
#include "sv-registry-client.h"

#define USERNAME "alice"
#define PASSWORD "s3cret-Pa55"

/* How the registry answers a blob request instead of redirecting it. */
typedef enum
{
  BLOB_REDIRECT,
  BLOB_STALL_HEADERS, /* accept the request, send nothing */
  BLOB_STALL_BODY,    /* send the headers and part of the body, then nothing */
  BLOB_CUT_OFF,       /* send part of the body, then close the connection */
  BLOB_LONGER_LENGTH, /* announce more bytes in Content-Length than the descriptor */
  BLOB_LONGER_BODY,   /* no Content-Length, and more bytes than the descriptor */
} BlobBehaviour;

typedef struct
{
  SoupServer *server;  /* the registry */
  SoupServer *storage; /* where blobs redirect to */
  guint port;
  guint storage_port;
  char *data_root;
  SvConfig *config;
  SvContentStore *store;
  SvRegistryClient *client;

  /* What the registry serves. */
  GBytes *manifest;
  char *manifest_digest;
  char *announced_digest; /* Docker-Content-Digest sent; NULL: the real one */
  GBytes *blob;
  char *blob_digest;
  gboolean require_token;
  gboolean require_basic;     /* the registry requires Basic auth itself */
  gboolean token_needs_login; /* the token service rejects anonymous requests */
  int token_expires_in;       /* 0: leave "expires_in" out */
  gboolean manifest_chunked;  /* send the manifest without Content-Length */
  BlobBehaviour blob_behaviour;
  SvRegistryCredentials *credentials; /* what fetch_manifest and fetch_blob pass */
  GPtrArray *stolen;                  /* connections taken over for raw replies */
  GPtrArray *replies;                 /* GBytes being written to them */

  /* What the servers saw. */
  guint token_requests;
  guint basic_accepted;
  char *token_authorization;
  guint manifest_requests;
  char *last_accept;
  char *token_query;
  gboolean storage_saw_authorization;
} Fixture;

static const char manifest_template[]
    = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,"
      "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\"},"
      "\"layers\":[]}";

static char *
basic_value (const char *username, const char *password)
{
  g_autofree char *pair = g_strconcat (username, ":", password, NULL);
  g_autofree char *encoded = g_base64_encode ((const guchar *)pair, strlen (pair));

  return g_strconcat ("Basic ", encoded, NULL);
}

static gboolean
check_basic (Fixture *f, SoupServerMessage *msg)
{
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");
  g_autofree char *expected = basic_value (USERNAME, PASSWORD);

  if (!f->require_basic)
    return TRUE;
  if (g_strcmp0 (auth, expected) == 0)
    {
      f->basic_accepted++;
      return TRUE;
    }
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "WWW-Authenticate",
                                "Basic realm=\"test registry\"");
  soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
  return FALSE;
}

/* Tokens are "tok-N", N counting the tokens handed out. */
static gboolean
check_token (Fixture *f, SoupServerMessage *msg)
{
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");
  g_autofree char *current = g_strdup_printf ("Bearer tok-%u", f->token_requests);
  g_autofree char *challenge = NULL;

  if (!f->require_token || g_strcmp0 (auth, current) == 0)
    return TRUE;

  challenge = g_strdup_printf ("Bearer realm=\"http://127.0.0.1:%u/token\",service=\"test "
                               "registry\",scope=\"repository:team/app:pull\"",
                               f->port);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "WWW-Authenticate",
                                challenge);
  soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
  return FALSE;
}

static void
serve_json (SoupServerMessage *msg, guint status, const char *type, const char *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, text, strlen (text));
}

static void
on_raw_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GIOStream *connection = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_io_stream_close (connection, NULL, NULL);
  g_object_unref (connection);
}

/* Take the connection over from libsoup and reply to the blob request by hand,
 * the way a broken registry or proxy would. */
static void
serve_raw_blob (Fixture *f, SoupServerMessage *msg)
{
  GIOStream *connection = soup_server_message_steal_connection (msg);
  GOutputStream *output = g_io_stream_get_output_stream (connection);
  gsize size = g_bytes_get_size (f->blob);
  gsize part = 1000;
  g_autoptr (GByteArray) reply = g_byte_array_new ();
  g_autofree char *headers = NULL;
  gboolean close_after = TRUE;

  g_ptr_array_add (f->stolen, connection);
  switch (f->blob_behaviour)
    {
    case BLOB_STALL_HEADERS:
      return;
    case BLOB_STALL_BODY:
      headers = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                                 size);
      close_after = FALSE;
      break;
    case BLOB_CUT_OFF:
      headers = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                                 size);
      break;
    case BLOB_LONGER_LENGTH:
      headers = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                                 size + 100);
      part = size;
      break;
    case BLOB_LONGER_BODY:
      headers = g_strdup ("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
      part = size;
      break;
    case BLOB_REDIRECT:
    default:
      g_assert_not_reached ();
    }

  g_byte_array_append (reply, (const guint8 *)headers, strlen (headers));
  g_byte_array_append (reply, g_bytes_get_data (f->blob, NULL), part);
  if (f->blob_behaviour == BLOB_LONGER_BODY)
    g_byte_array_append (reply, (const guint8 *)"0123456789", 10);
  if (!close_after)
    {
      g_output_stream_write_all (output, reply->data, reply->len, NULL, NULL, NULL);
      return;
    }
  g_ptr_array_add (f->replies, g_byte_array_free_to_bytes (g_steal_pointer (&reply)));
  g_output_stream_write_all_async (
      output, g_bytes_get_data (g_ptr_array_index (f->replies, f->replies->len - 1), NULL),
      g_bytes_get_size (g_ptr_array_index (f->replies, f->replies->len - 1)), G_PRIORITY_DEFAULT,
      NULL, on_raw_written, g_object_ref (connection));
}

static void
handle_registry (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                 gpointer user_data)
{
  Fixture *f = user_data;
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  g_autofree char *blob_path = g_strdup_printf ("/v2/team/app/blobs/%s", f->blob_digest);

  if (g_str_equal (path, "/token"))
    {
      const char *auth = soup_message_headers_get_one (request, "Authorization");
      g_autofree char *expected = basic_value (USERNAME, PASSWORD);
      g_autofree char *body = NULL;

      g_free (f->token_query);
      f->token_query = g_strdup (g_uri_get_query (soup_server_message_get_uri (msg)));
      g_free (f->token_authorization);
      f->token_authorization = g_strdup (auth);
      if ((auth != NULL && !g_str_equal (auth, expected)) || (auth == NULL && f->token_needs_login))
        {
          serve_json (msg, 401, "application/json",
                      "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad login\"}]}");
          return;
        }
      f->token_requests++;
      if (f->token_expires_in > 0)
        body = g_strdup_printf ("{\"token\":\"tok-%u\",\"expires_in\":%d}", f->token_requests,
                                f->token_expires_in);
      else
        body = g_strdup_printf ("{\"access_token\":\"tok-%u\"}", f->token_requests);
      serve_json (msg, 200, "application/json", body);
      return;
    }

  if (!check_basic (f, msg))
    return;

  if (g_str_equal (path, "/v2/"))
    {
      const char *auth = soup_message_headers_get_one (request, "Authorization");

      /* A registry with tokens wants one for /v2/ too, for any scope. */
      if (f->require_token && (auth == NULL || !g_str_has_prefix (auth, "Bearer tok-")))
        {
          g_autofree char *challenge = g_strdup_printf (
              "Bearer realm=\"http://127.0.0.1:%u/token\",service=\"test registry\"", f->port);

          soup_message_headers_replace (response, "WWW-Authenticate", challenge);
          serve_json (msg, 401, "application/json", "{}");
          return;
        }
      serve_json (msg, 200, "application/json", "{}");
      return;
    }

  if (!check_token (f, msg))
    return;

  if (g_str_has_prefix (path, "/v2/team/app/manifests/"))
    {
      const char *ref = path + strlen ("/v2/team/app/manifests/");

      f->manifest_requests++;
      g_free (f->last_accept);
      f->last_accept = g_strdup (soup_message_headers_get_one (request, "Accept"));
      if (!g_str_equal (ref, "latest") && !g_str_equal (ref, f->manifest_digest))
        {
          serve_json (msg, 404, "application/json",
                      "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                      "unknown\"}]}");
          return;
        }
      soup_message_headers_replace (response, "Docker-Content-Digest",
                                    f->announced_digest ? f->announced_digest : f->manifest_digest);
      soup_server_message_set_status (msg, 200, NULL);
      if (f->manifest_chunked)
        {
          soup_message_headers_set_encoding (response, SOUP_ENCODING_CHUNKED);
          soup_message_headers_set_content_type (response, SV_MEDIA_TYPE_OCI_MANIFEST, NULL);
          soup_message_body_append_bytes (soup_server_message_get_response_body (msg), f->manifest);
          soup_message_body_complete (soup_server_message_get_response_body (msg));
          return;
        }
      soup_server_message_set_response (msg, SV_MEDIA_TYPE_OCI_MANIFEST, SOUP_MEMORY_COPY,
                                        g_bytes_get_data (f->manifest, NULL),
                                        g_bytes_get_size (f->manifest));
      return;
    }

  if (g_str_equal (path, blob_path) && f->blob_behaviour != BLOB_REDIRECT)
    {
      serve_raw_blob (f, msg);
      return;
    }

  if (g_str_equal (path, blob_path))
    {
      /* Registries with S3 or GCS storage redirect blob reads there. */
      g_autofree char *location
          = g_strdup_printf ("http://127.0.0.1:%u/storage/blob?signature=x", f->storage_port);

      soup_server_message_set_redirect (msg, SOUP_STATUS_TEMPORARY_REDIRECT, location);
      return;
    }

  serve_json (msg, 404, "application/json",
              "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown\"}]}");
}

static void
handle_storage (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer user_data)
{
  Fixture *f = user_data;

  if (soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization")
      != NULL)
    f->storage_saw_authorization = TRUE;
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (f->blob, NULL), g_bytes_get_size (f->blob));
}

static guint
listen_on_loopback (SoupServer *server)
{
  g_autoptr (GError) error = NULL;
  GSList *uris;
  guint port;

  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  return port;
}

static char *
digest_of (GBytes *bytes)
{
  g_autofree char *hex = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);

  return g_strconcat ("sha256:", hex, NULL);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GString *blob = g_string_new (NULL);

  f->data_root = g_dir_make_tmp ("servin-registry-client-XXXXXX", &error);
  g_assert_no_error (error);
  f->config = sv_config_new_default ();
  f->store = sv_content_store_new (f->data_root, &error);
  g_assert_no_error (error);
  f->client = sv_registry_client_new (f->config);
  f->stolen = g_ptr_array_new_with_free_func (g_object_unref);
  f->replies = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);

  f->manifest = g_bytes_new_static (manifest_template, strlen (manifest_template));
  f->manifest_digest = digest_of (f->manifest);
  for (guint i = 0; i < 100000; i++)
    g_string_append_printf (blob, "line %u\n", i);
  f->blob = g_string_free_to_bytes (blob);
  f->blob_digest = digest_of (f->blob);

  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, handle_registry, f, NULL);
  f->port = listen_on_loopback (f->server);
  f->storage = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->storage, NULL, handle_storage, f, NULL);
  f->storage_port = listen_on_loopback (f->storage);
}

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  return remove (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < f->stolen->len; i++)
    g_io_stream_close (g_ptr_array_index (f->stolen, i), NULL, NULL);
  g_ptr_array_unref (f->stolen);
  g_ptr_array_unref (f->replies);
  g_clear_pointer (&f->credentials, sv_registry_credentials_free);
  g_free (f->token_authorization);
  soup_server_disconnect (f->server);
  soup_server_disconnect (f->storage);
  g_object_unref (f->server);
  g_object_unref (f->storage);
  g_object_unref (f->client);
  g_object_unref (f->store);
  g_object_unref (f->config);
  g_bytes_unref (f->manifest);
  g_bytes_unref (f->blob);
  g_free (f->manifest_digest);
  g_free (f->announced_digest);
  g_free (f->blob_digest);
  g_free (f->last_accept);
  g_free (f->token_query);
  g_assert_no_errno (nftw (f->data_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS));
  g_free (f->data_root);
}

static SvReference *
make_reference (guint port, const char *tag)
{
  g_autofree char *text = g_strdup_printf ("127.0.0.1:%u/team/app:%s", port, tag);

  return sv_reference_parse (text, NULL);
}

static void
on_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

static GAsyncResult *
run_until_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static GBytes *
fetch_manifest (Fixture *f, guint port, const char *ref_text, char **digest, GError **error)
{
  g_autoptr (SvReference) ref = make_reference (port, "latest");
  g_autoptr (GAsyncResult) result = NULL;

  sv_registry_client_get_manifest_async (f->client, ref, f->credentials, ref_text, NULL, on_result,
                                         &result);
  run_until_result (&result);
  return sv_registry_client_get_manifest_finish (f->client, result, NULL, digest, error);
}

static void
test_manifest_with_token (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = NULL;
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;

  f->require_token = TRUE;
  first = fetch_manifest (f, f->port, "latest", &digest, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (first, f->manifest));
  g_assert_cmpstr (digest, ==, f->manifest_digest);
  g_assert_cmpuint (f->token_requests, ==, 1);
  g_assert_cmpstr (f->token_query, ==,
                   "service=test%20registry&scope=repository%3Ateam%2Fapp%3Apull");

  /* The token is cached for the scope. */
  second = fetch_manifest (f, f->port, f->manifest_digest, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->token_requests, ==, 1);
  g_assert_cmpuint (f->manifest_requests, ==, 2);

  g_assert_nonnull (strstr (f->last_accept, SV_MEDIA_TYPE_OCI_INDEX));
  g_assert_nonnull (strstr (f->last_accept, SV_MEDIA_TYPE_OCI_MANIFEST));
  g_assert_nonnull (strstr (f->last_accept, SV_MEDIA_TYPE_DOCKER_MANIFEST_LIST));
  g_assert_nonnull (strstr (f->last_accept, SV_MEDIA_TYPE_DOCKER_MANIFEST));
}

static void
test_manifest_not_found (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = fetch_manifest (f, f->port, "nope", NULL, &error);
  g_autofree char *expected
      = g_strdup_printf ("manifest unknown: 127.0.0.1:%u/team/app:nope", f->port);

  g_assert_null (bytes);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_manifest_header_digest_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  f->announced_digest
      = g_strdup ("sha256:0000000000000000000000000000000000000000000000000000000000000000");
  bytes = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_DIGEST_MISMATCH);
  g_assert_nonnull (strstr (error->message, f->announced_digest));
  g_assert_nonnull (strstr (error->message, f->manifest_digest));
}

static void
test_manifest_by_digest_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  const char *requested = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

  /* The server returns its manifest for the digest in manifest_digest, so this
   * serves a body that does not hash to the requested digest. */
  g_free (f->manifest_digest);
  f->manifest_digest = g_strdup (requested);
  bytes = fetch_manifest (f, f->port, requested, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_DIGEST_MISMATCH);
  g_assert_nonnull (strstr (error->message, requested));
}

static void
test_manifest_too_large (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  /* Without Content-Length the limit applies while the body arrives. */
  f->manifest_chunked = GPOINTER_TO_INT (data);
  g_autoptr (GBytes) bytes = NULL;
  gsize size = SV_MANIFEST_MAX_SIZE + 1;
  char *big = g_malloc (size);

  memset (big, ' ', size);
  memcpy (big, manifest_template, strlen (manifest_template));
  g_bytes_unref (f->manifest);
  f->manifest = g_bytes_new_take (big, size);
  g_free (f->manifest_digest);
  f->manifest_digest = digest_of (f->manifest);

  bytes = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "4 MiB"));
}

static void
count_progress (guint64 bytes, gpointer user_data)
{
  *(guint64 *)user_data += bytes;
}

static gboolean
fetch_blob (Fixture *f, const char *digest, guint64 *progress, GError **error)
{
  g_autoptr (SvReference) ref = make_reference (f->port, "latest");
  g_autoptr (GAsyncResult) result = NULL;

  sv_registry_client_get_blob_async (f->client, ref, f->credentials, digest,
                                     g_bytes_get_size (f->blob), f->store, count_progress, progress,
                                     NULL, on_result, &result);
  run_until_result (&result);
  return sv_registry_client_get_blob_finish (f->client, result, error);
}

static guint
count_files (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
test_blob_redirect (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) stored = NULL;
  guint64 progress = 0;

  f->require_token = TRUE;
  g_assert_true (fetch_blob (f, f->blob_digest, &progress, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (progress, ==, g_bytes_get_size (f->blob));
  g_assert_cmpuint (f->token_requests, ==, 1);
  g_assert_false (f->storage_saw_authorization);

  stored = sv_content_store_read_blob (f->store, f->blob_digest, G_MAXSIZE, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (stored, f->blob));
}

static void
test_blob_corrupted (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_build_filename (f->data_root, "tmp", NULL);
  g_autofree char *digest = g_strdup (f->blob_digest);
  gsize size = g_bytes_get_size (f->blob);
  char *damaged = g_memdup2 (g_bytes_get_data (f->blob, NULL), size);
  guint64 progress = 0;

  damaged[size / 2] ^= 0xff;
  g_bytes_unref (f->blob);
  f->blob = g_bytes_new_take (damaged, size);

  g_assert_false (fetch_blob (f, digest, &progress, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_DIGEST_MISMATCH);
  g_assert_nonnull (strstr (error->message, digest));
  g_assert_false (sv_content_store_has_blob (f->store, digest));
  g_assert_cmpuint (count_files (tmp), ==, 0);
}

static void
test_unreachable (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *expected = NULL;
  guint port = f->storage_port;

  /* A port that was just listened on and is closed now refuses connections. */
  soup_server_disconnect (f->storage);
  expected = g_strdup_printf ("127.0.0.1:%u", port);
  bytes = fetch_manifest (f, port, "latest", NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, expected));
}

static void
use_credentials (Fixture *f, const char *password)
{
  g_clear_pointer (&f->credentials, sv_registry_credentials_free);
  f->credentials = sv_registry_credentials_new (USERNAME, password);
}

static void
use_client_with_config (Fixture *f, const char *yaml)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("servin-registry-config-XXXXXX.yaml", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, yaml, -1, &error);
  g_assert_no_error (error);
  g_assert_no_errno (g_chmod (path, 0600));
  g_object_unref (f->config);
  f->config = sv_config_load (path, &error);
  g_assert_no_error (error);
  g_unlink (path);
  g_object_unref (f->client);
  f->client = sv_registry_client_new (f->config);
}

static gboolean
ping (Fixture *f, GError **error)
{
  g_autoptr (SvReference) ref = make_reference (f->port, "latest");
  g_autoptr (GAsyncResult) result = NULL;

  sv_registry_client_ping_async (f->client, ref, f->credentials, NULL, on_result, &result);
  run_until_result (&result);
  return sv_registry_client_ping_finish (f->client, result, error);
}

static void
assert_no_password (const GError *error)
{
  g_test_message ("error: %s", error->message);
  g_assert_null (strstr (error->message, PASSWORD));
  g_assert_null (strstr (error->message, "wrong-password"));
}

static void
test_basic_auth (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;
  guint64 progress = 0;

  f->require_basic = TRUE;
  use_credentials (f, PASSWORD);
  g_assert_true (ping (f, &error));
  g_assert_no_error (error);
  first = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (first, f->manifest));

  /* The registry accepted Basic auth before, so it goes with the first try. */
  f->basic_accepted = 0;
  second = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->basic_accepted, ==, 1);

  /* The blob redirects to storage on another port, which gets no credentials. */
  g_assert_true (fetch_blob (f, f->blob_digest, &progress, &error));
  g_assert_no_error (error);
  g_assert_false (f->storage_saw_authorization);
}

static void
test_basic_wrong_password (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *expected = g_strdup_printf ("authentication failed for 127.0.0.1:%u", f->port);

  f->require_basic = TRUE;
  use_credentials (f, "wrong-password");
  bytes = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (error->message, expected));
  assert_no_password (error);
  g_assert_cmpuint (f->manifest_requests, ==, 0);
}

static void
test_basic_no_credentials (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *expected = g_strdup_printf ("registry 127.0.0.1:%u requires a login", f->port);

  f->require_basic = TRUE;
  g_assert_false (ping (f, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_AUTHENTICATION_FAILED);
  g_clear_error (&error);

  bytes = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (error->message, expected));
  g_assert_nonnull (strstr (error->message, "registries.auths"));
}

static void
test_credentials_from_config (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *yaml
      = g_strdup_printf ("registries:\n  auths:\n    127.0.0.1:%u:\n      username: " USERNAME
                         "\n      password: " PASSWORD "\n",
                         f->port);

  f->require_basic = TRUE;
  use_client_with_config (f, yaml);
  bytes = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (bytes, f->manifest));
  g_assert_cmpuint (f->basic_accepted, ==, 1);
}

static void
test_credentials_from_environment (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *yaml
      = g_strdup_printf ("registries:\n  auths:\n    127.0.0.1:%u:\n      username: " USERNAME
                         "\n      password: wrong-password\n",
                         f->port);

  /* The environment wins over registries.auths. */
  f->require_basic = TRUE;
  use_client_with_config (f, yaml);
  g_setenv ("SERVIN_REGISTRY_USER", USERNAME, TRUE);
  g_setenv ("SERVIN_REGISTRY_PASS", PASSWORD, TRUE);
  bytes = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_unsetenv ("SERVIN_REGISTRY_USER");
  g_unsetenv ("SERVIN_REGISTRY_PASS");
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (bytes, f->manifest));
}

static void
test_token_with_credentials (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *expected = basic_value (USERNAME, PASSWORD);

  f->require_token = TRUE;
  f->token_needs_login = TRUE;
  f->token_expires_in = 300;
  use_credentials (f, PASSWORD);

  /* The version check logs in with a token for no scope. */
  g_assert_true (ping (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->token_requests, ==, 1);
  g_assert_cmpstr (f->token_query, ==, "service=test%20registry&account=alice");
  g_assert_cmpstr (f->token_authorization, ==, expected);

  bytes = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (bytes, f->manifest));
  g_assert_cmpuint (f->token_requests, ==, 2);
  g_assert_cmpstr (f->token_query, ==,
                   "service=test%20registry&scope=repository%3Ateam%2Fapp%3Apull&account=alice");
  g_assert_cmpstr (f->token_authorization, ==, expected);
}

static void
test_token_wrong_password (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("authentication failed for 127.0.0.1:%u", f->port);
  g_autofree char *realm = g_strdup_printf ("http://127.0.0.1:%u/token", f->port);

  f->require_token = TRUE;
  f->token_needs_login = TRUE;
  use_credentials (f, "wrong-password");
  g_assert_false (ping (f, &error));
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (error->message, expected));
  g_assert_nonnull (strstr (error->message, realm));
  assert_no_password (error);
}

static void
test_token_needs_login (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  f->require_token = TRUE;
  f->token_needs_login = TRUE;
  g_assert_true (ping (f, &error));
  g_assert_no_error (error);
  bytes = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (error->message, "requires a login"));
  g_assert_nonnull (strstr (error->message, "registries.auths"));
}

static void
test_token_expires (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;
  g_autoptr (GBytes) third = NULL;

  /* The client renews a token 5 s early but keeps it at least 1 s. */
  f->require_token = TRUE;
  f->token_expires_in = 1;
  first = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->token_requests, ==, 1);

  g_usleep (1200 * 1000);
  second = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->token_requests, ==, 2);

  /* Without "expires_in" a token lasts 60 s. */
  f->token_expires_in = 0;
  g_usleep (1200 * 1000);
  third = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->token_requests, ==, 3);
  g_clear_pointer (&third, g_bytes_unref);
  third = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->token_requests, ==, 3);
}

static void
test_tokens_kept_per_credentials (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;

  /* A token fetched with credentials never serves an anonymous request. */
  f->require_token = TRUE;
  f->token_expires_in = 300;
  use_credentials (f, PASSWORD);
  first = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->token_requests, ==, 1);

  g_clear_pointer (&f->credentials, sv_registry_credentials_free);
  second = fetch_manifest (f, f->port, "latest", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->token_requests, ==, 2);
  g_assert_null (f->token_authorization);
}

/* Fetch the blob from a registry that misbehaves as @behaviour describes, and
 * check that the error names the blob and that nothing is kept. */
static GError *
fetch_broken_blob (Fixture *f, BlobBehaviour behaviour)
{
  g_autofree char *tmp = g_build_filename (f->data_root, "tmp", NULL);
  GError *error = NULL;
  guint64 progress = 0;
  gint64 start = g_get_monotonic_time ();

  f->blob_behaviour = behaviour;
  g_setenv ("SERVIN_REGISTRY_TIMEOUT", "1", TRUE);
  g_object_unref (f->client);
  f->client = sv_registry_client_new (f->config);
  g_unsetenv ("SERVIN_REGISTRY_TIMEOUT");

  g_assert_false (fetch_blob (f, f->blob_digest, &progress, &error));
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  g_assert_nonnull (strstr (error->message, f->blob_digest));
  g_assert_false (sv_content_store_has_blob (f->store, f->blob_digest));
  g_assert_cmpuint (count_files (tmp), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  return error;
}

static void
test_blob_stalled_headers (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = fetch_broken_blob (f, BLOB_STALL_HEADERS);
  g_autofree char *registry = g_strdup_printf ("127.0.0.1:%u", f->port);

  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, registry));
  g_assert_nonnull (strstr (error->message, "within 1 s"));
}

static void
test_blob_stalled_body (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = fetch_broken_blob (f, BLOB_STALL_BODY);
  g_autofree char *registry = g_strdup_printf ("127.0.0.1:%u", f->port);

  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, registry));
  g_assert_nonnull (strstr (error->message, "no data for 1 s"));
}

static void
test_blob_cut_off (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = fetch_broken_blob (f, BLOB_CUT_OFF);

  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "before the end"));
}

static void
test_blob_longer_length (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = fetch_broken_blob (f, BLOB_LONGER_LENGTH);

  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "larger than"));
}

static void
test_blob_longer_body (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = fetch_broken_blob (f, BLOB_LONGER_BODY);

  g_assert_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "larger than"));
}

static void
test_base_url (Fixture *f, gconstpointer data)
{
  g_autoptr (SvReference) hub = sv_reference_parse ("busybox", NULL);
  g_autoptr (SvReference) remote = sv_reference_parse ("registry.example:5000/app", NULL);
  g_autoptr (SvReference) local = sv_reference_parse ("localhost:5000/app", NULL);
  g_autofree char *hub_url = sv_registry_client_get_base_url (f->client, hub);
  g_autofree char *remote_url = sv_registry_client_get_base_url (f->client, remote);
  g_autofree char *local_url = sv_registry_client_get_base_url (f->client, local);

  g_assert_cmpstr (hub_url, ==, "https://registry-1.docker.io");
  g_assert_cmpstr (remote_url, ==, "https://registry.example:5000");
  g_assert_cmpstr (local_url, ==, "http://localhost:5000");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("SERVIN_REGISTRY_USER");
  g_unsetenv ("SERVIN_REGISTRY_PASS");
  g_unsetenv ("SERVIN_REGISTRY_TIMEOUT");
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/servin/registry-client/manifest-with-token", test_manifest_with_token);
  ADD ("/servin/registry-client/manifest-not-found", test_manifest_not_found);
  ADD ("/servin/registry-client/manifest-header-digest-mismatch",
       test_manifest_header_digest_mismatch);
  ADD ("/servin/registry-client/manifest-by-digest-mismatch", test_manifest_by_digest_mismatch);
  ADD ("/servin/registry-client/manifest-too-large", test_manifest_too_large);
  g_test_add ("/servin/registry-client/manifest-too-large-chunked", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_manifest_too_large, fixture_tear_down);
  ADD ("/servin/registry-client/blob-redirect", test_blob_redirect);
  ADD ("/servin/registry-client/blob-corrupted", test_blob_corrupted);
  ADD ("/servin/registry-client/unreachable", test_unreachable);
  ADD ("/servin/registry-client/basic-auth", test_basic_auth);
  ADD ("/servin/registry-client/basic-wrong-password", test_basic_wrong_password);
  ADD ("/servin/registry-client/basic-no-credentials", test_basic_no_credentials);
  ADD ("/servin/registry-client/credentials-from-config", test_credentials_from_config);
  ADD ("/servin/registry-client/credentials-from-environment", test_credentials_from_environment);
  ADD ("/servin/registry-client/token-with-credentials", test_token_with_credentials);
  ADD ("/servin/registry-client/token-wrong-password", test_token_wrong_password);
  ADD ("/servin/registry-client/token-needs-login", test_token_needs_login);
  ADD ("/servin/registry-client/token-expires", test_token_expires);
  ADD ("/servin/registry-client/tokens-per-credentials", test_tokens_kept_per_credentials);
  ADD ("/servin/registry-client/blob-stalled-headers", test_blob_stalled_headers);
  ADD ("/servin/registry-client/blob-stalled-body", test_blob_stalled_body);
  ADD ("/servin/registry-client/blob-cut-off", test_blob_cut_off);
  ADD ("/servin/registry-client/blob-longer-length", test_blob_longer_length);
  ADD ("/servin/registry-client/blob-longer-body", test_blob_longer_body);
  ADD ("/servin/registry-client/base-url", test_base_url);
#undef ADD
  return g_test_run ();
}
