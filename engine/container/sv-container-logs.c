/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading the json-file log that servin-monitor writes, one JSON object per line:
 * {"log":"text\n","stream":"stdout","time":"RFC3339Nano"}, and streaming it in Docker's
 * framed format: an 8-byte header (stream 1 or 2, three zero bytes, big-endian length). */
#include "sv-container-private.h"

#include "sv-engine-error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How often a follower looks for new lines, in milliseconds. */
#define FOLLOW_INTERVAL_MS 100

typedef struct
{
  SvContainer *container;
  char *path;
  int fd;
  gboolean follow;
  gboolean timestamps;
  int tail;
} LogReader;

static void
log_reader_free (LogReader *reader)
{
  g_object_unref (reader->container);
  g_free (reader->path);
  sv_fd_close (reader->fd);
  g_free (reader);
}

static gboolean
send_all (int fd, const void *data, gsize length)
{
  const char *p = data;

  while (length > 0)
    {
      ssize_t n = send (fd, p, length, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      length -= n;
    }
  return TRUE;
}

/* Send one log line as a frame. Returns FALSE once the reader's peer is gone. Lines that are
 * not valid log entries are skipped. */
static gboolean
send_log_line (LogReader *reader, const char *line)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GString) payload = g_string_new (NULL);
  JsonNode *root;
  JsonObject *entry;
  const char *text, *stream, *time;
  guint8 header[8] = { 0 };

  if (*line == '\0' || !json_parser_load_from_data (parser, line, -1, NULL))
    return TRUE;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return TRUE;
  entry = json_node_get_object (root);
  text = json_object_get_string_member_with_default (entry, "log", NULL);
  stream = json_object_get_string_member_with_default (entry, "stream", "stdout");
  time = json_object_get_string_member_with_default (entry, "time", "");
  if (text == NULL)
    return TRUE;

  if (reader->timestamps)
    g_string_append_printf (payload, "%s ", time);
  g_string_append (payload, text);

  header[0] = g_str_equal (stream, "stderr") ? 2 : 1;
  header[4] = (payload->len >> 24) & 0xff;
  header[5] = (payload->len >> 16) & 0xff;
  header[6] = (payload->len >> 8) & 0xff;
  header[7] = payload->len & 0xff;
  return send_all (reader->fd, header, sizeof header)
         && send_all (reader->fd, payload->str, payload->len);
}

/* Append what @file_fd has beyond its position to @pending. Returns FALSE on a read error. */
static gboolean
read_more (int file_fd, GString *pending)
{
  char buffer[65536];

  for (;;)
    {
      ssize_t n = read (file_fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      if (n == 0)
        return TRUE;
      g_string_append_len (pending, buffer, n);
    }
}

/* Split complete lines off @pending into @lines. */
static void
take_lines (GString *pending, GPtrArray *lines)
{
  char *newline;

  while ((newline = memchr (pending->str, '\n', pending->len)) != NULL)
    {
      gsize length = newline - pending->str;
      g_ptr_array_add (lines, g_strndup (pending->str, length));
      g_string_erase (pending, 0, length + 1);
    }
}

static gboolean
send_lines (LogReader *reader, GPtrArray *lines, guint first)
{
  for (guint i = first; i < lines->len; i++)
    if (!send_log_line (reader, lines->pdata[i]))
      return FALSE;
  return TRUE;
}

/* TRUE once the reading side has closed its end. It never writes, so readability means that. */
static gboolean
wait_or_peer_closed (int fd, int timeout_ms)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };

  return poll (&pfd, 1, timeout_ms) > 0 && pfd.revents != 0;
}

static gpointer
log_reader_thread (gpointer data)
{
  LogReader *reader = data;
  g_autoptr (GString) pending = g_string_new (NULL);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_auto (SvFd) file_fd = -1;
  guint first;

  file_fd = open (reader->path, O_RDONLY | O_CLOEXEC);
  while (file_fd < 0 && reader->follow && g_atomic_int_get (&reader->container->log_open))
    {
      if (wait_or_peer_closed (reader->fd, FOLLOW_INTERVAL_MS))
        goto out;
      file_fd = open (reader->path, O_RDONLY | O_CLOEXEC);
    }
  if (file_fd < 0)
    goto out;

  /* The existing lines, or the last @tail of them. */
  read_more (file_fd, pending);
  take_lines (pending, lines);
  first = reader->tail >= 0 && (guint)reader->tail < lines->len ? lines->len - reader->tail : 0;
  if (!send_lines (reader, lines, first) || !reader->follow)
    goto out;

  for (;;)
    {
      /* Read the flag before the file, so lines written before the exit are all sent. */
      gboolean open_before = g_atomic_int_get (&reader->container->log_open);

      g_ptr_array_set_size (lines, 0);
      if (!read_more (file_fd, pending))
        break;
      take_lines (pending, lines);
      if (!send_lines (reader, lines, 0) || !open_before)
        break;
      if (lines->len == 0 && wait_or_peer_closed (reader->fd, FOLLOW_INTERVAL_MS))
        break;
    }

out:
  log_reader_free (reader);
  return NULL;
}

/* Start a thread that writes the container's log to a socket in Docker's framed format and
 * return the other end, which the caller owns. With @follow the thread keeps sending new
 * lines until the container exits and the log is drained, or until the caller closes its
 * end. @tail limits the existing lines sent (-1 for all).
 * NOTE: a container with Tty gets framed logs too, unlike docker's raw stream. */
int
sv_container_open_logs (SvContainer *self, gboolean follow, gboolean timestamps, int tail,
                        GError **error)
{
  LogReader *reader;
  int fds[2];

  g_return_val_if_fail (SV_IS_CONTAINER (self), -1);

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create a log socket for container %s: %s", self->name,
                   g_strerror (saved_errno));
      return -1;
    }

  reader = g_new0 (LogReader, 1);
  reader->container = g_object_ref (self);
  reader->path = g_strdup (self->log_path);
  reader->fd = fds[1];
  reader->follow = follow;
  reader->timestamps = timestamps;
  reader->tail = tail;
  g_thread_unref (g_thread_new ("sv-container-logs", log_reader_thread, reader));
  return fds[0];
}
