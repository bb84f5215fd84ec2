/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OOM kill detection: the oom_kill counter of the container's memory cgroup,
 * from memory.oom_control (cgroup v1) or memory.events (cgroup2). */
#include "sv-monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void
unescape (char *text)
{
  char *out = text;

  for (char *p = text; *p != '\0'; p++)
    {
      if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0'
          && p[3] <= '7')
        {
          *out++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
          p += 3;
        }
      else
        *out++ = *p;
    }
  *out = '\0';
}

static bool
has_option (const char *options, const char *name)
{
  size_t len = strlen (name);

  for (const char *p = options; p != NULL; p = strchr (p, ','), p = p ? p + 1 : NULL)
    if (strncmp (p, name, len) == 0 && (p[len] == ',' || p[len] == '\0' || p[len] == '\n'))
      return true;
  return false;
}

/* Find the mount of the v1 hierarchy with the memory controller (@v2 false)
 * or of cgroup2 (@v2 true). Copies its mountinfo root and mount point. */
static bool
find_mount (bool v2, char *root, size_t root_size, char *point, size_t point_size)
{
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  char *line = NULL;
  size_t cap = 0;
  bool found = false;

  if (f == NULL)
    return false;
  while (!found && getline (&line, &cap, f) > 0)
    {
      char *fields[6] = { 0 };
      char *save = NULL;
      char *sep = strstr (line, " - ");
      char type[32], source[256], options[1024];
      int i = 0;

      if (sep == NULL || sscanf (sep + 3, "%31s %255s %1023s", type, source, options) != 3)
        continue;
      *sep = '\0';
      for (char *tok = strtok_r (line, " ", &save); tok != NULL && i < 6;
           tok = strtok_r (NULL, " ", &save))
        fields[i++] = tok;
      if (i < 5)
        continue;
      if (v2 ? strcmp (type, "cgroup2") != 0
             : strcmp (type, "cgroup") != 0 || !has_option (options, "memory"))
        continue;
      unescape (fields[3]);
      unescape (fields[4]);
      snprintf (root, root_size, "%s", fields[3]);
      snprintf (point, point_size, "%s", fields[4]);
      found = true;
    }
  free (line);
  fclose (f);
  return found;
}

/* Find the cgroup of @pid in the v1 memory hierarchy (@v2 false) or in
 * cgroup2 (@v2 true), as /proc/PID/cgroup names it. */
static bool
find_cgroup (pid_t pid, bool v2, char *out, size_t size)
{
  char path[64];
  FILE *f;
  char *line = NULL;
  size_t cap = 0;
  bool found = false;

  snprintf (path, sizeof path, "/proc/%d/cgroup", (int)pid);
  f = fopen (path, "re");
  if (f == NULL)
    return false;
  while (!found && getline (&line, &cap, f) > 0)
    {
      char *controllers = strchr (line, ':');
      char *cgroup = controllers ? strchr (controllers + 1, ':') : NULL;

      if (cgroup == NULL)
        continue;
      *cgroup++ = '\0';
      controllers++;
      cgroup[strcspn (cgroup, "\n")] = '\0';
      if (v2 ? *controllers == '\0' : has_option (controllers, "memory"))
        {
          snprintf (out, size, "%s", cgroup);
          found = true;
        }
    }
  free (line);
  fclose (f);
  return found;
}

static int
file_path_for (pid_t pid, bool v2, char *out, size_t size)
{
  char root[1024], point[1024], cgroup[2048];
  const char *relative = cgroup;
  size_t root_len;
  int n;

  if (!find_mount (v2, root, sizeof root, point, sizeof point)
      || !find_cgroup (pid, v2, cgroup, sizeof cgroup))
    return -1;
  root_len = strlen (root);
  if (strcmp (root, "/") != 0 && strncmp (cgroup, root, root_len) == 0)
    relative = cgroup + root_len;
  n = snprintf (out, size, "%s%s/%s", point, relative, v2 ? "memory.events" : "memory.oom_control");
  if (n < 0 || (size_t)n >= size || access (out, R_OK) < 0)
    return -1;
  return 0;
}

/* Find the file with the oom_kill counter of the memory cgroup of @pid:
 * memory.oom_control of the v1 memory hierarchy, or else memory.events of
 * cgroup2. Returns -1 when neither exists (no memory controller). */
int
sv_mon_oom_find (pid_t pid, char *out, size_t size)
{
  if (file_path_for (pid, false, out, size) == 0)
    return 0;
  return file_path_for (pid, true, out, size);
}

/* Read the "oom_kill N" counter of @path. Returns N, or -1 when the file is
 * gone or the kernel has no such counter (before Linux 4.13). */
long
sv_mon_oom_read (const char *path)
{
  char text[1024];
  ssize_t n;
  const char *p;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return -1;
  n = read (fd, text, sizeof text - 1);
  close (fd);
  if (n <= 0)
    return -1;
  text[n] = '\0';
  for (p = text; p != NULL && *p != '\0'; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp (p, "oom_kill ", 9) == 0)
      return strtol (p + 9, NULL, 10);
  return -1;
}
