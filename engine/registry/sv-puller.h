/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-config.h"
#include "sv-content-store.h"
#include "sv-image-store.h"
#include "sv-layer-store.h"
#include "sv-registry-client.h"

G_BEGIN_DECLS

/* Called on the main context of sv_puller_pull_async's caller: @done_bytes of
 * @total_bytes of the layers to download have arrived; @status describes
 * the current step ("Downloading sha256:1a2b3c4d5e6f"). */
typedef void (*SvPullProgressFunc) (guint64 done_bytes, guint64 total_bytes, const char *status,
                                    gpointer user_data);

/* Pulls images from registries into the stores: the manifest (chosen from an
 * index for the platform), the config, and the layers not yet present, which
 * download up to three at a time and unpack in worker threads. */
#define SV_TYPE_PULLER (sv_puller_get_type ())
G_DECLARE_FINAL_TYPE (SvPuller, sv_puller, SV, PULLER, GObject)

SvPuller *sv_puller_new (SvConfig *config, SvContentStore *content, SvLayerStore *layers,
                         SvImageStore *images);

/* Pulls @reference for @platform ("os/arch[/variant]", NULL for the host's),
 * logging in with @credentials (NULL: as SvRegistryClient describes). An
 * image with more layers than overlayfs can stack under the data root is
 * rejected before any blob is downloaded. Pulls of one puller running at the
 * same time download each blob once. On failure or cancel, the blobs and
 * layers this pull added are removed again, so the stores hold what they
 * held before. */
void sv_puller_pull_async (SvPuller *self, const char *reference, const char *platform,
                           const SvRegistryCredentials *credentials, GCancellable *cancellable,
                           SvPullProgressFunc progress, gpointer progress_data,
                           GDestroyNotify progress_data_free, GAsyncReadyCallback callback,
                           gpointer user_data);
SvImage *sv_puller_pull_finish (SvPuller *self, GAsyncResult *result, GError **error);

G_END_DECLS
