/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
sv_mon_buf_append (SvMonBuf *buf, const void *bytes, size_t len)
{
  if (len == 0)
    return 0;

  /* Move pending bytes to the front before growing the allocation. */
  if (buf->start > 0 && buf->start + buf->len + len > buf->cap)
    {
      memmove (buf->data, buf->data + buf->start, buf->len);
      buf->start = 0;
    }

  if (buf->len + len > buf->cap)
    {
      size_t cap = buf->cap ? buf->cap : 4096;
      char *data;

      while (cap < buf->len + len)
        cap *= 2;
      data = realloc (buf->data, cap);
      if (data == NULL)
        return -1;
      buf->data = data;
      buf->cap = cap;
    }

  memcpy (buf->data + buf->start + buf->len, bytes, len);
  buf->len += len;
  return 0;
}

void
sv_mon_buf_consume (SvMonBuf *buf, size_t len)
{
  if (len >= buf->len)
    {
      /* Give the memory back once the queue is empty, since most of the time
       * nothing is queued at all. */
      sv_mon_buf_clear (buf);
      return;
    }
  buf->start += len;
  buf->len -= len;
}

void
sv_mon_buf_clear (SvMonBuf *buf)
{
  free (buf->data);
  buf->data = NULL;
  buf->start = 0;
  buf->len = 0;
  buf->cap = 0;
}

int
sv_mon_write_all (int fd, const void *data, size_t len)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      len -= (size_t)n;
    }
  return 0;
}

/* Write PATH.tmp, fsync it and rename it over PATH, so a reader sees either
 * no file or the whole content. */
int
sv_mon_write_file_atomic (const char *path, const char *data, size_t len, mode_t mode)
{
  char tmp[4096];
  int fd;
  int saved;

  if ((size_t)snprintf (tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
    {
      errno = ENAMETOOLONG;
      return -1;
    }

  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return -1;

  if (sv_mon_write_all (fd, data, len) < 0 || fsync (fd) < 0)
    {
      saved = errno;
      close (fd);
      unlink (tmp);
      errno = saved;
      return -1;
    }

  if (close (fd) < 0 || rename (tmp, path) < 0)
    {
      saved = errno;
      unlink (tmp);
      errno = saved;
      return -1;
    }
  return 0;
}

/* Format TS as RFC 3339 in UTC with nanoseconds: 2026-12-04T17:30:00.123456789Z. */
size_t
sv_mon_format_time (char *out, size_t size, const struct timespec *ts)
{
  struct tm tm;
  int n;

  gmtime_r (&ts->tv_sec, &tm);
  n = snprintf (out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec);
  return n < 0 ? 0 : (size_t)n;
}

/* Replace control characters so TEXT fits on one protocol line. */
void
sv_mon_sanitize_line (char *text)
{
  for (unsigned char *p = (unsigned char *)text; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      *p = ' ';
}

int
sv_mon_path (char *out, size_t size, const char *dir, const char *name)
{
  if ((size_t)snprintf (out, size, "%s/%s", dir, name) >= size)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  return 0;
}

int
sv_mon_set_nonblock (int fd)
{
  int flags = fcntl (fd, F_GETFL);

  if (flags < 0)
    return -1;
  return fcntl (fd, F_SETFL, flags | O_NONBLOCK);
}
