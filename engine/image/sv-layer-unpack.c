/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-layer-unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "sv-engine-error.h"
#include "sv-fs.h"
#include "sv-sha256.h"

/* Size of the compressed reads from the blob file. */
#define BLOB_READ_BLOCK (1024 * 1024)
/* Uncompressed chunks passed from the decompressing thread to the tar parser. */
#define CHUNK_SIZE (1024 * 1024)
#define CHUNK_COUNT 4

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_MARKER ".wh..wh..opq"

typedef struct
{
  char *path; /* relative to the layer root, "" for the root */
  struct timespec times[2];
} DirTimes;

typedef struct
{
  guint8 *data;
  gssize len; /* 0 at the end of the stream, -1 on a decompression error */
} Chunk;

typedef struct
{
  struct archive *outer; /* decompresses the blob ("raw" format) in the thread */
  struct archive *inner; /* parses the tar stream read from outer */
  SvSha256 *sha;
  gboolean hash_in_parser; /* else the decompressing thread hashes */

  /* The decompressing thread takes chunks from free_chunks, fills them and passes them
   * through full_chunks. The parser returns each chunk when it requests the next one.
   * The last chunk passed has len <= 0. */
  GThread *decompressor;
  GAsyncQueue *free_chunks;
  GAsyncQueue *full_chunks;
  Chunk chunks[CHUNK_COUNT];
  Chunk *current;
  gboolean stream_done;
  gint stop;
  char *outer_error;

  int root_fd;
  char *cached_parent;
  int cached_parent_fd;
  GArray *dir_times;
  guint64 size;
  gboolean is_root;
  const char *entry_name;
} Unpack;

static void
dir_times_clear (DirTimes *dt)
{
  g_free (dt->path);
}

static void stop_decompressor (Unpack *u);

static void
unpack_clear (Unpack *u)
{
  stop_decompressor (u);
  for (guint i = 0; i < CHUNK_COUNT; i++)
    g_free (u->chunks[i].data);
  g_clear_pointer (&u->free_chunks, g_async_queue_unref);
  g_clear_pointer (&u->full_chunks, g_async_queue_unref);
  g_free (u->outer_error);
  if (u->inner)
    archive_read_free (u->inner);
  if (u->outer)
    archive_read_free (u->outer);
  if (u->sha)
    sv_sha256_free (u->sha);
  sv_fd_close (u->root_fd);
  sv_fd_close (u->cached_parent_fd);
  g_free (u->cached_parent);
  if (u->dir_times)
    g_array_unref (u->dir_times);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Unpack, unpack_clear)

static int
openat2_beneath (int dirfd, const char *path, int flags, guint64 extra_resolve)
{
  struct open_how how = {
    .flags = flags | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | extra_resolve,
  };
  int fd;

  do
    fd = syscall (SYS_openat2, dirfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);

  return fd;
}

static gboolean
set_unsafe (Unpack *u, const char *why, GError **error)
{
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSAFE_PATH, "unsafe layer entry \"%s\": %s",
               u->entry_name, why);
  return FALSE;
}

static gboolean
set_errno_error (Unpack *u, const char *operation, int errsv, GError **error)
{
  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
               "cannot %s for layer entry \"%s\": %s", operation, u->entry_name,
               g_strerror (errsv));
  return FALSE;
}

/* Turns an entry name into a relative path without "." or empty components; names that
 * are absolute or contain ".." are unsafe. The root itself becomes "". */
