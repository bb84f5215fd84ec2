/* SPDX-License-Identifier: GPL-2.0-or-later */

/* servin-monitor: one per container. It detaches from its caller, creates the
 * container with the OCI runtime, keeps the container's stdio, writes the
 * json-file log, serves the control socket, reaps the container and records
 * its exit status. docs/monitor-protocol.md describes the contract. */

#include "sv-monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* After the container init exits, how long to wait for the other holders of
 * its stdout and stderr to close them, and for a pending `start` reply. */
#define DRAIN_TIMEOUT_MS 10000

/* After the container init exits, how long an attach fd may stay full
 * without its reader taking anything before it is dropped. */
#define ATTACH_STALL_TIMEOUT_MS 5000

/* Children reaped while the runtime's create ran, before the container's pid
 * was known. The container init can only be among them if it died at once. */
#define MAX_EARLY_EXITS 16

static struct
{
  pid_t pid;
  int status;
  bool done;
  struct
  {
    pid_t pid;
    int status;
  } early[MAX_EARLY_EXITS];
  size_t n_early;
} create_cmd;

/* Files and runtime state created so far, so that fail() undoes only those. */
static bool created_ctl;
static bool created_monitor_pid;
static bool ran_create;

static void
usage (FILE *out)
{
  fputs ("Usage: servin-monitor --id ID --bundle DIR --state DIR --log FILE --runtime PATH\n"
         "                      [--runtime-root DIR] [--sync-fd N] [--stdin]\n"
         "\n"
         "Create an OCI container with PATH (runc's command line), keep its stdio,\n"
         "write its json-file log to FILE and serve requests on DIR/ctl.\n"
         "\n"
         "  --id ID             container id passed to the runtime\n"
         "  --bundle DIR        OCI bundle folder holding config.json\n"
         "  --state DIR         existing folder for monitor.pid, container.pid, ctl,\n"
         "                      runtime.log and exit\n"
         "  --log FILE          json-file log of the container's output\n"
         "  --runtime PATH      OCI runtime executable, such as /usr/sbin/runc\n"
         "  --runtime-root DIR  runtime state root, passed as --root\n"
         "  --sync-fd N         inherited fd that receives \"ok\" or \"error MESSAGE\"\n"
         "  --stdin             give the container a stdin pipe fed by attach fds\n",
         out);
}

static void
write_sync (SvMonitor *mon, const char *line)
{
  if (mon->sync_fd < 0)
    return;
  sv_mon_write_all (mon->sync_fd, line, strlen (line));
  close (mon->sync_fd);
  mon->sync_fd = -1;
}

/* Report an invalid invocation on stderr and the sync fd, then exit 2. */
static void __attribute__ ((noreturn, format (printf, 2, 3)))
fail_usage (SvMonitor *mon, const char *format, ...)
{
  char msg[1024];
  char line[1100];
  va_list ap;

  va_start (ap, format);
  vsnprintf (msg, sizeof msg, format, ap);
  va_end (ap);
  sv_mon_sanitize_line (msg);

  fprintf (stderr, "servin-monitor: %s\n", msg);
  snprintf (line, sizeof line, "error %s\n", msg);
  write_sync (mon, line);
  exit (2);
}

/* Undo what the monitor set up, report the error on the sync fd and exit 1.
 * The error line comes last, so the caller may remove the state folder as
 * soon as it reads it. */
static void __attribute__ ((noreturn, format (printf, 2, 3)))
fail (SvMonitor *mon, const char *format, ...)
{
  char msg[1024];
  char line[1100];
  char path[4096];
  va_list ap;

  va_start (ap, format);
  vsnprintf (msg, sizeof msg, format, ap);
  va_end (ap);
  sv_mon_sanitize_line (msg);

  /* NOTE: this also deletes a container of the same id that the runtime
   * had before, which callers avoid by never reusing a live id. */
  if (ran_create)
    {
      const char *args[] = { "delete", "--force", mon->id, NULL };

      sv_mon_runtime_run (mon, args);
    }
  if (created_ctl && sv_mon_path (path, sizeof path, mon->state_dir, "ctl") == 0)
    unlink (path);
  if (created_monitor_pid && sv_mon_path (path, sizeof path, mon->state_dir, "monitor.pid") == 0)
    unlink (path);

  snprintf (line, sizeof line, "error %s\n", msg);
  write_sync (mon, line);
  exit (1);
}

