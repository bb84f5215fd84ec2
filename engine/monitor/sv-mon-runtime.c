/* SPDX-License-Identifier: GPL-2.0-or-later */

/* Running the OCI runtime (runc's command line) and reading its errors. */

#include "sv-monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* How much of the end of runtime.log to search for an error message. */
#define RUNTIME_LOG_TAIL (64 * 1024)

/* In the forked child: make IN_FD, OUT_FD and ERR_FD its stdio, give every
 * signal default handling and an empty mask, and exec ARGV. The monitor
 * ignores SIGTERM and SIGINT, blocks SIGCHLD and may have inherited other
 * ignored signals. Exec keeps ignored signals ignored, and the runtime
 * would pass them on to the container. posix_spawn is not used because
 * glibc 2.36's leaves its internal signal 32 ignored in the new program. */
static void __attribute__ ((noreturn))
exec_child (const char *const *argv, int in_fd, int out_fd, int err_fd, int report_fd)
{
  sigset_t empty;
  int error;

  if (dup2 (in_fd, 0) < 0 || dup2 (out_fd, 1) < 0 || dup2 (err_fd, 2) < 0)
    goto failed;

  for (int sig = 1; sig < NSIG; sig++)
    {
      struct sigaction action;

      if (sigaction (sig, NULL, &action) == 0 && action.sa_handler == SIG_IGN)
        {
          action.sa_handler = SIG_DFL;
          sigaction (sig, &action, NULL);
        }
    }
  sigemptyset (&empty);
  sigprocmask (SIG_SETMASK, &empty, NULL);

  execv (argv[0], (char *const *)argv);

failed:
  error = errno;
  sv_mon_write_all (report_fd, &error, sizeof error);
  _exit (127);
}

/* Start RUNTIME [--root DIR] --log STATE/runtime.log --log-format json ARGS...
 * with IN_FD, OUT_FD and ERR_FD as its stdin, stdout and stderr, and return
 * its pid. When the runtime cannot be executed, return -1 with its errno. */
pid_t
sv_mon_runtime_spawn (SvMonitor *mon, const char *const *args, int in_fd, int out_fd, int err_fd)
{
  const char *argv[32];
  char log_path[4096];
  int report[2];
  size_t n = 0;
  ssize_t got;
  int error;
  pid_t pid;

  if (sv_mon_path (log_path, sizeof log_path, mon->state_dir, "runtime.log") < 0)
    return -1;

  argv[n++] = mon->runtime;
  if (mon->runtime_root)
    {
      argv[n++] = "--root";
      argv[n++] = mon->runtime_root;
    }
  argv[n++] = "--log";
  argv[n++] = log_path;
  argv[n++] = "--log-format";
  argv[n++] = "json";
  for (size_t i = 0; args[i] && n < sizeof argv / sizeof argv[0] - 1; i++)
    argv[n++] = args[i];
  argv[n] = NULL;

  /* The child reports a failed exec through a close-on-exec pipe, which
   * reaches end of file without data when the exec succeeds. */
  if (pipe2 (report, O_CLOEXEC) < 0)
    return -1;
  pid = fork ();
  if (pid < 0)
    {
      error = errno;
      close (report[0]);
      close (report[1]);
      errno = error;
      return -1;
    }
  if (pid == 0)
    exec_child (argv, in_fd, out_fd, err_fd, report[1]);

  close (report[1]);
  do
    got = read (report[0], &error, sizeof error);
  while (got < 0 && errno == EINTR);
  close (report[0]);

  if (got == sizeof error)
    {
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      errno = error;
      return -1;
    }
  return pid;
}

/* Run a runtime command with /dev/null as stdio, wait for it and return its
 * wait status. Used only where the monitor has nothing else to do. */
