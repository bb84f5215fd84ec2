/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* servin-monitor is plain C without GLib, so that each container costs little
 * memory. Functions return 0 or a positive value on success and -1 with errno
 * set on failure, unless documented otherwise. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Maximum payload of one log entry. Longer lines are split into partial
 * entries, as Docker's json-file driver splits them. */
#define SV_MON_LOG_LINE_MAX (16 * 1024)

/* Maximum length of a request line on the control socket, newline included. */
#define SV_MON_REQUEST_MAX 1024

/* Output queued for one attach fd beyond which the monitor stops reading the
 * container's pipes until the attach fd drains (back-pressure, as Docker does). */
#define SV_MON_ATTACH_HIGH_WATER (64 * 1024)

/* Input queued for the container's stdin beyond which the monitor stops
 * reading input from attach fds. */
#define SV_MON_STDIN_HIGH_WATER (64 * 1024)

enum
{
  SV_MON_STDOUT = 0,
  SV_MON_STDERR = 1,
};

/* A byte queue: data[start, start + len) is pending. */
typedef struct
{
  char *data;
  size_t start;
  size_t len;
  size_t cap;
} SvMonBuf;

int sv_mon_buf_append (SvMonBuf *buf, const void *bytes, size_t len);
void sv_mon_buf_consume (SvMonBuf *buf, size_t len);
void sv_mon_buf_clear (SvMonBuf *buf);

/* Utilities (sv-mon-util.c). */
int sv_mon_write_all (int fd, const void *data, size_t len);
int sv_mon_write_file_atomic (const char *path, const char *data, size_t len, mode_t mode);
size_t sv_mon_format_time (char *out, size_t size, const struct timespec *ts);
void sv_mon_sanitize_line (char *text);
int sv_mon_path (char *out, size_t size, const char *dir, const char *name);
int sv_mon_set_nonblock (int fd);

/* The json-file log (sv-mon-log.c). */
typedef struct
{
  char *data;
  size_t len;
  size_t cap;
} SvMonLine;

typedef struct
{
  int fd;
  SvMonLine lines[2];
  /* Failed writes or allocations, and the errno of the last one. */
  unsigned long write_errors;
  int last_errno;
} SvMonLog;

int sv_mon_log_open (SvMonLog *log, const char *path);
void sv_mon_log_write (SvMonLog *log, int stream, const char *data, size_t len);
void sv_mon_log_finish (SvMonLog *log, int stream);
void sv_mon_log_close (SvMonLog *log);
size_t sv_mon_json_escape (char *out, const char *in, size_t len);
size_t sv_mon_utf8_char_len (const unsigned char *in, size_t len);

/* One attach fd: receives framed output and, with --stdin, sends input. */
typedef struct
{
  int fd;
  bool is_socket;
  bool reading;
  SvMonBuf out;
  struct timespec stalled_since;
} SvMonAttach;

/* One connection to the control socket. */
typedef struct
{
  int fd;
  uint64_t serial;
  /* Received bytes not yet handled. */
  char input[SV_MON_REQUEST_MAX];
  size_t input_len;
  /* Skipping the rest of a line that was too long. */
  bool discarding;
  /* A `start` of this client runs; its later requests wait so that the
   * replies stay in request order. */
  bool waiting;
  /* The peer hung up or a reply to it failed. The client gets no more
   * replies or reads, but the request lines it sent before are still
   * handled, so a `kill` is not lost when an earlier reply failed. The
   * client is removed once those are done. */
  bool closed;
  int fds[4];
  size_t n_fds;
} SvMonClient;

/* A `start` request waiting for the runtime's start command to exit. */
typedef struct
{
  pid_t pid;
  uint64_t client_serial;
  off_t runtime_log_offset;
} SvMonPendingStart;

typedef enum
{
  SV_MON_STATE_CREATED,
  SV_MON_STATE_RUNNING,
  SV_MON_STATE_EXITED,
} SvMonState;

typedef struct
{
  /* Command line. */
  const char *id;
  const char *bundle;
  const char *state_dir;
  const char *log_path;
  const char *runtime;
  const char *runtime_root;
  int sync_fd;
  bool with_stdin;

  SvMonLog log;
  int listen_fd;
  int signal_fd;

  /* Read ends of the container's stdout and stderr, -1 after end of file. */
  int output_fds[2];

  /* Write end of the container's stdin, -1 when closed or without --stdin. */
  int stdin_fd;
  SvMonBuf stdin_buf;
  bool stdin_close_when_flushed;
  /* The attach fd whose end of file closes stdin: -1 until an attach sends
   * input or reaches end of file, -2 once that owner is done. */
  int stdin_owner_fd;

  SvMonClient **clients;
  size_t n_clients;
  uint64_t next_client_serial;

  SvMonAttach **attaches;
  size_t n_attaches;

  SvMonPendingStart *starts;
  size_t n_starts;

  SvMonState state;
  pid_t container_pid;
  /* memory.oom_control or memory.events of the container's memory cgroup,
   * "" without one, and its oom_kill counter when the container started. */
  char oom_path[4096];
  long oom_kills_at_start;
  int wait_status;
  struct timespec finished_at;
  struct timespec exited_monotonic;
  unsigned long warnings;
} SvMonitor;

/* OOM kill counter of a container's memory cgroup (sv-mon-oom.c). */
int sv_mon_oom_find (pid_t pid, char *out, size_t size);
long sv_mon_oom_read (const char *path);

/* Runtime commands (sv-mon-runtime.c). */
pid_t sv_mon_runtime_spawn (SvMonitor *mon, const char *const *args, int in_fd, int out_fd,
                            int err_fd);
int sv_mon_runtime_run (SvMonitor *mon, const char *const *args);
off_t sv_mon_runtime_log_size (SvMonitor *mon);
void sv_mon_runtime_error (SvMonitor *mon, off_t since, const char *command, int wait_status,
                           char *msg, size_t msg_size);
int sv_mon_json_get_string (const char *line, size_t len, const char *key, char *out,
                            size_t out_size);
void sv_mon_warn (SvMonitor *mon, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

/* Attach fds and stdin (sv-mon-attach.c). */
int sv_mon_attach_add (SvMonitor *mon, int fd);
void sv_mon_attach_remove (SvMonitor *mon, size_t index);
void sv_mon_attach_broadcast (SvMonitor *mon, int stream, const char *data, size_t len);
void sv_mon_attach_flush (SvMonitor *mon, size_t index);
ssize_t sv_mon_attach_read_input (SvMonitor *mon, size_t index);
void sv_mon_stdin_flush (SvMonitor *mon);
void sv_mon_stdin_close (SvMonitor *mon);
bool sv_mon_attach_over_high_water (SvMonitor *mon);
void sv_mon_attach_close_all (SvMonitor *mon);

/* Control socket (sv-mon-ctl.c). */
int sv_mon_ctl_listen (SvMonitor *mon, char *err, size_t err_size);
void sv_mon_ctl_accept (SvMonitor *mon);
void sv_mon_ctl_read (SvMonitor *mon, size_t index);
void sv_mon_ctl_remove (SvMonitor *mon, size_t index);
void sv_mon_ctl_reply (SvMonitor *mon, uint64_t serial, const char *reply);
void sv_mon_ctl_start_finished (SvMonitor *mon, size_t index, int wait_status);
void sv_mon_ctl_close_all (SvMonitor *mon);
