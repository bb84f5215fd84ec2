/* SPDX-License-Identifier: GPL-2.0-or-later */

/* The container log in Docker's json-file format, one JSON object per line:
 * {"log":"text\n","stream":"stdout","time":"2026-12-04T17:30:00.123456789Z"} */

#include "sv-monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Entries up to this size are built on the stack; larger ones are allocated. */
#define STACK_ENTRY_SIZE 2048

static const char *const stream_names[2] = { "stdout", "stderr" };

int
sv_mon_log_open (SvMonLog *log, const char *path)
{
  memset (log, 0, sizeof *log);
  log->fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  return log->fd < 0 ? -1 : 0;
}

/* Return the length of the valid UTF-8 sequence at IN, or 0 when IN starts
 * with a byte that is not valid there (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
size_t
sv_mon_utf8_char_len (const unsigned char *in, size_t len)
{
  unsigned char c = in[0];
  unsigned char lo = 0x80, hi = 0xbf;
  size_t n;

  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef)
    {
      n = 3;
      if (c == 0xe0)
        lo = 0xa0;
      else if (c == 0xed)
        hi = 0x9f;
    }
  else if (c >= 0xf0 && c <= 0xf4)
    {
      n = 4;
      if (c == 0xf0)
        lo = 0x90;
      else if (c == 0xf4)
        hi = 0x8f;
    }
  else
    return 0;

  if (len < n || in[1] < lo || in[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (in[i] < 0x80 || in[i] > 0xbf)
      return 0;
  return n;
}

/* Escape IN as the inside of a JSON string into OUT and return the length.
 * With OUT NULL, only compute the length. Bytes that are not valid UTF-8
 * become U+FFFD, one per byte, as Go's encoding/json does. */
size_t
sv_mon_json_escape (char *out, const char *in, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)in;
  size_t o = 0;

  for (size_t i = 0; i < len;)
    {
      unsigned char c = p[i];
      const char *esc = NULL;
      char ubuf[7];
      size_t n;

      if (c >= 0x80)
        {
          n = sv_mon_utf8_char_len (p + i, len - i);
          if (n == 0)
            {
              esc = "\\ufffd";
              n = 1;
            }
          else
            {
              if (out)
                memcpy (out + o, p + i, n);
              o += n;
              i += n;
              continue;
            }
        }
      else
        {
          n = 1;
          switch (c)
            {
            case '"':
              esc = "\\\"";
              break;
            case '\\':
              esc = "\\\\";
              break;
            case '\n':
              esc = "\\n";
              break;
            case '\r':
              esc = "\\r";
              break;
            case '\t':
              esc = "\\t";
              break;
            default:
              if (c < 0x20)
                {
                  memcpy (ubuf, "\\u00", 4);
                  ubuf[4] = hex[c >> 4];
                  ubuf[5] = hex[c & 0xf];
                  ubuf[6] = '\0';
                  esc = ubuf;
                }
            }
        }

      if (esc)
        {
          size_t elen = strlen (esc);

          if (out)
            memcpy (out + o, esc, elen);
          o += elen;
        }
      else
        {
          if (out)
            out[o] = (char)c;
          o++;
        }
      i += n;
    }
  return o;
}

static void
log_failed (SvMonLog *log, int error)
{
  log->write_errors++;
  log->last_errno = error;
}

static void
log_emit (SvMonLog *log, int stream, const char *text, size_t len)
{
  static const char prefix[] = "{\"log\":\"";
  char stack[STACK_ENTRY_SIZE];
  char time_text[64];
  struct timespec now;
  size_t time_len, escaped, total, o;
  char *entry = stack;

  clock_gettime (CLOCK_REALTIME, &now);
  time_len = sv_mon_format_time (time_text, sizeof time_text, &now);

  escaped = sv_mon_json_escape (NULL, text, len);
  total = strlen (prefix) + escaped + strlen ("\",\"stream\":\"stdout\",\"time\":\"") + time_len
          + strlen ("\"}\n");
  if (total > sizeof stack)
    {
      entry = malloc (total);
      if (entry == NULL)
        {
          log_failed (log, errno);
          return;
        }
    }

  o = 0;
  memcpy (entry + o, prefix, strlen (prefix));
  o += strlen (prefix);
  o += sv_mon_json_escape (entry + o, text, len);
  memcpy (entry + o, "\",\"stream\":\"", 12);
  o += 12;
  memcpy (entry + o, stream_names[stream], 6);
  o += 6;
  memcpy (entry + o, "\",\"time\":\"", 10);
  o += 10;
  memcpy (entry + o, time_text, time_len);
  o += time_len;
  memcpy (entry + o, "\"}\n", 3);
  o += 3;

  /* One write per entry: with O_APPEND a reader never sees two entries mixed. */
  if (log->fd >= 0 && sv_mon_write_all (log->fd, entry, o) < 0)
    log_failed (log, errno);

  if (entry != stack)
    free (entry);
}

