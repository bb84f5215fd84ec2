/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An image reference split into parts, with Docker Hub's defaults applied:
 * "busybox" is docker.io/library/busybox:latest. */
typedef struct
{
  char *domain; /* "docker.io", "127.0.0.1:5000" */
  char *path;   /* "library/busybox" */
  char *tag;    /* NULL when only a digest was given */
  char *digest; /* "sha256:..." or NULL */
} SvReference;

SvReference *sv_reference_parse (const char *text, GError **error);
SvReference *sv_reference_copy (const SvReference *ref);
void sv_reference_free (SvReference *ref);

/* "docker.io/library/busybox:latest" (tag and digest both when both are set) */
char *sv_reference_to_string (const SvReference *ref);
/* "busybox:latest", "127.0.0.1:5000/sample:1": the short form docker shows */
char *sv_reference_to_familiar (const SvReference *ref);
/* "docker.io/library/busybox" */
char *sv_reference_get_name (const SvReference *ref);
/* The host and port to connect to: "registry-1.docker.io" for docker.io */
const char *sv_reference_get_registry_host (const SvReference *ref);
/* The digest when one was given, else the tag: the last part of /v2/NAME/manifests/REF */
const char *sv_reference_get_manifest_ref (const SvReference *ref);

/* TRUE when @digest is "sha256:" and 64 lowercase hex digits */
gboolean sv_digest_is_valid (const char *digest);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvReference, sv_reference_free)

G_END_DECLS
