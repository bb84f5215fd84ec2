/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-runtime-module.h"

#include <dlfcn.h>

#include "sv-engine-error.h"

/* Loads servin-runtime-create.so from the folder of the running executable, where the build
 * and the installation both put it. */
const SvRuntimeModule *
sv_runtime_module_load (GError **error)
{
  static const SvRuntimeModule *module;
  g_autofree char *executable = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *path = NULL;
  void *handle;

  if (module)
    return module;
  executable = g_file_read_link ("/proc/self/exe", error);
  if (executable == NULL)
    {
      g_prefix_error (error, "cannot find the servin-runtime executable: ");
      return NULL;
    }
  folder = g_path_get_dirname (executable);
  path = g_build_filename (folder, SV_RUNTIME_MODULE_FILE, NULL);
  handle = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_NOT_FOUND,
                   "cannot load %s: %s; reinstall servin-runtime", path, dlerror ());
      return NULL;
    }
  module = dlsym (handle, SV_RUNTIME_MODULE_SYMBOL);
  if (module == NULL)
    g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                 "cannot find %s in %s; reinstall servin-runtime", SV_RUNTIME_MODULE_SYMBOL, path);
  return module;
}
