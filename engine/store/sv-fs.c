/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sv-engine-error.h"

static gboolean
remove_children (int dirfd)
{
  DIR *dir = fdopendir (dirfd);
  struct dirent *ent;
  gboolean ok = TRUE;

  if (dir == NULL)
    {
      close (dirfd);
      return FALSE;
    }

  while ((ent = readdir (dir)) != NULL)
    {
      if (strcmp (ent->d_name, ".") == 0 || strcmp (ent->d_name, "..") == 0)
        continue;
      if (!sv_fs_remove_tree_at (dirfd, ent->d_name))
        {
          ok = FALSE;
          break;
        }
    }

  int saved_errno = errno;
  closedir (dir);
  errno = saved_errno;
  return ok;
}

gboolean
sv_fs_remove_tree_at (int dirfd, const char *name)
{
  int fd;

  if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
    return TRUE;

  if (errno != EISDIR && errno != EPERM)
    return FALSE;

  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT;

  if (!remove_children (fd))
    return FALSE;

  return unlinkat (dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT;
}

gboolean
sv_fs_remove_tree (const char *path, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_auto (SvFd) parent_fd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (parent_fd < 0 && errno == ENOENT)
    return TRUE;

  if (parent_fd < 0 || !sv_fs_remove_tree_at (parent_fd, base))
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "cannot remove %s: %s", path,
                   g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

char *
sv_fs_make_temp_dir (const char *parent, const char *prefix, GError **error)
{
  g_autofree char *template = g_strdup_printf ("%s/%sXXXXXX", parent, prefix);

  if (g_mkdtemp_full (template, 0700) == NULL)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create a temporary folder in %s: %s", parent, g_strerror (saved_errno));
      return NULL;
    }

  return g_steal_pointer (&template);
}

guint64
sv_fs_tree_size (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;
  guint64 size = 0;
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return 0;
  if (S_ISREG (st.st_mode))
    return st.st_size;
  if (!S_ISDIR (st.st_mode))
    return 0;

  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      size += sv_fs_tree_size (child);
    }
  return size;
}
