# SPDX-License-Identifier: GPL-2.0-or-later
"""The engine's containers (SvContainerStore, SvContainer) with real containers.

sv-container-tool drives the engine without servind: every command builds a
new store on the test's data root, so consecutive commands also exercise
reconnecting to running containers. The image is a one-layer image made from
Debian's busybox-static with its own /etc/passwd and /etc/group. Each test
has its own data root, runtime state folder and cgroup parent, and removes
the monitors, containers, mounts and cgroups it created, by pid.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

BUILD_ROOT = os.environ.get(
    "SERVIN_BUILD_ROOT",
    os.path.join(os.path.dirname(__file__), "..", "..", "build"))
TOOL = os.path.join(BUILD_ROOT, "tests", "tools", "sv-container-tool")
MONITOR = os.path.join(BUILD_ROOT, "engine", "monitor", "servin-monitor")
SERVIN_RUNTIME = os.path.join(BUILD_ROOT, "engine", "runtime", "servin-runtime")
RUNC = shutil.which("runc", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
BUSYBOX = "/bin/busybox"
IMAGE = "test/busybox"
IMAGE_CONFIG = {
    "Cmd": ["sh"],
    "WorkingDir": "/srv",
    "Env": ["PATH=/bin", "IMAGE_VAR=image", "SHARED=image"],
}
SAMPLE_TAR = os.path.join(BUILD_ROOT, "engine", "image", "servin-sample.tar")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="containers need root"),
    pytest.mark.skipif(not os.path.exists(TOOL), reason=f"{TOOL} is not built"),
    pytest.mark.skipif(not os.path.exists(MONITOR), reason=f"{MONITOR} is not built"),
    pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox-static is not installed"),
]

RUNTIMES = [
    pytest.param("runc", id="runc",
                 marks=pytest.mark.skipif(RUNC is None, reason="runc is not installed")),
    pytest.param("servin-runtime", id="servin-runtime",
                 marks=pytest.mark.skipif(not os.path.exists(SERVIN_RUNTIME),
                                          reason="servin-runtime is not built")),
]


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


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (FileNotFoundError, ValueError):
        return None


def is_mount_point(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def container_stderr(result):
    """The stderr of a tool command without the engine's log messages."""
    return "".join(line for line in result.stderr.splitlines(keepends=True)
                   if not line.startswith("ServinEngine-"))


