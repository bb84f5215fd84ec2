/* SPDX-License-Identifier: GPL-2.0-or-later */

/* servin-mkimage builds small real images from a static busybox, for the quick start and
 * the tests: the sample image, a two-layer image with whiteouts, and a two-platform
 * index. With --rootfs it instead packs host folders, one layer per folder, as the pull
 * benchmark does with a debootstrap root file system. Output is an OCI image layout
 * folder or a tar of one. */

#include <errno.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sv-engine-error.h"
#include "sv-fs.h"
#include "sv-image-writer.h"
#include "sv-manifest.h"

#define DEFAULT_TAG "servin/sample:latest"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct
{
  char *busybox;
  char *tag;
  char *output;
  char *layout;
  char *compression_name;
  gboolean two_layer;
  gboolean multiarch;
  GStrv rootfs; /* host folders, one layer each, bottom first; NULL for busybox images */

  SvLayerCompression compression;
  gint64 mtime;
  GStrv applets; /* "usr/bin/awk", ... from busybox --list-full */
} Options;

typedef struct
{
  const char *architecture;
  const char *variant;
} Platform;

static GBytes *
text_bytes (const char *text)
{
  return g_bytes_new_static (text, strlen (text));
}

static gboolean
add_text_file (SvLayerWriter *layer, const char *path, const char *text, GError **error)
{
  g_autoptr (GBytes) bytes = text_bytes (text);

  return sv_layer_writer_add_file (layer, path, 0644, 0, 0, bytes, error);
}

