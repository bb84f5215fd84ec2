/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-reference.h"

#include <string.h>

#include "sv-engine-error.h"

/* Docker's reference grammar:
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component [ "/" path-component ]*
 *   domain    := domain-component [ "." domain-component ]* [ ":" port ]
 * Only sha256 digests are accepted, as every registry serves them. */

#define NAME_MAX_LENGTH 255
#define TAG_MAX_LENGTH 128

static gboolean
set_invalid (GError **error, const char *text, const char *rule)
{
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
               "invalid reference format \"%s\": %s", text, rule);
  return FALSE;
}

static gboolean
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static gboolean
is_word_char (char c)
{
  return g_ascii_isalnum (c) || c == '_';
}

/* A path component is lowercase alphanumerics joined by ".", "_", "__" or
 * any number of "-". */
static gboolean
check_path_component (const char *component, gsize len)
{
  gsize i = 0;

  if (len == 0 || !is_lower_alnum (component[0]) || !is_lower_alnum (component[len - 1]))
    return FALSE;

  while (i < len)
    {
      if (is_lower_alnum (component[i]))
        {
          i++;
          continue;
        }

      /* A separator, which must be followed by an alphanumeric. */
      if (component[i] == '.')
        i++;
      else if (component[i] == '_')
        i += (i + 1 < len && component[i + 1] == '_') ? 2 : 1;
      else if (component[i] == '-')
        {
          while (i < len && component[i] == '-')
            i++;
        }
      else
        return FALSE;

      if (i >= len || !is_lower_alnum (component[i]))
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_domain_component (const char *component, gsize len)
{
  if (len == 0 || !g_ascii_isalnum (component[0]) || !g_ascii_isalnum (component[len - 1]))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isalnum (component[i]) && component[i] != '-')
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_port (const char *port)
{
  if (*port == '\0')
    return FALSE;
  for (const char *p = port; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
    }
  return TRUE;
}

/* A domain is dot-separated host components or a bracketed IPv6 address,
 * with an optional port. */
static gboolean
check_domain (const char *domain)
{
  const char *host_end;
  g_autofree char *host = NULL;
  g_auto (GStrv) parts = NULL;

  if (domain[0] == '[')
    {
      const char *close = strchr (domain, ']');

      if (close == NULL || close == domain + 1)
        return FALSE;
      for (const char *p = domain + 1; p < close; p++)
        {
          if (!g_ascii_isxdigit (*p) && *p != ':' && *p != '.')
            return FALSE;
        }
      if (close[1] == '\0')
        return TRUE;
      return close[1] == ':' && check_port (close + 2);
    }

  host_end = strchr (domain, ':');
  if (host_end != NULL && !check_port (host_end + 1))
    return FALSE;

  host = host_end ? g_strndup (domain, host_end - domain) : g_strdup (domain);
  parts = g_strsplit (host, ".", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (!check_domain_component (parts[i], strlen (parts[i])))
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_tag (const char *tag)
{
  gsize len = strlen (tag);

  if (len == 0 || len > TAG_MAX_LENGTH || !is_word_char (tag[0]))
    return FALSE;
  for (gsize i = 1; i < len; i++)
    {
      if (!is_word_char (tag[i]) && tag[i] != '.' && tag[i] != '-')
        return FALSE;
    }
  return TRUE;
}

/* Check that @digest is "sha256:" followed by 64 lowercase hex digits. */
gboolean
sv_digest_is_valid (const char *digest)
{
  const char *hex;

  if (digest == NULL || !g_str_has_prefix (digest, "sha256:"))
    return FALSE;

  hex = digest + strlen ("sha256:");
  if (strlen (hex) != 64)
    return FALSE;
  for (const char *p = hex; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_hex64 (const char *text)
{
  if (strlen (text) != 64)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
        return FALSE;
    }
  return TRUE;
}

/* Split the name into domain and path the way docker does: the first
 * component is a domain when it contains "." or ":", is "localhost", or has
 * uppercase letters (which a path never has). */
static void
split_domain (const char *name, char **domain, char **path)
{
  const char *slash = strchr (name, '/');

  if (slash != NULL)
    {
      g_autofree char *first = g_strndup (name, slash - name);
      g_autofree char *lower = g_ascii_strdown (first, -1);

      if (strpbrk (first, ".:") != NULL || g_str_equal (first, "localhost")
          || !g_str_equal (first, lower))
        {
          *domain = g_steal_pointer (&first);
          *path = g_strdup (slash + 1);
          return;
        }
    }

  *domain = g_strdup ("docker.io");
  *path = g_strdup (name);
}

static gboolean
check_path (const char *text, const char *path, GError **error)
{
  const char *start = path;

  if (*path == '\0')
    return set_invalid (error, text, "the repository name is empty");

  for (;;)
    {
      const char *end = strchr (start, '/');
      gsize len = end ? (gsize)(end - start) : strlen (start);

      for (gsize i = 0; i < len; i++)
        {
          if (g_ascii_isupper (start[i]))
            return set_invalid (error, text, "repository name must be lowercase");
        }
      if (!check_path_component (start, len))
        return set_invalid (error, text,
                            "each part of the repository name must be lowercase letters and "
                            "digits, separated by \".\", \"_\", \"__\" or \"-\"");
      if (end == NULL)
        break;
      start = end + 1;
    }
  return TRUE;
}

static gboolean
check_name_and_split (const char *text, const char *name, char **domain_out, char **path_out,
                      GError **error)
{
  g_autofree char *domain = NULL;
  g_autofree char *path = NULL;

  if (*name == '\0')
    return set_invalid (error, text, "the repository name is empty");
  if (strlen (name) > NAME_MAX_LENGTH)
    return set_invalid (error, text, "the repository name is longer than 255 characters");

  split_domain (name, &domain, &path);

  if (!check_domain (domain))
    return set_invalid (error, text,
                        "the registry host must be a host name or address with an optional "
                        "numeric port");
  if (!check_path (text, path, error))
    return FALSE;

  if (g_str_equal (domain, "index.docker.io"))
    {
      g_free (domain);
      domain = g_strdup ("docker.io");
    }
  if (g_str_equal (domain, "docker.io") && strchr (path, '/') == NULL)
    {
      char *library = g_strconcat ("library/", path, NULL);
      g_free (path);
      path = library;
    }

  *domain_out = g_steal_pointer (&domain);
  *path_out = g_steal_pointer (&path);
  return TRUE;
}

/* Parse @text into its parts, applying Docker Hub's defaults: no domain
 * means docker.io, a single-component Docker Hub name gets "library/", and
 * the tag is "latest" unless a digest is given. */
SvReference *
sv_reference_parse (const char *text, GError **error)
{
  g_autoptr (SvReference) ref = g_new0 (SvReference, 1);
  g_autofree char *name = NULL;
  const char *at;
  const char *last_slash;
  const char *colon;

  g_return_val_if_fail (text != NULL, NULL);

  if (*text == '\0')
    {
      set_invalid (error, text, "the reference is empty");
      return NULL;
    }

  at = strchr (text, '@');
  if (at != NULL)
    {
      if (!sv_digest_is_valid (at + 1))
        {
          set_invalid (error, text,
                       "the digest must be sha256: followed by 64 lowercase hex digits");
          return NULL;
        }
      ref->digest = g_strdup (at + 1);
      name = g_strndup (text, at - text);
    }
  else
    name = g_strdup (text);

  /* A tag is after the last ":" that follows the last "/", so the port in
   * "localhost:5000/app" is not mistaken for one. */
  last_slash = strrchr (name, '/');
  colon = strrchr (last_slash ? last_slash : name, ':');
  if (colon != NULL)
    {
      if (!check_tag (colon + 1))
        {
          set_invalid (error, text,
                       "the tag must be 1 to 128 letters, digits, \"_\", \".\" or \"-\" and "
                       "must not start with \".\" or \"-\"");
          return NULL;
        }
      ref->tag = g_strdup (colon + 1);
      name[colon - name] = '\0';
    }

  if (is_hex64 (name))
    {
      set_invalid (error, text,
                   "a repository name cannot be 64 hex digits, which is the form of an image id");
      return NULL;
    }

  if (!check_name_and_split (text, name, &ref->domain, &ref->path, error))
    return NULL;

  if (ref->tag == NULL && ref->digest == NULL)
    ref->tag = g_strdup ("latest");

  return g_steal_pointer (&ref);
}

SvReference *
sv_reference_copy (const SvReference *ref)
{
  SvReference *copy = g_new0 (SvReference, 1);

  copy->domain = g_strdup (ref->domain);
  copy->path = g_strdup (ref->path);
  copy->tag = g_strdup (ref->tag);
  copy->digest = g_strdup (ref->digest);
  return copy;
}

void
sv_reference_free (SvReference *ref)
{
  if (ref == NULL)
    return;
  g_free (ref->domain);
  g_free (ref->path);
  g_free (ref->tag);
  g_free (ref->digest);
  g_free (ref);
}

char *
sv_reference_get_name (const SvReference *ref)
{
  return g_strconcat (ref->domain, "/", ref->path, NULL);
}

static char *
append_tag_and_digest (const SvReference *ref, const char *name)
{
  GString *out = g_string_new (name);

  if (ref->tag != NULL)
    g_string_append_printf (out, ":%s", ref->tag);
  if (ref->digest != NULL)
    g_string_append_printf (out, "@%s", ref->digest);
  return g_string_free (out, FALSE);
}

char *
sv_reference_to_string (const SvReference *ref)
{
  g_autofree char *name = sv_reference_get_name (ref);

  return append_tag_and_digest (ref, name);
}

char *
sv_reference_to_familiar (const SvReference *ref)
{
  g_autofree char *name = NULL;

  if (g_str_equal (ref->domain, "docker.io"))
    {
      if (g_str_has_prefix (ref->path, "library/") && strchr (ref->path + 8, '/') == NULL)
        name = g_strdup (ref->path + strlen ("library/"));
      else
        name = g_strdup (ref->path);
    }
  else
    name = sv_reference_get_name (ref);

  return append_tag_and_digest (ref, name);
}

const char *
sv_reference_get_registry_host (const SvReference *ref)
{
  if (g_str_equal (ref->domain, "docker.io"))
    return "registry-1.docker.io";
  return ref->domain;
}

/* The digest when one was given, else the tag: what goes in /v2/NAME/manifests/. */
const char *
sv_reference_get_manifest_ref (const SvReference *ref)
{
  return ref->digest ? ref->digest : ref->tag;
}
