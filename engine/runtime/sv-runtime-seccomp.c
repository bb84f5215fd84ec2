/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-runtime-seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sv-engine-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (scmp_filter_ctx, seccomp_release)

static const struct
{
  const char *name;
  enum scmp_compare op;
} operators[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE },
  { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct
{
  const char *name;
  unsigned int flag;
} filter_flag_names[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
};

static gint64
member_int (JsonObject *object, const char *name, gint64 fallback)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);
  return fallback;
}

static const char *
member_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return NULL;
}

static JsonArray *
member_array (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* Maps an OCI action name to a libseccomp action. errno_ret is the errnoRet member, or -1. */
static gboolean
parse_action (const char *name, gint64 errno_ret, uint32_t *action, GError **error)
{
  int value = errno_ret >= 0 ? (int)errno_ret : EPERM;

  if (g_strcmp0 (name, "SCMP_ACT_ALLOW") == 0)
    *action = SCMP_ACT_ALLOW;
  else if (g_strcmp0 (name, "SCMP_ACT_ERRNO") == 0)
    *action = SCMP_ACT_ERRNO (value);
  else if (g_strcmp0 (name, "SCMP_ACT_KILL") == 0 || g_strcmp0 (name, "SCMP_ACT_KILL_THREAD") == 0)
    *action = SCMP_ACT_KILL_THREAD;
  else if (g_strcmp0 (name, "SCMP_ACT_KILL_PROCESS") == 0)
    *action = SCMP_ACT_KILL_PROCESS;
  else if (g_strcmp0 (name, "SCMP_ACT_TRAP") == 0)
    *action = SCMP_ACT_TRAP;
  else if (g_strcmp0 (name, "SCMP_ACT_TRACE") == 0)
    *action = SCMP_ACT_TRACE (value);
  else if (g_strcmp0 (name, "SCMP_ACT_LOG") == 0)
    *action = SCMP_ACT_LOG;
  else
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                   "unsupported seccomp action %s in linux.seccomp", name ? name : "(missing)");
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_arg (JsonObject *arg, struct scmp_arg_cmp *cmp, GError **error)
{
  const char *op = arg ? member_string (arg, "op") : NULL;

  if (arg == NULL)
    return FALSE;
  cmp->arg = member_int (arg, "index", 0);
  cmp->datum_a = member_int (arg, "value", 0);
  cmp->datum_b = member_int (arg, "valueTwo", 0);
  cmp->op = 0;
  for (guint i = 0; op && i < G_N_ELEMENTS (operators); i++)
    if (g_str_equal (op, operators[i].name))
      cmp->op = operators[i].op;
  if (cmp->op == 0 || cmp->arg > 5)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid linux.seccomp argument rule: op %s, index %u", op ? op : "(missing)",
                   cmp->arg);
      return FALSE;
    }
  return TRUE;
}

/* Adds one rule per syscall name. Conditions on the same argument cannot share a libseccomp
 * rule, so those become one rule per condition, as runc does. */
static gboolean
add_rule (scmp_filter_ctx ctx, uint32_t default_action, JsonObject *rule, GError **error)
{
  JsonArray *names = member_array (rule, "names");
  JsonArray *args = member_array (rule, "args");
  struct scmp_arg_cmp conds[6];
  guint n_conds = args ? json_array_get_length (args) : 0;
  gboolean same_index = FALSE;
  uint32_t action;

  if (!parse_action (member_string (rule, "action"), member_int (rule, "errnoRet", -1), &action,
                     error))
    return FALSE;
  if (action == default_action)
    return TRUE;
  if (n_conds > G_N_ELEMENTS (conds))
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                   "invalid linux.seccomp rule: %u argument conditions, at most 6 allowed",
                   n_conds);
      return FALSE;
    }
  for (guint i = 0; i < n_conds; i++)
    {
      if (!parse_arg (json_array_get_object_element (args, i), &conds[i], error))
        return FALSE;
      for (guint j = 0; j < i; j++)
        if (conds[j].arg == conds[i].arg)
          same_index = TRUE;
    }

  for (guint i = 0; names && i < json_array_get_length (names); i++)
    {
      const char *name = json_array_get_string_element (names, i);
      int nr = name ? seccomp_syscall_resolve_name (name) : __NR_SCMP_ERROR;
      int rc = 0;

      /* Profiles list syscalls of newer kernels and other architectures, which are skipped. */
      if (nr == __NR_SCMP_ERROR)
        continue;
      if (same_index)
        for (guint j = 0; j < n_conds && rc == 0; j++)
          rc = seccomp_rule_add_array (ctx, action, nr, 1, &conds[j]);
      else
        rc = seccomp_rule_add_array (ctx, action, nr, n_conds, conds);
      if (rc < 0)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "cannot add the seccomp rule for %s: %s", name, g_strerror (-rc));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
