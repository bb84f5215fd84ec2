/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-format.h"

#include <string.h>

/* Width of the COMMAND column in docker ps, ellipsis included. */
#define COMMAND_MAX_CHARS 20

/**
 * sv_client_format_size:
 * @bytes: a size in bytes
 *
 * Formats a size as docker images does (go-units HumanSizeWithPrecision
 * with 3 significant digits): 1000-based units, "4.5MB", "123kB", "0B".
 *
 * Returns: (transfer full): the text
 */
char *
sv_client_format_size (guint64 bytes)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
  double size = (double)bytes;
  guint unit = 0;

  while (size >= 1000.0 && unit < G_N_ELEMENTS (units) - 1)
    {
      size /= 1000.0;
      unit++;
    }

  /* C's %g and Go's %g agree here: shortest form, exponent past 3 digits. */
  return g_strdup_printf ("%.3g%s", size, units[unit]);
}

/**
 * sv_client_format_duration:
 * @seconds: a duration in seconds
 *
 * Formats a duration as docker does (go-units HumanDuration): "Less than a
 * second", "1 second", "5 seconds", "About a minute", "3 minutes", "About
 * an hour", "5 hours", "3 days", "2 weeks", "3 months", "2 years". Hours
 * are rounded to the nearest; the other units are truncated.
 *
 * Returns: (transfer full): the text
 */
char *
sv_client_format_duration (gint64 seconds)
{
  gint64 minutes = seconds / 60;
  gint64 hours = (seconds + 1800) / 3600;

  if (seconds < 1)
    return g_strdup ("Less than a second");
  if (seconds == 1)
    return g_strdup ("1 second");
  if (seconds < 60)
    return g_strdup_printf ("%" G_GINT64_FORMAT " seconds", seconds);
  if (minutes == 1)
    return g_strdup ("About a minute");
  if (minutes < 60)
    return g_strdup_printf ("%" G_GINT64_FORMAT " minutes", minutes);
  if (hours == 1)
    return g_strdup ("About an hour");
  if (hours < 48)
    return g_strdup_printf ("%" G_GINT64_FORMAT " hours", hours);
  if (hours < 24 * 7 * 2)
    return g_strdup_printf ("%" G_GINT64_FORMAT " days", hours / 24);
  if (hours < 24 * 30 * 2)
    return g_strdup_printf ("%" G_GINT64_FORMAT " weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2)
    return g_strdup_printf ("%" G_GINT64_FORMAT " months", hours / 24 / 30);
  return g_strdup_printf ("%" G_GINT64_FORMAT " years", seconds / 3600 / 24 / 365);
}

/**
 * sv_client_format_time_ago:
 * @then: a Unix time in seconds
 * @now: the current Unix time in seconds
 *
 * Returns: (transfer full): "2 minutes ago", as docker's CREATED column
 */
char *
sv_client_format_time_ago (guint64 then, guint64 now)
{
  g_autofree char *duration = NULL;

  /* A clock that moved back gives a future time: show it as just now. */
  duration = sv_client_format_duration (now > then ? (gint64)(now - then) : 0);
  return g_strdup_printf ("%s ago", duration);
}

/**
 * sv_client_format_status:
 * @state: the container's State: "created", "running" or "exited"
 * @exit_code: its ExitCode
 * @started_at: its StartedAt, Unix seconds
 * @finished_at: its FinishedAt, Unix seconds, 0 when unknown
 * @now: the current Unix time in seconds
 *
 * Formats docker's STATUS column: "Created", "Up 3 minutes", "Exited (0)
 * 5 seconds ago". Other states are shown capitalised, as docker does for
 * "Removing" and "Dead".
 *
 * Returns: (transfer full): the text
 */
char *
sv_client_format_status (const char *state, int exit_code, guint64 started_at, guint64 finished_at,
                         guint64 now)
{
  if (g_strcmp0 (state, "running") == 0)
    {
      g_autofree char *duration
          = sv_client_format_duration (now > started_at ? (gint64)(now - started_at) : 0);

      return g_strdup_printf ("Up %s", duration);
    }

  if (g_strcmp0 (state, "exited") == 0)
    {
      g_autofree char *ago = NULL;

      if (finished_at == 0)
        return g_strdup_printf ("Exited (%d)", exit_code);
      ago = sv_client_format_time_ago (finished_at, now);
      return g_strdup_printf ("Exited (%d) %s", exit_code, ago);
    }

  if (state == NULL || *state == '\0')
    return g_strdup ("Unknown");

  return g_strdup_printf ("%c%s", g_ascii_toupper (state[0]), state + 1);
}

/**
 * sv_client_format_short_id:
 * @id: a container id or an image id, with or without "sha256:"
 *
 * Returns: (transfer full): the first 12 hex digits of @id
 */
char *
sv_client_format_short_id (const char *id)
{
  if (id == NULL)
    return g_strdup ("");
  if (g_str_has_prefix (id, "sha256:"))
    id += strlen ("sha256:");
  return g_strndup (id, SV_CLIENT_SHORT_ID_LENGTH);
}

/**
 * sv_client_format_ellipsize:
 * @text: UTF-8 text
 * @max_chars: the maximum length of the result in characters
 *
 * Shortens @text to @max_chars characters, the last being "…", as docker's
 * Ellipsis does. Text that fits is returned unchanged.
 *
 * Returns: (transfer full): the text
 */
char *
sv_client_format_ellipsize (const char *text, guint max_chars)
{
  const char *end;

  if (max_chars == 0)
    return g_strdup ("");
  if (g_utf8_strlen (text, -1) <= (glong)max_chars)
    return g_strdup (text);

  end = g_utf8_offset_to_pointer (text, max_chars - 1);
  return g_strdup_printf ("%.*s…", (int)(end - text), text);
}

/**
 * sv_client_format_command:
 * @command: the container's Command
 * @truncate: whether to shorten it to 20 characters
 *
 * Formats docker ps' COMMAND column: the command shortened with "…" unless
 * --no-trunc is given, then quoted like Go's strconv.Quote, so
 * `sh -c 'echo "hi"'` becomes "sh -c 'echo \"hi\"'".
 *
 * Returns: (transfer full): the text
 */
char *
sv_client_format_command (const char *command, gboolean truncate)
{
  g_autofree char *text = NULL;
  GString *out;

  text = truncate ? sv_client_format_ellipsize (command ? command : "", COMMAND_MAX_CHARS)
                  : g_strdup (command ? command : "");

  out = g_string_new ("\"");
  for (const char *p = text; *p; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        default:
          if ((guchar)*p < 0x20 || *p == 0x7f)
            g_string_append_printf (out, "\\x%02x", (guchar)*p);
          else
            g_string_append_c (out, *p);
        }
    }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}