int
sv_mon_runtime_run (SvMonitor *mon, const char *const *args)
{
  int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  int status;
  pid_t pid;

  if (null_fd < 0)
    return -1;
  pid = sv_mon_runtime_spawn (mon, args, null_fd, null_fd, null_fd);
  close (null_fd);
  if (pid < 0)
    return -1;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

off_t
sv_mon_runtime_log_size (SvMonitor *mon)
{
  char path[4096];
  struct stat st;

  if (sv_mon_path (path, sizeof path, mon->state_dir, "runtime.log") < 0 || stat (path, &st) < 0)
    return 0;
  return st.st_size;
}

static size_t
utf8_encode (char *out, unsigned cp)
{
  if (cp < 0x80)
    {
      out[0] = (char)cp;
      return 1;
    }
  if (cp < 0x800)
    {
      out[0] = (char)(0xc0 | (cp >> 6));
      out[1] = (char)(0x80 | (cp & 0x3f));
      return 2;
    }
  if (cp < 0x10000)
    {
      out[0] = (char)(0xe0 | (cp >> 12));
      out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
      out[2] = (char)(0x80 | (cp & 0x3f));
      return 3;
    }
  out[0] = (char)(0xf0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

static int
parse_hex4 (const char *p, const char *end, unsigned *value)
{
  *value = 0;
  if (end - p < 4)
    return -1;
  for (int i = 0; i < 4; i++)
    {
      char c = p[i];
      unsigned digit;

      if (c >= '0' && c <= '9')
        digit = (unsigned)(c - '0');
      else if (c >= 'a' && c <= 'f')
        digit = (unsigned)(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        digit = (unsigned)(c - 'A' + 10);
      else
        return -1;
      *value = *value * 16 + digit;
    }
  return 0;
}

/* Parse the JSON string starting at the quote at *P. With OUT, store the
 * unescaped text, cut to OUT_SIZE - 1 bytes. Advance *P past the string. */
static int
parse_string (const char **p, const char *end, char *out, size_t out_size)
{
  const char *s = *p + 1;
  size_t o = 0;

  while (s < end && *s != '"')
    {
      char buf[4];
      size_t n = 1;

      if (*s == '\\')
        {
          unsigned cp;

          if (++s >= end)
            return -1;
          switch (*s)
            {
            case 'n':
              buf[0] = '\n';
              break;
            case 't':
              buf[0] = '\t';
              break;
            case 'r':
              buf[0] = '\r';
              break;
            case 'b':
              buf[0] = '\b';
              break;
            case 'f':
              buf[0] = '\f';
              break;
            case 'u':
              if (parse_hex4 (s + 1, end, &cp) < 0)
                return -1;
              s += 4;
              if (cp >= 0xd800 && cp < 0xdc00 && end - s > 6 && s[1] == '\\' && s[2] == 'u')
                {
                  unsigned low;

                  if (parse_hex4 (s + 3, end, &low) == 0 && low >= 0xdc00 && low < 0xe000)
                    {
                      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                      s += 6;
                    }
                }
              if (cp >= 0xd800 && cp < 0xe000)
                cp = 0xfffd;
              n = utf8_encode (buf, cp);
              break;
            default:
              buf[0] = *s;
              break;
            }
        }
      else
        buf[0] = *s;

      if (out && o + n < out_size)
        {
          memcpy (out + o, buf, n);
          o += n;
        }
      s++;
    }
  if (s >= end)
    return -1;
  if (out && out_size > 0)
    out[o] = '\0';
  *p = s + 1;
  return 0;
}

static const char *
skip_space (const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    p++;
  return p;
}

/* Skip one JSON value that is not a string: a number, literal, object or array. */
static const char *
skip_value (const char *p, const char *end)
{
  int depth = 0;

  while (p < end)
    {
      if (*p == '"')
        {
          if (parse_string (&p, end, NULL, 0) < 0)
            return NULL;
          continue;
        }
      if (*p == '{' || *p == '[')
        depth++;
      else if (*p == '}' || *p == ']')
        {
          if (depth == 0)
            return p;
          depth--;
        }
      else if (*p == ',' && depth == 0)
        return p;
      p++;
    }
  return NULL;
}

/* Find the string member KEY of the JSON object in LINE and copy its
 * unescaped value to OUT. Return 0 when found, -1 otherwise. */
int
sv_mon_json_get_string (const char *line, size_t len, const char *key, char *out, size_t out_size)
{
  const char *end = line + len;
  const char *p = skip_space (line, end);
  char name[64];

  if (p >= end || *p != '{')
    return -1;
  p++;

  for (;;)
    {
      p = skip_space (p, end);
      if (p >= end || *p != '"' || parse_string (&p, end, name, sizeof name) < 0)
        return -1;
      p = skip_space (p, end);
      if (p >= end || *p != ':')
        return -1;
      p = skip_space (p + 1, end);
      if (p >= end)
        return -1;

      if (*p == '"')
        {
          bool is_key = strcmp (name, key) == 0;

          if (parse_string (&p, end, is_key ? out : NULL, out_size) < 0)
            return -1;
          if (is_key)
            return 0;
        }
      else if ((p = skip_value (p, end)) == NULL)
        return -1;

      p = skip_space (p, end);
      if (p >= end || *p != ',')
        return -1;
      p++;
    }
}

/* Describe why a runtime command failed: the "msg" of the last JSON line
 * that the runtime appended to runtime.log after offset SINCE, or else the
 * command's exit status. */
void
sv_mon_runtime_error (SvMonitor *mon, off_t since, const char *command, int wait_status, char *msg,
                      size_t msg_size)
{
  char path[4096];
  char *text = NULL;
  ssize_t n = 0;
  off_t size;
  int fd;
  bool found = false;

  size = sv_mon_runtime_log_size (mon);
  if (size - since > RUNTIME_LOG_TAIL)
    since = size - RUNTIME_LOG_TAIL;

  if (size > since && sv_mon_path (path, sizeof path, mon->state_dir, "runtime.log") == 0
      && (fd = open (path, O_RDONLY | O_CLOEXEC)) >= 0)
    {
      text = malloc ((size_t)(size - since));
      if (text)
        n = pread (fd, text, (size_t)(size - since), since);
      close (fd);
    }

  for (ssize_t start = 0; text && start < n;)
    {
      char *nl = memchr (text + start, '\n', (size_t)(n - start));
      size_t line_len = nl ? (size_t)(nl - (text + start)) : (size_t)(n - start);

      if (sv_mon_json_get_string (text + start, line_len, "msg", msg, msg_size) == 0
          && msg[0] != '\0')
        found = true;
      start += (ssize_t)line_len + 1;
    }
  free (text);

  if (!found)
    {
      if (WIFEXITED (wait_status))
        snprintf (msg, msg_size, "%s %s exited with status %d", mon->runtime, command,
                  WEXITSTATUS (wait_status));
      else if (WIFSIGNALED (wait_status))
        snprintf (msg, msg_size, "%s %s was killed by signal %d", mon->runtime, command,
                  WTERMSIG (wait_status));
      else
        snprintf (msg, msg_size, "%s %s failed", mon->runtime, command);
    }
  sv_mon_sanitize_line (msg);
}

/* Append a warning for the monitor itself to runtime.log, in the runtime's
 * JSON log format, since the detached monitor has no stderr. */
void
sv_mon_warn (SvMonitor *mon, const char *format, ...)
{
  char path[4096];
  char text[512];
  char escaped[512 * 6 + 1];
  char line[4096];
  char time_text[64];
  struct timespec now;
  va_list ap;
  size_t len;
  int fd;

  /* Rate limit: a failing disk must not fill runtime.log. */
  if (++mon->warnings > 100)
    return;

  va_start (ap, format);
  vsnprintf (text, sizeof text, format, ap);
  va_end (ap);
  escaped[sv_mon_json_escape (escaped, text, strlen (text))] = '\0';

  clock_gettime (CLOCK_REALTIME, &now);
  sv_mon_format_time (time_text, sizeof time_text, &now);
  len = (size_t)snprintf (
      line, sizeof line, "{\"level\":\"warning\",\"msg\":\"servin-monitor: %s\",\"time\":\"%s\"}\n",
      escaped, time_text);
  if (len >= sizeof line)
    return;

  if (sv_mon_path (path, sizeof path, mon->state_dir, "runtime.log") < 0)
    return;
  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    return;
  sv_mon_write_all (fd, line, len);
  close (fd);
}