add_architectures (scmp_filter_ctx ctx, JsonArray *architectures, GError **error)
{
  for (guint i = 0; architectures && i < json_array_get_length (architectures); i++)
    {
      const char *name = json_array_get_string_element (architectures, i);
      g_autofree char *lower = NULL;
      uint32_t arch;
      int rc;

      if (name == NULL || !g_str_has_prefix (name, "SCMP_ARCH_"))
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                       "invalid linux.seccomp architecture %s", name ? name : "(missing)");
          return FALSE;
        }
      lower = g_ascii_strdown (name + strlen ("SCMP_ARCH_"), -1);
      arch = seccomp_arch_resolve_name (lower);
      if (arch == 0)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                       "unknown linux.seccomp architecture %s", name);
          return FALSE;
        }
      rc = seccomp_arch_add (ctx, arch);
      if (rc < 0 && rc != -EEXIST)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                       "cannot add seccomp architecture %s: %s", name, g_strerror (-rc));
          return FALSE;
        }
    }
  return TRUE;
}

/* Reads back the BPF program that libseccomp writes to a file descriptor. */
static GBytes *
export_bpf (scmp_filter_ctx ctx, GError **error)
{
  g_auto (SvFd) fd = memfd_create ("seccomp-bpf", MFD_CLOEXEC);
  g_autoptr (GByteArray) program = g_byte_array_new ();
  guint8 buffer[4096];
  ssize_t n;
  int rc;

  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot create a memory file for the seccomp filter: %s",
                   g_strerror (saved_errno));
      return NULL;
    }
  rc = seccomp_export_bpf (ctx, fd);
  if (rc < 0 || lseek (fd, 0, SEEK_SET) < 0)
    {
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot compile the seccomp filter: %s", g_strerror (rc < 0 ? -rc : errno));
      return NULL;
    }
  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    g_byte_array_append (program, buffer, n);
  return g_byte_array_free_to_bytes (g_steal_pointer (&program));
}

/* Sets filter_flags to the SECCOMP_FILTER_FLAG_* bits named in linux.seccomp.flags. */
gboolean
sv_seccomp_parse_flags (JsonObject *seccomp, unsigned int *filter_flags, GError **error)
{
  JsonArray *flags = member_array (seccomp, "flags");

  *filter_flags = 0;
  for (guint i = 0; flags && i < json_array_get_length (flags); i++)
    {
      const char *name = json_array_get_string_element (flags, i);
      gboolean known = FALSE;

      for (guint j = 0; name && j < G_N_ELEMENTS (filter_flag_names); j++)
        if (g_str_equal (name, filter_flag_names[j].name))
          {
            *filter_flags |= filter_flag_names[j].flag;
            known = TRUE;
          }
      if (!known)
        {
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_UNSUPPORTED,
                       "unsupported linux.seccomp flag %s", name ? name : "(missing)");
          return FALSE;
        }
    }
  return TRUE;
}

/* Compiles linux.seccomp into a BPF program for seccomp(2), so the container process only has to
 * load it. filter_flags receives the SECCOMP_FILTER_FLAG_* bits from "flags". */
GBytes *
sv_seccomp_compile (JsonObject *seccomp, unsigned int *filter_flags, GError **error)
{
  g_autoptr (scmp_filter_ctx) ctx = NULL;
  JsonArray *rules = member_array (seccomp, "syscalls");
  uint32_t default_action;

  *filter_flags = 0;
  if (!parse_action (member_string (seccomp, "defaultAction"),
                     member_int (seccomp, "defaultErrnoRet", -1), &default_action, error))
    {
      g_prefix_error (error, "invalid linux.seccomp.defaultAction: ");
      return NULL;
    }
  ctx = seccomp_init (default_action);
  if (ctx == NULL)
    {
      g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                           "cannot create a seccomp filter: libseccomp failed to initialize");
      return NULL;
    }
  /* servin-runtime sets no_new_privs itself when process.noNewPrivileges is true. */
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);

  if (!add_architectures (ctx, member_array (seccomp, "architectures"), error))
    return NULL;
  for (guint i = 0; rules && i < json_array_get_length (rules); i++)
    {
      JsonObject *rule = json_array_get_object_element (rules, i);

      if (rule == NULL)
        {
          g_set_error_literal (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_INVALID_ARGUMENT,
                               "invalid linux.seccomp: syscalls must be an array of objects");
          return NULL;
        }
      if (!add_rule (ctx, default_action, rule, error))
        return NULL;
    }
  if (!sv_seccomp_parse_flags (seccomp, filter_flags, error))
    return NULL;
  return export_bpf (ctx, error);
}
