/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-reference.h"

#include <string.h>

#include "sv-client-error.h"

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"

/* Docker's rule (distribution/reference, normalize.go): the first component
 * of a name is a registry host when it contains "." or ":", is "localhost",
 * or has an uppercase letter. Any other name is on Docker Hub. */
static gboolean
is_domain (const char *component, gsize len)
{
  if (len == strlen ("localhost") && strncmp (component, "localhost", len) == 0)
    return TRUE;
  for (gsize i = 0; i < len; i++)
    {
      if (component[i] == '.' || component[i] == ':' || g_ascii_isupper (component[i]))
        return TRUE;
    }
  return FALSE;
}

/**
 * sv_client_reference_normalize:
 * @text: an image reference as a user types it, for example "busybox"
 * @error: return location for an error
 *
 * Applies Docker Hub's defaults the way servind records references:
 * "busybox" becomes "docker.io/library/busybox:latest", "user/app:1" becomes
 * "docker.io/user/app:1", and a reference with a digest keeps no default
 * tag. Only the shape is checked here; servind validates the rest.
 *
 * Returns: (transfer full): the full reference, or %NULL when @text is empty
 *   or contains whitespace
 */
char *
sv_client_reference_normalize (const char *text, GError **error)
{
  g_autofree char *name = NULL;
  const char *digest;
  const char *last_slash;
  const char *colon;
  const char *slash;
  const char *remainder;
  const char *tag = NULL;
  g_autofree char *domain = NULL;
  GString *out;

  if (text == NULL || *text == '\0')
    {
      g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_INVALID_ARGUMENT,
                   "invalid reference format: the reference is empty");
      return NULL;
    }
  for (const char *p = text; *p; p++)
    {
      if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p))
        {
          g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_INVALID_ARGUMENT,
                       "invalid reference format \"%s\": it contains whitespace", text);
          return NULL;
        }
    }

  digest = strchr (text, '@');
  name = digest ? g_strndup (text, digest - text) : g_strdup (text);

  /* A ":" after the last "/" starts the tag; one before it is a port. */
  last_slash = strrchr (name, '/');
  colon = strrchr (last_slash ? last_slash : name, ':');
  if (colon != NULL)
    {
      tag = colon + 1;
      name[colon - name] = '\0';
    }

  if (*name == '\0' || (tag != NULL && *tag == '\0') || (digest != NULL && digest[1] == '\0'))
    {
      g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_INVALID_ARGUMENT,
                   "invalid reference format \"%s\": a name, tag or digest is empty", text);
      return NULL;
    }

  slash = strchr (name, '/');
  if (slash != NULL && is_domain (name, slash - name))
    {
      domain = g_strndup (name, slash - name);
      remainder = slash + 1;
    }
  else
    {
      domain = g_strdup (DEFAULT_DOMAIN);
      remainder = name;
    }
  if (g_str_equal (domain, LEGACY_DEFAULT_DOMAIN))
    {
      g_free (domain);
      domain = g_strdup (DEFAULT_DOMAIN);
    }

  out = g_string_new (domain);
  g_string_append_c (out, '/');
  if (g_str_equal (domain, DEFAULT_DOMAIN) && strchr (remainder, '/') == NULL)
    g_string_append (out, OFFICIAL_PREFIX);
  g_string_append (out, remainder);

  if (tag != NULL)
    g_string_append_printf (out, ":%s", tag);
  else if (digest == NULL)
    g_string_append (out, ":latest");
  if (digest != NULL)
    g_string_append (out, digest);

  return g_string_free (out, FALSE);
}

/**
 * sv_client_reference_familiar:
 * @reference: a full reference, such as "docker.io/library/busybox:latest"
 *
 * Shortens a reference the way docker shows it: "docker.io/library/" and
 * "docker.io/" are dropped, so "docker.io/library/busybox:latest" becomes
 * "busybox:latest" and "docker.io/servin/sample" becomes "servin/sample".
 * Other registries stay as they are.
 *
 * Returns: (transfer full): the short form
 */
char *
sv_client_reference_familiar (const char *reference)
{
  const char *rest;

  if (g_str_has_prefix (reference, DEFAULT_DOMAIN "/" OFFICIAL_PREFIX))
    {
      rest = reference + strlen (DEFAULT_DOMAIN "/" OFFICIAL_PREFIX);
      /* "docker.io/library/a/b" is not an official image, so it keeps "library/". */
      if (strchr (rest, '/') == NULL)
        return g_strdup (rest);
    }
  if (g_str_has_prefix (reference, DEFAULT_DOMAIN "/"))
    return g_strdup (reference + strlen (DEFAULT_DOMAIN "/"));
  return g_strdup (reference);
}

/**
 * sv_client_reference_split:
 * @reference: a reference such as "docker.io/library/busybox:latest"
 * @repository: (out) (optional): "docker.io/library/busybox"
 * @tag: (out) (optional): "latest", or %NULL when @reference has no tag
 *
 * Splits a reference into repository and tag. A digest ("@sha256:...") is
 * dropped.
 */
void
sv_client_reference_split (const char *reference, char **repository, char **tag)
{
  g_autofree char *name = NULL;
  const char *at = strchr (reference, '@');
  const char *last_slash;
  char *colon;

  name = at ? g_strndup (reference, at - reference) : g_strdup (reference);
  last_slash = strrchr (name, '/');
  colon = strrchr (last_slash ? last_slash : name, ':');

  if (tag != NULL)
    *tag = colon ? g_strdup (colon + 1) : NULL;
  if (colon != NULL)
    *colon = '\0';
  if (repository != NULL)
    *repository = g_steal_pointer (&name);
}
