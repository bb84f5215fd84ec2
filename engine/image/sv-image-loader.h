/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-content-store.h"
#include "sv-image-store.h"
#include "sv-layer-store.h"

G_BEGIN_DECLS

/* Loads the images of an archive at path, as `docker load` does: an OCI image layout tar
 * (plain, gzip or zstd) or a docker-archive with manifest.json. Every blob is checked
 * against its digest, every layer is unpacked and checked against its diff_id, an index
 * contributes the manifest for the host's platform, and each image is tagged with the
 * references the archive names. In an OCI layout the io.containerd.image.name annotation
 * or else org.opencontainers.image.ref.name gives the reference; a ref.name that is only
 * a tag ("latest") names no reference. References normalise like docker's:
 * "servin/sample:latest" is docker.io/servin/sample:latest.
 *
 * Returns the full references loaded, with "sha256:ID" for an image without one. On
 * failure the stores are left as they were. */
GStrv sv_image_load_archive (SvContentStore *content, SvLayerStore *layers, SvImageStore *images,
                             const char *path, GCancellable *cancellable, GError **error);

/* Loads the images of an archive read from fd, as sv_image_load_archive() does, with
 * messages that name no path. Fails with INVALID_ARGUMENT when fd is open only for
 * writing or with O_PATH. Reads fd from its current offset and does not close it. Blocks
 * until the archive ends, so call it from a worker thread when the writer may be slow. */
GStrv sv_image_load_archive_fd (SvContentStore *content, SvLayerStore *layers, SvImageStore *images,
                                int fd, GCancellable *cancellable, GError **error);

G_END_DECLS
