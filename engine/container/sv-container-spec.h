/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "sv-container-resources.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* PATH given to a container whose image and options set none (Docker's default). */
#define SV_CONTAINER_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The user a container process runs as, resolved from a "user[:group]" text. */
typedef struct
{
  uid_t uid;
  gid_t gid;
  GArray *additional_gids; /* of gid_t: the primary group, then the groups listing the user */
  char *home;              /* from the passwd entry, "/" without one */
} SvContainerUser;

void sv_container_user_clear (SvContainerUser *user);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SvContainerUser, sv_container_user_clear)

/* Input of the OCI runtime configuration of one container. */
typedef struct
{
  const char *id;
  JsonObject *config;             /* from sv_container_spec_merge_config () */
  const char *const *layer_paths; /* top layer first; /etc/passwd and /etc/group come from here */
  const char *cgroup_parent;      /* linux.cgroupsPath becomes "CGROUP_PARENT/ID" */
  JsonObject *host_config;        /* nullable: from sv_container_resources_from_options () */
  const SvCgroupSupport *cgroup_support; /* nullable: every limit is enforceable */
  const struct rlimit *host_rlimits;     /* nullable: RLIM_NLIMITS limits that hard rlimits are
                                          * lowered to */
  const char *etc_folder;                /* nullable: host folder whose hostname and hosts files are
                                          * bind-mounted at /etc/hostname and /etc/hosts */
} SvContainerSpecInput;

JsonObject *sv_container_spec_merge_config (JsonObject *image_config, GVariant *options,
                                            const char *id, GError **error);
char **sv_container_spec_get_args (JsonObject *config);
char *sv_container_spec_find_layer_file (const char *const *layer_paths, const char *path);
gboolean sv_container_spec_resolve_user (const char *const *layer_paths, const char *user,
                                         SvContainerUser *out, GError **error);
JsonObject *sv_container_spec_generate (const SvContainerSpecInput *input, GError **error);
void sv_container_spec_get_host_rlimits (struct rlimit limits[RLIM_NLIMITS]);

G_END_DECLS