static char *
normalize_name (Unpack *u, const char *name, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  if (name[0] == '/')
    {
      set_unsafe (u, "absolute path", error);
      return NULL;
    }

  parts = g_strsplit (name, "/", -1);
  for (char **p = parts; *p; p++)
    {
      if (**p == '\0' || strcmp (*p, ".") == 0)
        continue;
      if (strcmp (*p, "..") == 0)
        {
          set_unsafe (u, "path contains \"..\"", error);
          return NULL;
        }
      if (out->len > 0)
        g_string_append_c (out, '/');
      g_string_append (out, *p);
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
split_path (const char *rel, char **parent, const char **base)
{
  const char *slash = strrchr (rel, '/');

  if (slash == NULL)
    {
      *parent = g_strdup ("");
      *base = rel;
    }
  else
    {
      *parent = g_strndup (rel, slash - rel);
      *base = slash + 1;
    }
}

static gboolean
resolve_error (Unpack *u, int errsv, GError **error)
{
  if (errsv == EXDEV || errsv == ELOOP)
    return set_unsafe (u, "path leads outside the layer through a symbolic link", error);

  return set_errno_error (u, "open the parent folder", errsv, error);
}

/* Opens (creating with mode 0755 where missing) the folder at rel below the root. Each
 * step is resolved from the root with openat2, so a symbolic link met on the way can
 * never lead out of the layer. */
static int
open_dir_creating (Unpack *u, const char *rel, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GString) prefix = g_string_new (NULL);
  g_auto (SvFd) fd = -1;

  fd = openat2_beneath (u->root_fd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY, 0);
  if (fd >= 0)
    return sv_steal_fd (&fd);
  if (errno != ENOENT)
    return resolve_error (u, errno, error), -1;

  fd = dup (u->root_fd);
  parts = g_strsplit (rel, "/", -1);
  for (char **p = parts; *p; p++)
    {
      int next;

      if (prefix->len > 0)
        g_string_append_c (prefix, '/');
      g_string_append (prefix, *p);

      if (mkdirat (fd, *p, 0755) != 0 && errno != EEXIST)
        return set_errno_error (u, "create a parent folder", errno, error), -1;

      next = openat2_beneath (u->root_fd, prefix->str, O_RDONLY | O_DIRECTORY, 0);
      if (next < 0)
        return resolve_error (u, errno, error), -1;

      sv_fd_close (fd);
      fd = next;
    }

  return sv_steal_fd (&fd);
}

/* Returns a borrowed fd of the parent folder, kept open while consecutive entries share
 * the same parent. An entry only ever replaces a child of its own parent, so the cached
 * folder is never removed or swapped for a symbolic link while it is cached. */
static int
get_parent (Unpack *u, const char *parent, GError **error)
{
  if (u->cached_parent != NULL && strcmp (u->cached_parent, parent) == 0)
    return u->cached_parent_fd;

  sv_fd_close (u->cached_parent_fd);
  g_clear_pointer (&u->cached_parent, g_free);

  u->cached_parent_fd = open_dir_creating (u, parent, error);
  if (u->cached_parent_fd < 0)
    return -1;

  u->cached_parent = g_strdup (parent);
  return u->cached_parent_fd;
}

/* Clears the way for a new entry called base: a folder stays when the new entry is a
 * folder too (tar updates its metadata), anything else is removed. */
static gboolean
remove_existing (Unpack *u, int parent_fd, const char *base, gboolean keep_dir,
                 gboolean *out_is_dir, GError **error)
{
  struct stat st;

  *out_is_dir = FALSE;
  if (fstatat (parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) != 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return set_errno_error (u, "inspect the existing file", errno, error);
    }

  if (S_ISDIR (st.st_mode) && keep_dir)
    {
      *out_is_dir = TRUE;
      return TRUE;
    }

  if (!sv_fs_remove_tree_at (parent_fd, base))
    return set_errno_error (u, "replace the existing file", errno, error);

  return TRUE;
}

static void
entry_times (struct archive_entry *e, struct timespec times[2])
{
  times[1].tv_sec = archive_entry_mtime (e);
  times[1].tv_nsec = archive_entry_mtime_nsec (e);
  if (archive_entry_atime_is_set (e))
    {
      times[0].tv_sec = archive_entry_atime (e);
      times[0].tv_nsec = archive_entry_atime_nsec (e);
    }
  else
    times[0] = times[1];
}

static gboolean
apply_owner_mode_xattrs (Unpack *u, int fd, struct archive_entry *e, GError **error)
{
  const char *name;
  const void *value;
  size_t size;

  /* chown before chmod, because chown clears the set-id bits. */
  if (fchown (fd, archive_entry_uid (e), archive_entry_gid (e)) != 0
      && (u->is_root || errno != EPERM))
    return set_errno_error (u, "set the owner", errno, error);

  if (fchmod (fd, archive_entry_perm (e)) != 0)
    return set_errno_error (u, "set the mode", errno, error);

  archive_entry_xattr_reset (e);
  while (archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK)
    {
      /* Overlay metadata in a layer could redirect lookups into other layers. */
      if (g_str_has_prefix (name, "trusted.overlay."))
        continue;
      if (fsetxattr (fd, name, value, size, 0) != 0 && errno != ENOTSUP)
        return set_errno_error (u, "set an extended attribute", errno, error);
    }

  return TRUE;
}

static gboolean
write_all (int fd, const void *data, size_t len, off_t offset)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = pwrite (fd, p, len, offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= n;
      offset += n;
    }

  return TRUE;
}