static gboolean
add_directories (SvLayerWriter *layer, GError **error)
{
  static const struct
  {
    const char *path;
    guint mode;
    guint owner;
  } dirs[] = {
    { "bin", 0755, 0 },
    { "dev", 0755, 0 },
    { "etc", 0755, 0 },
    { "home", 0755, 0 },
    { "home/servin", 0755, 1000 },
    { "proc", 0555, 0 },
    { "root", 0700, 0 },
    { "sbin", 0755, 0 },
    { "srv", 0755, 0 },
    { "sys", 0555, 0 },
    { "tmp", 01777, 0 },
    { "usr", 0755, 0 },
    { "usr/bin", 0755, 0 },
    { "usr/sbin", 0755, 0 },
    { "var", 0755, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    if (!sv_layer_writer_add_directory (layer, dirs[i].path, dirs[i].mode, dirs[i].owner,
                                        dirs[i].owner, error))
      return FALSE;

  return TRUE;
}

/* The sample root file system: busybox, its applet links and the account files. There is
 * no /etc/hostname, /etc/hosts or /etc/resolv.conf, because the runtime provides them. */
static gboolean
add_sample_rootfs (Options *opts, SvLayerWriter *layer, GError **error)
{
  if (!add_directories (layer, error)
      || !sv_layer_writer_add_host_file (layer, "bin/busybox", opts->busybox, 0, 0, error))
    return FALSE;

  for (char **applet = opts->applets; *applet; applet++)
    if (strcmp (*applet, "bin/busybox") != 0
        && !sv_layer_writer_add_symlink (layer, *applet, "/bin/busybox", 0, 0, error))
      return FALSE;

  return add_text_file (layer, "etc/passwd",
                        "root:x:0:0:root:/root:/bin/sh\n"
                        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                        "servin:x:1000:1000:Servin:/home/servin:/bin/sh\n",
                        error)
         && add_text_file (layer, "etc/group",
                           "root:x:0:\n"
                           "nobody:x:65534:\n"
                           "servin:x:1000:\n",
                           error);
}

static SvLayerWriter *
begin_layer (Options *opts, SvImageWriter *writer, GError **error)
{
  SvLayerWriter *layer = sv_image_writer_begin_layer (writer, opts->compression, error);

  if (layer != NULL)
    sv_layer_writer_set_mtime (layer, opts->mtime);
  return layer;
}

static SvDescriptor *
finish_layer (SvLayerWriter *layer, GPtrArray *layers, GPtrArray *diff_ids, GError **error)
{
  char *diff_id = NULL;
  SvDescriptor *descriptor = sv_layer_writer_finish (layer, &diff_id, error);

  if (descriptor == NULL)
    return NULL;

  g_ptr_array_add (layers, descriptor);
  g_ptr_array_add (diff_ids, diff_id);
  return descriptor;
}

/* One layer per --rootfs folder, with the folder's contents at the image root. */
static gboolean
write_rootfs_layers (Options *opts, SvImageWriter *writer, GPtrArray *layers, GPtrArray *diff_ids,
                     GError **error)
{
  for (char **dir = opts->rootfs; *dir; dir++)
    {
      g_autoptr (SvLayerWriter) layer = begin_layer (opts, writer, error);

      if (layer == NULL || !sv_layer_writer_add_tree (layer, *dir, "", error)
          || finish_layer (layer, layers, diff_ids, error) == NULL)
        {
          g_prefix_error (error, "cannot pack --rootfs %s: ", *dir);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
write_busybox_layers (Options *opts, SvImageWriter *writer, const Platform *platform,
                      GPtrArray *layers, GPtrArray *diff_ids, GError **error)
{
  g_autoptr (SvLayerWriter) base = begin_layer (opts, writer, error);
  g_autoptr (SvLayerWriter) upper = NULL;
  g_autofree char *arch_text = NULL;

  if (base == NULL || !add_sample_rootfs (opts, base, error))
    return FALSE;

  if (opts->multiarch)
    {
      arch_text = g_strdup_printf ("%s\n", platform->architecture);
      if (!add_text_file (base, "etc/servin-arch", arch_text, error))
        return FALSE;
    }

  if (opts->two_layer
      && !(add_text_file (base, "etc/removed-file", "this file is removed by layer two\n", error)
           && sv_layer_writer_add_directory (base, "data", 0755, 0, 0, error)
           && sv_layer_writer_add_directory (base, "data/old", 0755, 0, 0, error)
           && add_text_file (base, "data/old/a", "a\n", error)
           && add_text_file (base, "data/old/b", "b\n", error)))
    return FALSE;

  if (finish_layer (base, layers, diff_ids, error) == NULL)
    return FALSE;

  if (!opts->two_layer)
    return TRUE;

  upper = begin_layer (opts, writer, error);
  return upper != NULL && sv_layer_writer_add_whiteout (upper, "etc/removed-file", error)
         && sv_layer_writer_add_directory (upper, "data", 0755, 0, 0, error)
         && sv_layer_writer_add_directory (upper, "data/old", 0755, 0, 0, error)
         && sv_layer_writer_add_opaque (upper, "data/old", error)
         && add_text_file (upper, "data/old/new-file", "new\n", error)
         && finish_layer (upper, layers, diff_ids, error) != NULL;
}

static gboolean
write_layers (Options *opts, SvImageWriter *writer, const Platform *platform, GPtrArray *layers,
              GPtrArray *diff_ids, GError **error)
{
  if (opts->rootfs != NULL)
    return write_rootfs_layers (opts, writer, layers, diff_ids, error);
  return write_busybox_layers (opts, writer, platform, layers, diff_ids, error);
}

/* One "created_by" text per layer written by write_layers. */
static GPtrArray *
layer_history (Options *opts)
{
  GPtrArray *history = g_ptr_array_new_with_free_func (g_free);

  if (opts->rootfs != NULL)
    for (guint i = 0; opts->rootfs[i]; i++)
      g_ptr_array_add (history, g_strdup_printf ("servin-mkimage: --rootfs folder %u", i + 1));
  else
    {
      g_ptr_array_add (history, g_strdup ("servin-mkimage: busybox root file system"));
      if (opts->two_layer)
        g_ptr_array_add (history, g_strdup ("servin-mkimage: whiteout and opaque folder"));
    }

  g_ptr_array_add (history, NULL);
  return history;
}

/* Writes one platform's layers, config and manifest; returns the manifest descriptor
 * with its platform set. */
static SvDescriptor *
write_image (Options *opts, SvImageWriter *writer, const Platform *platform, GError **error)
{
  g_autoptr (GPtrArray) layers
      = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_descriptor_free);
  g_autoptr (GPtrArray) diff_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SvDescriptor) config_descriptor = NULL;
  g_autoptr (JsonObject) config = NULL;
  g_autoptr (GPtrArray) history = layer_history (opts);
  const char *env[] = { "PATH=" DEFAULT_PATH, NULL };
  const char *busybox_cmd[] = { "echo", "Hello from Servin!", NULL };
  const char *rootfs_cmd[] = { "/bin/sh", NULL };
  SvDescriptor *manifest;
  SvImageConfigSpec spec = {
    .os = "linux",
    .architecture = platform->architecture,
    .variant = platform->variant,
    .created = opts->mtime,
    .env = env,
    .cmd = opts->rootfs != NULL ? rootfs_cmd : busybox_cmd,
    .working_dir = opts->rootfs != NULL ? NULL : "/srv",
    .history = (const char *const *)history->pdata,
  };

  if (!write_layers (opts, writer, platform, layers, diff_ids, error))
    return NULL;

  g_ptr_array_add (diff_ids, NULL);
  config = sv_image_config_new (&spec, (const char *const *)diff_ids->pdata);
  config_descriptor = sv_image_writer_write_config (writer, config, error);
  if (config_descriptor == NULL)
    return NULL;

  manifest = sv_image_writer_write_manifest (writer, config_descriptor, layers, error);
  if (manifest != NULL)
    {
      manifest->os = g_strdup ("linux");
      manifest->architecture = g_strdup (platform->architecture);
      manifest->variant = g_strdup (platform->variant);
    }
  return manifest;
}

static gboolean
write_layout (Options *opts, const char *dir, GError **error)
{
  g_autoptr (SvImageWriter) writer = sv_image_writer_new_for_layout (dir, error);
  g_autoptr (SvDescriptor) top = NULL;
  g_autofree char *host = sv_platform_get_host ();
  g_autofree char *os = NULL, *arch = NULL, *variant = NULL;

  if (writer == NULL || !sv_platform_parse (host, &os, &arch, &variant, error))
    return FALSE;

  if (opts->multiarch)
    {
      static const Platform platforms[] = { { "arm64", "v8" }, { "amd64", NULL } };
      g_autoptr (GPtrArray) manifests
          = g_ptr_array_new_with_free_func ((GDestroyNotify)sv_descriptor_free);

      for (gsize i = 0; i < G_N_ELEMENTS (platforms); i++)
        {
          SvDescriptor *manifest = write_image (opts, writer, &platforms[i], error);
          if (manifest == NULL)
            return FALSE;
          g_ptr_array_add (manifests, manifest);
        }
      top = sv_image_writer_write_index (writer, manifests, error);
    }
  else
    {
      Platform host_platform = { arch, variant };
      top = write_image (opts, writer, &host_platform, error);
    }

  if (top == NULL)
    return FALSE;

  sv_image_writer_add_layout_entry (writer, top, opts->tag);
  return sv_image_writer_finish (writer, error);
}

static gboolean
list_applets (Options *opts, GError **error)
{
  const char *argv[] = { opts->busybox, "--list-full", NULL };
  g_autofree char *out = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                     &status, error)
      || !g_spawn_check_wait_status (status, error))
    {
      g_prefix_error (error, "cannot list the applets of %s: ", opts->busybox);
      return FALSE;
    }

  opts->applets = g_strsplit (g_strstrip (out), "\n", -1);
  return TRUE;
}

/* Checks that each --rootfs is a folder. Times come from the newest of their modification
 * times, so the same folders give the same digests. */
static gboolean
check_rootfs (Options *opts, GError **error)
{
  GStatBuf st;

  if (opts->two_layer || opts->multiarch)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "--rootfs cannot be combined with --two-layer or --multiarch");
      return FALSE;
    }

  opts->mtime = 0;
  for (char **dir = opts->rootfs; *dir; dir++)
    {
      if (g_stat (*dir, &st) != 0)
        {
          int saved_errno = errno;
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                       "cannot read --rootfs %s: %s", *dir, g_strerror (saved_errno));
          return FALSE;
        }
      if (!S_ISDIR (st.st_mode))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid --rootfs %s: not a folder", *dir);
          return FALSE;
        }
      opts->mtime = MAX (opts->mtime, (gint64)st.st_mtime);
    }

  return TRUE;
}

