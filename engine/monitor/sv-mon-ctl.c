/* SPDX-License-Identifier: GPL-2.0-or-later */

/* The control socket STATE/ctl: one request line, one reply line. See
 * docs/monitor-protocol.md for the protocol. */

#include "sv-monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* File descriptors accepted with one message; more than one is an error,
 * but the buffer has room to receive and close a few. */
#define MAX_FDS_PER_MESSAGE 4

static void process_input (SvMonitor *mon, uint64_t serial);

/* Replace a stale socket at PATH, or fail if a monitor still listens there. */
static int
remove_stale_socket (const struct sockaddr_un *addr, char *err, size_t err_size)
{
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  if (connect (fd, (const struct sockaddr *)addr, sizeof *addr) == 0)
    {
      close (fd);
      snprintf (err, err_size, "another monitor is listening on %s; stop it first", addr->sun_path);
      errno = EADDRINUSE;
      return -1;
    }
  close (fd);
  if (unlink (addr->sun_path) < 0 && errno != ENOENT)
    {
      snprintf (err, err_size, "cannot remove stale socket %s: %s", addr->sun_path,
                strerror (errno));
      return -1;
    }
  return 0;
}

/* Listen on STATE/ctl with mode 0600. */
int
sv_mon_ctl_listen (SvMonitor *mon, char *err, size_t err_size)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  mode_t old_umask;
  int fd, r;

  if (sv_mon_path (addr.sun_path, sizeof addr.sun_path, mon->state_dir, "ctl") < 0)
    {
      snprintf (err, err_size, "state folder path %s is too long for a unix socket (max %zu bytes)",
                mon->state_dir, sizeof addr.sun_path - 5);
      return -1;
    }
  if (remove_stale_socket (&addr, err, err_size) < 0)
    return -1;

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    {
      snprintf (err, err_size, "cannot create control socket: %s", strerror (errno));
      return -1;
    }

  /* The umask decides the mode of the socket file when bind creates it. */
  old_umask = umask (0177);
  r = bind (fd, (struct sockaddr *)&addr, sizeof addr);
  umask (old_umask);
  if (r < 0 || listen (fd, 64) < 0)
    {
      snprintf (err, err_size, "cannot listen on %s: %s", addr.sun_path, strerror (errno));
      close (fd);
      return -1;
    }

  mon->listen_fd = fd;
  return 0;
}

void
sv_mon_ctl_accept (SvMonitor *mon)
{
  for (;;)
    {
      SvMonClient **clients;
      SvMonClient *client;
      int fd = accept4 (mon->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

      if (fd < 0 && errno == EINTR)
        continue;
      if (fd < 0)
        {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
            sv_mon_warn (mon, "cannot accept a control connection: %s", strerror (errno));
          return;
        }

      client = calloc (1, sizeof *client);
      clients = realloc (mon->clients, (mon->n_clients + 1) * sizeof *clients);
      if (client == NULL || clients == NULL)
        {
          if (clients)
            mon->clients = clients;
          free (client);
          close (fd);
          sv_mon_warn (mon, "cannot accept a control connection: out of memory");
          return;
        }
      mon->clients = clients;
      client->fd = fd;
      client->serial = ++mon->next_client_serial;
      mon->clients[mon->n_clients++] = client;
    }
}

void
sv_mon_ctl_remove (SvMonitor *mon, size_t index)
{
  SvMonClient *client = mon->clients[index];

  for (size_t i = 0; i < client->n_fds; i++)
    if (client->fds[i] >= 0)
      close (client->fds[i]);
  close (client->fd);
  free (client);
  memmove (mon->clients + index, mon->clients + index + 1,
           (mon->n_clients - index - 1) * sizeof *mon->clients);
  mon->n_clients--;
}

static SvMonClient *
find_client (SvMonitor *mon, uint64_t serial, size_t *index)
{
  for (size_t i = 0; i < mon->n_clients; i++)
    if (mon->clients[i]->serial == serial)
      {
        *index = i;
        return mon->clients[i];
      }
  return NULL;
}

/* Send REPLY and a newline to the client SERIAL, if it is still connected.
 * A client that does not read its replies gets no more of them rather than
 * being waited for; its requests already received are still handled. */
void
sv_mon_ctl_reply (SvMonitor *mon, uint64_t serial, const char *reply)
{
  char line[SV_MON_REQUEST_MAX + 512];
  size_t index;
  SvMonClient *client = find_client (mon, serial, &index);
  int len;
  ssize_t n;

  if (client == NULL || client->closed)
    return;

  len = snprintf (line, sizeof line, "%s\n", reply);
  if (len < 0 || (size_t)len >= sizeof line)
    {
      len = (int)sizeof line - 1;
      line[len - 1] = '\n';
    }

  do
    n = send (client->fd, line, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n != len)
    client->closed = true;
}

static void __attribute__ ((format (printf, 3, 4)))
reply_error (SvMonitor *mon, uint64_t serial, const char *format, ...)
{
  char text[SV_MON_REQUEST_MAX + 256];
  va_list ap;

  memcpy (text, "error ", 6);
  va_start (ap, format);
  vsnprintf (text + 6, sizeof text - 6, format, ap);
  va_end (ap);
  sv_mon_sanitize_line (text);
  sv_mon_ctl_reply (mon, serial, text);
}

static void
handle_status (SvMonitor *mon, uint64_t serial)
{
  char reply[64];

  if (mon->state == SV_MON_STATE_EXITED)
    {
      int code = WIFSIGNALED (mon->wait_status) ? 128 + WTERMSIG (mon->wait_status)
                                                : WEXITSTATUS (mon->wait_status);

      snprintf (reply, sizeof reply, "ok exited %d", code);
    }
  else
    snprintf (reply, sizeof reply, "ok %s %d",
              mon->state == SV_MON_STATE_RUNNING ? "running" : "created", (int)mon->container_pid);
  sv_mon_ctl_reply (mon, serial, reply);
}

static void
handle_start (SvMonitor *mon, SvMonClient *client)
{
  uint64_t serial = client->serial;
  const char *args[] = { "start", mon->id, NULL };
  SvMonPendingStart *starts;
  off_t offset;
  pid_t pid;
  int null_fd;

  if (mon->state == SV_MON_STATE_EXITED)
    {
      reply_error (mon, serial, "container %s has exited", mon->id);
      return;
    }
  if (mon->state == SV_MON_STATE_RUNNING)
    {
      reply_error (mon, serial, "container %s is already running", mon->id);
      return;
    }
  if (mon->n_starts > 0)
    {
      reply_error (mon, serial, "container %s is already being started", mon->id);
      return;
    }

  starts = realloc (mon->starts, (mon->n_starts + 1) * sizeof *starts);
  if (starts == NULL)
    {
      reply_error (mon, serial, "cannot start container %s: out of memory", mon->id);
      return;
    }
  mon->starts = starts;

  /* The runtime's start waits for the container only briefly, but hooks may
   * run long, so it runs beside the loop and gets its reply when it exits. */
  offset = sv_mon_runtime_log_size (mon);
  null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0)
    {
      reply_error (mon, serial, "cannot open /dev/null: %s", strerror (errno));
      return;
    }
  pid = sv_mon_runtime_spawn (mon, args, null_fd, null_fd, null_fd);
  close (null_fd);
  if (pid < 0)
    {
      reply_error (mon, serial, "cannot run %s start: %s", mon->runtime, strerror (errno));
      return;
    }

  mon->starts[mon->n_starts++] = (SvMonPendingStart){
    .pid = pid,
    .client_serial = serial,
    .runtime_log_offset = offset,
  };
  client->waiting = true;
}

