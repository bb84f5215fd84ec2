/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-config.h"
#include "sv-content-store.h"
#include "sv-reference.h"

G_BEGIN_DECLS

/* A user name and password for one registry. */
typedef struct
{
  char *username;
  char *password;
} SvRegistryCredentials;

SvRegistryCredentials *sv_registry_credentials_new (const char *username, const char *password);
SvRegistryCredentials *sv_registry_credentials_copy (const SvRegistryCredentials *credentials);
void sv_registry_credentials_free (SvRegistryCredentials *credentials);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvRegistryCredentials, sv_registry_credentials_free)

/* A client for the registry HTTP API (the OCI distribution spec) on libsoup 3.
 * It speaks HTTPS, or plain HTTP to hosts that sv_config_is_insecure_registry
 * accepts. It meets Basic challenges with credentials, and Bearer
 * challenges with a token from the challenge's realm, fetched with
 * credentials or anonymously and cached per registry, scope and credentials
 * until it expires. Credentials go only to the registry and its token realm,
 * never to hosts that redirects point at.
 *
 * Every call takes @credentials; NULL means SERVIN_REGISTRY_USER and
 * SERVIN_REGISTRY_PASS when both are set, else registries.auths for the
 * registry, else anonymous access. Requests fail after SERVIN_REGISTRY_TIMEOUT
 * seconds (60 by default) without progress. All calls run on the
 * thread-default main context of the thread that created the client. */
#define SV_TYPE_REGISTRY_CLIENT (sv_registry_client_get_type ())
G_DECLARE_FINAL_TYPE (SvRegistryClient, sv_registry_client, SV, REGISTRY_CLIENT, GObject)

SvRegistryClient *sv_registry_client_new (SvConfig *config);

/* "http://127.0.0.1:5000" or "https://registry-1.docker.io" for a reference's domain. */
char *sv_registry_client_get_base_url (SvRegistryClient *self, const SvReference *ref);

/* Checks that the registry responds to GET /v2/: 200, or 401 when it hands
 * out tokens and there are no credentials. With credentials it logs in, so a
 * wrong password fails here with AUTHENTICATION_FAILED. */
void sv_registry_client_ping_async (SvRegistryClient *self, const SvReference *ref,
                                    const SvRegistryCredentials *credentials,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean sv_registry_client_ping_finish (SvRegistryClient *self, GAsyncResult *result,
                                         GError **error);

/* Fetches the manifest that @manifest_ref (a tag or a digest) names in @ref's
 * repository, at most SV_MANIFEST_MAX_SIZE bytes. When @manifest_ref is a digest
 * the bytes must hash to it; the Docker-Content-Digest header, when sent, must
 * match the bytes too (DIGEST_MISMATCH otherwise). */
void sv_registry_client_get_manifest_async (SvRegistryClient *self, const SvReference *ref,
                                            const SvRegistryCredentials *credentials,
                                            const char *manifest_ref, GCancellable *cancellable,
                                            GAsyncReadyCallback callback, gpointer user_data);
/* Returns the bytes; @content_type and @digest (both nullable) receive the
 * Content-Type and the sha256 digest of the bytes. */
GBytes *sv_registry_client_get_manifest_finish (SvRegistryClient *self, GAsyncResult *result,
                                                char **content_type, char **digest, GError **error);

/* Called on the client's main context with the number of bytes just received. */
typedef void (*SvBlobProgressFunc) (guint64 bytes, gpointer user_data);

/* Downloads blob @digest of @size bytes (-1 unknown) from @ref's repository
 * into @store, following redirects. The digest and size are checked while
 * the blob is written, and nothing is kept on a mismatch, more bytes than
 * @size, a connection cut off, an error or a cancel. */
void sv_registry_client_get_blob_async (SvRegistryClient *self, const SvReference *ref,
                                        const SvRegistryCredentials *credentials,
                                        const char *digest, gint64 size, SvContentStore *store,
                                        SvBlobProgressFunc progress, gpointer progress_data,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data);
gboolean sv_registry_client_get_blob_finish (SvRegistryClient *self, GAsyncResult *result,
                                             GError **error);

G_END_DECLS