static gboolean
archive_failed (Unpack *u, struct archive *a, GError **error)
{
  const char *msg = archive_error_string (a);

  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
               "cannot read layer entry \"%s\": %s", u->entry_name ? u->entry_name : "(none)",
               msg ? msg : "unknown libarchive error");
  return FALSE;
}

static gboolean
unpack_regular (Unpack *u, int parent_fd, const char *base, struct archive_entry *e, GError **error)
{
  g_auto (SvFd) fd = -1;
  la_int64_t size = archive_entry_size (e);
  struct timespec times[2];

  fd = openat (parent_fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return set_errno_error (u, "create the file", errno, error);

  /* Blocks carry their offsets, so sparse files keep their holes. */
  for (;;)
    {
      const void *buf;
      size_t len;
      la_int64_t offset;
      int r = archive_read_data_block (u->inner, &buf, &len, &offset);

      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return archive_failed (u, u->inner, error);
      if (len > 0 && !write_all (fd, buf, len, offset))
        return set_errno_error (u, "write the file", errno, error);
    }

  if (size > 0 && ftruncate (fd, size) != 0)
    return set_errno_error (u, "set the file size", errno, error);

  if (!apply_owner_mode_xattrs (u, fd, e, error))
    return FALSE;

  entry_times (e, times);
  if (futimens (fd, times) != 0)
    return set_errno_error (u, "set the file times", errno, error);

  u->size += size > 0 ? size : 0;
  return TRUE;
}

static void
remember_dir_times (Unpack *u, const char *rel, struct archive_entry *e)
{
  DirTimes dt = { g_strdup (rel), { { 0 } } };

  entry_times (e, dt.times);
  g_array_append_val (u->dir_times, dt);
}

static gboolean
unpack_dir (Unpack *u, int parent_fd, const char *base, const char *rel, struct archive_entry *e,
            GError **error)
{
  g_auto (SvFd) fd = -1;
  gboolean is_dir;

  if (!remove_existing (u, parent_fd, base, TRUE, &is_dir, error))
    return FALSE;

  if (!is_dir && mkdirat (parent_fd, base, 0700) != 0)
    return set_errno_error (u, "create the folder", errno, error);

  fd = openat (parent_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return set_errno_error (u, "open the folder", errno, error);

  if (!apply_owner_mode_xattrs (u, fd, e, error))
    return FALSE;

  remember_dir_times (u, rel, e);
  return TRUE;
}

static gboolean
set_node_metadata (Unpack *u, int parent_fd, const char *base, struct archive_entry *e,
                   gboolean is_symlink, GError **error)
{
  struct timespec times[2];

  if (fchownat (parent_fd, base, archive_entry_uid (e), archive_entry_gid (e), AT_SYMLINK_NOFOLLOW)
          != 0
      && (u->is_root || errno != EPERM))
    return set_errno_error (u, "set the owner", errno, error);

  /* The node was just created by this process, so following it cannot leave the layer. */
  if (!is_symlink && fchmodat (parent_fd, base, archive_entry_perm (e), 0) != 0)
    return set_errno_error (u, "set the mode", errno, error);

  entry_times (e, times);
  if (utimensat (parent_fd, base, times, AT_SYMLINK_NOFOLLOW) != 0)
    return set_errno_error (u, "set the times", errno, error);

  return TRUE;
}

static gboolean
unpack_hardlink (Unpack *u, int parent_fd, const char *base, const char *rel, const char *target,
                 GError **error)
{
  g_autofree char *target_rel = normalize_name (u, target, error);
  g_autofree char *target_parent = NULL;
  const char *target_base;
  g_auto (SvFd) target_parent_fd = -1;
  gboolean is_dir;

  if (target_rel == NULL)
    return FALSE;
  if (target_rel[0] == '\0')
    return set_unsafe (u, "hard link to the layer root", error);
  if (strcmp (target_rel, rel) == 0)
    return TRUE;

  split_path (target_rel, &target_parent, &target_base);
  target_parent_fd = openat2_beneath (u->root_fd, target_parent[0] ? target_parent : ".",
                                      O_RDONLY | O_DIRECTORY, 0);
  if (target_parent_fd < 0)
    return resolve_error (u, errno, error);

  if (!remove_existing (u, parent_fd, base, FALSE, &is_dir, error))
    return FALSE;

  /* Flags 0: a target that is a symbolic link is linked itself, never followed. */
  if (linkat (target_parent_fd, target_base, parent_fd, base, 0) != 0)
    return set_errno_error (u, "create the hard link", errno, error);

  return TRUE;
}

static gboolean
unpack_whiteout (Unpack *u, int parent_fd, const char *base, GError **error)
{
  const char *name = base + strlen (WHITEOUT_PREFIX);
  gboolean is_dir;

  if (strcmp (base, OPAQUE_MARKER) == 0)
    {
      if (fsetxattr (parent_fd, "trusted.overlay.opaque", "y", 1, 0) != 0)
        return set_errno_error (u, "mark the folder opaque", errno, error);
      return TRUE;
    }

  /* Other ".wh..wh." names are aufs bookkeeping with no meaning for overlayfs. */
  if (g_str_has_prefix (base, WHITEOUT_PREFIX WHITEOUT_PREFIX))
    return TRUE;

  if (*name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return set_unsafe (u, "whiteout without a valid name", error);

  if (!remove_existing (u, parent_fd, name, FALSE, &is_dir, error))
    return FALSE;

  if (mknodat (parent_fd, name, S_IFCHR | 0600, makedev (0, 0)) != 0)
    return set_errno_error (u, "create the whiteout device", errno, error);

  return TRUE;
}

static gboolean
unpack_root_entry (Unpack *u, struct archive_entry *e, GError **error)
{
  if (archive_entry_filetype (e) != AE_IFDIR)
    return set_unsafe (u, "the layer root must be a folder", error);

  if (!apply_owner_mode_xattrs (u, u->root_fd, e, error))
    return FALSE;

  remember_dir_times (u, "", e);
  return TRUE;
}

static gboolean
unpack_entry (Unpack *u, struct archive_entry *e, GError **error)
{
  g_autofree char *rel = normalize_name (u, archive_entry_pathname (e), error);
  g_autofree char *parent = NULL;
  const char *base;
  const char *hardlink = archive_entry_hardlink (e);
  mode_t type = archive_entry_filetype (e);
  int parent_fd;
  gboolean is_dir;

  if (rel == NULL)
    return FALSE;
  if (rel[0] == '\0')
    return unpack_root_entry (u, e, error);

  split_path (rel, &parent, &base);
  parent_fd = get_parent (u, parent, error);
  if (parent_fd < 0)
    return FALSE;

  if (g_str_has_prefix (base, WHITEOUT_PREFIX))
    return unpack_whiteout (u, parent_fd, base, error);

  if (hardlink != NULL)
    return unpack_hardlink (u, parent_fd, base, rel, hardlink, error);

  if (type == AE_IFREG)
    return remove_existing (u, parent_fd, base, FALSE, &is_dir, error)
           && unpack_regular (u, parent_fd, base, e, error);

  if (type == AE_IFDIR)
    return unpack_dir (u, parent_fd, base, rel, e, error);

  if (type == AE_IFSOCK)
    return TRUE;

  if (!remove_existing (u, parent_fd, base, FALSE, &is_dir, error))
    return FALSE;

  if (type == AE_IFLNK)
    {
      const char *target = archive_entry_symlink (e);

      if (target == NULL || symlinkat (target, parent_fd, base) != 0)
        return set_errno_error (u, "create the symbolic link", target ? errno : EINVAL, error);
      return set_node_metadata (u, parent_fd, base, e, TRUE, error);
    }

  if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO)
    {
      dev_t dev = type == AE_IFIFO ? 0 : archive_entry_rdev (e);

      if (mknodat (parent_fd, base, type | archive_entry_perm (e), dev) != 0)
        return set_errno_error (u, "create the device node", errno, error);
      return set_node_metadata (u, parent_fd, base, e, FALSE, error);
    }

  g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
               "layer entry \"%s\" has an unsupported file type 0%o", u->entry_name, type);
  return FALSE;
}

static gpointer
decompress_thread (gpointer data)
{
  Unpack *u = data;

  for (;;)
    {
      Chunk *chunk = g_async_queue_pop (u->free_chunks);

      if (g_atomic_int_get (&u->stop))
        chunk->len = 0;
      else
        {
          chunk->len = archive_read_data (u->outer, chunk->data, CHUNK_SIZE);
          if (chunk->len > 0 && !u->hash_in_parser)
            sv_sha256_update (u->sha, chunk->data, chunk->len);
          else if (chunk->len < 0)
            u->outer_error = g_strdup (archive_error_string (u->outer) ?: "decompression failed");
        }

      g_async_queue_push (u->full_chunks, chunk);
      if (chunk->len <= 0)
        return NULL;
    }
}

/* Decompression runs in a thread while this one parses and writes files, because on two
 * or more CPUs that overlaps the two halves of the work. Hashing goes to the lighter
 * side: measured on 1.5 GB of /usr, zlib's inflate outweighs parsing and writing, while
 * zstd decodes faster than files are written. */
static gboolean
start_decompressor (Unpack *u, GError **error)
{
  u->hash_in_parser = archive_filter_code (u->outer, 0) == ARCHIVE_FILTER_GZIP;

  u->free_chunks = g_async_queue_new ();
  u->full_chunks = g_async_queue_new ();
  for (guint i = 0; i < CHUNK_COUNT; i++)
    {
      u->chunks[i].data = g_malloc (CHUNK_SIZE);
      g_async_queue_push (u->free_chunks, &u->chunks[i]);
    }

  u->decompressor = g_thread_try_new ("sv-unpack", decompress_thread, u, error);
  return u->decompressor != NULL;
}

/* Returns the next uncompressed chunk to the tar parser. Every byte is hashed once, in
 * stream order, so the diff_id comes out of the same pass. */
static la_ssize_t
read_uncompressed (struct archive *inner, void *data, const void **buf)
{
  Unpack *u = data;

  if (u->stream_done)
    return 0;

  if (u->current != NULL)
    g_async_queue_push (u->free_chunks, u->current);
  u->current = g_async_queue_pop (u->full_chunks);

  if (u->current->len <= 0)
    {
      u->stream_done = TRUE;
      if (u->current->len < 0)
        {
          archive_set_error (inner, EIO, "%s", u->outer_error);
          return -1;
        }
      return 0;
    }

  if (u->hash_in_parser)
    sv_sha256_update (u->sha, u->current->data, u->current->len);
  *buf = u->current->data;
  return u->current->len;
}

/* Stops the thread early if needed and waits for it. */
static void
stop_decompressor (Unpack *u)
{
  if (u->decompressor == NULL)
    return;

  g_atomic_int_set (&u->stop, 1);
  while (!u->stream_done)
    {
      if (u->current != NULL)
        g_async_queue_push (u->free_chunks, u->current);
      u->current = g_async_queue_pop (u->full_chunks);
      u->stream_done = u->current->len <= 0;
    }

  g_thread_join (g_steal_pointer (&u->decompressor));
}

static gboolean
open_outer (Unpack *u, const char *blob_path, GError **error)
{
  struct archive_entry *raw_entry;

  u->outer = archive_read_new ();

  /* Without zlib or libzstd libarchive falls back to running an external program and
   * returns ARCHIVE_WARN; only the built-in decoders are accepted. */
  if (archive_read_support_filter_gzip (u->outer) != ARCHIVE_OK
      || archive_read_support_filter_zstd (u->outer) != ARCHIVE_OK)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                   "libarchive lacks built-in gzip or zstd support (%s)",
                   archive_version_details ());
      return FALSE;
    }

  archive_read_support_format_raw (u->outer);

  if (archive_read_open_filename (u->outer, blob_path, BLOB_READ_BLOCK) != ARCHIVE_OK
      || archive_read_next_header (u->outer, &raw_entry) != ARCHIVE_OK)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "cannot open layer blob %s: %s", blob_path,
                   archive_error_string (u->outer) ?: "unknown libarchive error");
      return FALSE;
    }

  return TRUE;
}