/* Reply to the `start` request INDEX whose runtime command exited with
 * WAIT_STATUS, then handle the requests its client sent meanwhile. */
void
sv_mon_ctl_start_finished (SvMonitor *mon, size_t index, int wait_status)
{
  SvMonPendingStart start = mon->starts[index];
  SvMonClient *client;
  size_t client_index;

  memmove (mon->starts + index, mon->starts + index + 1,
           (mon->n_starts - index - 1) * sizeof *mon->starts);
  mon->n_starts--;

  if (WIFEXITED (wait_status) && WEXITSTATUS (wait_status) == 0)
    {
      if (mon->state == SV_MON_STATE_CREATED)
        mon->state = SV_MON_STATE_RUNNING;
      sv_mon_ctl_reply (mon, start.client_serial, "ok");
    }
  else
    {
      char msg[1024];

      sv_mon_runtime_error (mon, start.runtime_log_offset, "start", wait_status, msg, sizeof msg);
      reply_error (mon, start.client_serial, "cannot start container %s: %s", mon->id, msg);
    }

  client = find_client (mon, start.client_serial, &client_index);
  if (client)
    {
      client->waiting = false;
      process_input (mon, start.client_serial);
    }
}

static void
handle_kill (SvMonitor *mon, uint64_t serial, const char *arg)
{
  char reply[512];
  char *end;
  long signum;

  errno = 0;
  signum = strtol (arg, &end, 10);
  if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 || signum < 1 || signum > SIGRTMAX)
    {
      reply_error (mon, serial, "invalid signal number \"%s\": expected 1 to %d", arg, SIGRTMAX);
      return;
    }
  if (mon->state == SV_MON_STATE_EXITED)
    {
      reply_error (mon, serial, "container %s has exited", mon->id);
      return;
    }

  /* The monitor reaps the container init itself, so the pid cannot have
   * been reused while the state is not SV_MON_STATE_EXITED. */
  if (kill (mon->container_pid, (int)signum) < 0)
    {
      snprintf (reply, sizeof reply, "error cannot send signal %ld to container pid %d: %s", signum,
                (int)mon->container_pid, strerror (errno));
      sv_mon_ctl_reply (mon, serial, reply);
      return;
    }
  sv_mon_ctl_reply (mon, serial, "ok");
}

