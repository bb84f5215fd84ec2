/* SPDX-License-Identifier: GPL-2.0-or-later */

/* The container process between clone and execve. It runs in a copy of servin-runtime's
 * memory, so it may read everything prepared there, but it only makes async-signal-safe calls:
 * no allocation, no stdio, no locks. Paths inside the root filesystem are resolved with
 * openat2(RESOLVE_IN_ROOT), so symbolic links in an image cannot point a mount or a new
 * node outside the root. */
#include "sv-runtime-child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define SV_PATH_SIZE 4096

/* Formats value in decimal into buf, which must hold 24 bytes. */
static const char *
format_int (char *buf, long value)
{
  char digits[24];
  int n = 0, i = 0;

  if (value < 0)
    {
      buf[i++] = '-';
      value = -value;
    }
  do
    {
      digits[n++] = '0' + value % 10;
      value /= 10;
    }
  while (value > 0);
  while (n > 0)
    buf[i++] = digits[--n];
  buf[i] = '\0';
  return buf;
}

/* Appends the NULL-terminated list of strings to buf, truncating at size. */
static void
concat_va (char *buf, size_t size, va_list ap)
{
  size_t len = strlen (buf);
  const char *part;

  while ((part = va_arg (ap, const char *)) != NULL)
    {
      size_t n = strlen (part);
      if (len + n >= size)
        n = size - len - 1;
      memcpy (buf + len, part, n);
      len += n;
      buf[len] = '\0';
    }
}

static void
concat (char *buf, size_t size, ...)
{
  va_list ap;

  buf[0] = '\0';
  va_start (ap, size);
  concat_va (buf, size, ap);
  va_end (ap);
}