static bool
is_directory (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

static void
parse_options (SvMonitor *mon, int argc, char **argv)
{
  enum
  {
    OPT_ID = 1,
    OPT_BUNDLE,
    OPT_STATE,
    OPT_LOG,
    OPT_RUNTIME,
    OPT_RUNTIME_ROOT,
    OPT_SYNC_FD,
    OPT_STDIN,
    OPT_HELP,
  };
  static const struct option options[] = {
    { "id", required_argument, NULL, OPT_ID },
    { "bundle", required_argument, NULL, OPT_BUNDLE },
    { "state", required_argument, NULL, OPT_STATE },
    { "log", required_argument, NULL, OPT_LOG },
    { "runtime", required_argument, NULL, OPT_RUNTIME },
    { "runtime-root", required_argument, NULL, OPT_RUNTIME_ROOT },
    { "sync-fd", required_argument, NULL, OPT_SYNC_FD },
    { "stdin", no_argument, NULL, OPT_STDIN },
    { "help", no_argument, NULL, OPT_HELP },
    { NULL, 0, NULL, 0 },
  };
  const char *sync_text = NULL;
  int opt;

  opterr = 0;
  while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1)
    {
      switch (opt)
        {
        case OPT_ID:
          mon->id = optarg;
          break;
        case OPT_BUNDLE:
          mon->bundle = optarg;
          break;
        case OPT_STATE:
          mon->state_dir = optarg;
          break;
        case OPT_LOG:
          mon->log_path = optarg;
          break;
        case OPT_RUNTIME:
          mon->runtime = optarg;
          break;
        case OPT_RUNTIME_ROOT:
          mon->runtime_root = optarg;
          break;
        case OPT_SYNC_FD:
          sync_text = optarg;
          break;
        case OPT_STDIN:
          mon->with_stdin = true;
          break;
        case OPT_HELP:
          usage (stdout);
          exit (0);
        default:
          fail_usage (mon, "invalid option %s; run servin-monitor --help for the options",
                      argv[optind - 1]);
        }
    }

  /* The sync fd comes first, so that later errors can be reported through it. */
  if (sync_text)
    {
      char *end;
      long fd;

      errno = 0;
      fd = strtol (sync_text, &end, 10);
      if (sync_text[0] < '0' || sync_text[0] > '9' || *end != '\0' || errno != 0 || fd > INT_MAX)
        fail_usage (mon, "invalid --sync-fd \"%s\": expected a file descriptor number", sync_text);
      if (fcntl ((int)fd, F_GETFD) < 0)
        fail_usage (mon, "invalid --sync-fd %ld: %s", fd, strerror (errno));
      mon->sync_fd = (int)fd;
    }

  if (optind < argc)
    fail_usage (mon, "unexpected argument \"%s\"; run servin-monitor --help for the usage",
                argv[optind]);
  if (!mon->id || !mon->bundle || !mon->state_dir || !mon->log_path || !mon->runtime)
    fail_usage (mon, "missing option: --id, --bundle, --state, --log and --runtime are required");
  if (mon->id[0] == '\0' || mon->id[0] == '-' || strchr (mon->id, '/')
      || strcspn (mon->id, " \t\n\r") != strlen (mon->id))
    fail_usage (mon,
                "invalid container id \"%s\": it must not be empty, start with '-' or "
                "contain '/' or spaces",
                mon->id);
  if (!is_directory (mon->bundle))
    fail_usage (mon, "bundle folder %s not found", mon->bundle);
  if (!is_directory (mon->state_dir))
    fail_usage (mon, "state folder %s not found; the caller creates it", mon->state_dir);
  if (strlen (mon->state_dir) + strlen ("/ctl") >= sizeof ((struct sockaddr_un *)0)->sun_path)
    fail_usage (mon, "state folder path %s is too long: STATE/ctl must fit in %zu bytes",
                mon->state_dir, sizeof ((struct sockaddr_un *)0)->sun_path - 1);
  if (mon->runtime_root && mon->runtime_root[0] == '\0')
    fail_usage (mon, "invalid --runtime-root \"\": expected a folder");
  if (access (mon->runtime, X_OK) < 0)
    fail_usage (mon, "runtime %s is not executable: %s", mon->runtime, strerror (errno));
}

