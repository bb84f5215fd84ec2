/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-dbus-generated.h"

G_BEGIN_DECLS

/* Called whenever the job's Progress or Status changes. */
typedef void (*SvClientJobProgressFunc) (SvDBusJob *job, gpointer user_data);

SvDBusJob *sv_client_get_job (GDBusObjectManager *objects, const char *object_path,
                              GCancellable *cancellable, GError **error);

void sv_client_job_wait (SvDBusJob *job, GCancellable *cancellable,
                         SvClientJobProgressFunc progress, gpointer progress_data,
                         GAsyncReadyCallback callback, gpointer user_data);
char *sv_client_job_wait_finish (SvDBusJob *job, GAsyncResult *result, GError **error);
char *sv_client_job_wait_sync (SvDBusJob *job, GCancellable *cancellable,
                               SvClientJobProgressFunc progress, gpointer progress_data,
                               GError **error);

void sv_client_job_get_progress (SvDBusJob *job, guint64 *done, guint64 *total);

G_END_DECLS
