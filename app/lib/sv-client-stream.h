/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Stream numbers in the first byte of a frame header, as in Docker's
 * attach and logs stream format. */
typedef enum
{
  SV_CLIENT_STREAM_STDIN = 0,
  SV_CLIENT_STREAM_STDOUT = 1,
  SV_CLIENT_STREAM_STDERR = 2,
} SvClientStream;

#define SV_CLIENT_FRAME_HEADER_SIZE 8

/* Receives the payload of a frame, possibly in several pieces. Returns FALSE
 * with @error set to stop the stream. */
typedef gboolean (*SvClientFrameFunc) (SvClientStream stream, const guint8 *data, gsize length,
                                       gpointer user_data, GError **error);

typedef struct _SvClientDemux SvClientDemux;

SvClientDemux *sv_client_demux_new (SvClientFrameFunc func, gpointer user_data);
void sv_client_demux_free (SvClientDemux *demux);
gboolean sv_client_demux_feed (SvClientDemux *demux, const guint8 *data, gsize length,
                               GError **error);
gboolean sv_client_demux_finish (SvClientDemux *demux, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvClientDemux, sv_client_demux_free)

G_END_DECLS
