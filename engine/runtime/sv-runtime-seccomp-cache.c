/* SPDX-License-Identifier: GPL-2.0-or-later */

/* A cache of compiled seccomp filters under the state folder. Compiling the default profile of
 * about 350 syscalls with libseccomp took 9-12 ms per container start on a 2-CPU VM, more than
 * the rest of `servin-runtime run` of `true`, and every default container carries the same
 * linux.seccomp. So the BPF program is stored in ROOT/seccomp-cache/KEY.bpf, where KEY is a
 * SHA-256 of the canonical linux.seccomp JSON, the Servin and libseccomp versions, libseccomp's
 * API level and the native architecture.
 *
 * An entry is a header followed by the program:
 *   8 bytes   magic "SVBPF1\0\0"
 *   32 bytes  SHA-256 of KEY (as hex) followed by the program
 *   N * 8     struct sock_filter instructions
 * The digest rejects a truncated or overwritten entry, and an entry copied to another key's
 * name, so a damaged file is compiled again instead of loaded. It detects damage, not forgery:
 * the folder is mode 0700, so only its owner, root in practice, can write an entry. */
#include "sv-runtime-seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sv-build-config.h"
#include "sv-engine-error.h"
#include "sv-runtime-state.h"

#define CACHE_FOLDER "seccomp-cache"
#define ENTRY_MAGIC "SVBPF1\0\0"
#define MAGIC_SIZE 8
#define DIGEST_SIZE 32
#define HEADER_SIZE (MAGIC_SIZE + DIGEST_SIZE)
/* The kernel rejects seccomp programs longer than BPF_MAXINSNS instructions. */
#define MAX_ENTRY_SIZE (HEADER_SIZE + BPF_MAXINSNS * sizeof (struct sock_filter))

/* Change this when the way sv_seccomp_compile builds a filter changes, so that entries written
 * by an older build of the same version are not loaded. */
#define CACHE_FORMAT "servin-seccomp-cache 1"

G_STATIC_ASSERT (HEADER_SIZE % sizeof (struct sock_filter) == 0);

/* Appends a serialization of node in which equal JSON values give equal text: object members
 * sorted by name and no spaces. A double is always written with a '.' or an exponent, because
 * linux.seccomp reads an integer and a double of the same value differently. */
static void
append_canonical (GString *out, JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_node_get_object (node);
        GList *names = g_list_sort (json_object_get_members (object), (GCompareFunc)strcmp);

        g_string_append_c (out, '{');
        for (GList *l = names; l; l = l->next)
          {
            if (l != names)
              g_string_append_c (out, ',');
            sv_json_append_string (out, l->data);
            g_string_append_c (out, ':');
            append_canonical (out, json_object_get_member (object, l->data));
          }
        g_string_append_c (out, '}');
        g_list_free (names);
        break;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        g_string_append_c (out, '[');
        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            append_canonical (out, json_array_get_element (array, i));
          }
        g_string_append_c (out, ']');
        break;
      }
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_STRING:
          sv_json_append_string (out, json_node_get_string (node));
          break;
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          break;
        case G_TYPE_DOUBLE:
          {
            char number[G_ASCII_DTOSTR_BUF_SIZE];

            g_ascii_dtostr (number, sizeof number, json_node_get_double (node));
            g_string_append (out, number);
            if (strpbrk (number, ".eEn") == NULL)
              g_string_append (out, ".0");
            break;
          }
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          break;
        default:
          g_string_append (out, "null");
          break;
        }
      break;
    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
      break;
    }
}

/* Returns the hex SHA-256 that names the cache entry of seccomp on this host. */
static char *
compute_key (JsonObject *seccomp)
{
  const struct scmp_version *version = seccomp_version ();
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  /* The API level records which kernel features libseccomp found, which can change the
   * program it generates. */
  g_string_printf (text, "%s\n%s\nlibseccomp %u.%u.%u api %u\narch 0x%x\n", CACHE_FORMAT,
                   PACKAGE_VERSION, version->major, version->minor, version->micro,
                   seccomp_api_get (), seccomp_arch_native ());
  json_node_set_object (node, seccomp);
  append_canonical (text, node);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)text->str, text->len);
}

static void
compute_digest (const char *key, const guint8 *program, gsize length, guint8 digest[DIGEST_SIZE])
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize digest_size = DIGEST_SIZE;

  g_checksum_update (checksum, (const guchar *)key, strlen (key));
  g_checksum_update (checksum, program, length);
  g_checksum_get_digest (checksum, digest, &digest_size);
}

/* Opens ROOT/seccomp-cache, creating it, and checks that only this user can write to it. */
static int
open_cache_folder (const char *root, GError **error)
{
  g_autofree char *path = g_build_filename (root, CACHE_FOLDER, NULL);
  g_auto (SvFd) fd = -1;
  struct stat st;

  if (g_mkdir_with_parents (root, 0711) < 0 || (mkdir (path, 0700) < 0 && errno != EEXIST))
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create the seccomp cache folder %s: %s", path, g_strerror (saved_errno));
      return -1;
    }
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot open the seccomp cache folder %s: %s", path, g_strerror (saved_errno));
      return -1;
    }
  if (st.st_uid != geteuid () || (st.st_mode & 022) != 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSAFE_PATH,
                   "the seccomp cache folder %s is owned by uid %u with mode %04o; it must be "
                   "owned by uid %u and writable by its owner only: remove it",
                   path, (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777),
                   (unsigned int)geteuid ());
      return -1;
    }
  return g_steal_fd (&fd);
}

