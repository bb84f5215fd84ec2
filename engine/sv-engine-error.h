/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <unistd.h>

G_BEGIN_DECLS

#define SV_ENGINE_ERROR (sv_engine_error_quark ())

/* Error codes that clients can act on; servind maps each to a D-Bus error name. */
typedef enum
{
  SV_ENGINE_ERROR_FAILED,
  SV_ENGINE_ERROR_NOT_FOUND,
  SV_ENGINE_ERROR_CONFLICT,
  SV_ENGINE_ERROR_INVALID_ARGUMENT,
  SV_ENGINE_ERROR_DIGEST_MISMATCH,
  SV_ENGINE_ERROR_UNREACHABLE,
  SV_ENGINE_ERROR_UNSAFE_PATH,
  SV_ENGINE_ERROR_UNSUPPORTED,
  SV_ENGINE_ERROR_NOT_RUNNING,
  SV_ENGINE_ERROR_AUTHENTICATION_FAILED,
} SvEngineError;

GQuark sv_engine_error_quark (void);

/* A file descriptor closed when it goes out of scope: g_auto(SvFd) fd = -1; */
typedef int SvFd;

static inline void
sv_fd_close (SvFd fd)
{
  if (fd >= 0)
    close (fd);
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (SvFd, sv_fd_close, -1)

static inline int
sv_steal_fd (int *fd)
{
  int ret = *fd;
  *fd = -1;
  return ret;
}

G_END_DECLS
