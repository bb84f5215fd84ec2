/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sv-runtime-devices.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sv-engine-error.h"

/* The rules runc adds after the configured ones (runc 1.1, libcontainer/specconv), so that a
 * container can always create and use these nodes. */
static const SvDeviceRule default_rules[] = {
  { TRUE, 'c', -1, -1, SV_DEVICE_MKNOD }, /* mknod of any node */
  { TRUE, 'b', -1, -1, SV_DEVICE_MKNOD }, { TRUE, 'c', 1, 3, SV_DEVICE_ALL }, /* null */
  { TRUE, 'c', 1, 8, SV_DEVICE_ALL },                                         /* random */
  { TRUE, 'c', 1, 7, SV_DEVICE_ALL },                                         /* full */
  { TRUE, 'c', 5, 0, SV_DEVICE_ALL },                                         /* tty */
  { TRUE, 'c', 1, 5, SV_DEVICE_ALL },                                         /* zero */
  { TRUE, 'c', 1, 9, SV_DEVICE_ALL },                                         /* urandom */
  { TRUE, 'c', 5, 1, SV_DEVICE_ALL },                                         /* console */
  { TRUE, 'c', 136, -1, SV_DEVICE_ALL },                                      /* pts */
  { TRUE, 'c', 5, 2, SV_DEVICE_ALL },                                         /* ptmx */
  { TRUE, 'c', 10, 200, SV_DEVICE_ALL },                                      /* net/tun */
};

/* Collects the rules in the order they apply: linux.resources.devices, then an allow rule for
 * each node of linux.devices, then runc's defaults. A later rule overrides an earlier one. */
static GArray *
collect_rules (const SvResources *resources, GPtrArray *devices)
{
  GArray *rules = g_array_new (FALSE, TRUE, sizeof (SvDeviceRule));

  g_array_append_vals (rules, resources->device_rules->data, resources->device_rules->len);
  for (guint i = 0; devices && i < devices->len; i++)
    {
      const SvDevice *device = g_ptr_array_index (devices, i);
      SvDeviceRule rule = { TRUE, 'c', major (device->rdev), minor (device->rdev), SV_DEVICE_ALL };

      if (!S_ISCHR (device->mode) && !S_ISBLK (device->mode))
        continue;
      rule.type = S_ISCHR (device->mode) ? 'c' : 'b';
      g_array_append_val (rules, rule);
    }
  g_array_append_vals (rules, default_rules, G_N_ELEMENTS (default_rules));
  return rules;
}

/* Formats a rule as a line for a v1 devices.allow or devices.deny file: "c 1:3 rwm" or "a". */
static char *
format_v1_rule (const SvDeviceRule *rule)
{
  g_autofree char *major_text = NULL, *minor_text = NULL;

  if (rule->type == 'a')
    return g_strdup ("a");
  major_text
      = rule->major < 0 ? g_strdup ("*") : g_strdup_printf ("%" G_GINT64_FORMAT, rule->major);
  minor_text
      = rule->minor < 0 ? g_strdup ("*") : g_strdup_printf ("%" G_GINT64_FORMAT, rule->minor);
  return g_strdup_printf ("%c %s:%s %s%s%s", rule->type, major_text, minor_text,
                          rule->access & SV_DEVICE_READ ? "r" : "",
                          rule->access & SV_DEVICE_WRITE ? "w" : "",
                          rule->access & SV_DEVICE_MKNOD ? "m" : "");
}

static gboolean
apply_v1 (const char *folder, GArray *rules, GError **error)
{
  for (guint i = 0; i < rules->len; i++)
    {
      const SvDeviceRule *rule = &g_array_index (rules, SvDeviceRule, i);
      g_autofree char *line = format_v1_rule (rule);
      g_autofree char *path
          = g_build_filename (folder, rule->allow ? "devices.allow" : "devices.deny", NULL);
      g_auto (SvFd) fd = open (path, O_WRONLY | O_CLOEXEC);

      if (fd < 0 || write (fd, line, strlen (line)) < 0)
        {
          int saved_errno = errno;
          g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                       "cannot write device rule %s to %s: %s", line, path,
                       g_strerror (saved_errno));
          return FALSE;
        }
    }
  return TRUE;
}