/* Close every fd above 2 except KEEP, which may be -1. */
static void
close_inherited_fds (int keep)
{
  unsigned first = 3;
  bool ok = true;

  if (keep > 3)
    ok = close_range (3, (unsigned)keep - 1, 0) == 0;
  if (keep >= 3)
    first = (unsigned)keep + 1;
  if (ok && close_range (first, ~0U, 0) == 0)
    return;

  /* Kernels before 5.9 have no close_range. */
  for (int fd = 3; fd < 65536; fd++)
    if (fd != keep)
      close (fd);
}

/* Fork once. The first process exits at once, and its caller reaps it. The
 * second leads a new session, adopts orphans as a child subreaper and keeps
 * only the sync fd, with /dev/null as stdio. */
static void
detach (SvMonitor *mon)
{
  pid_t pid = fork ();
  int null_fd;

  if (pid < 0)
    fail_usage (mon, "cannot fork: %s", strerror (errno));
  if (pid > 0)
    _exit (0);

  setsid ();
  if (prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
    fail (mon, "cannot become a child subreaper: %s", strerror (errno));

  if (mon->sync_fd >= 0 && mon->sync_fd < 3)
    {
      int fd = fcntl (mon->sync_fd, F_DUPFD_CLOEXEC, 3);

      if (fd < 0)
        fail (mon, "cannot move the sync fd: %s", strerror (errno));
      mon->sync_fd = fd;
    }
  close_inherited_fds (mon->sync_fd);
  if (mon->sync_fd >= 0)
    fcntl (mon->sync_fd, F_SETFD, FD_CLOEXEC);

  null_fd = open ("/dev/null", O_RDWR);
  if (null_fd < 0)
    fail (mon, "cannot open /dev/null: %s", strerror (errno));
  dup2 (null_fd, 0);
  dup2 (null_fd, 1);
  dup2 (null_fd, 2);
  if (null_fd > 2)
    close (null_fd);
}

/* Ignore SIGTERM, SIGINT and SIGHUP, so that signals meant for the caller
 * do not kill the monitor and with it the container's stdio. Ignore SIGPIPE,
 * because attach readers may go away. Take SIGCHLD through a signalfd in the
 * poll loop. */
static void
setup_signals (SvMonitor *mon)
{
  struct sigaction ignore = { .sa_handler = SIG_IGN };
  sigset_t mask;

  sigaction (SIGTERM, &ignore, NULL);
  sigaction (SIGINT, &ignore, NULL);
  sigaction (SIGHUP, &ignore, NULL);
  sigaction (SIGPIPE, &ignore, NULL);

  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  mon->signal_fd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (mon->signal_fd < 0)
    fail (mon, "cannot create a signalfd: %s", strerror (errno));
}

static void
write_monitor_pid (SvMonitor *mon)
{
  char path[4096];
  char text[32];
  int len = snprintf (text, sizeof text, "%d\n", (int)getpid ());

  if (sv_mon_path (path, sizeof path, mon->state_dir, "monitor.pid") < 0
      || sv_mon_write_file_atomic (path, text, (size_t)len, 0644) < 0)
    fail (mon, "cannot write %s/monitor.pid: %s", mon->state_dir, strerror (errno));
  created_monitor_pid = true;
}

/* Remove the exit status of an earlier run in this state folder, so that
 * a reader does not take it for this container's. */
static void
remove_stale_exit (SvMonitor *mon)
{
  char path[4096];

  if (sv_mon_path (path, sizeof path, mon->state_dir, "exit") == 0 && unlink (path) < 0
      && errno != ENOENT)
    fail (mon, "cannot remove the old exit status %s: %s", path, strerror (errno));
  if (sv_mon_path (path, sizeof path, mon->state_dir, "exit.tmp") == 0)
    unlink (path);
}

static void
container_exited (SvMonitor *mon, int status)
{
  mon->wait_status = status;
  mon->state = SV_MON_STATE_EXITED;
  clock_gettime (CLOCK_REALTIME, &mon->finished_at);
  clock_gettime (CLOCK_MONOTONIC, &mon->exited_monotonic);
  sv_mon_stdin_close (mon);
}

static void
reap_children (SvMonitor *mon)
{
  struct signalfd_siginfo info;

  while (read (mon->signal_fd, &info, sizeof info) > 0)
    ;

  for (;;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, WNOHANG);

      if (pid < 0 && errno == EINTR)
        continue;
      if (pid <= 0)
        return;

      if (pid == create_cmd.pid)
        {
          /* Forget the pid, which a later child may reuse. */
          create_cmd.status = status;
          create_cmd.done = true;
          create_cmd.pid = 0;
        }
      else if (mon->container_pid > 0 && pid == mon->container_pid)
        {
          if (mon->state != SV_MON_STATE_EXITED)
            container_exited (mon, status);
        }
      else if (mon->container_pid == 0)
        {
          if (create_cmd.n_early < MAX_EARLY_EXITS)
            {
              create_cmd.early[create_cmd.n_early].pid = pid;
              create_cmd.early[create_cmd.n_early].status = status;
              create_cmd.n_early++;
            }
        }
      else
        {
          for (size_t i = 0; i < mon->n_starts; i++)
            if (mon->starts[i].pid == pid)
              {
                sv_mon_ctl_start_finished (mon, i, status);
                break;
              }
        }
    }
}

