/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-sha256.h"

#include <nettle/sha2.h>
#include <string.h>

#include "sv-engine-error.h"

struct _SvSha256
{
  struct sha256_ctx ctx;
};

SvSha256 *
sv_sha256_new (void)
{
  SvSha256 *self = g_new0 (SvSha256, 1);

  sha256_init (&self->ctx);
  return self;
}

void
sv_sha256_update (SvSha256 *self, const void *data, gsize len)
{
  sha256_update (&self->ctx, len, data);
}

char *
sv_sha256_finish (SvSha256 *self)
{
  static const char hex[] = "0123456789abcdef";
  guint8 raw[SHA256_DIGEST_SIZE];
  char *out = g_malloc (strlen ("sha256:") + 2 * SHA256_DIGEST_SIZE + 1);
  char *p;

  sha256_digest (&self->ctx, sizeof raw, raw);
  p = g_stpcpy (out, "sha256:");
  for (gsize i = 0; i < sizeof raw; i++)
    {
      *p++ = hex[raw[i] >> 4];
      *p++ = hex[raw[i] & 0xf];
    }
  *p = '\0';
  return out;
}

void
sv_sha256_free (SvSha256 *self)
{
  g_free (self);
}

char *
sv_sha256_digest_data (const void *data, gsize len)
{
  g_autoptr (SvSha256) sha = sv_sha256_new ();

  sv_sha256_update (sha, data, len);
  return sv_sha256_finish (sha);
}

gboolean
sv_digest_validate (const char *digest, GError **error)
{
  if (sv_digest_is_valid (digest))
    return TRUE;

  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
               "invalid digest \"%s\": expected sha256: followed by 64 lower-case hex digits",
               digest ? digest : "(null)");
  return FALSE;
}

const char *
sv_digest_get_hex (const char *digest)
{
  return digest + strlen ("sha256:");
}
