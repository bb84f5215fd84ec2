/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-client-stream.h"

#include <string.h>

#include "sv-client-error.h"

/* Splits Docker's multiplexed stream: each frame is an 8-byte header (byte 0
 * the stream, bytes 1..3 zero, bytes 4..7 the payload length, big-endian)
 * followed by the payload. Input may arrive cut at any byte. */
struct _SvClientDemux
{
  SvClientFrameFunc func;
  gpointer user_data;
  guint8 header[SV_CLIENT_FRAME_HEADER_SIZE];
  gsize header_filled;
  SvClientStream stream;
  /* Payload bytes of the current frame still to come. */
  guint32 remaining;
};

SvClientDemux *
sv_client_demux_new (SvClientFrameFunc func, gpointer user_data)
{
  SvClientDemux *demux = g_new0 (SvClientDemux, 1);

  demux->func = func;
  demux->user_data = user_data;
  return demux;
}

void
sv_client_demux_free (SvClientDemux *demux)
{
  g_free (demux);
}

static gboolean
parse_header (SvClientDemux *demux, GError **error)
{
  const guint8 *h = demux->header;

  if (h[0] > SV_CLIENT_STREAM_STDERR)
    {
      g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_BAD_STREAM,
                   "invalid frame header in the container's stream: unknown stream %u", h[0]);
      return FALSE;
    }
  demux->stream = h[0];
  demux->remaining = ((guint32)h[4] << 24) | ((guint32)h[5] << 16) | ((guint32)h[6] << 8) | h[7];
  demux->header_filled = 0;
  return TRUE;
}

/**
 * sv_client_demux_feed:
 * @demux: a demultiplexer
 * @data: the next bytes of the stream
 * @length: the number of bytes in @data
 * @error: return location for an error
 *
 * Passes each frame's payload in @data to the frame function.
 *
 * Returns: FALSE when a header is invalid or the frame function failed
 */
gboolean
sv_client_demux_feed (SvClientDemux *demux, const guint8 *data, gsize length, GError **error)
{
  while (length > 0)
    {
      if (demux->remaining == 0)
        {
          gsize take = MIN (length, SV_CLIENT_FRAME_HEADER_SIZE - demux->header_filled);

          memcpy (demux->header + demux->header_filled, data, take);
          demux->header_filled += take;
          data += take;
          length -= take;
          if (demux->header_filled == SV_CLIENT_FRAME_HEADER_SIZE && !parse_header (demux, error))
            return FALSE;
          continue;
        }

      {
        gsize take = MIN (length, demux->remaining);

        if (!demux->func (demux->stream, data, take, demux->user_data, error))
          return FALSE;
        demux->remaining -= take;
        data += take;
        length -= take;
      }
    }
  return TRUE;
}

/**
 * sv_client_demux_finish:
 * @demux: a demultiplexer
 * @error: return location for an error
 *
 * Checks that the stream ended between two frames.
 *
 * Returns: FALSE when the stream ended inside a header or a payload
 */
gboolean
sv_client_demux_finish (SvClientDemux *demux, GError **error)
{
  if (demux->header_filled != 0 || demux->remaining != 0)
    {
      g_set_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_BAD_STREAM,
                   "the container's stream ended inside a frame (%u payload bytes missing)",
                   demux->header_filled != 0 ? 0 : demux->remaining);
      return FALSE;
    }
  return TRUE;
}