/* Warn about the first failed log write and then about every 1000th. */
static void
report_log_errors (SvMonitor *mon)
{
  static unsigned long reported;

  if (mon->log.write_errors == reported)
    return;
  if (reported == 0 || mon->log.write_errors / 1000 != reported / 1000)
    sv_mon_warn (mon, "cannot write log file %s: %s (%lu failures so far)", mon->log_path,
                 strerror (mon->log.last_errno), mon->log.write_errors);
  reported = mon->log.write_errors;
}

static void
close_output (SvMonitor *mon, int stream)
{
  sv_mon_log_finish (&mon->log, stream);
  close (mon->output_fds[stream]);
  mon->output_fds[stream] = -1;
}

/* Read once from the container's STREAM, then log the data and copy it to
 * the attach fds. At end of file, log the last partial line and close the
 * pipe. Return the number of bytes read, 0 at end of file, -1 when the pipe
 * is empty. */
static ssize_t
handle_output (SvMonitor *mon, int stream)
{
  char buf[8192];
  ssize_t n;

  do
    n = read (mon->output_fds[stream], buf, sizeof buf);
  while (n < 0 && errno == EINTR);

  if (n < 0 && errno == EAGAIN)
    return -1;
  if (n <= 0)
    {
      close_output (mon, stream);
      return 0;
    }

  sv_mon_log_write (&mon->log, stream, buf, (size_t)n);
  sv_mon_attach_broadcast (mon, stream, buf, (size_t)n);
  report_log_errors (mon);
  return n;
}

static int
make_pipe (int fds[2], int nonblocking_end)
{
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return -1;
  return sv_mon_set_nonblock (fds[nonblocking_end]);
}

static pid_t
read_container_pid (SvMonitor *mon)
{
  char path[4096];
  char text[32];
  ssize_t n;
  long pid;
  char *end;
  int fd;

  if (sv_mon_path (path, sizeof path, mon->state_dir, "container.pid") < 0)
    return -1;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  n = read (fd, text, sizeof text - 1);
  close (fd);
  if (n <= 0)
    {
      errno = EINVAL;
      return -1;
    }
  text[n] = '\0';
  pid = strtol (text, &end, 10);
  if (pid <= 0 || pid > INT_MAX || (*end != '\0' && *end != '\n'))
    {
      errno = EINVAL;
      return -1;
    }
  return (pid_t)pid;
}