static gboolean
read_entries (Unpack *u, GCancellable *cancellable, GError **error)
{
  struct archive_entry *e;
  int r;

  u->inner = archive_read_new ();
  archive_read_support_format_tar (u->inner);
  archive_read_support_format_gnutar (u->inner);

  if (archive_read_open (u->inner, u, NULL, read_uncompressed, NULL) != ARCHIVE_OK)
    return archive_failed (u, u->inner, error);

  while ((r = archive_read_next_header (u->inner, &e)) != ARCHIVE_EOF)
    {
      if (r < ARCHIVE_WARN)
        return archive_failed (u, u->inner, error);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      u->entry_name = archive_entry_pathname (e);
      if (u->entry_name == NULL)
        return archive_failed (u, u->inner, error);
      if (!unpack_entry (u, e, error))
        return FALSE;
    }

  u->entry_name = NULL;
  return TRUE;
}

/* Folder times are set last, because creating entries inside a folder changes them. */
static void
apply_dir_times (Unpack *u)
{
  for (guint i = u->dir_times->len; i > 0; i--)
    {
      DirTimes *dt = &g_array_index (u->dir_times, DirTimes, i - 1);
      g_auto (SvFd) fd = openat2_beneath (u->root_fd, dt->path[0] ? dt->path : ".",
                                          O_RDONLY | O_DIRECTORY, RESOLVE_NO_SYMLINKS);

      if (fd >= 0)
        futimens (fd, dt->times);
    }
}