/* Reads and checks the entry name in folder_fd. Returns NULL with error G_FILE_ERROR_NOENT when
 * there is no entry, and another error when the entry cannot be used. */
static GBytes *
read_entry (int folder_fd, const char *name, const char *key, GError **error)
{
  g_auto (SvFd) fd = openat (folder_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  g_autofree guint8 *data = NULL;
  g_autoptr (GBytes) entry = NULL;
  guint8 digest[DIGEST_SIZE];
  struct stat st;
  gsize done = 0;

  if (fd < 0 || fstat (fd, &st) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), "%s",
                   g_strerror (saved_errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || st.st_uid != geteuid () || (st.st_mode & 077) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   "not a regular file of uid %u with mode 0600 (uid %u, mode %04o)",
                   (unsigned int)geteuid (), (unsigned int)st.st_uid,
                   (unsigned int)(st.st_mode & 07777));
      return NULL;
    }
  if (st.st_size <= HEADER_SIZE || st.st_size > (off_t)MAX_ENTRY_SIZE
      || st.st_size % sizeof (struct sock_filter) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "invalid size %jd bytes: expected a %d-byte header and 1 to %d instructions "
                   "of %zu bytes",
                   (intmax_t)st.st_size, HEADER_SIZE, BPF_MAXINSNS, sizeof (struct sock_filter));
      return NULL;
    }

  data = g_malloc (st.st_size);
  while (done < (gsize)st.st_size)
    {
      ssize_t n = read (fd, data + done, st.st_size - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "short read at byte %zu: %s",
                       (size_t)done, n < 0 ? g_strerror (errno) : "end of file");
          return NULL;
        }
      done += n;
    }
  compute_digest (key, data + HEADER_SIZE, st.st_size - HEADER_SIZE, digest);
  if (memcmp (data, ENTRY_MAGIC, MAGIC_SIZE) != 0
      || memcmp (data + MAGIC_SIZE, digest, DIGEST_SIZE) != 0)
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                           "the header or the checksum does not match the program");
      return NULL;
    }
  entry = g_bytes_new_take (g_steal_pointer (&data), st.st_size);
  return g_bytes_new_from_bytes (entry, HEADER_SIZE, st.st_size - HEADER_SIZE);
}

static gboolean
write_all (int fd, const void *data, gsize length)
{
  const guint8 *p = data;

  while (length > 0)
    {
      ssize_t n = write (fd, p, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      length -= n;
    }
  return TRUE;
}

/* Writes the entry to a temporary file and renames it into place, so that a concurrent start
 * reads either the old entry or the whole new one. */
static gboolean
write_entry (int folder_fd, const char *name, const char *key, GBytes *program, GError **error)
{
  g_autofree char *temp = g_strdup_printf (".%s.%08x", name, g_random_int ());
  gsize length = 0;
  const guint8 *data = g_bytes_get_data (program, &length);
  guint8 digest[DIGEST_SIZE];
  g_auto (SvFd) fd = -1;

  if (length == 0 || length + HEADER_SIZE > MAX_ENTRY_SIZE)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "the program has %zu bytes, more than the kernel loads", (size_t)length);
      return FALSE;
    }
  compute_digest (key, data, length, digest);
  fd = openat (folder_fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod (fd, 0600) < 0 || !write_all (fd, ENTRY_MAGIC, MAGIC_SIZE)
      || !write_all (fd, digest, DIGEST_SIZE) || !write_all (fd, data, length)
      || renameat (folder_fd, temp, folder_fd, name) < 0)
    {
      int saved_errno = errno;

      if (fd >= 0)
        unlinkat (folder_fd, temp, 0);
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED, "%s", g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* Compiles seccomp and stores the program, warning when it cannot be stored: the container still
 * starts, and the next start compiles again. */
static GBytes *
compile_and_store (JsonObject *seccomp, int folder_fd, const char *path, const char *name,
                   const char *key, unsigned int *filter_flags, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GBytes *program = sv_seccomp_compile (seccomp, filter_flags, error);

  if (program == NULL || folder_fd < 0)
    return program;
  if (!write_entry (folder_fd, name, key, program, &local_error))
    g_warning ("cannot store the compiled seccomp filter in %s: %s", path, local_error->message);
  else
    g_debug ("compiled the seccomp filter and stored it in %s", path);
  return program;
}

GBytes *
sv_seccomp_load_program (JsonObject *seccomp, const char *root, unsigned int *filter_flags,
                         GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_auto (SvFd) folder_fd = -1;
  GBytes *program;

  /* The flags are not in the program, so they are read from the JSON every time. */
  if (!sv_seccomp_parse_flags (seccomp, filter_flags, error))
    return NULL;

  key = compute_key (seccomp);
  name = g_strconcat (key, ".bpf", NULL);
  path = g_build_filename (root, CACHE_FOLDER, name, NULL);
  folder_fd = open_cache_folder (root, &local_error);
  if (folder_fd < 0)
    {
      g_warning ("compiling the seccomp filter without the cache: %s", local_error->message);
      return sv_seccomp_compile (seccomp, filter_flags, error);
    }

  program = read_entry (folder_fd, name, key, &local_error);
  if (program)
    {
      g_debug ("loaded the seccomp filter from the cache entry %s", path);
      return program;
    }
  if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    g_debug ("no seccomp cache entry %s; compiling the filter", path);
  else
    g_warning ("ignoring the seccomp cache entry %s: %s; compiling the filter again", path,
               local_error->message);
  return compile_and_store (seccomp, folder_fd, path, name, key, filter_flags, error);
}