static gboolean
check_options (Options *opts, GError **error)
{
  GStatBuf st;

  if ((opts->output == NULL) == (opts->layout == NULL))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "give exactly one of --output FILE.tar or --layout DIR");
      return FALSE;
    }

  if (g_strcmp0 (opts->compression_name, "gzip") == 0)
    opts->compression = SV_LAYER_COMPRESSION_GZIP;
  else if (g_strcmp0 (opts->compression_name, "zstd") == 0)
    opts->compression = SV_LAYER_COMPRESSION_ZSTD;
  else
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid --compression \"%s\": use gzip or zstd", opts->compression_name);
      return FALSE;
    }

  if (opts->rootfs != NULL)
    return check_rootfs (opts, error);

  if (g_stat (opts->busybox, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                   "cannot read %s: %s; install Debian's busybox-static or give --busybox PATH",
                   opts->busybox, g_strerror (saved_errno));
      return FALSE;
    }

  /* Times come from the busybox binary, so the same inputs give the same digests. */
  opts->mtime = st.st_mtime;
  return list_applets (opts, error);
}

static gboolean
run (Options *opts, GError **error)
{
  g_autofree char *tmp = NULL;
  gboolean ok;

  if (!check_options (opts, error))
    return FALSE;

  if (opts->layout != NULL)
    return write_layout (opts, opts->layout, error);

  tmp = g_dir_make_tmp ("servin-mkimage-XXXXXX", error);
  if (tmp == NULL)
    return FALSE;

  ok = write_layout (opts, tmp, error)
       && sv_image_writer_write_layout_tar (tmp, opts->output, error);
  sv_fs_remove_tree (tmp, NULL);
  return ok;
}

