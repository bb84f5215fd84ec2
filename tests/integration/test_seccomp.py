# SPDX-License-Identifier: GPL-2.0-or-later
"""The default seccomp profile in real containers, with servin-runtime and
with runc: the filter is loaded, a syscall outside the allowlist fails with
EPERM, everyday commands and glibc threads still work, --security-opt
seccomp=unconfined turns the filter off, and a missing or broken profile file
stops the container with an error that names the file."""

import json
import os
import shutil
import subprocess
import uuid

import pytest

import runtime_bundle
from servin_testlib.servind import BUILD_ROOT, SAMPLE_ARCHIVE, SERVIN, SERVIND, SOURCE_ROOT, Servind

SAMPLE = "servin/sample"
USAGE_EXIT = 125
RUNC = shutil.which("runc", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
CC = shutil.which("cc")
SERVIN_RUNTIME = os.path.join(BUILD_ROOT, "engine", "runtime", "servin-runtime")

# glibc 2.34 and later try clone3 first for a thread and fall back to clone on ENOSYS.
THREAD_PROGRAM = r"""
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void *
thread_main (void *arg)
{
  return arg;
}

int
main (void)
{
  pthread_t thread;
  void *result;
  int status;
  pid_t pid;

  if (pthread_create (&thread, NULL, thread_main, (void *)42) != 0)
    return 1;
  pthread_join (thread, &result);
  pid = fork ();
  if (pid == 0)
    _exit (7);
  waitpid (pid, &status, 0);
  printf ("thread %ld fork %d\n", (long)result, WEXITSTATUS (status));
  return 0;
}
"""

pytestmark = pytest.mark.skipif(not os.path.exists(SERVIND),
                                reason="servind is not built in this tree")

RUNTIMES = [
    pytest.param("servin-runtime", id="servin-runtime"),
    pytest.param("runc", id="runc",
                 marks=pytest.mark.skipif(RUNC is None, reason="runc is not installed")),
]


def user_namespaces_allowed():
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            return int(f.read()) > 0
    except OSError:
        return True


@pytest.fixture(params=RUNTIMES)
def daemon(request, bus):
    servind = Servind(bus, runtime=request.param)
    try:
        servind.start()
        servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
        yield servind
    finally:
        servind.cleanup()


def run(daemon, *args):
    return daemon.servin("run", "--rm", *args)


def seccomp_mode(daemon, *flags):
    out = run(daemon, *flags, SAMPLE, "grep", "^Seccomp:", "/proc/self/status")
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout.decode().split()[1]


def test_filter_loaded(daemon):
    assert seccomp_mode(daemon) == "2"


def test_unconfined_has_no_filter(daemon):
    assert seccomp_mode(daemon, "--security-opt", "seccomp=unconfined") == "0"


# A new user namespace needs no capability, so only the filter stops it.
@pytest.mark.skipif(not user_namespaces_allowed(), reason="the host allows no user namespaces")
def test_unshare_blocked_with_eperm(daemon):
    blocked = run(daemon, SAMPLE, "unshare", "-U", "true")
    assert blocked.returncode != 0
    assert b"unshare(0x10000000): Operation not permitted" in blocked.stderr

    allowed = run(daemon, "--security-opt", "seccomp=unconfined", SAMPLE, "unshare", "-U", "true")
    assert allowed.returncode == 0, allowed.stderr.decode()


def test_everyday_commands_work(daemon):
    script = ("set -e; ls / >/dev/null; ps >/dev/null; sleep 0.1; date >/dev/null; id -u; "
              "echo data >/tmp/f; cat /tmp/f; mkdir /tmp/d; mv /tmp/f /tmp/d/g; "
              "chown 1:1 /tmp/d/g; chmod 600 /tmp/d/g; rm -r /tmp/d; "
              "sh -c 'exit 3' || echo child $?; (sleep 0.1 &) ; wait; hostname >/dev/null")
    out = run(daemon, SAMPLE, "sh", "-c", script)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().split() == ["0", "data", "child", "3"]


def test_chroot_allowed_with_default_capability(daemon):
    # CAP_SYS_CHROOT is in Docker's default set, so its syscall group is in the filter.
    out = run(daemon, SAMPLE, "chroot", "/", "true")
    assert out.returncode == 0, out.stderr.decode()


def test_invalid_security_opt():
    out = subprocess.run([SERVIN, "run", "--security-opt", "apparmor=unconfined", SAMPLE, "true"],
                         capture_output=True)
    assert out.returncode == USAGE_EXIT
    assert (b'invalid argument "apparmor=unconfined" for "--security-opt" flag: only '
            b"seccomp=unconfined is supported") in out.stderr


@pytest.mark.parametrize("contents, message", [
    (None, "No such file or directory"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [', "invalid seccomp profile"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read"}]}',
     "syscalls[0].names must be a non-empty array"),
])
def test_broken_profile_is_an_error(bus, tmp_path, monkeypatch, contents, message):
    data = tmp_path / "data"
    data.mkdir()
    profile = data / "seccomp-default.json"
    if contents is not None:
        profile.write_text(contents)
    monkeypatch.setenv("SERVIN_SOURCE_ROOT", str(tmp_path))
    servind = Servind(bus)
    try:
        servind.start()
        servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
        out = servind.servin("run", "--rm", SAMPLE, "true")
        assert out.returncode == USAGE_EXIT
        assert str(profile).encode() in out.stderr
        assert message.encode() in out.stderr

        # Unconfined containers need no profile.
        out = servind.servin("run", "--rm", "--security-opt", "seccomp=unconfined", SAMPLE, "true")
        assert out.returncode == 0, out.stderr.decode()

        # A repaired file is read at the next start, without restarting servind.
        shutil.copy(os.path.join(SOURCE_ROOT, "data", "seccomp-default.json"), profile)
        out = servind.servin("run", "--rm", SAMPLE, "grep", "^Seccomp:", "/proc/self/status")
        assert out.returncode == 0, out.stderr.decode()
        assert out.stdout.decode().split() == ["Seccomp:", "2"]
    finally:
        servind.cleanup()


def find_config(state):
    for root, _dirs, files in os.walk(state):
        if "config.json" in files:
            with open(os.path.join(root, "config.json")) as f:
                return json.load(f)
    raise AssertionError(f"no config.json below {state}")


@pytest.mark.skipif(CC is None, reason="no C compiler to build the thread test program")
def test_glibc_threads_under_engine_filter(daemon, tmp_path):
    """The engine's linux.seccomp runs a static glibc program that starts a thread and forks."""
    out = daemon.servin("run", "-d", SAMPLE, "sleep", "30")
    assert out.returncode == 0, out.stderr.decode()
    seccomp = find_config(daemon.state)["linux"]["seccomp"]
    assert seccomp["defaultAction"] == "SCMP_ACT_ERRNO"

    source = tmp_path / "thread.c"
    source.write_text(THREAD_PROGRAM)
    rootfs = tmp_path / "bundle" / "rootfs"
    runtime_bundle.make_rootfs(str(rootfs))
    build = subprocess.run([CC, "-static", "-pthread", "-o", str(rootfs / "thread"), str(source)],
                           capture_output=True, text=True)
    if build.returncode != 0:
        pytest.skip("cannot link a static glibc program: " + build.stderr)
    config = runtime_bundle.make_config(["/thread"], str(rootfs))
    config["linux"]["seccomp"] = seccomp
    runtime_bundle.write_bundle(str(tmp_path / "bundle"), config)

    runtime = RUNC if daemon.runtime == "runc" else SERVIN_RUNTIME
    out = subprocess.run([runtime, "run", "--bundle", str(tmp_path / "bundle"),
                          "svt-" + uuid.uuid4().hex[:8]], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "thread 42 fork 7"
