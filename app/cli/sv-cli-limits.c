/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-cli.h"

#include <errno.h>
#include <math.h>
#include <string.h>

void
sv_cli_limit_options_clear (SvCliLimitOptions *options)
{
  g_clear_pointer (&options->memory, g_free);
  g_clear_pointer (&options->memory_swap, g_free);
  g_clear_pointer (&options->cpus, g_free);
  g_clear_pointer (&options->ulimits, g_ptr_array_unref);
}

static gboolean
invalid_flag (GError **error, const char *value, const char *flag, const char *problem)
{
  g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_INVALID_ARGUMENT,
               "invalid argument \"%s\" for \"%s\" flag: %s", value, flag, problem);
  return FALSE;
}

/* Parse a size as docker's --memory does: a decimal number, then an optional unit b, k, m, g,
 * t or p (powers of 1024, any case), optionally followed by "b" or "ib" ("32m", "1.5GiB"). */
static gboolean
parse_size (const char *text, gint64 *out)
{
  const char *p = text;
  const char *units = "bkmgtp";
  const char *unit;
  double number;
  double multiplier = 1;
  char *end = NULL;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p) || *p == '.')
    p++;
  errno = 0;
  number = g_ascii_strtod (text, &end);
  if (errno != 0 || end != p)
    return FALSE;
  if (*p == ' ')
    p++;
  if (*p != '\0' && (unit = strchr (units, g_ascii_tolower (*p))) != NULL)
    {
      multiplier = pow (1024, unit - units);
      if (g_ascii_tolower (*p) != 'b')
        {
          p++;
          if (g_ascii_tolower (*p) == 'i')
            p++;
          if (g_ascii_tolower (*p) == 'b')
            p++;
        }
      else
        p++;
    }
  if (*p != '\0' || number * multiplier >= (double)G_MAXINT64)
    return FALSE;
  *out = (gint64)(number * multiplier);
  return TRUE;
}

static gboolean
parse_int64 (const char *text, gint64 *out)
{
  return g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, out, NULL);
}

/* Parse one --ulimit NAME=SOFT[:HARD] into Docker's {Name, Soft, Hard}; HARD defaults to SOFT.
 * The engine checks the name and the values. */
static gboolean
add_ulimit (GVariantBuilder *builder, const char *text, GError **error)
{
  const char *equals = strchr (text, '=');
  g_autofree char *name = NULL;
  g_auto (GStrv) values = NULL;
  gint64 soft, hard;
  GVariantDict entry;

  if (equals == NULL || equals == text)
    return invalid_flag (error, text, "--ulimit", "expected NAME=SOFT[:HARD], as nofile=1024:2048");
  name = g_strndup (text, equals - text);
  values = g_strsplit (equals + 1, ":", -1);
  if (g_strv_length (values) < 1 || g_strv_length (values) > 2 || !parse_int64 (values[0], &soft))
    return invalid_flag (error, text, "--ulimit",
                         "the limits must be integers, as nofile=1024:2048");
  hard = soft;
  if (values[1] != NULL && !parse_int64 (values[1], &hard))
    return invalid_flag (error, text, "--ulimit",
                         "the limits must be integers, as nofile=1024:2048");
  if (soft > hard)
    return invalid_flag (error, text, "--ulimit", "the soft limit must not exceed the hard limit");

  g_variant_dict_init (&entry, NULL);
  g_variant_dict_insert (&entry, "Name", "s", name);
  g_variant_dict_insert (&entry, "Soft", "x", soft);
  g_variant_dict_insert (&entry, "Hard", "x", hard);
  g_variant_builder_add_value (builder, g_variant_dict_end (&entry));
  return TRUE;
}

static gboolean
add_memory (const SvCliLimitOptions *options, GVariantDict *dict, GError **error)
{
  gint64 memory = 0, swap = 0;

  if (options->memory != NULL && !parse_size (options->memory, &memory))
    return invalid_flag (error, options->memory, "-m, --memory",
                         "expected a size in bytes with an optional unit b, k, m or g, as 32m");
  if (options->memory_swap != NULL && g_strcmp0 (options->memory_swap, "-1") == 0)
    swap = -1;
  else if (options->memory_swap != NULL && !parse_size (options->memory_swap, &swap))
    return invalid_flag (error, options->memory_swap, "--memory-swap",
                         "expected a size with an optional unit b, k, m or g, or -1 for "
                         "unlimited swap");
  if (options->memory != NULL)
    g_variant_dict_insert (dict, "Memory", "x", memory);
  if (options->memory_swap != NULL)
    g_variant_dict_insert (dict, "MemorySwap", "x", swap);
  return TRUE;
}

/* Add the limits of @options to Create's config with the Docker Engine API's names: Memory,
 * MemorySwap, PidsLimit, NanoCpus, CpuShares, Ulimits (aa{sv} of Name, Soft, Hard) and
 * IgnoreUnsupportedLimits. Fails with a message naming the flag and the value. */
gboolean
sv_cli_limits_add_to_config (const SvCliLimitOptions *options, GVariantDict *dict, GError **error)
{
  if (!add_memory (options, dict, error))
    return FALSE;

  if (options->pids_limit != 0)
    g_variant_dict_insert (dict, "PidsLimit", "x", (gint64)options->pids_limit);

  if (options->cpus != NULL)
    {
      char *end = NULL;
      double cpus;

      errno = 0;
      cpus = g_ascii_strtod (options->cpus, &end);
      if (*options->cpus == '\0' || *end != '\0' || errno != 0 || !isfinite (cpus) || cpus < 0
          || cpus > 1e9)
        return invalid_flag (error, options->cpus, "--cpus", "expected a number of CPUs, as 1.5");
      g_variant_dict_insert (dict, "NanoCpus", "x", (gint64)llround (cpus * 1e9));
    }

  if (options->cpu_shares < 0)
    {
      g_autofree char *text = g_strdup_printf ("%d", options->cpu_shares);
      return invalid_flag (error, text, "-c, --cpu-shares",
                           "expected a relative weight from 2 "
                           "to 262144");
    }
  if (options->cpu_shares != 0)
    g_variant_dict_insert (dict, "CpuShares", "x", (gint64)options->cpu_shares);

  if (options->ulimits != NULL)
    {
      GVariantBuilder builder;

      g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
      for (guint i = 0; i < options->ulimits->len; i++)
        if (!add_ulimit (&builder, options->ulimits->pdata[i], error))
          {
            g_variant_builder_clear (&builder);
            return FALSE;
          }
      g_variant_dict_insert_value (dict, "Ulimits", g_variant_builder_end (&builder));
    }

  if (options->ignore_unsupported)
    g_variant_dict_insert (dict, "IgnoreUnsupportedLimits", "b", TRUE);
  return TRUE;
}
