/* SPDX-License-Identifier: GPL-2.0-or-later */

/* Attach fds: each receives the container's stdout and stderr in Docker's
 * multiplexed stream format, and with --stdin their input goes to the
 * container's stdin. */

#include "sv-monitor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int
sv_mon_attach_add (SvMonitor *mon, int fd)
{
  SvMonAttach **attaches;
  SvMonAttach *attach;
  struct stat st;

  if (fstat (fd, &st) < 0)
    return -1;

  attach = calloc (1, sizeof *attach);
  if (attach == NULL)
    return -1;
  attaches = realloc (mon->attaches, (mon->n_attaches + 1) * sizeof *attaches);
  if (attaches == NULL)
    {
      free (attach);
      return -1;
    }
  mon->attaches = attaches;

  /* Sockets get MSG_DONTWAIT per call, which leaves the flags of the file
   * description that the client shares alone; anything else becomes
   * non-blocking. */
  attach->is_socket = S_ISSOCK (st.st_mode);
  if (!attach->is_socket)
    sv_mon_set_nonblock (fd);
  attach->fd = fd;
  attach->reading = mon->stdin_fd >= 0 && !mon->stdin_close_when_flushed;
  mon->attaches[mon->n_attaches++] = attach;
  return 0;
}

void
sv_mon_attach_remove (SvMonitor *mon, size_t index)
{
  SvMonAttach *attach = mon->attaches[index];

  /* Losing the stdin owner counts as its end of file. */
  if (attach->fd == mon->stdin_owner_fd)
    {
      mon->stdin_owner_fd = -2;
      if (mon->stdin_fd >= 0)
        {
          mon->stdin_close_when_flushed = true;
          sv_mon_stdin_flush (mon);
        }
    }
  close (attach->fd);
  sv_mon_buf_clear (&attach->out);
  free (attach);
  memmove (mon->attaches + index, mon->attaches + index + 1,
           (mon->n_attaches - index - 1) * sizeof *mon->attaches);
  mon->n_attaches--;
}

static ssize_t
attach_send (SvMonAttach *attach, const void *data, size_t len)
{
  ssize_t n;

  do
    {
      if (attach->is_socket)
        n = send (attach->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
      else
        n = write (attach->fd, data, len);
    }
  while (n < 0 && errno == EINTR);
  return n;
}

/* Write queued output of attach INDEX; drop the attach when its reader is gone. */
void
sv_mon_attach_flush (SvMonitor *mon, size_t index)
{
  SvMonAttach *attach = mon->attaches[index];

  while (attach->out.len > 0)
    {
      ssize_t n = attach_send (attach, attach->out.data + attach->out.start, attach->out.len);

      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n <= 0)
        {
          sv_mon_attach_remove (mon, index);
          return;
        }
      sv_mon_buf_consume (&attach->out, (size_t)n);
      clock_gettime (CLOCK_MONOTONIC, &attach->stalled_since);
    }
}

/* Send one frame of STREAM output to every attach fd: an 8-byte header (the
 * stream, 1 for stdout or 2 for stderr, three zero bytes, the big-endian
 * payload length) and the payload. */
void
sv_mon_attach_broadcast (SvMonitor *mon, int stream, const char *data, size_t len)
{
  unsigned char header[8] = { 0 };

  header[0] = (unsigned char)(stream == SV_MON_STDOUT ? 1 : 2);
  header[4] = (unsigned char)(len >> 24);
  header[5] = (unsigned char)(len >> 16);
  header[6] = (unsigned char)(len >> 8);
  header[7] = (unsigned char)len;

  for (size_t i = mon->n_attaches; i-- > 0;)
    {
      SvMonAttach *attach = mon->attaches[i];

      if (sv_mon_buf_append (&attach->out, header, sizeof header) < 0
          || sv_mon_buf_append (&attach->out, data, len) < 0)
        {
          sv_mon_attach_remove (mon, i);
          continue;
        }
      if (attach->out.len == sizeof header + len)
        clock_gettime (CLOCK_MONOTONIC, &attach->stalled_since);
      sv_mon_attach_flush (mon, i);
    }
}

bool
sv_mon_attach_over_high_water (SvMonitor *mon)
{
  for (size_t i = 0; i < mon->n_attaches; i++)
    if (mon->attaches[i]->out.len > SV_MON_ATTACH_HIGH_WATER)
      return true;
  return false;
}

void
sv_mon_stdin_close (SvMonitor *mon)
{
  if (mon->stdin_fd >= 0)
    close (mon->stdin_fd);
  mon->stdin_fd = -1;
  mon->stdin_close_when_flushed = false;
  sv_mon_buf_clear (&mon->stdin_buf);
  for (size_t i = 0; i < mon->n_attaches; i++)
    mon->attaches[i]->reading = false;
}

/* Write queued input to the container's stdin. */
void
sv_mon_stdin_flush (SvMonitor *mon)
{
  while (mon->stdin_fd >= 0 && mon->stdin_buf.len > 0)
    {
      ssize_t n
          = write (mon->stdin_fd, mon->stdin_buf.data + mon->stdin_buf.start, mon->stdin_buf.len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0)
        {
          /* EPIPE: nothing in the container reads stdin any more. */
          sv_mon_stdin_close (mon);
          return;
        }
      sv_mon_buf_consume (&mon->stdin_buf, (size_t)n);
    }

  if (mon->stdin_close_when_flushed && mon->stdin_buf.len == 0)
    sv_mon_stdin_close (mon);
}

/* Read input from attach INDEX for the container's stdin. The first attach
 * that sends input or reaches end of file owns stdin: its end of file closes
 * the container's stdin. End of file on any other attach only stops reading
 * from it. Return the number of bytes read, 0 at end of file or error, and
 * -1 when nothing is there to read. */
ssize_t
sv_mon_attach_read_input (SvMonitor *mon, size_t index)
{
  SvMonAttach *attach = mon->attaches[index];
  char buf[8192];
  ssize_t n;

  do
    {
      if (attach->is_socket)
        n = recv (attach->fd, buf, sizeof buf, MSG_DONTWAIT);
      else
        n = read (attach->fd, buf, sizeof buf);
    }
  while (n < 0 && errno == EINTR);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return -1;

  if (mon->stdin_owner_fd == -1)
    mon->stdin_owner_fd = attach->fd;

  if (n <= 0)
    {
      attach->reading = false;
      if (attach->fd == mon->stdin_owner_fd)
        {
          mon->stdin_owner_fd = -2;
          mon->stdin_close_when_flushed = true;
          for (size_t i = 0; i < mon->n_attaches; i++)
            mon->attaches[i]->reading = false;
          sv_mon_stdin_flush (mon);
        }
      /* A read error means the peer is gone for output too. */
      if (n < 0)
        sv_mon_attach_remove (mon, index);
      return 0;
    }

  if (mon->stdin_fd < 0)
    return n;
  if (sv_mon_buf_append (&mon->stdin_buf, buf, (size_t)n) < 0)
    {
      sv_mon_warn (mon, "cannot queue %zd bytes for the container's stdin: out of memory", n);
      return n;
    }
  sv_mon_stdin_flush (mon);
  return n;
}

void
sv_mon_attach_close_all (SvMonitor *mon)
{
  while (mon->n_attaches > 0)
    sv_mon_attach_remove (mon, mon->n_attaches - 1);
  free (mon->attaches);
  mon->attaches = NULL;
}