static int
line_append (SvMonLine *line, const char *data, size_t len)
{
  if (line->len + len > line->cap)
    {
      size_t cap = line->cap ? line->cap : 256;
      char *p;

      while (cap < line->len + len)
        cap *= 2;
      p = realloc (line->data, cap);
      if (p == NULL)
        return -1;
      line->data = p;
      line->cap = cap;
    }
  memcpy (line->data + line->len, data, len);
  line->len += len;
  return 0;
}

static void
line_reset (SvMonLine *line)
{
  line->len = 0;

  /* Keep a small buffer for the next partial line, drop a big one. */
  if (line->cap > 4096)
    {
      free (line->data);
      line->data = NULL;
      line->cap = 0;
    }
}

/* Return how many of the LEN bytes at TEXT to put in a partial entry so that
 * a multibyte UTF-8 character at the end is not cut in two. */
static size_t
utf8_split_point (const char *text, size_t len)
{
  const unsigned char *p = (const unsigned char *)text;

  for (size_t back = 1; back <= 3 && back < len; back++)
    {
      unsigned char c = p[len - back];
      size_t need;

      if (c < 0x80)
        return len;
      if (c < 0xc0)
        continue;

      /* C is a lead byte: keep its character whole when it is incomplete. */
      if (c >= 0xf0)
        need = 4;
      else if (c >= 0xe0)
        need = 3;
      else
        need = 2;
      return need > back ? len - back : len;
    }
  return len;
}

/* Log DATA read from the container's STREAM. Each complete line becomes one
 * entry; a line of more than SV_MON_LOG_LINE_MAX bytes becomes partial
 * entries without a trailing newline, like Docker's. */
void
sv_mon_log_write (SvMonLog *log, int stream, const char *data, size_t len)
{
  SvMonLine *line = &log->lines[stream];

  while (len > 0)
    {
      size_t room = SV_MON_LOG_LINE_MAX - line->len;
      size_t take = len < room ? len : room;
      const char *nl = memchr (data, '\n', take);

      if (nl)
        take = (size_t)(nl - data) + 1;
      else if (take < room)
        {
          /* An incomplete line: keep it until more data or end of file. */
          if (line_append (line, data, take) < 0)
            log_failed (log, errno);
          return;
        }

      if (line->len == 0 && nl)
        log_emit (log, stream, data, take);
      else
        {
          if (line_append (line, data, take) < 0)
            {
              log_failed (log, errno);
              line_reset (line);
              return;
            }
          if (nl)
            {
              log_emit (log, stream, line->data, line->len);
              line_reset (line);
            }
          else
            {
              size_t cut = utf8_split_point (line->data, line->len);
              size_t rest = line->len - cut;

              log_emit (log, stream, line->data, cut);
              memmove (line->data, line->data + cut, rest);
              line->len = rest;
              if (rest == 0)
                line_reset (line);
            }
        }
      data += take;
      len -= take;
    }
}

/* Write the final partial line of STREAM at end of file. */
void
sv_mon_log_finish (SvMonLog *log, int stream)
{
  SvMonLine *line = &log->lines[stream];

  if (line->len > 0)
    log_emit (log, stream, line->data, line->len);
  line->len = 0;
  line_reset (line);
  free (line->data);
  line->data = NULL;
  line->cap = 0;
}

void
sv_mon_log_close (SvMonLog *log)
{
  sv_mon_log_finish (log, SV_MON_STDOUT);
  sv_mon_log_finish (log, SV_MON_STDERR);
  if (log->fd >= 0)
    close (log->fd);
  log->fd = -1;
}