static void
write_all (int fd, const char *text, size_t len)
{
  while (fd >= 0 && len > 0)
    {
      ssize_t n = write (fd, text, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      text += n;
      len -= n;
    }
}

/* Formats the current UTC time as RFC 3339 ("2024-05-01T12:00:00Z") into buf, which must hold 21
 * bytes. The date comes from the day count with Howard Hinnant's civil_from_days algorithm,
 * because gmtime is not async-signal-safe. */
static void
format_utc_now (char *buf)
{
  struct timespec now;
  long days, seconds, era, day_of_era, year_of_era, day_of_year, month_index, year, month, day;
  long fields[6];

  clock_gettime (CLOCK_REALTIME, &now);
  days = now.tv_sec / 86400 + 719468;
  seconds = now.tv_sec % 86400;
  era = days / 146097;
  day_of_era = days - era * 146097;
  year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  month_index = (5 * day_of_year + 2) / 153;
  day = day_of_year - (153 * month_index + 2) / 5 + 1;
  month = month_index < 10 ? month_index + 3 : month_index - 9;
  year = year_of_era + era * 400 + (month <= 2);

  fields[0] = year;
  fields[1] = month;
  fields[2] = day;
  fields[3] = seconds / 3600;
  fields[4] = seconds / 60 % 60;
  fields[5] = seconds % 60;
  format_int (buf, fields[0]);
  for (int i = 1; i < 6; i++)
    {
      char *p = buf + 4 + (i - 1) * 3;
      p[0] = "--T::"[i - 1];
      p[1] = '0' + fields[i] / 10;
      p[2] = '0' + fields[i] % 10;
    }
  buf[19] = 'Z';
  buf[20] = '\0';
}

/* Copies text into buf with the escapes that a JSON string needs. */
static void
escape_json (char *buf, size_t size, const char *text)
{
  static const char hex[] = "0123456789abcdef";
  size_t len = 0;

  for (const unsigned char *p = (const unsigned char *)text; *p && len + 7 < size; p++)
    {
      if (*p == '"' || *p == '\\')
        {
          buf[len++] = '\\';
          buf[len++] = *p;
        }
      else if (*p < 0x20)
        {
          memcpy (buf + len, "\\u00", 4);
          buf[len + 4] = hex[*p >> 4];
          buf[len + 5] = hex[*p & 15];
          len += 6;
        }
      else
        buf[len++] = *p;
    }
  buf[len] = '\0';
}

/* Appends an error line to the --log file in the format servin-runtime itself writes. */
static void
log_error (const SvChildContext *ctx, const char *text)
{
  char escaped[2048], line[2200], time[24];

  if (ctx->log_fd < 0)
    return;
  format_utc_now (time);
  escape_json (escaped, sizeof escaped, text);
  if (ctx->log_json)
    concat (line, sizeof line, "{\"level\":\"error\",\"msg\":\"", escaped, "\",\"time\":\"", time,
            "\"}\n", NULL);
  else
    concat (line, sizeof line, "time=\"", time, "\" level=error msg=\"", escaped, "\"\n", NULL);
  write_all (ctx->log_fd, line, strlen (line));
}

/* Reports a failure and exits. Before start the message goes to servin-runtime, which logs it.
 * After start servin-runtime may be gone, so the message goes to stderr and the --log file. */
static G_NORETURN void
child_fail (const SvChildContext *ctx, int errnum, ...)
{
  SvChildMessage message = { .kind = SV_CHILD_ERROR, .errnum = errnum };
  va_list ap;

  va_start (ap, errnum);
  concat_va (message.text, sizeof message.text, ap);
  va_end (ap);

  if (send (ctx->sync_fd, &message, sizeof message, MSG_NOSIGNAL) < 0)
    {
      char text[sizeof message.text + 128], line[sizeof text + 32];

      concat (text, sizeof text, message.text, errnum ? ": " : "",
              errnum ? strerrordesc_np (errnum) : "", NULL);
      concat (line, sizeof line, "servin-runtime: ", text, "\n", NULL);
      write_all (STDERR_FILENO, line, strlen (line));
      log_error (ctx, text);
    }
  _exit (127);
}

static const char *
fd_path (char *buf, int fd)
{
  char number[24];

  concat (buf, 64, "/proc/self/fd/", format_int (number, fd), NULL);
  return buf;
}

/* Opens path inside the root filesystem rootfd, following symbolic links as if rootfd were /. */
static int
open_in_root (int rootfd, const char *path, int flags)
{
  struct open_how how = {
    .flags = flags | O_CLOEXEC,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };

  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  return syscall (SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Creates path and its missing parents inside the root filesystem. The last component becomes
 * an empty file when as_file is set. Returns an O_PATH descriptor of path, or -1. */
static int
make_path_in_root (int rootfd, const char *path, gboolean as_file)
{
  char prefix[SV_PATH_SIZE];
  size_t len = strlen (path), start = 0;
  int dirfd = open_in_root (rootfd, "/", O_PATH | O_DIRECTORY);

  if (len >= sizeof prefix || dirfd < 0)
    return -1;
  memcpy (prefix, path, len + 1);
  while (start < len)
    {
      size_t end;
      gboolean last;
      char saved;
      int next;

      while (prefix[start] == '/')
        start++;
      if (start >= len)
        break;
      end = start;
      while (end < len && prefix[end] != '/')
        end++;
      last = end >= len || prefix[end + strspn (prefix + end, "/")] == '\0';
      saved = prefix[end];
      prefix[end] = '\0';

      next = open_in_root (rootfd, prefix, O_PATH);
      if (next < 0 && errno == ENOENT)
        {
          const char *name = prefix + start;

          if (last && as_file)
            {
              int fd = openat (dirfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
              if (fd >= 0)
                close (fd);
            }
          else
            mkdirat (dirfd, name, 0755);
          next = open_in_root (rootfd, prefix, O_PATH);
        }
      close (dirfd);
      if (next < 0)
        return -1;
      dirfd = next;
      prefix[end] = saved;
      start = end;
    }
  return dirfd;
}

static int
remount_keeping_locked_flags (const char *target, unsigned long flags)
{
  struct statfs st;

  if (mount (NULL, target, NULL, flags, NULL) == 0)
    return 0;
  if (errno != EPERM || statfs (target, &st) < 0)
    return -1;
  /* A mount that came from a less privileged namespace has locked flags that a remount must
   * keep. ST_* and MS_* share these bit values. */
  flags |= st.f_flags
           & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME
              | MS_RDONLY);
  return mount (NULL, target, NULL, flags, NULL);
}

/* Mounts a cgroup mount: the cgroup2 root, or a tmpfs with one folder per v1 hierarchy. */
static void
mount_cgroups (const SvChildContext *ctx, int rootfd, const SvMount *m)
{
  gboolean new_ns = (ctx->spec->clone_flags & CLONE_NEWCGROUP) != 0;
  unsigned long flags = m->flags & ~MS_RDONLY;
  char path[SV_PATH_SIZE], proc[64];
  int fd;

  if (ctx->n_cgroup_mounts == 1 && strcmp (ctx->cgroup_mounts[0].fstype, "cgroup2") == 0)
    {
      fd = make_path_in_root (rootfd, m->destination, FALSE);
      if (fd < 0
          || (new_ns ? mount ("cgroup", fd_path (proc, fd), "cgroup2", m->flags, NULL)
                     : mount (ctx->cgroup_mounts[0].host_folder, fd_path (proc, fd), NULL,
                              MS_BIND | MS_REC, NULL)))
        child_fail (ctx, errno, "cannot mount cgroup2 on ", m->destination, NULL);
      close (fd);
      if (new_ns)
        return;

      /* A bind mount takes its options from a second, remounting call. */
      fd = open_in_root (rootfd, m->destination, O_PATH);
      if (fd < 0
          || remount_keeping_locked_flags (fd_path (proc, fd), MS_BIND | MS_REMOUNT | m->flags) < 0)
        child_fail (ctx, errno, "cannot remount the cgroup on ", m->destination, NULL);
      close (fd);
      return;
    }

  fd = make_path_in_root (rootfd, m->destination, FALSE);
  if (fd < 0 || mount ("tmpfs", fd_path (proc, fd), "tmpfs", flags, "mode=755") < 0)
    child_fail (ctx, errno, "cannot mount a tmpfs for cgroups on ", m->destination, NULL);
  close (fd);

  for (size_t i = 0; i < ctx->n_cgroup_mounts; i++)
    {
      const SvCgroupMount *c = &ctx->cgroup_mounts[i];

      concat (path, sizeof path, m->destination, "/", c->name, NULL);
      fd = make_path_in_root (rootfd, path, FALSE);
      if (fd < 0)
        child_fail (ctx, errno, "cannot create the cgroup mount point ", path, NULL);
      if (new_ns)
        {
          if (mount ("cgroup", fd_path (proc, fd), c->fstype, m->flags, c->options) < 0)
            child_fail (ctx, errno, "cannot mount the ", c->options, " cgroup on ", path, NULL);
        }
      else
        {
          if (mount (c->host_folder, fd_path (proc, fd), NULL, MS_BIND | MS_REC, NULL) < 0)
            child_fail (ctx, errno, "cannot bind the cgroup ", c->host_folder, " on ", path, NULL);
          close (fd);
          fd = open_in_root (rootfd, path, O_PATH);
          if (fd < 0
              || remount_keeping_locked_flags (fd_path (proc, fd), MS_BIND | MS_REMOUNT | m->flags)
                     < 0)
            child_fail (ctx, errno, "cannot remount the cgroup on ", path, NULL);
        }
      close (fd);
    }

  if (m->flags & MS_RDONLY)
    {
      fd = open_in_root (rootfd, m->destination, O_PATH);
      if (fd < 0 || remount_keeping_locked_flags (fd_path (proc, fd), MS_REMOUNT | m->flags) < 0)
        child_fail (ctx, errno, "cannot make ", m->destination, " read-only", NULL);
      close (fd);
    }
}

static void
mount_one (const SvChildContext *ctx, int rootfd, const SvMount *m)
{
  char proc[64];
  int fd;

  if (strcmp (m->type, "cgroup") == 0)
    {
      mount_cgroups (ctx, rootfd, m);
      return;
    }

  fd = make_path_in_root (rootfd, m->destination, m->bind && !m->source_is_dir);
  if (fd < 0)
    child_fail (ctx, errno, "cannot create the mount point ", m->destination, NULL);
  if (m->bind)
    {
      if (mount (m->source, fd_path (proc, fd), NULL, m->flags, NULL) < 0)
        child_fail (ctx, errno, "cannot bind mount ", m->source, " on ", m->destination, NULL);
    }
  else if (mount (m->source, fd_path (proc, fd), m->type, m->flags, m->data) < 0)
    child_fail (ctx, errno, "cannot mount ", m->type, " on ", m->destination, NULL);
  close (fd);

  if (m->remount_flags == 0 && m->propagation == 0)
    return;

  /* The old descriptor names the covered folder, so the path is opened again to reach the mount. */
  fd = open_in_root (rootfd, m->destination, O_PATH);
  if (fd < 0)
    child_fail (ctx, errno, "cannot open the new mount ", m->destination, NULL);
  if (m->remount_flags && remount_keeping_locked_flags (fd_path (proc, fd), m->remount_flags) < 0)
    child_fail (ctx, errno, "cannot remount ", m->destination, " with its options", NULL);
  if (m->propagation && mount (NULL, fd_path (proc, fd), NULL, m->propagation, NULL) < 0)
    child_fail (ctx, errno, "cannot set the propagation of ", m->destination, NULL);
  close (fd);
}

/* Splits an absolute path into the descriptor of its parent folder inside the root and the
 * last component, creating missing parents. */
static int
open_parent_in_root (const SvChildContext *ctx, int rootfd, const char *path, char *parent,
                     const char **name)
{
  const char *slash = strrchr (path, '/');
  size_t len = slash - path;
  int fd;

  if (len >= SV_PATH_SIZE)
    child_fail (ctx, ENAMETOOLONG, "cannot create ", path, NULL);
  memcpy (parent, path, len);
  parent[len] = '\0';
  *name = slash + 1;
  fd = make_path_in_root (rootfd, len ? parent : "/", FALSE);
  if (fd < 0)
    child_fail (ctx, errno, "cannot create the folder ", parent, NULL);
  close (fd);
  fd = open_in_root (rootfd, len ? parent : "/", O_DIRECTORY | O_RDONLY);
  if (fd < 0)
    child_fail (ctx, errno, "cannot open the folder ", parent, NULL);
  return fd;
}

/* Creates a device node, or binds the host's node where mknod is not permitted. */
static void
create_device (const SvChildContext *ctx, int rootfd, const SvDevice *device)
{
  char parent[SV_PATH_SIZE], proc[64];
  const char *name;
  int dirfd = open_parent_in_root (ctx, rootfd, device->path, parent, &name);

  unlinkat (dirfd, name, 0);
  if (mknodat (dirfd, name, device->mode, device->rdev) < 0)
    {
      int fd;

      if (errno != EPERM)
        child_fail (ctx, errno, "cannot create the device node ", device->path, NULL);
      fd = openat (dirfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0 || mount (device->path, fd_path (proc, fd), NULL, MS_BIND, NULL) < 0)
        child_fail (ctx, errno, "cannot bind the host's device ", device->path, NULL);
      close (fd);
    }
  else if (fchmodat (dirfd, name, device->mode & 07777, 0) < 0
           || fchownat (dirfd, name, device->uid, device->gid, AT_SYMLINK_NOFOLLOW) < 0)
    child_fail (ctx, errno, "cannot set the owner and mode of ", device->path, NULL);
  close (dirfd);
}

static void
create_dev_links (const SvChildContext *ctx, int rootfd)
{
  static const char *const links[][2] = {
    { "/proc/self/fd", "fd" },
    { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" },
    { "/proc/self/fd/2", "stderr" },
  };
  int devfd = open_in_root (rootfd, "/dev", O_DIRECTORY | O_RDONLY);

  if (devfd < 0)
    child_fail (ctx, errno, "cannot open /dev in the root filesystem", NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (links); i++)
    if (symlinkat (links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
      child_fail (ctx, errno, "cannot create the link /dev/", links[i][1], NULL);

  /* /dev/ptmx points at the devpts instance mounted in the container. */
  unlinkat (devfd, "ptmx", 0);
  if (symlinkat ("pts/ptmx", devfd, "ptmx") < 0)
    child_fail (ctx, errno, "cannot create the link /dev/ptmx", NULL);
  close (devfd);
}

static void
pivot_into (const SvChildContext *ctx, const char *rootfs)
{
  int oldroot = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int newroot = open (rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

  if (oldroot < 0 || newroot < 0 || fchdir (newroot) < 0)
    child_fail (ctx, errno, "cannot open the root filesystem ", rootfs, NULL);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    child_fail (ctx, errno, "cannot pivot_root into ", rootfs, NULL);

  /* The old root now lies under the new one at ".". A lazy unmount detaches it in this
   * namespace only, after making it a slave so that nothing propagates to the host. */
  if (fchdir (oldroot) < 0 || mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0
      || umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0)
    child_fail (ctx, errno, "cannot unmount the old root after pivot_root", NULL);
  close (oldroot);
  close (newroot);
}

static void
setup_rootfs (const SvChildContext *ctx)
{
  const SvRuntimeSpec *spec = ctx->spec;
  unsigned long propagation
      = spec->rootfs_propagation ? spec->rootfs_propagation : MS_SLAVE | MS_REC;
  int rootfd, fd;

  if (mount (NULL, "/", NULL, propagation, NULL) < 0)
    child_fail (ctx, errno, "cannot set the propagation of the mount namespace", NULL);
  /* pivot_root rejects a new root whose mount or parent mount is shared. Making the mount that
   * contains the rootfs private, as runc does, keeps the bind mount below from being shared. */
  if ((propagation & MS_SHARED) && ctx->rootfs_mount
      && mount (NULL, ctx->rootfs_mount, NULL, MS_PRIVATE, NULL) < 0)
    child_fail (ctx, errno, "cannot make the mount ", ctx->rootfs_mount, " private", NULL);
  if (mount (spec->rootfs, spec->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    child_fail (ctx, errno, "cannot bind mount the root filesystem ", spec->rootfs, NULL);

  rootfd = open (spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    child_fail (ctx, errno, "cannot open the root filesystem ", spec->rootfs, NULL);
  for (guint i = 0; i < spec->mounts->len; i++)
    mount_one (ctx, rootfd, g_ptr_array_index (spec->mounts, i));
  for (guint i = 0; i < spec->devices->len; i++)
    create_device (ctx, rootfd, g_ptr_array_index (spec->devices, i));
  if (spec->devices->len > 0)
    create_dev_links (ctx, rootfd);

  fd = make_path_in_root (rootfd, spec->cwd, FALSE);
  if (fd < 0)
    child_fail (ctx, errno, "cannot create the working folder ", spec->cwd, NULL);
  close (fd);
  close (rootfd);

  pivot_into (ctx, spec->rootfs);
}

static void
write_sysctls (const SvChildContext *ctx)
{
  for (guint i = 0; ctx->sysctl_paths && ctx->sysctl_paths[i]; i++)
    {
      const char *value = g_ptr_array_index (ctx->spec->sysctl_values, i);
      int fd = open (ctx->sysctl_paths[i], O_WRONLY | O_CLOEXEC);

      if (fd < 0 || write (fd, value, strlen (value)) < 0)
        child_fail (ctx, errno, "cannot set sysctl ",
                    (char *)g_ptr_array_index (ctx->spec->sysctl_keys, i), NULL);
      close (fd);
    }
}

static void
protect_paths (const SvChildContext *ctx)
{
  const SvRuntimeSpec *spec = ctx->spec;
  struct stat st;

  for (guint i = 0; spec->readonly_paths && spec->readonly_paths[i]; i++)
    {
      const char *path = spec->readonly_paths[i];

      if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
        {
          if (errno == ENOENT)
            continue;
          child_fail (ctx, errno, "cannot bind mount the read-only path ", path, NULL);
        }
      if (remount_keeping_locked_flags (path, MS_BIND | MS_REMOUNT | MS_RDONLY) < 0)
        child_fail (ctx, errno, "cannot make ", path, " read-only", NULL);
    }

  for (guint i = 0; spec->masked_paths && spec->masked_paths[i]; i++)
    {
      const char *path = spec->masked_paths[i];
      int rc;

      if (stat (path, &st) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        rc = mount ("tmpfs", path, "tmpfs", MS_RDONLY, NULL);
      else
        rc = mount ("/dev/null", path, NULL, MS_BIND, NULL);
      if (rc < 0)
        child_fail (ctx, errno, "cannot mask ", path, NULL);
    }

  if (spec->root_readonly
      && remount_keeping_locked_flags ("/", MS_BIND | MS_REMOUNT | MS_RDONLY) < 0)
    child_fail (ctx, errno, "cannot make the root filesystem read-only", NULL);
}

static void
send_terminal (const SvChildContext *ctx, int master, const char *name)
{
  struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen (name) };
  union
  {
    char buffer[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control = { 0 };
  struct msghdr message = {
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buffer,
    .msg_controllen = sizeof control.buffer,
  };
  struct cmsghdr *header = CMSG_FIRSTHDR (&message);

  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (header), &master, sizeof (int));
  if (sendmsg (ctx->console_fd, &message, MSG_NOSIGNAL) < 0)
    child_fail (ctx, errno, "cannot send the terminal to the console socket", NULL);
}

/* Allocates the container's pseudo-terminal from its own devpts, makes it the controlling
 * terminal and stdio, shows it as /dev/console, and sends the master to the console socket. */
static void
setup_terminal (const SvChildContext *ctx)
{
  struct winsize size = { .ws_row = ctx->spec->console_height, .ws_col = ctx->spec->console_width };
  char name[64], number[24];
  int unlock = 0, index = 0, master, peer, fd;

  if (ctx->console_fd < 0)
    return;
  master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ioctl (master, TIOCSPTLCK, &unlock) < 0 || ioctl (master, TIOCGPTN, &index) < 0)
    child_fail (ctx, errno, "cannot allocate a pseudo-terminal from /dev/ptmx", NULL);
  peer = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (peer < 0)
    child_fail (ctx, errno, "cannot open the pseudo-terminal peer", NULL);
  if (size.ws_row && size.ws_col && ioctl (peer, TIOCSWINSZ, &size) < 0)
    child_fail (ctx, errno, "cannot set the terminal size from process.consoleSize", NULL);
  /* The process's user owns its terminal, so that it can open /dev/tty again. */
  if (fchown (peer, ctx->spec->uid, ctx->spec->gid) < 0)
    child_fail (ctx, errno, "cannot give the terminal to the process's user", NULL);

  concat (name, sizeof name, "/dev/pts/", format_int (number, index), NULL);
  if (ctx->exec_pidfd < 0)
    {
      fd = open ("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 || mount (name, "/dev/console", NULL, MS_BIND, NULL) < 0)
        child_fail (ctx, errno, "cannot bind ", name, " to /dev/console", NULL);
      close (fd);
    }

  send_terminal (ctx, master, name);
  if (ioctl (peer, TIOCSCTTY, 0) < 0)
    child_fail (ctx, errno, "cannot make ", name, " the controlling terminal", NULL);
  for (int i = 0; i < 3; i++)
    if (dup2 (peer, i) < 0)
      child_fail (ctx, errno, "cannot make the terminal the standard input and output", NULL);
  close (peer);
  close (master);
  close (ctx->console_fd);
}

/* Finds args[0] as execvp would, in the container's PATH, and fails before start if missing. */
static void
find_executable (const SvChildContext *ctx, char *found)
{
  const char *name = ctx->spec->args[0];
  const char *dir = ctx->path_env;
  struct stat st;

  if (strchr (name, '/'))
    {
      concat (found, SV_PATH_SIZE, name, NULL);
      if (stat (found, &st) < 0)
        child_fail (ctx, errno, "cannot run ", name, NULL);
      if (!S_ISREG (st.st_mode) || !(st.st_mode & 0111))
        child_fail (ctx, EACCES, "cannot run ", name, NULL);
      return;
    }
  while (dir && *dir)
    {
      size_t len = strcspn (dir, ":");
      char folder[SV_PATH_SIZE];

      memcpy (folder, dir, MIN (len, sizeof folder - 1));
      folder[MIN (len, sizeof folder - 1)] = '\0';
      concat (found, SV_PATH_SIZE, len ? folder : ".", "/", name, NULL);
      if (stat (found, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 0111))
        return;
      dir += len;
      if (*dir == ':')
        dir++;
    }
  child_fail (ctx, 0, "executable file ", name, " not found in $PATH", NULL);
}

static void
apply_rlimits (const SvChildContext *ctx)
{
  for (guint i = 0; i < ctx->spec->rlimits->len; i++)
    {
      const SvRlimit *r = &g_array_index (ctx->spec->rlimits, SvRlimit, i);
      char number[24];

      if (setrlimit (r->resource, &r->limit) < 0)
        child_fail (ctx, errno, "cannot set rlimit ", format_int (number, r->resource), NULL);
    }
}

static void
load_seccomp (const SvChildContext *ctx)
{
  struct sock_fprog program = {
    .len = ctx->seccomp_length / sizeof (struct sock_filter),
    .filter = (struct sock_filter *)ctx->seccomp_program,
  };

  if (ctx->seccomp_program
      && syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, ctx->seccomp_flags, &program) < 0)
    child_fail (ctx, errno, "cannot load the seccomp filter", NULL);
}

/* Switches to the configured user and capability sets. Raw system calls change only this
 * thread, which is all the process has, and avoid glibc's cross-thread setxid machinery. */
static void
drop_privileges (const SvChildContext *ctx)
{
  const SvRuntimeSpec *spec = ctx->spec;
  struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2] = { 0 };
  char number[24];

  if (spec->has_capabilities)
    {
      if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        child_fail (ctx, errno, "cannot keep capabilities across the user switch", NULL);
      for (int cap = 0; cap <= ctx->last_cap; cap++)
        if (!(spec->cap_bounding & (G_GUINT64_CONSTANT (1) << cap))
            && prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
          child_fail (ctx, errno, "cannot drop capability ", format_int (number, cap),
                      " from the bounding set", NULL);
    }

  if (syscall (SYS_setgroups, spec->additional_gids->len, spec->additional_gids->data) < 0)
    child_fail (ctx, errno, "cannot set the additional groups", NULL);
  if (syscall (SYS_setresgid, spec->gid, spec->gid, spec->gid) < 0)
    child_fail (ctx, errno, "cannot set gid ", format_int (number, spec->gid), NULL);
  if (syscall (SYS_setresuid, spec->uid, spec->uid, spec->uid) < 0)
    child_fail (ctx, errno, "cannot set uid ", format_int (number, spec->uid), NULL);

  if (!spec->has_capabilities)
    return;
  data[0].effective = spec->cap_effective;
  data[1].effective = spec->cap_effective >> 32;
  data[0].permitted = spec->cap_permitted;
  data[1].permitted = spec->cap_permitted >> 32;
  data[0].inheritable = spec->cap_inheritable;
  data[1].inheritable = spec->cap_inheritable >> 32;
  if (syscall (SYS_capset, &header, data) < 0)
    child_fail (ctx, errno, "cannot set the capabilities", NULL);
  prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0);

  /* An ambient capability needs to be permitted and inheritable too. runc only warns when it
   * is not, and configurations from `runc spec` rely on that, so a failure is skipped. */
  for (int cap = 0; cap <= ctx->last_cap; cap++)
    if (spec->cap_ambient & (G_GUINT64_CONSTANT (1) << cap))
      prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
}

/* Moves this process into its cgroups, before a new cgroup namespace is rooted there. Writing 0
 * to a v1 "tasks" file moves only the calling thread, so the kernel skips its global threadgroup
 * lock and the RCU grace period that writing a pid to cgroup.procs waits for. The process has a
 * single thread, so the whole process moves. */
static void
join_cgroups (const SvChildContext *ctx)
{
  for (size_t i = 0; ctx->cgroup_join_files && ctx->cgroup_join_files[i]; i++)
    {
      int fd = open (ctx->cgroup_join_files[i], O_WRONLY | O_CLOEXEC);

      if (fd < 0 || write (fd, "0", 1) != 1)
        child_fail (ctx, errno, "cannot join the cgroup through ", ctx->cgroup_join_files[i], NULL);
      close (fd);
    }
}

static void
join_namespaces (const SvChildContext *ctx)
{
  for (size_t i = 0; i < ctx->n_namespaces; i++)
    if (setns (ctx->namespaces[i].fd, ctx->namespaces[i].type) < 0)
      child_fail (ctx, errno, "cannot join a namespace from linux.namespaces", NULL);
}

static void
set_identity (const SvChildContext *ctx)
{
  const SvRuntimeSpec *spec = ctx->spec;
  int fd;

  if (spec->hostname && sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    child_fail (ctx, errno, "cannot set the hostname ", spec->hostname, NULL);
  if (spec->domainname && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    child_fail (ctx, errno, "cannot set the domain name ", spec->domainname, NULL);
  if (spec->has_oom_score_adj)
    {
      char number[24];

      format_int (number, spec->oom_score_adj);
      fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write (fd, number, strlen (number)) < 0)
        child_fail (ctx, errno, "cannot set oomScoreAdj ", number, NULL);
      close (fd);
    }
}

/* Blocks until `servin-runtime start` opens the other end of the exec fifo. */
static void
wait_for_start (const SvChildContext *ctx)
{
  int fd;

  if (ctx->state_dir_fd < 0)
    return;
  do
    fd = openat (ctx->state_dir_fd, "exec.fifo", O_WRONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0 || write (fd, "0", 1) != 1)
    child_fail (ctx, errno, "cannot wait for start on the exec fifo", NULL);
  close (fd);
  close (ctx->state_dir_fd);
}

G_NORETURN void
sv_child_run (const SvChildContext *ctx)
{
  const SvRuntimeSpec *spec = ctx->spec;
  SvChildMessage ready = { .kind = SV_CHILD_READY };
  struct sigaction default_action = { .sa_handler = SIG_DFL };
  char executable[SV_PATH_SIZE];
  sigset_t all;
  char go;

  join_cgroups (ctx);
  /* The init process leads a session of its own, which a terminal needs. */
  if (setsid () < 0)
    child_fail (ctx, errno, "cannot create a new session", NULL);
  if (ctx->exec_pidfd >= 0)
    {
      /* Joining the mount namespace also moves the root and working folder to its root. */
      if (setns (ctx->exec_pidfd, ctx->exec_namespaces) < 0)
        child_fail (ctx, errno, "cannot join the namespaces of the container", NULL);
      setup_terminal (ctx);
    }
  else
    {
      umask (0);
      join_namespaces (ctx);
      if ((spec->clone_flags & CLONE_NEWCGROUP) && unshare (CLONE_NEWCGROUP) < 0)
        child_fail (ctx, errno, "cannot create the cgroup namespace", NULL);
      /* prestart and createRuntime hooks see the new namespaces before the root changes. */
      if (ctx->wait_for_hooks && recv (ctx->sync_fd, &go, 1, 0) != 1)
        _exit (127);
      set_identity (ctx);
      setup_rootfs (ctx);
      setup_terminal (ctx);
      write_sysctls (ctx);
      protect_paths (ctx);
    }
  if (chdir (spec->cwd) < 0)
    child_fail (ctx, errno, "cannot change to the working folder ", spec->cwd, NULL);
  apply_rlimits (ctx);
  find_executable (ctx, executable);
  syscall (SYS_close_range, 3 + ctx->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);

  if (send (ctx->sync_fd, &ready, sizeof ready, MSG_NOSIGNAL) < 0)
    _exit (127);
  wait_for_start (ctx);

  if (!spec->no_new_privileges)
    load_seccomp (ctx);
  drop_privileges (ctx);
  if (spec->no_new_privileges)
    {
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail (ctx, errno, "cannot set no_new_privs", NULL);
      load_seccomp (ctx);
    }
  umask (spec->has_umask ? spec->umask : 0022);

  /* Ignored signals stay ignored across execve, so they are reset to the defaults here. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction (sig, &default_action, NULL);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  execve (executable, spec->args, spec->env);
  child_fail (ctx, errno, "cannot execute ", executable, NULL);
}
