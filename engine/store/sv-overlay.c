/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-overlay.h"

#include <string.h>
#include <unistd.h>

#include "sv-engine-error.h"
#include "sv-sha256.h"

char *
sv_overlay_get_link_name (const char *diff_id)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const char *hex;
  GString *name;
  guint bits = 0;
  guint n_bits = 0;

  if (!sv_digest_is_valid (diff_id))
    return NULL;

  hex = sv_digest_get_hex (diff_id);
  name = g_string_sized_new (SV_OVERLAY_LINK_NAME_LENGTH);
  for (const char *p = hex; name->len < SV_OVERLAY_LINK_NAME_LENGTH; p++)
    {
      bits = (bits << 4 | (guint)g_ascii_xdigit_value (*p)) & 0xff;
      n_bits += 4;
      if (n_bits >= 5)
        {
          n_bits -= 5;
          g_string_append_c (name, alphabet[(bits >> n_bits) & 0x1f]);
        }
    }
  return g_string_free (name, FALSE);
}

char *
sv_overlay_build_options (const char *const *diff_ids, const char *container_id, GError **error)
{
  g_autoptr (GString) options = g_string_new ("lowerdir=");
  guint n_layers = diff_ids != NULL ? g_strv_length ((char **)diff_ids) : 0;
  gsize page = (gsize)sysconf (_SC_PAGESIZE);

  if (n_layers > SV_OVERLAY_MAX_STACK)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                   "cannot stack %u layers with overlayfs: the maximum is %u", n_layers,
                   SV_OVERLAY_MAX_STACK);
      return NULL;
    }

  for (guint i = 0; i < n_layers; i++)
    {
      g_autofree char *name = sv_overlay_get_link_name (diff_ids[i]);

      if (name == NULL)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid layer diff_id %s: expected sha256:<64 hex digits>", diff_ids[i]);
          return NULL;
        }
      if (i > 0)
        g_string_append_c (options, ':');
      g_string_append_printf (options, SV_OVERLAY_LINK_DIR "/%s", name);
    }

  /* Overlayfs needs at least one lowerdir. */
  if (n_layers == 0)
    g_string_append_printf (options, "containers/%s/empty", container_id);

  g_string_append_printf (options, ",upperdir=containers/%s/upper,workdir=containers/%s/work",
                          container_id, container_id);

  /* mount(2) copies at most one page of options, terminating null byte included. */
  if (options->len >= page)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                   "cannot stack %u layers with overlayfs: the mount options take %" G_GSIZE_FORMAT
                   " bytes, more than the %" G_GSIZE_FORMAT " that fit in a page",
                   n_layers, options->len + 1, page);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&options), FALSE);
}

/* Returns the length of the options for @n_layers (1 or 2) layers and a 64-character
 * container id, the longest that containers get, or 0 when they do not fit in a page. */
static gsize
get_options_length (guint n_layers)
{
  const char *diff_id = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  const char *diff_ids[] = { diff_id, diff_id, NULL };
  const char *id = "0000000000000000000000000000000000000000000000000000000000000000";
  g_autofree char *options = NULL;

  diff_ids[n_layers] = NULL;
  options = sv_overlay_build_options (diff_ids, id, NULL);
  return options != NULL ? strlen (options) : 0;
}

guint
sv_overlay_get_max_layers (void)
{
  gsize page = (gsize)sysconf (_SC_PAGESIZE);
  gsize one_layer = get_options_length (1);
  gsize two_layers = get_options_length (2);
  gsize per_layer = two_layers - one_layer;

  if (one_layer == 0)
    return 0;
  if (two_layers == 0)
    return 1;
  /* The options for n layers take one_layer + (n - 1) * per_layer bytes, at most page - 1. */
  return MIN ((page - 1 - one_layer) / per_layer + 1, SV_OVERLAY_MAX_STACK);
}