/* Check that the container init, now re-parented to this subreaper, is our
 * child; it may already have been reaped if it died at once. */
static void
adopt_container (SvMonitor *mon, pid_t pid)
{
  int status;
  pid_t r;

  mon->container_pid = pid;
  /* The runtime removes the cgroup at delete, so find its OOM counter now. */
  if (sv_mon_oom_find (pid, mon->oom_path, sizeof mon->oom_path) == 0)
    mon->oom_kills_at_start = sv_mon_oom_read (mon->oom_path);
  else
    mon->oom_path[0] = '\0';
  for (size_t i = 0; i < create_cmd.n_early; i++)
    if (create_cmd.early[i].pid == pid)
      {
        container_exited (mon, create_cmd.early[i].status);
        return;
      }

  r = waitpid (pid, &status, WNOHANG);
  if (r == pid)
    container_exited (mon, status);
  else if (r < 0)
    fail (mon, "container init pid %d of %s is not a child of the monitor: %s", (int)pid, mon->id,
          strerror (errno));
}

/* Run RUNTIME create with pipes as the container's stdio and wait for it,
 * logging whatever the runtime or its hooks write meanwhile. */
static void
create_container (SvMonitor *mon)
{
  char pid_path[4096];
  const char *args[] = { "create", "--bundle", mon->bundle, "--pid-file", pid_path, mon->id, NULL };
  int out_pipe[2], err_pipe[2], in_pipe[2] = { -1, -1 };
  off_t log_offset;
  pid_t pid;

  if (sv_mon_path (pid_path, sizeof pid_path, mon->state_dir, "container.pid") < 0)
    fail (mon, "state folder path %s is too long", mon->state_dir);
  unlink (pid_path);

  if (make_pipe (out_pipe, 0) < 0 || make_pipe (err_pipe, 0) < 0)
    fail (mon, "cannot create the container's output pipes: %s", strerror (errno));
  if (mon->with_stdin ? make_pipe (in_pipe, 1) < 0
                      : (in_pipe[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
    fail (mon, "cannot create the container's stdin: %s", strerror (errno));

  log_offset = sv_mon_runtime_log_size (mon);
  ran_create = true;
  pid = sv_mon_runtime_spawn (mon, args, in_pipe[0], out_pipe[1], err_pipe[1]);
  if (pid < 0)
    fail (mon, "cannot run %s: %s", mon->runtime, strerror (errno));
  create_cmd.pid = pid;

  close (in_pipe[0]);
  close (out_pipe[1]);
  close (err_pipe[1]);
  mon->stdin_fd = in_pipe[1];
  mon->output_fds[SV_MON_STDOUT] = out_pipe[0];
  mon->output_fds[SV_MON_STDERR] = err_pipe[0];

  while (!create_cmd.done)
    {
      struct pollfd fds[3] = {
        { mon->signal_fd, POLLIN, 0 },
        { mon->output_fds[0], POLLIN, 0 },
        { mon->output_fds[1], POLLIN, 0 },
      };

      if (poll (fds, 3, -1) < 0 && errno != EINTR)
        fail (mon, "cannot poll: %s", strerror (errno));
      for (int i = 0; i < 2; i++)
        if (fds[i + 1].revents)
          handle_output (mon, i);
      if (fds[0].revents)
        reap_children (mon);
    }

  if (!WIFEXITED (create_cmd.status) || WEXITSTATUS (create_cmd.status) != 0)
    {
      char msg[1024];

      sv_mon_runtime_error (mon, log_offset, "create", create_cmd.status, msg, sizeof msg);
      fail (mon, "cannot create container %s: %s", mon->id, msg);
    }

  pid = read_container_pid (mon);
  if (pid < 0)
    fail (mon, "cannot read the container pid from %s: %s", pid_path, strerror (errno));
  adopt_container (mon, pid);
}

enum
{
  SOURCE_SIGNAL,
  SOURCE_LISTEN,
  SOURCE_STDOUT,
  SOURCE_STDERR,
  SOURCE_STDIN,
  SOURCE_CLIENT,
  SOURCE_ATTACH,
};

typedef struct
{
  struct pollfd *fds;
  int *sources;
  size_t len;
  size_t cap;
} SvMonPollSet;

static void
poll_set_add (SvMonPollSet *set, int fd, short events, int source)
{
  if (set->len == set->cap)
    {
      size_t cap = set->cap ? set->cap * 2 : 16;
      struct pollfd *fds = realloc (set->fds, cap * sizeof *fds);
      int *sources;

      if (fds == NULL)
        return;
      set->fds = fds;
      sources = realloc (set->sources, cap * sizeof *sources);
      if (sources == NULL)
        return;
      set->sources = sources;
      set->cap = cap;
    }
  set->fds[set->len] = (struct pollfd){ fd, events, 0 };
  set->sources[set->len] = source;
  set->len++;
}

static void
build_poll_set (SvMonitor *mon, SvMonPollSet *set)
{
  bool paused = sv_mon_attach_over_high_water (mon);

  set->len = 0;
  poll_set_add (set, mon->signal_fd, POLLIN, SOURCE_SIGNAL);
  poll_set_add (set, mon->listen_fd, POLLIN, SOURCE_LISTEN);
  if (mon->output_fds[SV_MON_STDOUT] >= 0 && !paused)
    poll_set_add (set, mon->output_fds[SV_MON_STDOUT], POLLIN, SOURCE_STDOUT);
  if (mon->output_fds[SV_MON_STDERR] >= 0 && !paused)
    poll_set_add (set, mon->output_fds[SV_MON_STDERR], POLLIN, SOURCE_STDERR);
  if (mon->stdin_fd >= 0 && mon->stdin_buf.len > 0)
    poll_set_add (set, mon->stdin_fd, POLLOUT, SOURCE_STDIN);
  for (size_t i = 0; i < mon->n_clients; i++)
    if (!mon->clients[i]->closed)
      poll_set_add (set, mon->clients[i]->fd, mon->clients[i]->waiting ? 0 : POLLIN, SOURCE_CLIENT);
  for (size_t i = 0; i < mon->n_attaches; i++)
    {
      SvMonAttach *attach = mon->attaches[i];
      short events = 0;

      if (attach->out.len > 0)
        events |= POLLOUT;
      if (attach->reading && mon->stdin_buf.len < SV_MON_STDIN_HIGH_WATER)
        events |= POLLIN;
      poll_set_add (set, attach->fd, events, SOURCE_ATTACH);
    }
}

static bool
find_attach (SvMonitor *mon, int fd, size_t *index)
{
  for (size_t i = 0; i < mon->n_attaches; i++)
    if (mon->attaches[i]->fd == fd)
      {
        *index = i;
        return true;
      }
  return false;
}

static void
handle_attach_events (SvMonitor *mon, int fd, short revents)
{
  size_t index;

  if (!find_attach (mon, fd, &index))
    return;
  if (revents & POLLOUT)
    {
      sv_mon_attach_flush (mon, index);
      if (!find_attach (mon, fd, &index))
        return;
    }

  /* After a hang-up, read the remaining input up to end of file. */
  if ((revents & (POLLIN | POLLHUP | POLLERR)) && mon->attaches[index]->reading)
    {
      while (sv_mon_attach_read_input (mon, index) > 0 && (revents & POLLHUP)
             && find_attach (mon, fd, &index) && mon->attaches[index]->reading)
        ;
      if (!find_attach (mon, fd, &index))
        return;
    }
  if ((revents & (POLLHUP | POLLERR)) && !mon->attaches[index]->reading)
    sv_mon_attach_remove (mon, index);
}

static void
dispatch (SvMonitor *mon, SvMonPollSet *set)
{
  for (size_t i = 0; i < set->len; i++)
    {
      short revents = set->fds[i].revents;
      int fd = set->fds[i].fd;

      if (revents == 0)
        continue;

      switch (set->sources[i])
        {
        case SOURCE_SIGNAL:
          reap_children (mon);
          break;
        case SOURCE_LISTEN:
          sv_mon_ctl_accept (mon);
          break;
        case SOURCE_STDOUT:
          if (mon->output_fds[SV_MON_STDOUT] == fd)
            handle_output (mon, SV_MON_STDOUT);
          break;
        case SOURCE_STDERR:
          if (mon->output_fds[SV_MON_STDERR] == fd)
            handle_output (mon, SV_MON_STDERR);
          break;
        case SOURCE_STDIN:
          if (mon->stdin_fd == fd)
            sv_mon_stdin_flush (mon);
          break;
        case SOURCE_CLIENT:
          for (size_t c = 0; c < mon->n_clients; c++)
            if (mon->clients[c]->fd == fd)
              {
                /* A waiting client is read later, but after a hang-up what it
                 * sent is read now, to be handled once its start is done. */
                if (!mon->clients[c]->waiting || (revents & (POLLHUP | POLLERR)))
                  sv_mon_ctl_read (mon, c);
                break;
              }
          break;
        case SOURCE_ATTACH:
          handle_attach_events (mon, fd, revents);
          break;
        default:
          break;
        }
    }
}

static long
elapsed_ms (const struct timespec *since)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Drop attach fds whose reader took nothing for ATTACH_STALL_TIMEOUT_MS, so
 * that a stuck client cannot hold back the recording of the exit. */
static void
drop_stalled_attaches (SvMonitor *mon)
{
  for (size_t i = mon->n_attaches; i-- > 0;)
    {
      SvMonAttach *attach = mon->attaches[i];

      if (attach->out.len > 0 && elapsed_ms (&attach->stalled_since) > ATTACH_STALL_TIMEOUT_MS)
        {
          sv_mon_warn (mon,
                       "dropping attach fd %d of container %s: its reader took no output "
                       "for %d ms",
                       attach->fd, mon->id, ATTACH_STALL_TIMEOUT_MS);
          sv_mon_attach_remove (mon, i);
        }
    }
}

/* Return true once everything that must happen before the exit is recorded
 * is done: the output pipes reached end of file and `start` got its reply. */
static bool
drained (SvMonitor *mon)
{
  drop_stalled_attaches (mon);

  if (elapsed_ms (&mon->exited_monotonic) > DRAIN_TIMEOUT_MS)
    {
      /* Processes outside the container's PID namespace, or one that
       * escaped it, still hold the pipes. Log what is buffered and stop. */
      for (int stream = 0; stream < 2; stream++)
        if (mon->output_fds[stream] >= 0)
          {
            sv_mon_warn (mon,
                         "%s of container %s still open %d ms after its init exited; "
                         "closing it",
                         stream == SV_MON_STDOUT ? "stdout" : "stderr", mon->id, DRAIN_TIMEOUT_MS);
            while (handle_output (mon, stream) > 0)
              ;
            if (mon->output_fds[stream] >= 0)
              close_output (mon, stream);
          }
      for (size_t i = 0; i < mon->n_starts; i++)
        sv_mon_ctl_reply (mon, mon->starts[i].client_serial,
                          "error the container exited while the runtime's start was running");
      mon->n_starts = 0;
    }

  return mon->output_fds[0] < 0 && mon->output_fds[1] < 0 && mon->n_starts == 0;
}

static void
run_loop (SvMonitor *mon)
{
  SvMonPollSet set = { 0 };

  for (;;)
    {
      int timeout = mon->state == SV_MON_STATE_EXITED ? 200 : -1;

      if (mon->state == SV_MON_STATE_EXITED && drained (mon))
        break;

      build_poll_set (mon, &set);
      if (poll (set.fds, set.len, timeout) < 0)
        {
          if (errno == EINTR)
            continue;
          sv_mon_warn (mon, "cannot poll: %s", strerror (errno));
          sleep (1);
          continue;
        }
      dispatch (mon, &set);
    }

  free (set.fds);
  free (set.sources);
}

static void
write_exit_file (SvMonitor *mon)
{
  char path[4096];
  char time_text[64];
  char text[256];
  int status = mon->wait_status;
  int signal_number = WIFSIGNALED (status) ? WTERMSIG (status) : 0;
  int code = signal_number ? 128 + signal_number : WEXITSTATUS (status);
  bool oom_killed
      = mon->oom_path[0] != '\0' && sv_mon_oom_read (mon->oom_path) > mon->oom_kills_at_start;
  int len;

  sv_mon_format_time (time_text, sizeof time_text, &mon->finished_at);
  len = snprintf (text, sizeof text, "{\"exit_code\":%d,\"signal\":%d,\"finished_at\":\"%s\"%s}\n",
                  code, signal_number, time_text, oom_killed ? ",\"oom_killed\":true" : "");
  if (sv_mon_path (path, sizeof path, mon->state_dir, "exit") < 0
      || sv_mon_write_file_atomic (path, text, (size_t)len, 0644) < 0)
    sv_mon_warn (mon, "cannot write %s/exit: %s", mon->state_dir, strerror (errno));
}

/* Give attach fds their queued output before closing them. */
static void
flush_attaches (SvMonitor *mon)
{
  while (mon->n_attaches > 0)
    {
      struct pollfd fds[64];
      size_t n = 0;

      drop_stalled_attaches (mon);
      for (size_t i = 0; i < mon->n_attaches && n < 64; i++)
        if (mon->attaches[i]->out.len > 0)
          fds[n++] = (struct pollfd){ mon->attaches[i]->fd, POLLOUT, 0 };
      if (n == 0)
        return;

      if (poll (fds, n, 200) < 0 && errno != EINTR)
        return;
      for (size_t i = 0; i < n; i++)
        {
          size_t index;

          if (fds[i].revents && find_attach (mon, fds[i].fd, &index))
            sv_mon_attach_flush (mon, index);
        }
    }
}

/* Record the exit, then release everything: attach fds, the runtime's state,
 * the control socket. End of file on a control connection is servind's
 * signal that STATE/exit is ready to read. */
static void __attribute__ ((noreturn)) finish (SvMonitor *mon)
{
  const char *args[] = { "delete", "--force", mon->id, NULL };
  char path[4096];
  int status;

  sv_mon_log_close (&mon->log);
  write_exit_file (mon);

  flush_attaches (mon);
  sv_mon_attach_close_all (mon);

  status = sv_mon_runtime_run (mon, args);
  if (status < 0)
    sv_mon_warn (mon, "cannot run %s delete: %s", mon->runtime, strerror (errno));
  else if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    sv_mon_warn (mon, "%s delete --force %s failed with wait status %d", mon->runtime, mon->id,
                 status);

  if (sv_mon_path (path, sizeof path, mon->state_dir, "ctl") == 0)
    unlink (path);
  if (sv_mon_path (path, sizeof path, mon->state_dir, "monitor.pid") == 0)
    unlink (path);
  sv_mon_ctl_close_all (mon);
  exit (0);
}

int
main (int argc, char **argv)
{
  SvMonitor mon = {
    .listen_fd = -1,
    .signal_fd = -1,
    .sync_fd = -1,
    .stdin_fd = -1,
    .stdin_owner_fd = -1,
    .output_fds = { -1, -1 },
    .log = { .fd = -1 },
  };
  char err[1024];

  /* Big buffers come from mmap and go back to the kernel when freed, so a
   * burst of long lines leaves no large heap behind. */
  mallopt (M_MMAP_THRESHOLD, 32 * 1024);
  mallopt (M_TRIM_THRESHOLD, 64 * 1024);

  parse_options (&mon, argc, argv);
  detach (&mon);
  setup_signals (&mon);

  /* The control socket comes first: it fails when another monitor serves
   * this state folder, whose monitor.pid must then stay. */
  if (sv_mon_ctl_listen (&mon, err, sizeof err) < 0)
    fail (&mon, "%s", err);
  created_ctl = true;
  write_monitor_pid (&mon);
  remove_stale_exit (&mon);

  if (sv_mon_log_open (&mon.log, mon.log_path) < 0)
    fail (&mon, "cannot open log file %s: %s", mon.log_path, strerror (errno));

  create_container (&mon);
  write_sync (&mon, "ok\n");

  run_loop (&mon);
  finish (&mon);
}