gboolean
sv_layer_unpack (const char *blob_path, const char *dest_dir, char **out_diff_id, guint64 *out_size,
                 GCancellable *cancellable, GError **error)
{
  g_auto (Unpack) u = { 0 };

  u.root_fd = -1;
  u.cached_parent_fd = -1;
  u.sha = sv_sha256_new ();
  u.is_root = geteuid () == 0;
  u.dir_times = g_array_new (FALSE, TRUE, sizeof (DirTimes));
  g_array_set_clear_func (u.dir_times, (GDestroyNotify)dir_times_clear);

  u.root_fd = open (dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (u.root_fd < 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot open layer folder %s: %s", dest_dir, g_strerror (errno));
      return FALSE;
    }

  if (!open_outer (&u, blob_path, error) || !start_decompressor (&u, error)
      || !read_entries (&u, cancellable, error))
    return FALSE;

  /* The tar parser stops at the end-of-archive blocks; padding after them is part of the
   * uncompressed stream and of its digest. */
  for (;;)
    {
      const void *buf;
      la_ssize_t n = read_uncompressed (u.inner, &u, &buf);

      if (n < 0)
        return archive_failed (&u, u.inner, error);
      if (n == 0)
        break;
    }
  stop_decompressor (&u);

  apply_dir_times (&u);

  if (syncfs (u.root_fd) != 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot sync layer folder %s: %s", dest_dir, g_strerror (errno));
      return FALSE;
    }

  if (out_diff_id)
    *out_diff_id = sv_sha256_finish (u.sha);
  if (out_size)
    *out_size = u.size;
  return TRUE;
}