static void
handle_attach (SvMonitor *mon, SvMonClient *client)
{
  uint64_t serial = client->serial;
  int fd;

  if (client->n_fds == 0)
    {
      reply_error (mon, serial,
                   "attach needs one file descriptor sent with SCM_RIGHTS in the same message");
      return;
    }

  fd = client->fds[0];
  memmove (client->fds, client->fds + 1, (client->n_fds - 1) * sizeof *client->fds);
  client->n_fds--;

  if (fd < 0)
    {
      reply_error (mon, serial,
                   "attach needs exactly one file descriptor, but the message had more");
      return;
    }
  if (mon->state == SV_MON_STATE_EXITED)
    {
      close (fd);
      {
        reply_error (mon, serial, "container %s has exited", mon->id);
        return;
      }
    }
  if (sv_mon_attach_add (mon, fd) < 0)
    {
      char text[256];

      snprintf (text, sizeof text, "error cannot attach: %s", strerror (errno));
      close (fd);
      sv_mon_ctl_reply (mon, serial, text);
      return;
    }
  sv_mon_ctl_reply (mon, serial, "ok");
}

static void
handle_request (SvMonitor *mon, SvMonClient *client, char *line)
{
  size_t len = strlen (line);

  if (len > 0 && line[len - 1] == '\r')
    line[--len] = '\0';

  if (strcmp (line, "status") == 0)
    handle_status (mon, client->serial);
  else if (strcmp (line, "start") == 0)
    handle_start (mon, client);
  else if (strncmp (line, "kill ", 5) == 0)
    handle_kill (mon, client->serial, line + 5);
  else if (strcmp (line, "kill") == 0)
    handle_kill (mon, client->serial, "");
  else if (strcmp (line, "attach") == 0)
    handle_attach (mon, client);
  else
    reply_error (mon, client->serial,
                 "unknown request \"%s\": expected attach, start, kill SIGNUM or status", line);
}

/* Queue the file descriptors that arrived with one message; -1 marks a
 * message that carried more than one, so that its attach fails. */
static void
queue_fds (SvMonClient *client, struct msghdr *msg)
{
  int received[MAX_FDS_PER_MESSAGE];
  size_t n = 0;

  for (struct cmsghdr *c = CMSG_FIRSTHDR (msg); c; c = CMSG_NXTHDR (msg, c))
    {
      size_t count;

      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        continue;
      count = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (size_t i = 0; i < count && n < MAX_FDS_PER_MESSAGE; i++)
        memcpy (&received[n++], CMSG_DATA (c) + i * sizeof (int), sizeof (int));
    }

  if (n == 0 && !(msg->msg_flags & MSG_CTRUNC))
    return;

  if (n != 1 || (msg->msg_flags & MSG_CTRUNC))
    {
      for (size_t i = 0; i < n; i++)
        close (received[i]);
      received[0] = -1;
    }

  if (client->n_fds < sizeof client->fds / sizeof client->fds[0])
    client->fds[client->n_fds++] = received[0];
  else if (received[0] >= 0)
    close (received[0]);
}

/* Handle the complete request lines received from client SERIAL, until
 * one of them has to wait for a `start`. A closed client is removed once
 * nothing of it waits any more. */
static void
process_input (SvMonitor *mon, uint64_t serial)
{
  SvMonClient *client;
  size_t index;

  while ((client = find_client (mon, serial, &index)) != NULL && !client->waiting)
    {
      char line[SV_MON_REQUEST_MAX];
      char *nl = memchr (client->input, '\n', client->input_len);
      size_t line_len;

      if (nl == NULL)
        {
          if (client->discarding)
            client->input_len = 0;
          else if (client->input_len == sizeof client->input)
            {
              client->discarding = true;
              client->input_len = 0;
              reply_error (mon, serial, "request longer than %zu bytes", sizeof client->input - 1);
            }
          if (client->closed)
            sv_mon_ctl_remove (mon, index);
          return;
        }

      line_len = (size_t)(nl - client->input);
      memcpy (line, client->input, line_len);
      line[line_len] = '\0';
      client->input_len -= line_len + 1;
      memmove (client->input, nl + 1, client->input_len);

      if (client->discarding)
        client->discarding = false;
      else
        handle_request (mon, client, line);
    }
}

/* Read from control connection INDEX and handle each complete request line. */
void
sv_mon_ctl_read (SvMonitor *mon, size_t index)
{
  SvMonClient *client = mon->clients[index];
  union
  {
    struct cmsghdr align;
    char buf[CMSG_SPACE (MAX_FDS_PER_MESSAGE * sizeof (int))];
  } control;
  struct iovec iov
      = { client->input + client->input_len, sizeof client->input - client->input_len };
  struct msghdr msg = {
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buf,
    .msg_controllen = sizeof control.buf,
  };
  ssize_t n;

  do
    n = recvmsg (client->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (n <= 0)
    client->closed = true;
  else
    {
      queue_fds (client, &msg);
      client->input_len += (size_t)n;
    }
  process_input (mon, client->serial);
}

void
sv_mon_ctl_close_all (SvMonitor *mon)
{
  while (mon->n_clients > 0)
    sv_mon_ctl_remove (mon, mon->n_clients - 1);
  free (mon->clients);
  mon->clients = NULL;
  if (mon->listen_fd >= 0)
    close (mon->listen_fd);
  mon->listen_fd = -1;
}