int
main (int argc, char **argv)
{
  Options opts = { 0 };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opts.output,
      "Write an OCI image layout tar to FILE", "FILE" },
    { "layout", 0, 0, G_OPTION_ARG_FILENAME, &opts.layout,
      "Write an OCI image layout folder at DIR", "DIR" },
    { "tag", 't', 0, G_OPTION_ARG_STRING, &opts.tag,
      "Reference annotation of the image (default " DEFAULT_TAG ")", "REF" },
    { "compression", 0, 0, G_OPTION_ARG_STRING, &opts.compression_name,
      "Layer compression: gzip (default) or zstd", "NAME" },
    { "busybox", 0, 0, G_OPTION_ARG_FILENAME, &opts.busybox,
      "Static busybox binary to use (default /bin/busybox)", "PATH" },
    { "two-layer", 0, 0, G_OPTION_ARG_NONE, &opts.two_layer,
      "Add a second layer with a whiteout and an opaque folder", NULL },
    { "multiarch", 0, 0, G_OPTION_ARG_NONE, &opts.multiarch,
      "Write an index of a linux/arm64/v8 and a linux/amd64 image", NULL },
    { "rootfs", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts.rootfs,
      "Pack the files below DIR as one layer instead of busybox; repeat for more layers, "
      "bottom first",
      "DIR" },
    { NULL },
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("- build a busybox image, or an image of host folders, "
                                  "for Servin");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("servin-mkimage: %s\n", error->message);
      return 2;
    }

  if (opts.tag == NULL)
    opts.tag = g_strdup (DEFAULT_TAG);
  if (opts.busybox == NULL)
    opts.busybox = g_strdup ("/bin/busybox");
  if (opts.compression_name == NULL)
    opts.compression_name = g_strdup ("gzip");

  if (!run (&opts, &error))
    {
      g_printerr ("servin-mkimage: %s\n", error->message);
      return 1;
    }

  return 0;
}