def make_rootfs(folder):
    """A busybox root with users root, app (1000) and a wheel group listing app."""
    for name in ("bin", "dev", "proc", "sys", "tmp", "etc", "srv"):
        os.makedirs(os.path.join(folder, name))
    shutil.copy(BUSYBOX, os.path.join(folder, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            os.symlink("busybox", os.path.join(folder, "bin", applet))
    with open(os.path.join(folder, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n"
                "app:x:1000:1000:App:/home/app:/bin/sh\n")
    with open(os.path.join(folder, "etc", "group"), "w") as f:
        f.write("root:x:0:\nwheel:x:10:app\napp:x:1000:\n")


class Engine:
    """One data root, runtime state folder and cgroup parent, driven by the tool."""

    def __init__(self, runtime):
        tag = uuid.uuid4().hex[:8]
        self.top = tempfile.mkdtemp(prefix="svt-container-")
        self.data_root = os.path.join(self.top, "data")
        self.state = f"/run/svt-{tag}"
        self.cgroup_parent = f"svt-{tag}"
        self.env = dict(os.environ)
        self.env.update({
            "SERVIN_DATA_ROOT": self.data_root,
            "SERVIN_RUNTIME_STATE": self.state,
            "SERVIN_RUNTIME": runtime,
            "SERVIN_CGROUP_PARENT": self.cgroup_parent,
            "SERVIN_BUILD_ROOT": BUILD_ROOT,
            "G_MESSAGES_DEBUG": "ServinEngine",
        })

    def tool(self, *args, check=True, timeout=60):
        result = subprocess.run([TOOL, *args], env=self.env, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"sv-container-tool {' '.join(args)} failed with "
                                 f"{result.returncode}: {result.stderr}")
        return result

    def import_image(self):
        rootfs = os.path.join(self.top, "rootfs")
        make_rootfs(rootfs)
        self.tool("import", rootfs, IMAGE, json.dumps(IMAGE_CONFIG))

    def run_detached(self, *args):
        return self.tool("run", "-d", *args).stdout.strip()

    def ps(self):
        rows = {}
        for line in self.tool("ps").stdout.splitlines():
            cid, name, state, code, pid = line.split()
            rows[cid] = {"name": name, "state": state, "exit_code": int(code), "pid": int(pid)}
        return rows

    def inspect(self, cid):
        return json.loads(self.tool("inspect", cid).stdout)

    def state_dir(self, cid):
        return os.path.join(self.state, "c", cid[:12])

    def cleanup(self):
        """Kill what the test left running, by pid, then unmount and remove."""
        for folder in glob.glob(os.path.join(self.state, "c", "*")):
            for name in ("container.pid", "monitor.pid"):
                pid = read_pid(os.path.join(folder, name))
                if pid is not None and pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)
            rootfs = os.path.join(folder, "rootfs")
            if is_mount_point(rootfs):
                subprocess.run(["umount", "-l", rootfs], check=False)
        for folder in glob.glob(os.path.join(self.state, "c", "*")):
            pid = read_pid(os.path.join(folder, "monitor.pid"))
            if pid is not None:
                wait_for(lambda: not pid_alive(pid), timeout=5)
        shutil.rmtree(self.state, ignore_errors=True)
        self.remove_cgroups()
        shutil.rmtree(self.top, ignore_errors=True)

    def remove_cgroups(self):
        """Remove the cgroup parent (and containers in it) from every hierarchy."""
        for root in glob.glob("/sys/fs/cgroup/*"):
            for dirpath, dirnames, _ in os.walk(root):
                if dirpath.count("/") - root.count("/") > 3:
                    dirnames[:] = []
                    continue
                if os.path.basename(dirpath) != self.cgroup_parent:
                    continue
                dirnames[:] = []
                for child in sorted(glob.glob(os.path.join(dirpath, "*/")), reverse=True):
                    try:
                        os.rmdir(child)
                    except OSError:
                        pass
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass


@pytest.fixture(params=RUNTIMES)
def engine(request):
    eng = Engine(request.param)
    try:
        eng.import_image()
        yield eng
    finally:
        eng.cleanup()


def test_run_output_exit_code_and_log(engine):
    result = engine.tool("run", "--name", "first", IMAGE, "sh", "-c",
                         "echo out; echo err >&2; sleep 0.2; echo more; exit 3", check=False)

    assert result.returncode == 3, result.stderr
    assert result.stdout == "out\nmore\n"
    assert container_stderr(result) == "err\n"

    logs = engine.tool("logs", "first")
    assert logs.stdout == "out\nmore\n"
    assert container_stderr(logs) == "err\n"

    tail = engine.tool("logs", "--tail", "1", "first")
    assert tail.stdout == "more\n"
    assert container_stderr(tail) == ""

    stamped = engine.tool("logs", "-t", "first").stdout.splitlines()
    assert len(stamped) == 2
    for line in stamped:
        assert TIMESTAMP_RE.match(line), line

    info = engine.inspect("first")
    assert info["State"]["Status"] == "exited"
    assert info["State"]["ExitCode"] == 3
    assert info["State"]["FinishedAt"] != "0001-01-01T00:00:00Z"
    assert re.search(r"container \w+ \(first\) exited with code 3", result.stderr)


def test_pid1_hostname_and_workdir(engine):
    result = engine.tool("run", "--name", "where", IMAGE, "sh", "-c", "echo $$; hostname; pwd")
    cid = engine.inspect("where")["Id"]

    assert result.stdout.splitlines() == ["1", cid[:12], "/srv"]

    named = engine.tool("run", "--hostname", "box", "--workdir", "/tmp", IMAGE,
                        "sh", "-c", "hostname; pwd; cat /etc/hostname; grep -c localhost /etc/hosts")
    assert named.stdout.splitlines() == ["box", "/tmp", "box", "2"]


def test_env_merging(engine):
    result = engine.tool("run", "--env", "SHARED=run", "--env", "RUN_VAR=run", IMAGE, "env")
    env = dict(line.split("=", 1) for line in result.stdout.splitlines())

    assert env["IMAGE_VAR"] == "image"
    assert env["SHARED"] == "run"
    assert env["RUN_VAR"] == "run"
    assert env["PATH"] == "/bin"
    assert env["HOME"] == "/root"
    assert len(env["HOSTNAME"]) == 12


def test_user_by_name_and_number(engine):
    by_name = engine.tool("run", "--user", "app", IMAGE, "id")
    assert by_name.stdout.strip() == "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app)"

    by_number = engine.tool("run", "--user", "4242", IMAGE, "id")
    assert by_number.stdout.strip() == "uid=4242 gid=0(root) groups=0(root)"

    with_group = engine.tool("run", "--user", "app:wheel", IMAGE, "id")
    assert with_group.stdout.strip() == "uid=1000(app) gid=10(wheel) groups=10(wheel)"


def test_unknown_user_fails_at_create(engine):
    result = engine.tool("create", "--user", "ghost", IMAGE, "id", check=False)

    assert result.returncode == 1
    assert "error INVALID_ARGUMENT" in result.stderr
    assert "ghost" in result.stderr
    assert engine.ps() == {}


def test_bad_create_input(engine):
    missing = engine.tool("create", "no/such-image", check=False)
    assert "error NOT_FOUND: image not found: no/such-image" in missing.stderr

    bad_name = engine.tool("create", "--name", "-bad", IMAGE, check=False)
    assert "error INVALID_ARGUMENT" in bad_name.stderr

    bad_env = engine.tool("create", "--env", "NOVALUE", IMAGE, check=False)
    assert "error INVALID_ARGUMENT" in bad_env.stderr

    engine.tool("create", "--name", "taken", IMAGE)
    taken = engine.tool("create", "--name", "taken", IMAGE, check=False)
    assert "error CONFLICT" in taken.stderr
    assert "taken" in taken.stderr


def test_stop_kills_after_timeout(engine):
    cid = engine.run_detached(IMAGE, "sleep", "1000")
    pid = engine.ps()[cid]["pid"]
    assert pid > 0
    assert pid_alive(pid)

    started = time.monotonic()
    # PID 1 ignores SIGTERM without a handler, so stop must fall back to SIGKILL.
    result = engine.tool("stop", "-t", "1", cid)
    elapsed = time.monotonic() - started

    assert result.stdout.strip() == "137"
    assert elapsed >= 1.0
    assert not pid_alive(pid)
    row = engine.ps()[cid]
    assert row["state"] == "exited"
    assert row["exit_code"] == 137
    assert not os.path.exists(engine.state_dir(cid))


def test_stop_with_term_handler(engine):
    cid = engine.run_detached(IMAGE, "sh", "-c", "trap 'exit 7' TERM; sleep 1000 & wait")
    time.sleep(0.3)

    result = engine.tool("stop", "-t", "20", cid)

    assert result.stdout.strip() == "7"


def test_stdin_through_attach(engine):
    result = subprocess.run([TOOL, "run", "-i", IMAGE, "sh", "-c", "cat; echo end"],
                            env=engine.env, input="one\ntwo\n", capture_output=True, text=True,
                            timeout=30)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "one\ntwo\nend\n"


def test_attach_to_running_container(engine):
    cid = engine.run_detached(IMAGE, "sh", "-c", "sleep 1; echo late; echo late-err >&2")

    result = engine.tool("attach", cid, timeout=30)

    assert result.stdout == "late\n"
    assert container_stderr(result) == "late-err\n"
    assert engine.tool("wait", cid).stdout.strip() == "0"
    refused = engine.tool("attach", cid, check=False)
    assert "error NOT_RUNNING" in refused.stderr


def test_wait_cancelled(engine):
    cid = engine.run_detached(IMAGE, "sleep", "1000")
    pid = engine.ps()[cid]["pid"]

    result = engine.tool("wait", "--cancel-after", "300", cid, check=False, timeout=10)

    assert result.returncode == 1
    assert "error CANCELLED" in result.stderr
    assert pid_alive(pid)
    assert engine.ps()[cid]["state"] == "running"


def test_kill_signal(engine):
    cid = engine.run_detached(IMAGE, "sleep", "1000")

    engine.tool("kill", cid, "9")

    assert engine.tool("wait", cid).stdout.strip() == "137"
    refused = engine.tool("kill", cid, "9", check=False)
    assert "error NOT_RUNNING" in refused.stderr


def test_stop_uses_image_stop_signal(engine):
    config = dict(IMAGE_CONFIG, StopSignal="SIGUSR1")
    engine.tool("import", os.path.join(engine.top, "rootfs"), "test/stopsignal",
                json.dumps(config))
    cid = engine.run_detached("test/stopsignal", "sh", "-c",
                              "trap 'exit 11' USR1; trap 'exit 12' TERM; sleep 1000 & wait")
    time.sleep(0.3)

    result = engine.tool("stop", "-t", "20", cid)

    assert result.stdout.strip() == "11"


def test_rm_running_needs_force(engine):
    cid = engine.run_detached("--name", "busy", IMAGE, "sleep", "1000")
    pid = engine.ps()[cid]["pid"]
    rootfs = os.path.join(engine.state_dir(cid), "rootfs")
    assert is_mount_point(rootfs)

    refused = engine.tool("rm", "busy", check=False)
    assert refused.returncode == 1
    assert "error CONFLICT: container busy is running" in refused.stderr
    assert pid_alive(pid)
    assert engine.ps()[cid]["state"] == "running"

    engine.tool("rm", "-f", "busy")
    assert not pid_alive(pid)
    assert engine.ps() == {}
    assert not is_mount_point(rootfs)
    assert not os.path.exists(engine.state_dir(cid))
    assert not os.path.exists(os.path.join(engine.data_root, "containers", cid))


def test_rm_exited_removes_files(engine):
    cid = engine.run_detached(IMAGE, "sh", "-c", "echo x > /new-file")
    assert engine.tool("wait", cid).stdout.strip() == "0"
    folder = os.path.join(engine.data_root, "containers", cid)
    assert os.path.exists(os.path.join(folder, "upper", "new-file"))

    result = engine.tool("rm", cid)

    assert not os.path.exists(folder)
    assert re.search(rf"removed container {cid}", result.stderr)


def test_auto_remove(engine):
    result = engine.tool("run", "--rm", "--name", "gone", IMAGE, "sh", "-c", "exit 4",
                         check=False)

    assert result.returncode == 4
    assert engine.ps() == {}
    assert os.listdir(os.path.join(engine.data_root, "containers")) == []


def test_restart_reconnects_to_running_container(engine):
    cid = engine.run_detached(IMAGE, "sh", "-c", "sleep 1.5; echo done; exit 5")
    pid = engine.ps()[cid]["pid"]
    assert pid_alive(pid)

    # A new store (a new tool process) reconnects and records the real exit.
    waited = engine.tool("wait", cid)

    assert waited.stdout.strip() == "5"
    assert "reconnected to the monitor" in waited.stderr
    assert engine.ps()[cid]["exit_code"] == 5
    assert engine.tool("logs", cid).stdout == "done\n"


def test_exit_while_no_store_keeps_exit_code(engine):
    cid = engine.run_detached(IMAGE, "sh", "-c", "exit 9")
    state = engine.state_dir(cid)
    assert wait_for(lambda: os.path.exists(os.path.join(state, "exit"))
                    and not os.path.exists(os.path.join(state, "monitor.pid")))

    row = engine.ps()[cid]

    assert row["state"] == "exited"
    assert row["exit_code"] == 9
    assert not os.path.exists(state)


def test_auto_remove_after_exit_while_no_store(engine):
    cid = engine.run_detached("--rm", IMAGE, "sh", "-c", "exit 2")
    state = engine.state_dir(cid)
    assert wait_for(lambda: not os.path.exists(os.path.join(state, "monitor.pid")))

    assert engine.ps() == {}
    assert not os.path.exists(os.path.join(engine.data_root, "containers", cid))


def test_running_without_monitor_or_exit_file(engine):
    cid = engine.run_detached(IMAGE, "sleep", "1000")
    state = engine.state_dir(cid)
    monitor = read_pid(os.path.join(state, "monitor.pid"))
    container = read_pid(os.path.join(state, "container.pid"))
    # Kill the monitor first so that it records nothing, then its container.
    os.kill(monitor, signal.SIGKILL)
    assert wait_for(lambda: not pid_alive(monitor))
    os.kill(container, signal.SIGKILL)
    assert wait_for(lambda: not pid_alive(container))
    rootfs = os.path.join(state, "rootfs")

    result = engine.tool("ps")

    row = result.stdout.split()
    assert row[2:4] == ["exited", "255"]
    assert "neither a monitor nor an exit status" in result.stderr
    assert not is_mount_point(rootfs)


def container_cgroups(engine, cid):
    """The cgroup folders of container CID that exist, in every hierarchy."""
    return glob.glob(f"/sys/fs/cgroup/*/{engine.cgroup_parent}/{cid}") \
        + glob.glob(f"/sys/fs/cgroup/{engine.cgroup_parent}/{cid}")


@pytest.mark.parametrize("lost", ["ctl", "monitor"])
def test_running_with_unreachable_monitor_is_kept(engine, lost):
    """A container whose monitor connection fails at recovery but whose init runs stays
    running, and a forced removal ends it and removes its state and cgroups."""
    cid = engine.run_detached(IMAGE, "sleep", "1000")
    state = engine.state_dir(cid)
    monitor = read_pid(os.path.join(state, "monitor.pid"))
    container = read_pid(os.path.join(state, "container.pid"))
    if lost == "ctl":
        os.unlink(os.path.join(state, "ctl"))
    else:
        os.kill(monitor, signal.SIGKILL)
        assert wait_for(lambda: not pid_alive(monitor))
    assert container_cgroups(engine, cid)

    result = engine.tool("ps")

    row = result.stdout.split()
    assert row[2] == "running", result.stderr
    assert "its monitor cannot be reached" in result.stderr
    assert os.path.exists(os.path.join(state, "container.pid"))
    assert pid_alive(container)

    engine.tool("rm", "-f", cid)
    assert wait_for(lambda: not pid_alive(container), timeout=5)
    assert not pid_alive(monitor)
    assert engine.ps() == {}
    assert not os.path.exists(state)
    assert container_cgroups(engine, cid) == []


def test_logs_follow_until_exit(engine):
    cid = engine.run_detached(IMAGE, "sh", "-c",
                              "for i in 1 2 3; do echo line$i; sleep 0.3; done; echo bye >&2")

    result = engine.tool("logs", "-f", cid, timeout=30)

    assert result.stdout == "line1\nline2\nline3\n"
    assert container_stderr(result) == "bye\n"


def test_corrupt_record_is_skipped(engine):
    cid = engine.run_detached("--name", "good", IMAGE, "true")
    engine.tool("wait", cid)
    bad_id = "ab" * 32
    bad_folder = os.path.join(engine.data_root, "containers", bad_id)
    os.makedirs(bad_folder)
    with open(os.path.join(bad_folder, "config.v2.json"), "w") as f:
        f.write("{not json")

    result = engine.tool("ps")

    assert list(engine.ps()) == [cid]
    assert f"skipping container {bad_id}" in result.stderr
    assert os.path.exists(os.path.join(bad_folder, "config.v2.json"))


def test_lookup_by_prefix_and_name(engine):
    cid = engine.tool("create", "--name", "named", IMAGE, "true").stdout.strip()

    assert engine.inspect(cid[:6])["Id"] == cid
    assert engine.inspect("named")["Id"] == cid
    assert engine.inspect("/named")["Name"] == "/named"
    missing = engine.tool("inspect", "nothing-here", check=False)
    assert "error NOT_FOUND: container not found: nothing-here" in missing.stderr


@pytest.mark.skipif(not os.path.exists(SAMPLE_TAR), reason=f"{SAMPLE_TAR} is not built")
def test_sample_image(engine):
    loaded = engine.tool("load", SAMPLE_TAR)
    assert "docker.io/servin/sample:latest" in loaded.stdout.split()

    result = engine.tool("run", "servin/sample", "sh", "-c", "echo $$; pwd; id")
    assert result.stdout.splitlines() == ["1", "/srv", "uid=0(root) gid=0(root) groups=0(root)"]

    by_name = engine.tool("run", "--user", "servin", "servin/sample", "id")
    assert by_name.stdout.strip() == "uid=1000(servin) gid=1000(servin) groups=1000(servin)"

    by_number = engine.tool("run", "--user", "65534", "servin/sample", "id")
    assert by_number.stdout.strip() == "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)"

    failing = engine.tool("run", "servin/sample", "sh", "-c", "echo oops >&2; exit 42",
                          check=False)
    assert failing.returncode == 42
    assert container_stderr(failing) == "oops\n"
