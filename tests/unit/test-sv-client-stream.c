/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "sv-client-error.h"
#include "sv-client-stream.h"

typedef struct
{
  GString *out;
  GString *err;
  guint calls;
} Collected;

static gboolean
collect_cb (SvClientStream stream, const guint8 *data, gsize length, gpointer user_data,
            GError **error)
{
  Collected *collected = user_data;

  g_string_append_len (stream == SV_CLIENT_STREAM_STDERR ? collected->err : collected->out,
                       (const char *)data, length);
  collected->calls++;
  return TRUE;
}

static void
append_frame (GByteArray *stream, guint8 kind, const char *payload)
{
  guint32 length = strlen (payload);
  guint8 header[8] = { kind, 0, 0, 0, length >> 24, length >> 16, length >> 8, length };

  g_byte_array_append (stream, header, sizeof header);
  g_byte_array_append (stream, (const guint8 *)payload, length);
}

static GByteArray *
sample_stream (void)
{
  GByteArray *stream = g_byte_array_new ();

  append_frame (stream, 1, "hello\n");
  append_frame (stream, 2, "warning\n");
  append_frame (stream, 1, "");
  append_frame (stream, 1, "world\n");
  return stream;
}

static void
test_whole (void)
{
  g_autoptr (GByteArray) stream = sample_stream ();
  Collected collected = { g_string_new (NULL), g_string_new (NULL), 0 };
  g_autoptr (SvClientDemux) demux = sv_client_demux_new (collect_cb, &collected);
  g_autoptr (GError) error = NULL;

  g_assert_true (sv_client_demux_feed (demux, stream->data, stream->len, &error));
  g_assert_no_error (error);
  g_assert_true (sv_client_demux_finish (demux, &error));
  g_assert_cmpstr (collected.out->str, ==, "hello\nworld\n");
  g_assert_cmpstr (collected.err->str, ==, "warning\n");

  g_string_free (collected.out, TRUE);
  g_string_free (collected.err, TRUE);
}

/* Frames cut at every byte boundary give the same output. */
static void
test_byte_by_byte (void)
{
  g_autoptr (GByteArray) stream = sample_stream ();
  Collected collected = { g_string_new (NULL), g_string_new (NULL), 0 };
  g_autoptr (SvClientDemux) demux = sv_client_demux_new (collect_cb, &collected);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < stream->len; i++)
    g_assert_true (sv_client_demux_feed (demux, stream->data + i, 1, &error));
  g_assert_true (sv_client_demux_finish (demux, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (collected.out->str, ==, "hello\nworld\n");
  g_assert_cmpstr (collected.err->str, ==, "warning\n");

  g_string_free (collected.out, TRUE);
  g_string_free (collected.err, TRUE);
}

static void
test_bad_stream_type (void)
{
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  Collected collected = { g_string_new (NULL), g_string_new (NULL), 0 };
  g_autoptr (SvClientDemux) demux = sv_client_demux_new (collect_cb, &collected);
  g_autoptr (GError) error = NULL;

  append_frame (stream, 7, "x");
  g_assert_false (sv_client_demux_feed (demux, stream->data, stream->len, &error));
  g_assert_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_BAD_STREAM);
  g_assert_cmpuint (collected.calls, ==, 0);

  g_string_free (collected.out, TRUE);
  g_string_free (collected.err, TRUE);
}

static void
test_truncated (void)
{
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  Collected collected = { g_string_new (NULL), g_string_new (NULL), 0 };
  g_autoptr (SvClientDemux) demux = sv_client_demux_new (collect_cb, &collected);
  g_autoptr (SvClientDemux) header_demux = sv_client_demux_new (collect_cb, &collected);
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) header_error = NULL;

  append_frame (stream, 1, "hello\n");
  g_assert_true (sv_client_demux_feed (demux, stream->data, stream->len - 2, &error));
  g_assert_false (sv_client_demux_finish (demux, &error));
  g_assert_error (error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_BAD_STREAM);
  g_assert_cmpstr (collected.out->str, ==, "hell");

  g_assert_true (sv_client_demux_feed (header_demux, stream->data, 5, &header_error));
  g_assert_false (sv_client_demux_finish (header_demux, &header_error));
  g_assert_error (header_error, SV_CLIENT_ERROR, SV_CLIENT_ERROR_BAD_STREAM);

  g_string_free (collected.out, TRUE);
  g_string_free (collected.err, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/servin/client-stream/whole", test_whole);
  g_test_add_func ("/servin/client-stream/byte-by-byte", test_byte_by_byte);
  g_test_add_func ("/servin/client-stream/bad-stream-type", test_bad_stream_type);
  g_test_add_func ("/servin/client-stream/truncated", test_truncated);

  return g_test_run ();
}
