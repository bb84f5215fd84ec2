/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sv-dbus-generated.h"

G_BEGIN_DECLS

#define SV_TYPE_JOB (sv_job_get_type ())
G_DECLARE_FINAL_TYPE (SvJob, sv_job, SV, JOB, GObject)

SvJob *sv_job_new (const char *object_path,
                   const char *operation,
                   const char *target,
                   const char *owner);

SvDBusObjectSkeleton *sv_job_get_object (SvJob *self);
GCancellable *sv_job_get_cancellable (SvJob *self);
const char *sv_job_get_owner (SvJob *self);
gboolean sv_job_get_completed (SvJob *self);

void sv_job_set_progress (SvJob *self, guint64 done, guint64 total, const char *status);
void sv_job_complete (SvJob *self, const char *result, const GError *error);

G_END_DECLS
