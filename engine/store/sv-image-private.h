/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "sv-image.h"

G_BEGIN_DECLS

/* Builds an image from its parsed config document; used by SvImageStore only. */
SvImage *sv_image_new (const char *id, const char *manifest_digest, JsonObject *config_document,
                       const char *const *layer_digests, guint64 size, GError **error);

/* Replaces the reference lists and notifies the properties that changed. Returns TRUE
 * when anything changed. */
gboolean sv_image_set_references (SvImage *self, const char *const *repo_tags,
                                  const char *const *repo_digests);

G_END_DECLS
