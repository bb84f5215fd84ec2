/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include "sv-client.h"

G_BEGIN_DECLS

/* docker's exit status for errors of the command line itself and for run
 * failing before the container starts. */
#define SV_CLI_EXIT_USAGE 125

typedef struct _SvCliCommand SvCliCommand;

/* One command as the user invoked it: @path is "servin image ls" when the
 * user typed that, and @argv starts after the command's name. */
typedef struct
{
  const SvCliCommand *command;
  const char *path;
  int argc;
  char **argv;
} SvCliInvocation;

struct _SvCliCommand
{
  const char *name;
  const char *usage; /* the arguments after the command's name */
  const char *summary;
  int (*run) (const SvCliInvocation *invocation);
};

typedef enum
{
  SV_CLI_OPTION_BOOL,   /* gboolean */
  SV_CLI_OPTION_STRING, /* char *, freed by the caller */
  SV_CLI_OPTION_LIST,   /* GPtrArray * of char *, created on first use */
  SV_CLI_OPTION_INT,    /* int */
} SvCliOptionType;

typedef struct
{
  const char *long_name;
  char short_name; /* 0 when the option has none */
  SvCliOptionType type;
  gpointer value;
  const char *arg_name; /* shown in --help, as "string" or "list" in docker */
  const char *description;
} SvCliOption;

typedef enum
{
  SV_CLI_PARSE_INTERSPERSED = 0,
  /* Options end at the first argument, so "run IMAGE ls -l" passes -l on. */
  SV_CLI_PARSE_STOP_AT_ARGUMENT = 1 << 0,
} SvCliParseFlags;

/* sv-cli-options.c */
GPtrArray *sv_cli_parse (const SvCliInvocation *invocation, const SvCliOption *options,
                         SvCliParseFlags flags, guint min_args, int max_args, const char *arg_names,
                         int *exit_code);
void sv_cli_print_help (const SvCliInvocation *invocation, const SvCliOption *options);
int sv_cli_usage_error (const SvCliInvocation *invocation, const char *format, ...)
    G_GNUC_PRINTF (2, 3);

/* Resource limit flags of run and create (sv-cli-limits.c). */
typedef struct
{
  char *memory;       /* -m, --memory SIZE */
  char *memory_swap;  /* --memory-swap SIZE or -1 */
  int pids_limit;     /* --pids-limit N, 0 when not given */
  char *cpus;         /* --cpus DECIMAL */
  int cpu_shares;     /* -c, --cpu-shares N, 0 when not given */
  GPtrArray *ulimits; /* --ulimit NAME=SOFT[:HARD], repeatable */
  gboolean ignore_unsupported;
} SvCliLimitOptions;

void sv_cli_limit_options_clear (SvCliLimitOptions *options);
gboolean sv_cli_limits_add_to_config (const SvCliLimitOptions *options, GVariantDict *dict,
                                      GError **error);

/* sv-cli-common.c */
void sv_cli_set_error_prefix (gboolean prefix);
void sv_cli_print_error (const GError *error);
void sv_cli_print_message (const char *format, ...) G_GNUC_PRINTF (1, 2);
GDBusObjectManager *sv_cli_connect (void);
void sv_cli_stop_polkit_agent (void);
SvDBusManager *sv_cli_get_manager (GDBusObjectManager *objects);
gboolean sv_cli_write_all (int fd, const void *data, gsize length, GError **error);
gboolean sv_cli_copy_framed (int fd, GError **error);
int sv_cli_container_exit_status (int exit_code);

typedef struct _SvCliTable SvCliTable;
SvCliTable *sv_cli_table_new (guint columns);
void sv_cli_table_add_row (SvCliTable *table, ...) G_GNUC_NULL_TERMINATED;
void sv_cli_table_print (SvCliTable *table, FILE *out);
void sv_cli_table_free (SvCliTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SvCliTable, sv_cli_table_free)

/* Commands, by group. */
int sv_cli_run (const SvCliInvocation *invocation);
int sv_cli_create (const SvCliInvocation *invocation);
int sv_cli_start (const SvCliInvocation *invocation);
int sv_cli_attach_and_wait (GDBusObjectManager *objects, SvDBusContainer *container,
                            gboolean interactive, gboolean start);

int sv_cli_ps (const SvCliInvocation *invocation);
int sv_cli_logs (const SvCliInvocation *invocation);
int sv_cli_stop (const SvCliInvocation *invocation);
int sv_cli_kill (const SvCliInvocation *invocation);
int sv_cli_rm (const SvCliInvocation *invocation);
int sv_cli_wait (const SvCliInvocation *invocation);

int sv_cli_pull (const SvCliInvocation *invocation);
int sv_cli_images (const SvCliInvocation *invocation);
int sv_cli_rmi (const SvCliInvocation *invocation);
int sv_cli_load (const SvCliInvocation *invocation);
gboolean sv_cli_pull_image (GDBusObjectManager *objects, SvDBusManager *manager,
                            const char *reference, const char *platform, FILE *out, GError **error);

int sv_cli_version (const SvCliInvocation *invocation);
int sv_cli_daemon (const SvCliInvocation *invocation);
int sv_cli_inspect (const SvCliInvocation *invocation);

G_END_DECLS
