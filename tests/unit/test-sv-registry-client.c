/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The registry client against a SoupServer on 127.0.0.1 that plays the parts
 * of the protocol a stock docker-registry cannot be made to show: Bearer
 * challenges, redirects to storage on another port, and wrong digests. Pulls
 * from the real docker-registry are covered by tests/integration/test_pull.py. */
#include <ftw.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "sv-engine-error.h"
#include "sv-manifest.h"
#include "sv-registry-client.h"

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

  /* What the servers saw. */
  guint token_requests;
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

static gboolean
check_token (Fixture *f, SoupServerMessage *msg)
{
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");
  g_autofree char *challenge = NULL;

  if (!f->require_token || g_strcmp0 (auth, "Bearer tok-1") == 0)
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
handle_registry (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                 gpointer user_data)
{
  Fixture *f = user_data;
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  g_autofree char *blob_path = g_strdup_printf ("/v2/team/app/blobs/%s", f->blob_digest);

  if (g_str_equal (path, "/token"))
    {
      f->token_requests++;
      g_free (f->token_query);
      f->token_query = g_strdup (g_uri_get_query (soup_server_message_get_uri (msg)));
      g_assert_null (soup_message_headers_get_one (request, "Authorization"));
      serve_json (msg, 200, "application/json", "{\"token\":\"tok-1\",\"expires_in\":300}");
      return;
    }

  if (g_str_equal (path, "/v2/"))
    {
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
      soup_server_message_set_response (msg, SV_MEDIA_TYPE_OCI_MANIFEST, SOUP_MEMORY_COPY,
                                        g_bytes_get_data (f->manifest, NULL),
                                        g_bytes_get_size (f->manifest));
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

  sv_registry_client_get_manifest_async (f->client, ref, ref_text, NULL, on_result, &result);
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

  sv_registry_client_get_blob_async (f->client, ref, digest, g_bytes_get_size (f->blob), f->store,
                                     count_progress, progress, NULL, on_result, &result);
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
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/servin/registry-client/manifest-with-token", test_manifest_with_token);
  ADD ("/servin/registry-client/manifest-not-found", test_manifest_not_found);
  ADD ("/servin/registry-client/manifest-header-digest-mismatch",
       test_manifest_header_digest_mismatch);
  ADD ("/servin/registry-client/manifest-by-digest-mismatch", test_manifest_by_digest_mismatch);
  ADD ("/servin/registry-client/manifest-too-large", test_manifest_too_large);
  ADD ("/servin/registry-client/blob-redirect", test_blob_redirect);
  ADD ("/servin/registry-client/blob-corrupted", test_blob_corrupted);
  ADD ("/servin/registry-client/unreachable", test_unreachable);
  ADD ("/servin/registry-client/base-url", test_base_url);
#undef ADD
  return g_test_run ();
}