static void
emit (GArray *program, guint8 code, guint8 dst, guint8 src, gint16 off, gint32 imm)
{
  struct bpf_insn insn = { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
  g_array_append_val (program, insn);
}

/* Emits the test of one rule: jumps past the block unless the request matches, then returns
 * the rule's verdict. Registers: r2 device type, r3 requested access, r4 major, r5 minor.
 * Returns FALSE when the rule matches every request, so that nothing after it is reachable. */
static gboolean
emit_rule (GArray *program, const SvDeviceRule *rule)
{
  gboolean check_type = rule->type != 'a';
  gboolean check_access = rule->access != SV_DEVICE_ALL;
  gboolean check_major = rule->type != 'a' && rule->major >= 0;
  gboolean check_minor = rule->type != 'a' && rule->minor >= 0;
  int length = check_type + 3 * check_access + check_major + check_minor + 2;
  int done = 0;

  if (check_type)
    {
      emit (program, BPF_JMP | BPF_JNE | BPF_K, 2, 0, length - done - 1,
            rule->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
      done++;
    }
  if (check_access)
    {
      /* An allow rule must cover every requested access, and a deny rule hits any of its own. */
      emit (program, BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0, 0);
      emit (program, BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0,
            rule->allow ? (~rule->access & SV_DEVICE_ALL) : rule->access);
      done += 2;
      emit (program, BPF_JMP | (rule->allow ? BPF_JNE : BPF_JEQ) | BPF_K, 1, 0, length - done - 1,
            0);
      done++;
    }
  if (check_major)
    {
      emit (program, BPF_JMP | BPF_JNE | BPF_K, 4, 0, length - done - 1, rule->major);
      done++;
    }
  if (check_minor)
    {
      emit (program, BPF_JMP | BPF_JNE | BPF_K, 5, 0, length - done - 1, rule->minor);
      done++;
    }
  emit (program, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, rule->allow);
  emit (program, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return length > 2;
}

/* Builds a BPF_PROG_TYPE_CGROUP_DEVICE program with the v1 semantics: the last rule that matches
 * a request decides, and a request that no rule matches is allowed, as in a new v1 cgroup. */
static GArray *
build_program (GArray *rules)
{
  GArray *program = g_array_new (FALSE, TRUE, sizeof (struct bpf_insn));

  /* struct bpf_cgroup_dev_ctx: access_type is (access << 16) | type, then major and minor. */
  emit (program, BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0);
  emit (program, BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
  emit (program, BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0);
  emit (program, BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16);
  emit (program, BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0);
  emit (program, BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0);
  for (guint i = rules->len; i > 0; i--)
    if (!emit_rule (program, &g_array_index (rules, SvDeviceRule, i - 1)))
      return program;
  emit (program, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
  emit (program, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return program;
}

/* Loads the program and attaches it to the cgroup2 folder. The attachment keeps the program
 * alive after its descriptor closes, for as long as the cgroup exists. */
static int
load_program (GArray *program, char *log, guint32 log_size)
{
  static char license[] = "GPL";
  union bpf_attr load = { 0 };

  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (guint64)(guintptr)program->data;
  load.insn_cnt = program->len;
  load.license = (guint64)(guintptr)license;
  load.log_buf = (guint64)(guintptr)log;
  load.log_size = log ? log_size : 0;
  load.log_level = log ? 1 : 0;
  return syscall (SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
}

static gboolean
attach_program (const char *folder, GArray *program, GError **error)
{
  union bpf_attr attach = { 0 };
  g_auto (SvFd) cgroup_fd = open (folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_auto (SvFd) program_fd = load_program (program, NULL, 0);

  if (program_fd < 0 || cgroup_fd < 0)
    {
      int saved_errno = errno;
      g_autofree char *log = g_malloc0 (65536);

      /* Load again with the verifier's log, which is only needed to explain a failure. */
      if (program_fd < 0)
        close (load_program (program, log, 65536));
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot load the cgroup2 device filter for %s: %s%s%s", folder,
                   g_strerror (saved_errno), *log ? "\n" : "", log);
      return FALSE;
    }

  attach.target_fd = cgroup_fd;
  attach.attach_bpf_fd = program_fd;
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall (SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, SV_ENGINE_ERROR, SV_ENGINE_ERROR_FAILED,
                   "cannot attach the device filter to cgroup %s: %s", folder,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* Restricts the devices the container may create and open: through the v1 devices controller
 * when there is one, and through a device filter program on the cgroup2 folder when there is
 * one. A hybrid host gets both, and a request must pass both. */
gboolean
sv_devices_apply (const char *v1_folder, const char *v2_folder, const SvResources *resources,
                  GPtrArray *devices, GError **error)
{
  g_autoptr (GArray) rules = NULL;
  g_autoptr (GArray) program = NULL;

  if (resources->device_rules == NULL || resources->device_rules->len == 0)
    return TRUE;
  rules = collect_rules (resources, devices);
  if (v1_folder && !apply_v1 (v1_folder, rules, error))
    return FALSE;
  if (v2_folder == NULL)
    return TRUE;
  program = build_program (rules);
  if (v1_folder == NULL)
    return attach_program (v2_folder, program, error);

  /* The v1 controller already enforces the rules, so a host that forbids loading BPF programs,
   * such as a container without CAP_SYS_ADMIN over BPF, still gets protected containers. */
  {
    g_autoptr (GError) local_error = NULL;

    if (!attach_program (v2_folder, program, &local_error))
      g_warning ("%s; the v1 devices controller enforces the device rules alone",
                 local_error->message);
  }
  return TRUE;
}
