/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-gui-format.h"

#include <glib/gi18n.h>

#include "sv-client.h"

/* "Running", "Exited (1)" or "Created", for the State column. */
char *
sv_gui_format_state (GObject *this, const char *state, int exit_code)
{
  if (g_strcmp0 (state, "running") == 0)
    return g_strdup (_ ("Running"));
  if (g_strcmp0 (state, "exited") == 0)
    /* Translators: a container state; %d is the exit code of its process */
    return g_strdup_printf (_ ("Exited (%d)"), exit_code);
  if (g_strcmp0 (state, "created") == 0)
    return g_strdup (_ ("Created"));
  return g_strdup (state != NULL ? state : "");
}

/* "2 minutes ago" for a Unix time in seconds, or "" for 0 (never). */
char *
sv_gui_format_age_now (guint64 created)
{
  g_autofree char *duration = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (created == 0)
    return g_strdup ("");
  duration = sv_client_format_duration ((guint64)now > created ? now - (gint64)created : 0);
  /* Translators: %s is a duration such as "2 minutes" or "About an hour" */
  return g_strdup_printf (_ ("%s ago"), duration);
}

/* NOTE: a row's age is computed when the row is bound or its item changes,
 * so "2 minutes ago" grows stale in a window left open without changes. */
char *
sv_gui_format_age (GObject *this, guint64 created)
{
  return sv_gui_format_age_now (created);
}

/* The tags one per line, or "<none>" for an image without any. */
char *
sv_gui_format_tags (GObject *this, GStrv tags)
{
  if (tags == NULL || tags[0] == NULL)
    return g_strdup (_ ("<none>"));
  return g_strjoinv ("\n", tags);
}

char *
sv_gui_format_short_id (GObject *this, const char *id)
{
  if (id == NULL)
    return g_strdup ("");
  return sv_client_format_short_id (id);
}
