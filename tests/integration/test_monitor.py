# SPDX-License-Identifier: GPL-2.0-or-later
"""servin-monitor against real containers.

Each test builds an OCI bundle from Debian's busybox-static, starts the
monitor through a sync pipe and talks to its control socket the way servind
does. The tests run once with runc and once with servin-runtime when that
is built. Every test has its own state folder, runtime root and cgroup
parent, and removes the processes and cgroups it created, by pid.
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import uuid

import pytest

BUILD_ROOT = os.environ.get(
    "SERVIN_BUILD_ROOT",
    os.path.join(os.path.dirname(__file__), "..", "..", "build"))
MONITOR = os.path.join(BUILD_ROOT, "engine", "monitor", "servin-monitor")
SERVIN_RUNTIME = os.path.join(BUILD_ROOT, "engine", "runtime", "servin-runtime")
RUNC = shutil.which("runc", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
BUSYBOX = "/bin/busybox"

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
LOG_LINE_MAX = 16 * 1024

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="containers need root"),
    pytest.mark.skipif(not os.path.exists(MONITOR), reason=f"{MONITOR} is not built"),
    pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox-static is not installed"),
]

RUNTIMES = [
    pytest.param(RUNC, id="runc",
                 marks=pytest.mark.skipif(RUNC is None, reason="runc is not installed")),
    pytest.param(SERVIN_RUNTIME, id="servin-runtime",
                 marks=pytest.mark.skipif(not os.path.exists(SERVIN_RUNTIME),
                                          reason="servin-runtime is not built")),
]


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory):
    """A read-only busybox root filesystem shared by all bundles."""
    root = tmp_path_factory.mktemp("busybox-rootfs")
    for name in ("bin", "dev", "proc", "sys", "tmp", "etc"):
        (root / name).mkdir()
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            os.symlink("busybox", root / "bin" / applet)
    return str(root)


@pytest.fixture(scope="session")
def spec_template(tmp_path_factory):
    """The default config.json of `runc spec`."""
    folder = tmp_path_factory.mktemp("spec")
    subprocess.run([RUNC or "runc", "spec", "--bundle", str(folder)], check=True)
    with open(folder / "config.json") as f:
        return json.load(f)


def pid_alive(pid):
    """Return whether PID runs and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def wait_for(condition, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def own_cgroup_dirs(name):
    """Return the folders NAME has (or would have) in every cgroup hierarchy
    below this process's own cgroup, where runc puts a relative cgroupsPath."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            own[controllers] = path
    dirs = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            fields = left.split()
            mount_root, mount_point = fields[3], fields[4]
            fstype, _, options = right.split()[:3]
            if fstype == "cgroup2":
                key = ""
            elif fstype == "cgroup":
                options = set(options.split(","))
                key = next((k for k in own if k and set(k.split(",")) <= options), None)
            else:
                continue
            if key is None or key not in own:
                continue
            path = own[key]
            if mount_root != "/" and path.startswith(mount_root):
                path = path[len(mount_root):]
            dirs.append(os.path.join(mount_point, path.lstrip("/"), name))
    return dirs


def remove_cgroup_tree(folder):
    if not os.path.isdir(folder):
        return
    for dirpath, _, _ in os.walk(folder, topdown=False):
        for attempt in range(50):
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


def read_frames(sock, timeout=30.0):
    """Read Docker stream frames from SOCK until end of file and return the
    list of (stream, payload) pairs."""
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    frames = []
    offset = 0
    while offset < len(data):
        assert len(data) - offset >= 8, f"truncated frame header at byte {offset}"
        stream, zero1, zero2, zero3, size = struct.unpack(">BBBBI", data[offset:offset + 8])
        assert (zero1, zero2, zero3) == (0, 0, 0), f"frame header {data[offset:offset + 8]!r}"
        assert stream in (1, 2), f"frame stream byte {stream}"
        payload = data[offset + 8:offset + 8 + size]
        assert len(payload) == size, "truncated frame payload"
        frames.append((stream, payload))
        offset += 8 + size
    return frames


def join_streams(frames):
    out = b"".join(p for s, p in frames if s == 1)
    err = b"".join(p for s, p in frames if s == 2)
    return out, err


class Ctl:
    """One connection to a monitor's control socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.buffer = b""

    def read_line(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                rest, self.buffer = self.buffer, b""
                return rest.decode()
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode() + "\n"

    def request(self, line, fds=None):
        data = line.encode() + b"\n" if isinstance(line, str) else line
        if fds:
            socket.send_fds(self.sock, [data], fds)
        else:
            self.sock.sendall(data)
        return self.read_line()

    def attach(self):
        """Attach a new socket pair end and return the end this test reads."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        reply = self.request("attach", [theirs.fileno()])
        theirs.close()
        assert reply == "ok\n"
        return ours

    def wait_eof(self, timeout=30.0):
        self.sock.settimeout(timeout)
        while True:
            chunk = self.sock.recv(4096)
            if not chunk:
                return
            self.buffer += chunk

    def close(self):
        self.sock.close()


class MonitorEnv:
    """The folders, bundle and monitor of one container."""

    def __init__(self, runtime, rootfs, spec_template):
        self.runtime = runtime
        self.rootfs = rootfs
        self.spec_template = spec_template
        self.tag = uuid.uuid4().hex[:10]
        self.id = "mon-" + self.tag
        self.cgroup_parent = "servin-mon-test-" + self.tag
        # Short paths: the control socket path must fit in 107 bytes.
        self.top = tempfile.mkdtemp(prefix="svmon-")
        self.state = os.path.join(self.top, "state")
        self.bundle = os.path.join(self.top, "bundle")
        self.runtime_root = os.path.join(self.top, "root")
        self.log = os.path.join(self.top, "container.log")
        os.mkdir(self.state)
        os.mkdir(self.bundle)
        self.monitor_pid = None
        self.container_pid = None
        self.ctls = []

    def write_bundle(self, args, pid_namespace=True, root=None, env=None):
        spec = json.loads(json.dumps(self.spec_template))
        spec["process"]["terminal"] = False
        spec["process"]["args"] = args
        if env:
            spec["process"]["env"] = spec["process"]["env"] + env
        spec["root"] = {"path": root or self.rootfs, "readonly": True}
        spec["hostname"] = "monitor-test"
        spec["linux"]["cgroupsPath"] = f"{self.cgroup_parent}/{self.id}"
        if not pid_namespace:
            spec["linux"]["namespaces"] = [
                ns for ns in spec["linux"]["namespaces"] if ns["type"] != "pid"]
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(spec, f)

    def monitor_command(self, sync_fd=None, stdin=False):
        command = [MONITOR, "--id", self.id, "--bundle", self.bundle, "--state", self.state,
                   "--log", self.log, "--runtime", self.runtime,
                   "--runtime-root", self.runtime_root]
        if sync_fd is not None:
            command += ["--sync-fd", str(sync_fd)]
        if stdin:
            command.append("--stdin")
        return command

    def start_monitor(self, stdin=False, extra_fds=()):
        """Run the monitor, check that its first process exits at once, and
        return the line it writes to the sync fd."""
        read_end, write_end = os.pipe()
        try:
            proc = subprocess.Popen(self.monitor_command(write_end, stdin),
                                    pass_fds=(write_end,) + tuple(extra_fds))
            assert proc.wait(timeout=10) == 0
        finally:
            os.close(write_end)
        try:
            ready, _, _ = select.select([read_end], [], [], 60)
            assert ready, "no line on the sync fd within 60 s"
            line = b""
            while not line.endswith(b"\n"):
                chunk = os.read(read_end, 4096)
                if not chunk:
                    break
                line += chunk
        finally:
            os.close(read_end)
        if line == b"ok\n":
            with open(os.path.join(self.state, "monitor.pid")) as f:
                self.monitor_pid = int(f.read())
            with open(os.path.join(self.state, "container.pid")) as f:
                self.container_pid = int(f.read())
        return line.decode()

    def ctl(self):
        ctl = Ctl(os.path.join(self.state, "ctl"))
        self.ctls.append(ctl)
        return ctl

    def read_exit(self):
        with open(os.path.join(self.state, "exit")) as f:
            return json.load(f)

    def read_log(self):
        with open(self.log, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
        return [json.loads(line) for line in text.splitlines()]

    def logged_text(self):
        """Return the text of all complete log entries so far."""
        if not os.path.exists(self.log):
            return ""
        with open(self.log, "rb") as f:
            lines = f.read().decode("utf-8").splitlines(keepends=True)
        return "".join(json.loads(line)["log"] for line in lines if line.endswith("\n"))

    def wait_monitor_gone(self, timeout=30.0):
        assert wait_for(lambda: not pid_alive(self.monitor_pid), timeout), \
            f"monitor {self.monitor_pid} still runs after {timeout} s"

    def _owns_pid(self, pid):
        """Return whether PID still belongs to this test's container or monitor."""
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                if self.cgroup_parent in f.read():
                    return True
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return self.state.encode() in f.read()
        except OSError:
            return False

    def cleanup(self):
        for ctl in self.ctls:
            ctl.close()
        if self.container_pid and pid_alive(self.container_pid) \
                and self._owns_pid(self.container_pid):
            os.kill(self.container_pid, signal.SIGKILL)
        if self.monitor_pid and not wait_for(lambda: not pid_alive(self.monitor_pid), 15):
            if self._owns_pid(self.monitor_pid):
                os.kill(self.monitor_pid, signal.SIGKILL)
        if os.path.isdir(self.runtime_root):
            subprocess.run([self.runtime, "--root", self.runtime_root, "delete", "--force",
                            self.id], capture_output=True)
        for folder in own_cgroup_dirs(self.cgroup_parent):
            remove_cgroup_tree(folder)
        shutil.rmtree(self.top, ignore_errors=True)


@pytest.fixture(params=RUNTIMES)
def env(request, rootfs, spec_template):
    monitor_env = MonitorEnv(request.param, rootfs, spec_template)
    yield monitor_env
    monitor_env.cleanup()


def run_to_exit(env, ctl, attach=True):
    """Attach (optionally), start and return the frames read until the
    container exits."""
    sock = ctl.attach() if attach else None
    assert ctl.request("start") == "ok\n"
    frames = read_frames(sock) if sock else []
    if sock:
        sock.close()
    ctl.wait_eof()
    env.wait_monitor_gone()
    return frames


def test_attach_frames_stdout_and_stderr(env):
    env.write_bundle(["sh", "-c", "echo out1; echo err1 >&2; echo out2; printf 'no newline'"])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()

    out, err = join_streams(run_to_exit(env, ctl))

    assert out == b"out1\nout2\nno newline"
    assert err == b"err1\n"
    assert env.read_exit()["exit_code"] == 0


def test_second_attach_gets_no_replay(env):
    env.write_bundle(["sh", "-c", "echo early; sleep 1; echo late >&2; echo late"])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()
    first = ctl.attach()
    assert ctl.request("start") == "ok\n"

    # Wait for the first line on the first attach, then attach again.
    first.settimeout(10)
    header = first.recv(8, socket.MSG_WAITALL)
    assert header[0] == 1
    assert first.recv(header[7], socket.MSG_WAITALL) == b"early\n"
    second = ctl.attach()

    first_out, first_err = join_streams(read_frames(first))
    second_out, second_err = join_streams(read_frames(second))
    assert first_out == b"late\n"
    assert first_err == b"late\n"
    assert second_out == b"late\n"
    assert second_err == b"late\n"
    ctl.wait_eof()
    stdout_lines = [e["log"] for e in env.read_log() if e["stream"] == "stdout"]
    assert stdout_lines == ["early\n", "late\n"]


def test_large_output_reaches_attach_and_log(env):
    env.write_bundle(["sh", "-c", "yes 0123456789abcdef | head -c 3000000"])
    assert env.start_monitor() == "ok\n"
    started = time.monotonic()
    out, err = join_streams(run_to_exit(env, env.ctl()))
    elapsed = time.monotonic() - started

    expected = (b"0123456789abcdef\n" * 200000)[:3000000]
    assert out == expected
    assert err == b""
    logged = "".join(e["log"] for e in env.read_log() if e["stream"] == "stdout")
    assert logged.encode() == expected
    assert elapsed < 30, f"3 MB took {elapsed:.1f} s"


def test_stalled_attach_does_not_block_exit(env):
    env.write_bundle(["yes", "unread output"])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()
    stalled = ctl.attach()
    assert ctl.request("start") == "ok\n"

    # The reader takes nothing, so the container's output stops at the
    # monitor's back-pressure limit and the container stays alive.
    time.sleep(1)
    assert ctl.request("status") == f"ok running {env.container_pid}\n"
    assert ctl.request("kill 9") == "ok\n"

    # After the init died, the stalled attach is dropped and the exit recorded.
    ctl.wait_eof(timeout=30)
    env.wait_monitor_gone()
    assert env.read_exit()["exit_code"] == 137
    with open(os.path.join(env.state, "runtime.log")) as f:
        assert "servin-monitor: dropping attach fd" in f.read()
    stalled.close()


def test_log_file_json_lines(env):
    script = r"""
printf 'plain\n'
printf 'q"b\\s\tt\001\n'
printf 'bad \377\376 utf8 \303\251\n'
printf 'err line\n' >&2
awk 'BEGIN { s = "a"; while (length(s) < 40000) s = s s; print substr(s, 1, 40000) }'
awk 'BEGIN { s = "b"; while (length(s) < 16383) s = s s; printf "%s\303\251z\n", substr(s, 1, 16383) }'
printf 'tail'
"""
    env.write_bundle(["sh", "-c", script])
    with open(env.log, "w") as f:
        f.write('{"log":"earlier\\n","stream":"stdout","time":"2026-01-01T00:00:00.000000000Z"}\n')
    assert env.start_monitor() == "ok\n"
    run_to_exit(env, env.ctl(), attach=False)

    entries = env.read_log()
    for entry in entries:
        assert sorted(entry) == ["log", "stream", "time"]
        assert TIME_RE.match(entry["time"]), entry["time"]
    assert entries[0]["log"] == "earlier\n"

    stdout = [e["log"] for e in entries[1:] if e["stream"] == "stdout"]
    stderr = [e["log"] for e in entries[1:] if e["stream"] == "stderr"]
    assert stderr == ["err line\n"]
    assert stdout[0] == "plain\n"
    assert stdout[1] == 'q"b\\s\tt\x01\n'
    assert stdout[2] == "bad \ufffd\ufffd utf8 \u00e9\n"
    # A 40000-byte line: two partial entries of 16 KiB without "\n", then the rest.
    assert stdout[3] == "a" * LOG_LINE_MAX
    assert stdout[4] == "a" * LOG_LINE_MAX
    assert stdout[5] == "a" * (40000 - 2 * LOG_LINE_MAX) + "\n"
    # The split point moves back rather than cut the two bytes of "é" apart.
    assert stdout[6] == "b" * 16383
    assert stdout[7] == "\u00e9z\n"
    assert stdout[8] == "tail"
    assert len(stdout) == 9

    with open(env.log, "rb") as f:
        raw = f.read()
    assert b'\\u0001' in raw
    assert b'\\"b\\\\s\\t' in raw


def test_log_file_created_with_mode_0640(env):
    env.write_bundle(["true"])
    assert env.start_monitor() == "ok\n"
    run_to_exit(env, env.ctl(), attach=False)
    assert os.stat(env.log).st_mode & 0o777 == 0o640


@pytest.mark.parametrize("command, code", [("exit 0", 0), ("exit 3", 3)])
def test_exit_file_records_exit_code(env, command, code):
    env.write_bundle(["sh", "-c", command])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()
    run_to_exit(env, ctl)

    status = env.read_exit()
    assert sorted(status) == ["exit_code", "finished_at", "signal"]
    assert status["exit_code"] == code
    assert status["signal"] == 0
    assert TIME_RE.match(status["finished_at"])
    remaining = sorted(os.listdir(env.state))
    assert remaining == ["container.pid", "exit", "runtime.log"] or \
        remaining == ["container.pid", "exit"]
    assert not pid_alive(env.container_pid)
    state = subprocess.run([env.runtime, "--root", env.runtime_root, "state", env.id],
                           capture_output=True)
    assert state.returncode != 0, "the runtime still has the container after the monitor exited"


def test_sigkill_records_137(env):
    env.write_bundle(["sleep", "1000"])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()
    assert ctl.request("start") == "ok\n"
    assert ctl.request("kill 9") == "ok\n"
    ctl.wait_eof()
    env.wait_monitor_gone()

    status = env.read_exit()
    assert status["exit_code"] == 137
    assert status["signal"] == 9
    assert "oom_killed" not in status


def test_kill_after_a_failed_reply_is_handled(env):
    """A client that sends a request and kill 9, then hangs up at once, kills the container.

    The monitor is held with SIGSTOP so it reads both lines only after the
    client is gone, and the reply to the first one fails."""
    env.write_bundle(["sleep", "1000"])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()
    assert ctl.request("start") == "ok\n"
    watch = env.ctl()
    os.kill(env.monitor_pid, signal.SIGSTOP)
    try:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(os.path.join(env.state, "ctl"))
        client.sendall(b"status\nkill 9\n")
        client.close()
        time.sleep(0.2)
    finally:
        os.kill(env.monitor_pid, signal.SIGCONT)
    watch.wait_eof(timeout=15)
    env.wait_monitor_gone()
    assert env.read_exit()["signal"] == 9


def test_kill_queued_behind_start_is_handled(env):
    """A client that sends start and kill 9 and hangs up before start finishes kills the
    container once it runs."""
    env.write_bundle(["sleep", "1000"])
    assert env.start_monitor() == "ok\n"
    watch = env.ctl()
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(os.path.join(env.state, "ctl"))
    client.sendall(b"start\nkill 9\n")
    client.close()
    watch.wait_eof(timeout=30)
    env.wait_monitor_gone()
    assert env.read_exit()["signal"] == 9


def test_oom_kill_recorded(env):
    env.write_bundle(["sh", "-c", "a=x; while :; do a=$a$a; done"])
    config_path = os.path.join(env.bundle, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    limit = 32 * 1024 * 1024
    config["linux"].setdefault("resources", {})["memory"] = {"limit": limit, "swap": limit}
    with open(config_path, "w") as f:
        json.dump(config, f)
    assert env.start_monitor() == "ok\n"
    run_to_exit(env, env.ctl(), attach=False)

    status = env.read_exit()
    assert status["exit_code"] == 137
    assert status["signal"] == 9
    assert status["oom_killed"] is True


def test_status_and_kill_requests(env):
    env.write_bundle(["sh", "-c", 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done'])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()

    assert ctl.request("status") == f"ok created {env.container_pid}\n"
    assert pid_alive(env.container_pid)
    assert ctl.request("start") == "ok\n"
    assert ctl.request("status") == f"ok running {env.container_pid}\n"
    assert ctl.request("start").startswith("error container ")

    for bad in ("kill 0", "kill 65", "kill -9", "kill abc", "kill", "kill 9x"):
        reply = ctl.request(bad)
        assert reply.startswith("error invalid signal number"), (bad, reply)

    assert wait_for(lambda: "ready\n" in env.logged_text())
    assert ctl.request("kill 15") == "ok\n"
    ctl.wait_eof()
    env.wait_monitor_gone()
    status = env.read_exit()
    assert status["exit_code"] == 7
    assert status["signal"] == 0


def test_pipelined_requests_keep_order(env):
    env.write_bundle(["sh", "-c", "echo piped"])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()
    ours, theirs = socket.socketpair()
    socket.send_fds(ctl.sock, [b"attach\nstart\nstatus\nbogus\n"], [theirs.fileno()])
    theirs.close()

    assert ctl.read_line() == "ok\n"
    assert ctl.read_line() == "ok\n"
    assert ctl.read_line() in (f"ok running {env.container_pid}\n", "ok exited 0\n")
    assert ctl.read_line().startswith("error unknown request")
    out, _ = join_streams(read_frames(ours))
    assert out == b"piped\n"
    ctl.wait_eof()


def test_status_exited_while_output_drains(env):
    # Without a PID namespace a background process outlives the init and
    # keeps stdout open, so the monitor reports the exit while it drains.
    env.write_bundle(["sh", "-c", "(sleep 2; echo late) & exit 5"], pid_namespace=False)
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()
    assert ctl.request("start") == "ok\n"

    assert wait_for(lambda: ctl.request("status") == "ok exited 5\n", timeout=10)
    assert ctl.request("kill 9").startswith("error container ")
    assert not os.path.exists(os.path.join(env.state, "exit"))
    ctl.wait_eof()
    env.wait_monitor_gone()

    assert env.read_exit()["exit_code"] == 5
    assert [e["log"] for e in env.read_log()] == ["late\n"]


def test_drain_gives_up_after_timeout(env):
    # A background process outside a PID namespace keeps stdout open long
    # after the init exited; the monitor waits 10 s for it, then records the exit.
    env.write_bundle(["sh", "-c", "(echo before; sleep 60; echo never) & exit 4"],
                     pid_namespace=False)
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()
    assert ctl.request("start") == "ok\n"
    assert wait_for(lambda: ctl.request("status") == "ok exited 4\n", timeout=10)
    exited = time.monotonic()

    ctl.wait_eof(timeout=30)
    waited = time.monotonic() - exited
    env.wait_monitor_gone()
    assert 9 <= waited <= 20, f"exit recorded {waited:.1f} s after the init exited"
    assert env.read_exit()["exit_code"] == 4
    assert [e["log"] for e in env.read_log()] == ["before\n"]
    with open(os.path.join(env.state, "runtime.log")) as f:
        assert "servin-monitor: stdout of container" in f.read()


def test_stdin_reaches_cat(env):
    env.write_bundle(["cat"])
    assert env.start_monitor(stdin=True) == "ok\n"
    ctl = env.ctl()
    sock = ctl.attach()
    assert ctl.request("start") == "ok\n"

    sock.sendall(b"hello\n")
    sock.settimeout(10)
    header = sock.recv(8, socket.MSG_WAITALL)
    assert header == b"\x01\x00\x00\x00\x00\x00\x00\x06"
    assert sock.recv(6, socket.MSG_WAITALL) == b"hello\n"

    sock.sendall(b"x" * 200000 + b"end")
    sock.shutdown(socket.SHUT_WR)
    out, err = join_streams(read_frames(sock))
    assert out == b"x" * 200000 + b"end"
    assert err == b""
    ctl.wait_eof()
    env.wait_monitor_gone()
    assert env.read_exit()["exit_code"] == 0


def test_stdin_closed_by_first_sender_only(env):
    env.write_bundle(["cat"])
    assert env.start_monitor(stdin=True) == "ok\n"
    ctl = env.ctl()
    first = ctl.attach()
    second = ctl.attach()
    assert ctl.request("start") == "ok\n"

    # The first attach to send input owns stdin.
    first.sendall(b"one\n")
    first.settimeout(10)
    assert first.recv(8, socket.MSG_WAITALL) == b"\x01\x00\x00\x00\x00\x00\x00\x04"
    assert first.recv(4, socket.MSG_WAITALL) == b"one\n"

    # Input and end of file from the other attach leave stdin open.
    second.sendall(b"two\n")
    second.shutdown(socket.SHUT_WR)
    assert first.recv(8, socket.MSG_WAITALL) == b"\x01\x00\x00\x00\x00\x00\x00\x04"
    assert first.recv(4, socket.MSG_WAITALL) == b"two\n"
    time.sleep(0.5)
    assert ctl.request("status") == f"ok running {env.container_pid}\n"

    first.shutdown(socket.SHUT_WR)
    out, _ = join_streams(read_frames(first))
    assert out == b""
    ctl.wait_eof()
    env.wait_monitor_gone()
    assert env.read_exit()["exit_code"] == 0
    second_out, _ = join_streams(read_frames(second))
    assert second_out == b"one\ntwo\n"


def test_stdin_is_dev_null_without_option(env):
    env.write_bundle(["sh", "-c", "cat; echo done"])
    assert env.start_monitor() == "ok\n"
    out, _ = join_streams(run_to_exit(env, env.ctl()))
    assert out == b"done\n"


def test_bad_bundle_reports_error(env):
    env.write_bundle(["true"], root=os.path.join(env.top, "missing-rootfs"))
    line = env.start_monitor()

    assert line.startswith(f"error cannot create container {env.id}: ")
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert "exited with status" not in line, "the runtime's message was not used"
    assert not os.path.exists(os.path.join(env.state, "ctl"))
    assert not os.path.exists(os.path.join(env.state, "monitor.pid"))
    assert not os.path.exists(os.path.join(env.state, "exit"))
    state = subprocess.run([env.runtime, "--root", env.runtime_root, "state", env.id],
                           capture_output=True)
    assert state.returncode != 0


def test_runtime_start_error_in_reply(env):
    env.write_bundle(["true"])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()

    # Hide the runtime's state so that its start fails, then bring it back.
    moved = env.runtime_root + ".moved"
    os.rename(env.runtime_root, moved)
    try:
        reply = ctl.request("start")
    finally:
        os.rename(moved, env.runtime_root)
    assert reply.startswith(f"error cannot start container {env.id}: ")
    assert "exited with status" not in reply, "the runtime's message was not used"
    assert ctl.request("status") == f"ok created {env.container_pid}\n"

    assert ctl.request("kill 9") == "ok\n"
    ctl.wait_eof()
    env.wait_monitor_gone()
    assert env.read_exit()["exit_code"] == 137


def test_second_monitor_on_same_state_fails(env):
    env.write_bundle(["sleep", "1000"])
    assert env.start_monitor() == "ok\n"
    first_pid = env.monitor_pid

    line = env.start_monitor()
    assert line.startswith("error another monitor is listening on ")
    assert pid_alive(first_pid)
    assert os.path.exists(os.path.join(env.state, "ctl"))
    with open(os.path.join(env.state, "monitor.pid")) as f:
        assert int(f.read()) == first_pid
    env.monitor_pid = first_pid
    assert env.ctl().request("status") == f"ok created {env.container_pid}\n"


def test_invalid_config_reports_error(env):
    with open(os.path.join(env.bundle, "config.json"), "w") as f:
        f.write("{ not json")
    line = env.start_monitor()
    assert line.startswith(f"error cannot create container {env.id}: ")


def test_long_state_path_fails(env):
    long_state = os.path.join(env.top, "s" * 100)
    os.mkdir(long_state)
    command = env.monitor_command()
    command[command.index("--state") + 1] = long_state
    result = subprocess.run(command, capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert f"state folder path {long_state} is too long" in result.stderr


def test_stale_exit_file_removed(env):
    env.write_bundle(["sleep", "1000"])
    with open(os.path.join(env.state, "exit"), "w") as f:
        f.write('{"exit_code":99,"signal":0,"finished_at":"2026-01-01T00:00:00.000000000Z"}\n')
    assert env.start_monitor() == "ok\n"
    assert not os.path.exists(os.path.join(env.state, "exit"))


def test_unwritable_log_reports_error(env):
    env.write_bundle(["true"])
    env.log = os.path.join(env.top, "missing", "container.log")
    line = env.start_monitor()
    assert line == (f"error cannot open log file {env.log}: No such file or directory\n")
    assert not os.path.exists(os.path.join(env.state, "ctl"))
    assert not os.path.exists(os.path.join(env.state, "monitor.pid"))


@pytest.mark.parametrize("drop, message", [
    ("--id", "missing option"),
    ("--runtime", "missing option"),
])
def test_missing_option_fails(env, drop, message):
    command = env.monitor_command()
    index = command.index(drop)
    del command[index:index + 2]
    result = subprocess.run(command, capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize("option, value, message", [
    ("--runtime", "/nonexistent/runc", "is not executable"),
    ("--state", "/nonexistent/state", "state folder /nonexistent/state not found"),
    ("--bundle", "/nonexistent/bundle", "bundle folder /nonexistent/bundle not found"),
    ("--id", "a/b", "invalid container id"),
])
def test_invalid_option_fails_on_sync_fd(env, option, value, message):
    command = env.monitor_command()
    command[command.index(option) + 1] = value
    read_end, write_end = os.pipe()
    result = subprocess.run(command + ["--sync-fd", str(write_end)], pass_fds=(write_end,),
                            capture_output=True, text=True, timeout=10)
    os.close(write_end)
    with os.fdopen(read_end) as sync:
        line = sync.read()
    assert result.returncode == 2
    assert message in result.stderr
    assert line.startswith("error ")
    assert message in line


def test_ctl_garbage_keeps_connection(env):
    env.write_bundle(["sh", "-c", "echo hi"])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()

    assert ctl.request("hello") == \
        'error unknown request "hello": expected attach, start, kill SIGNUM or status\n'
    reply = ctl.request(b"\x00\xff\x01junk\r\n")
    assert reply.startswith("error unknown request")
    assert reply.count("\n") == 1
    assert ctl.request("x" * 5000).startswith("error request longer than")
    assert ctl.request("attach").startswith("error attach needs one file descriptor")
    a, b = socket.socketpair()
    reply = ctl.request("attach", [a.fileno(), b.fileno()])
    assert reply.startswith("error attach needs exactly one file descriptor")
    a.close()
    b.close()

    # Clients that disconnect mid-request or at once do not affect other clients.
    dropped = env.ctl()
    dropped.sock.sendall(b"sta")
    dropped.close()
    env.ctl().close()

    assert ctl.request("status") == f"ok created {env.container_pid}\n"
    out, _ = join_streams(run_to_exit(env, ctl))
    assert out == b"hi\n"
    assert env.read_exit()["exit_code"] == 0


def test_monitor_detaches_from_caller(env):
    env.write_bundle(["sh", "-c", "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.1; done"])
    spare_read, spare_write = os.pipe()
    try:
        assert env.start_monitor(extra_fds=(spare_write,)) == "ok\n"
        spare_inode = os.fstat(spare_write).st_ino
    finally:
        os.close(spare_read)
        os.close(spare_write)
    pid = env.monitor_pid

    # Its own session, not our child, stdio on /dev/null, no inherited fds.
    assert os.getsid(pid) == pid
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    assert int(stat[stat.rindex(")") + 2:].split()[1]) != os.getpid()
    for fd in ("0", "1", "2"):
        assert os.readlink(f"/proc/{pid}/fd/{fd}") == "/dev/null"
    for fd in os.listdir(f"/proc/{pid}/fd"):
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
        assert target != f"pipe:[{spare_inode}]", "the monitor kept an inherited fd"

    ctl = env.ctl()
    assert ctl.request("start") == "ok\n"
    assert wait_for(lambda: env.logged_text().count("tick") >= 3)

    # SIGTERM and SIGINT to the monitor leave it and the container running.
    os.kill(pid, signal.SIGTERM)
    os.kill(pid, signal.SIGINT)
    before = env.logged_text().count("tick")
    assert wait_for(lambda: env.logged_text().count("tick") >= before + 5)
    assert pid_alive(pid)
    assert pid_alive(env.container_pid)
    assert ctl.request("status") == f"ok running {env.container_pid}\n"

    assert ctl.request("kill 9") == "ok\n"
    ctl.wait_eof()
    env.wait_monitor_gone()
    assert env.read_exit()["exit_code"] == 137


@pytest.mark.parametrize("sync_fd", [3, None], ids=["sync-fd-3", "no-sync-fd"])
def test_inherited_fds_closed(env, sync_fd):
    env.write_bundle(["sleep", "1000"])
    spare_read, spare_write = os.pipe()
    read_end, write_end = os.pipe()
    spare_inode = os.fstat(spare_write).st_ino
    command = env.monitor_command()
    # Put the sync pipe, or a spare pipe without --sync-fd, on fd 3, and the
    # spare pipe on fd 4 too.
    if sync_fd is not None:
        command += ["--sync-fd", "3"]
    fd3 = spare_write if sync_fd is None else write_end

    def place_fds():
        os.dup2(fd3, 3)
        os.dup2(spare_write, 4)

    try:
        proc = subprocess.Popen(command, close_fds=False, preexec_fn=place_fds)
        assert proc.wait(timeout=10) == 0
    finally:
        os.close(spare_write)
        os.close(write_end)
    with os.fdopen(read_end, "rb") as sync:
        line = sync.read()
    os.close(spare_read)

    if sync_fd is None:
        # The control socket exists before the container does, and requests
        # get replies once the container is created.
        assert line == b""
        assert wait_for(lambda: os.path.exists(os.path.join(env.state, "ctl")))
        assert env.ctl().request("status").startswith("ok created ")
    else:
        assert line == b"ok\n"
    with open(os.path.join(env.state, "monitor.pid")) as f:
        env.monitor_pid = int(f.read())
    with open(os.path.join(env.state, "container.pid")) as f:
        env.container_pid = int(f.read())

    targets = [os.readlink(f"/proc/{env.monitor_pid}/fd/{fd}")
               for fd in os.listdir(f"/proc/{env.monitor_pid}/fd")]
    assert f"pipe:[{spare_inode}]" not in targets
    ctl = env.ctl()
    assert ctl.request("status") == f"ok created {env.container_pid}\n"


def read_memory(pid):
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                values[parts[0].rstrip(":")] = int(parts[1])
    return values


def test_monitor_memory_is_small(env, capsys):
    env.write_bundle(["sleep", "1000"])
    assert env.start_monitor() == "ok\n"
    ctl = env.ctl()
    sock = ctl.attach()
    assert ctl.request("start") == "ok\n"
    assert ctl.request("status").startswith("ok running")

    # The monitor ignores SIGTERM and SIGINT and blocks SIGCHLD; the
    # container must not inherit that. The kernel renames the process
    # before it drops the runtime's signal handlers, so wait for both.
    def read_status():
        with open(f"/proc/{env.container_pid}/status") as f:
            return dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)

    assert wait_for(lambda: read_status()["Name"] == "sleep"
                    and int(read_status()["SigCgt"], 16) == 0)
    status = read_status()
    assert int(status["SigIgn"], 16) == 0
    assert int(status["SigBlk"], 16) == 0

    memory = read_memory(env.monitor_pid)
    with capsys.disabled():
        print(f"\nservin-monitor {os.path.basename(env.runtime)}: Pss {memory['Pss']} kB, "
              f"Rss {memory['Rss']} kB, Private_Dirty {memory['Private_Dirty']} kB")
    assert memory["Pss"] < 1024

    assert ctl.request("kill 9") == "ok\n"
    read_frames(sock)
    sock.close()
    ctl.wait_eof()
    env.wait_monitor_gone()
