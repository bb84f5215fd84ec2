# SPDX-License-Identifier: GPL-2.0-or-later
"""Behaviour tests of servin-runtime, run the same way against runc as the reference.

The test process makes itself a child subreaper, as servin-monitor is, so a container's init
process becomes its child once `create` exits, and the tests reap it by pid.
"""

import concurrent.futures
import ctypes
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runtime_bundle  # noqa: E402

BUILD_ROOT = os.environ.get(
    "SERVIN_BUILD_ROOT", os.path.join(os.path.dirname(__file__), "..", "..", "build")
)
SERVIN_RUNTIME = os.path.join(BUILD_ROOT, "engine", "runtime", "servin-runtime")
RUNC = shutil.which("runc", path="/usr/bin:/usr/sbin:/bin:/sbin")

PR_SET_CHILD_SUBREAPER = 36
CGROUP_ROOT = "/sys/fs/cgroup"

# CAP_KILL (5), CAP_NET_BIND_SERVICE (10) and CAP_AUDIT_WRITE (29) from the runc spec template.
TEMPLATE_CAPS = (1 << 5) | (1 << 10) | (1 << 29)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")


def set_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def own_cgroups():
    """Map each hierarchy of /proc/self/cgroup ("memory", "" for cgroup2) to its path."""
    cgroups = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                cgroups[name] = path
    return cgroups


def cgroup_mounts():
    """Return (mount point, controller list or None for cgroup2) of each cgroup mount."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            fields, after = left.split(), right.split()
            if after[0] == "cgroup2":
                mounts.append((fields[4], None))
            elif after[0] == "cgroup":
                options = after[2].split(",")
                mounts.append((fields[4], [o for o in options if o not in ("rw", "ro")]))
    return mounts


def memory_folder(relative):
    return os.path.join(CGROUP_ROOT, "memory", own_cgroups()["memory"].lstrip("/"), relative)


def unified_folder(relative):
    return os.path.join(CGROUP_ROOT, "unified", own_cgroups()[""].lstrip("/"), relative)


def reap(pid, timeout=10):
    """Wait for the container init pid, a child of this subreaper, and return its status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done == pid:
            return status
        time.sleep(0.01)
    raise TimeoutError(f"process {pid} did not exit within {timeout} seconds")


def wait_for_file_text(path, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as f:
            content = f.read()
        if text in content:
            return content
        time.sleep(0.01)
    raise TimeoutError(f"{text!r} did not appear in {path}")


class Runtime:
    """One OCI runtime binary with a state folder and a cgroup parent of its own."""

    def __init__(self, name, binary, workdir, rootfs):
        self.name = name
        self.binary = binary
        self.workdir = workdir
        self.rootfs = rootfs
        self.root = os.path.join(workdir, "state")
        self.cgroup_parent = f"servin-rt-test-{secrets.token_hex(4)}"
        self.ids = []
        self.pids = set()

    def command(self, *args, timeout=30, **kwargs):
        kwargs.setdefault("capture_output", True)
        return subprocess.run(
            [self.binary, "--root", self.root, *args], text=True, timeout=timeout, **kwargs
        )

    def new_id(self):
        container_id = f"c{len(self.ids)}-{secrets.token_hex(3)}"
        self.ids.append(container_id)
        return container_id

    def cgroups_path(self, container_id):
        return f"{self.cgroup_parent}/{container_id}"

    def bundle(self, container_id, args, config_changes=None, **process):
        config = runtime_bundle.make_config(
            args, self.rootfs, cgroups_path=self.cgroups_path(container_id), **process
        )
        if config_changes:
            config_changes(config)
        path = os.path.join(self.workdir, "bundles", container_id)
        return runtime_bundle.write_bundle(path, config)

    def run(self, args, config_changes=None, **process):
        container_id = self.new_id()
        bundle = self.bundle(container_id, args, config_changes, **process)
        return self.command("run", "--bundle", bundle, container_id)

    def create(self, args, config_changes=None, **process):
        """Create a container whose output goes to a file; return (id, pid, output path)."""
        container_id = self.new_id()
        bundle = self.bundle(container_id, args, config_changes, **process)
        output = os.path.join(self.workdir, f"{container_id}.out")
        pid_file = os.path.join(self.workdir, f"{container_id}.pid")
        with open(output, "w") as out:
            result = self.command(
                "create", "--bundle", bundle, "--pid-file", pid_file, container_id,
                stdout=out, stderr=subprocess.STDOUT, capture_output=False,
            )
        assert result.returncode == 0, open(output).read()
        with open(pid_file) as f:
            pid = int(f.read())
        self.pids.add(pid)
        return container_id, pid, output

    def state(self, container_id):
        result = self.command("state", container_id)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def cleanup(self):
        for container_id in self.ids:
            self.command("delete", "--force", container_id)
        for pid in self.pids:
            reap(pid)
        for mount_point, _ in cgroup_mounts():
            own = own_cgroups()
            for base in {mount_point, *(os.path.join(mount_point, p.lstrip("/")) for p in own.values())}:
                folder = os.path.join(base, self.cgroup_parent)
                if os.path.isdir(folder):
                    for child in os.listdir(folder):
                        if os.path.isdir(os.path.join(folder, child)):
                            kill_cgroup_processes(os.path.join(folder, child))
                            os.rmdir(os.path.join(folder, child))
                    os.rmdir(folder)
        shutil.rmtree(self.workdir, ignore_errors=True)


def kill_cgroup_processes(folder):
    """SIGKILL what a failed test left in its own container cgroup, so the folder can go."""
    procs = os.path.join(folder, "cgroup.procs")
    for _ in range(50):
        with open(procs) as f:
            pids = [int(line) for line in f if line.strip()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory):
    set_subreaper()
    path = str(tmp_path_factory.mktemp("rootfs"))
    runtime_bundle.make_rootfs(path)
    return path


RUNTIMES = [
    pytest.param(("servin-runtime", SERVIN_RUNTIME), id="servin-runtime"),
    pytest.param(
        ("runc", RUNC),
        id="runc",
        marks=pytest.mark.skipif(RUNC is None, reason="runc is not installed"),
    ),
]


@pytest.fixture(params=RUNTIMES)
def runtime(request, rootfs, tmp_path):
    name, binary = request.param
    rt = Runtime(name, binary, str(tmp_path), rootfs)
    yield rt
    rt.cleanup()


@pytest.fixture
def servin(rootfs, tmp_path):
    rt = Runtime("servin-runtime", SERVIN_RUNTIME, str(tmp_path), rootfs)
    yield rt
    rt.cleanup()


def test_run_output_and_exit_code(runtime):
    result = runtime.run(["sh", "-c", "echo hello; echo oops >&2; exit 3"])
    assert result.stdout == "hello\n"
    assert result.stderr.endswith("oops\n")
    assert result.returncode == 3


def test_run_forwards_signals(runtime):
    container_id = runtime.new_id()
    script = "trap 'exit 9' TERM; echo ready; while true; do sleep 0.05; done"
    bundle = runtime.bundle(container_id, ["sh", "-c", script])
    process = subprocess.Popen(
        [runtime.binary, "--root", runtime.root, "run", "--bundle", bundle, container_id],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 9
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_run_is_pid_one(runtime):
    result = runtime.run(["sh", "-c", "echo $$"])
    assert result.stdout.strip() == "1"


def test_run_hostname(runtime):
    def set_hostname(config):
        config["hostname"] = "box-7"

    result = runtime.run(["hostname"], config_changes=set_hostname)
    assert result.stdout.strip() == "box-7"


def test_run_env(runtime):
    result = runtime.run(["sh", "-c", "echo $GREETING"], env=["PATH=/bin", "GREETING=hi there"])
    assert result.stdout.strip() == "hi there"


def test_run_cwd(runtime):
    result = runtime.run(["pwd"], cwd="/tmp")
    assert result.stdout.strip() == "/tmp"


def test_run_missing_cwd_is_created(runtime):
    def writable_root(config):
        config["root"]["readonly"] = False
        config["mounts"].append({"destination": "/work", "type": "tmpfs", "source": "tmpfs"})

    result = runtime.run(["pwd"], config_changes=writable_root, cwd="/work/new/folder")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/work/new/folder"


def test_run_rshared_rootfs_propagation(runtime):
    def set_rshared(config):
        config["linux"]["rootfsPropagation"] = "rshared"

    result = runtime.run(["awk", "$5 == \"/\"", "/proc/self/mountinfo"], config_changes=set_rshared)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[4] == "/"
    assert "shared:" not in result.stdout


def test_run_preserve_fds(runtime):
    container_id = runtime.new_id()
    bundle = runtime.bundle(container_id, ["sh", "-c", "echo through-fd-3 >&3"])
    read_end, write_end = os.pipe()
    command = [runtime.binary, "--root", runtime.root, "run", "--preserve-fds", "1", "--bundle",
               bundle, container_id]
    try:
        # The pipe becomes descriptor 3 in the runtime only, since pytest uses 3 itself.
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=30, pass_fds=(3,),
            preexec_fn=lambda: os.dup2(write_end, 3),
        )
    finally:
        os.close(write_end)
    with os.fdopen(read_end) as pipe:
        assert pipe.read() == "through-fd-3\n"
    assert result.returncode == 0, result.stderr


def test_run_user_and_groups(runtime):
    result = runtime.run(
        ["sh", "-c", "id -u; id -g; id -G"],
        user={"uid": 1000, "gid": 1001, "additionalGids": [10, 20]},
    )
    uid, gid, groups = result.stdout.split("\n")[:3]
    assert uid == "1000"
    assert gid == "1001"
    assert set(groups.split()) == {"1001", "10", "20"}


def test_run_proc_mounted(runtime):
    result = runtime.run(["sh", "-c", "grep ' /proc proc ' /proc/mounts; cat /proc/1/comm"])
    lines = result.stdout.splitlines()
    assert lines[0].startswith("proc /proc proc rw")
    assert lines[1] == "cat"


def test_run_sys_read_only(runtime):
    result = runtime.run(
        ["sh", "-c", "grep ' /sys sysfs ' /proc/mounts; mkdir /sys/x 2>/dev/null || echo denied"]
    )
    lines = result.stdout.splitlines()
    assert lines[0].split()[3].split(",")[0] == "ro"
    assert lines[1] == "denied"


def test_run_root_read_only(runtime):
    result = runtime.run(["sh", "-c", "touch /newfile 2>/dev/null || echo denied"])
    assert result.stdout.strip() == "denied"


def test_run_device_nodes(runtime):
    script = (
        "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T' /dev/$d; done;"
        "echo x > /dev/null && echo null-ok;"
        "head -c 3 /dev/zero | od -An -tx1;"
        "for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done"
    )
    result = runtime.run(["sh", "-c", script])
    lines = result.stdout.splitlines()
    assert lines[:6] == [
        "/dev/null character special file 1:3",
        "/dev/zero character special file 1:5",
        "/dev/full character special file 1:7",
        "/dev/random character special file 1:8",
        "/dev/urandom character special file 1:9",
        "/dev/tty character special file 5:0",
    ]
    assert lines[6] == "null-ok"
    assert lines[7].split() == ["00", "00", "00"]
    assert lines[8:] == [
        "/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2", "pts/ptmx",
    ]


def test_run_capabilities_reduced(runtime):
    result = runtime.run(["grep", "Cap", "/proc/self/status"])
    caps = dict(line.split(":\t") for line in result.stdout.splitlines())
    assert int(caps["CapBnd"], 16) == TEMPLATE_CAPS
    assert int(caps["CapEff"], 16) == TEMPLATE_CAPS
    assert int(caps["CapPrm"], 16) == TEMPLATE_CAPS


def test_run_non_root_has_no_capabilities(runtime):
    def no_ambient(config):
        config["process"]["capabilities"]["ambient"] = []

    result = runtime.run(
        ["grep", "CapEff", "/proc/self/status"], config_changes=no_ambient, user={"uid": 1000, "gid": 1000}
    )
    assert int(result.stdout.split()[1], 16) == 0


def test_run_masked_and_readonly_paths(runtime):
    script = (
        "grep ' /proc/sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1;"
        "wc -c < /proc/keys;"
        "ls /sys/firmware | wc -l"
    )
    result = runtime.run(["sh", "-c", script])
    assert result.stdout.split() == ["ro", "0", "0"]


def test_run_rlimit(runtime):
    result = runtime.run(["sh", "-c", "ulimit -n"])
    assert result.stdout.strip() == "1024"


def test_run_sysctl(runtime):
    def set_sysctl(config):
        config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
        config["linux"]["readonlyPaths"].remove("/proc/sys")

    result = runtime.run(["cat", "/proc/sys/net/ipv4/ip_forward"], config_changes=set_sysctl)
    assert result.stdout.strip() == "1"


def test_run_bind_mount_read_only(runtime, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "note").write_text("from host\n")

    def add_bind(config):
        config["mounts"].append(
            {
                "destination": "/data/in",
                "type": "bind",
                "source": str(shared),
                "options": ["rbind", "ro", "nosuid", "nodev", "rprivate"],
            }
        )

    result = runtime.run(
        ["sh", "-c", "cat /data/in/note; touch /data/in/x 2>/dev/null || echo denied"],
        config_changes=add_bind,
    )
    assert result.stdout.splitlines() == ["from host", "denied"]
    assert not (shared / "x").exists()


def test_run_tmpfs_mount(runtime):
    def add_tmpfs(config):
        config["mounts"].append(
            {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}
        )

    result = runtime.run(
        ["sh", "-c", "echo ok > /scratch/f && cat /scratch/f; grep ' /scratch ' /proc/mounts"],
        config_changes=add_tmpfs,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "ok"
    assert lines[1].split()[2] == "tmpfs"


def test_run_seccomp_denies_syscall(runtime):
    def add_seccomp(config):
        config["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
            ],
        }

    result = runtime.run(["mkdir", "/tmp/blocked"], config_changes=add_seccomp, cwd="/")
    assert result.returncode != 0
    assert "Permission denied" in result.stderr


def test_create_then_start(runtime):
    container_id, pid, output = runtime.create(["sh", "-c", "echo started; sleep 1000"])
    time.sleep(0.2)
    assert open(output).read() == ""
    assert runtime.state(container_id)["status"] == "created"

    result = runtime.command("start", container_id)
    assert result.returncode == 0, result.stderr
    assert wait_for_file_text(output, "started") == "started\n"
    assert runtime.state(container_id)["status"] == "running"

    assert runtime.command("kill", container_id, "KILL").returncode == 0
    status = reap(pid)
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) == signal.SIGKILL


def test_create_output_through_pipes(runtime):
    """The monitor's way: create writes to pipes, which only the container keeps open."""
    container_id = runtime.new_id()
    bundle = runtime.bundle(container_id, ["sh", "-c", "echo out; echo err >&2; exit 4"])
    pid_file = os.path.join(runtime.workdir, "pipes.pid")
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    create = subprocess.run(
        [runtime.binary, "--root", runtime.root, "create", "--bundle", bundle, "--pid-file",
         pid_file, container_id],
        stdin=subprocess.DEVNULL, stdout=out_write, stderr=err_write, timeout=30,
    )
    os.close(out_write)
    os.close(err_write)
    with os.fdopen(out_read) as out, os.fdopen(err_read) as err:
        assert create.returncode == 0
        pid = int(open(pid_file).read())
        runtime.pids.add(pid)
        assert runtime.command("start", container_id).returncode == 0
        assert out.read() == "out\n"
        assert err.read() == "err\n"
    status = reap(pid)
    assert os.WEXITSTATUS(status) == 4


def test_state_fields(runtime):
    annotations = {"org.example/quoted": 'say "hi"', "org.example/empty": ""}

    def annotate(config):
        config["annotations"] = annotations

    container_id, pid, _ = runtime.create(["sleep", "1000"], config_changes=annotate)
    state = runtime.state(container_id)
    assert state["ociVersion"]
    assert state["id"] == container_id
    assert state["pid"] == pid
    assert state["status"] == "created"
    assert state["bundle"] == os.path.join(runtime.workdir, "bundles", container_id)
    assert state["created"].endswith("Z")
    assert time.strptime(state["created"][:19], "%Y-%m-%dT%H:%M:%S")
    assert state["owner"] == ""
    assert state["annotations"] == annotations


def test_kill_sleeping_container(runtime):
    container_id, pid, _ = runtime.create(["sleep", "1000"])
    assert runtime.command("start", container_id).returncode == 0
    assert runtime.command("kill", container_id, "9").returncode == 0
    status = reap(pid)
    assert os.WTERMSIG(status) == signal.SIGKILL
    assert runtime.state(container_id)["status"] == "stopped"


def test_kill_default_signal_is_term(runtime):
    script = "trap 'exit 7' TERM; echo ready; while true; do sleep 0.05; done"
    container_id, pid, output = runtime.create(["sh", "-c", script])
    assert runtime.command("start", container_id).returncode == 0
    wait_for_file_text(output, "ready")
    assert runtime.command("kill", container_id).returncode == 0
    status = reap(pid)
    assert os.WIFEXITED(status)
    assert os.WEXITSTATUS(status) == 7


def test_kill_unknown_signal_fails(runtime):
    container_id, _, _ = runtime.create(["sleep", "1000"])
    result = runtime.command("kill", container_id, "NOSUCHSIGNAL")
    assert result.returncode != 0
    assert result.stderr


def test_delete_removes_state_and_cgroups(runtime):
    container_id, pid, _ = runtime.create(["sleep", "1000"])
    relative = runtime.cgroups_path(container_id)
    assert os.path.isdir(memory_folder(relative))
    assert os.path.isdir(os.path.join(runtime.root, container_id))

    result = runtime.command("delete", container_id)
    assert result.returncode == 0, result.stderr
    reap(pid)
    assert not os.path.exists(os.path.join(runtime.root, container_id))
    assert not os.path.exists(memory_folder(relative))
    assert not os.path.exists(os.path.join(CGROUP_ROOT, "pids", relative))
    assert runtime.command("state", container_id).returncode != 0


def test_delete_running_needs_force(runtime):
    container_id, pid, _ = runtime.create(["sleep", "1000"])
    assert runtime.command("start", container_id).returncode == 0
    assert runtime.command("delete", container_id).returncode != 0
    assert runtime.state(container_id)["status"] == "running"
    assert runtime.command("delete", "--force", container_id).returncode == 0
    reap(pid)
    assert runtime.command("state", container_id).returncode != 0


def test_cgroup_beneath_own_cgroup(runtime):
    container_id, pid, _ = runtime.create(["sleep", "1000"])
    relative = runtime.cgroups_path(container_id)
    own = own_cgroups()
    with open(f"/proc/{pid}/cgroup") as f:
        lines = dict(line.rstrip("\n").split(":", 2)[1:] for line in f)

    assert lines["memory"] == os.path.join(own["memory"], relative)
    assert os.path.isdir(memory_folder(relative))
    assert lines["pids"] == os.path.join(own["pids"], relative)
    if runtime.name == "servin-runtime" or lines.get("") != "/":
        assert lines[""] == os.path.join(own[""], relative)
        assert os.path.isdir(unified_folder(relative))
        with open(os.path.join(unified_folder(relative), "cgroup.procs")) as f:
            assert f.read().split() == [str(pid)]


def test_cgroup_namespace_shows_own_cgroup(runtime):
    def add_cgroup_namespace(config):
        config["linux"]["namespaces"].append({"type": "cgroup"})
        config["linux"]["resources"]["pids"] = {"limit": 77}

    script = "cat /proc/self/cgroup; cat /sys/fs/cgroup/pids/pids.max"
    result = runtime.run(["sh", "-c", script], config_changes=add_cgroup_namespace)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    paths = {line.split(":", 2)[1]: line.split(":", 2)[2] for line in lines[:-1]}
    assert paths["memory"] == "/"
    assert paths["pids"] == "/"
    assert lines[-1] == "77"


def test_parallel_runs_share_new_parent(runtime):
    ids = [runtime.new_id() for _ in range(8)]
    bundles = [runtime.bundle(container_id, ["true"]) for container_id in ids]

    def run(index):
        return runtime.command("run", "--bundle", bundles[index], ids[index])

    with concurrent.futures.ThreadPoolExecutor(len(ids)) as pool:
        results = list(pool.map(run, range(len(ids))))
    for result in results:
        assert result.returncode == 0, result.stderr


def test_memory_pids_and_cpu_limits_written(runtime):
    def set_limits(config):
        config["linux"]["resources"].update(
            {
                "memory": {"limit": 64 * 1024 * 1024, "reservation": 32 * 1024 * 1024},
                "pids": {"limit": 42},
                "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0",
                        "mems": "0"},
            }
        )

    container_id, _, _ = runtime.create(["sleep", "1000"], config_changes=set_limits)
    relative = runtime.cgroups_path(container_id)
    own = own_cgroups()

    def read(controller, name):
        folder = os.path.join(CGROUP_ROOT, controller, own[controller].lstrip("/"), relative)
        with open(os.path.join(folder, name)) as f:
            return f.read().strip()

    assert read("memory", "memory.limit_in_bytes") == str(64 * 1024 * 1024)
    assert read("pids", "pids.max") == "42"
    assert read("cpu", "cpu.shares") == "512"
    assert read("cpu", "cpu.cfs_quota_us") == "50000"
    assert read("cpu", "cpu.cfs_period_us") == "100000"
    assert read("memory", "memory.soft_limit_in_bytes") == str(32 * 1024 * 1024)
    assert read("cpuset", "cpuset.cpus") == "0"
    assert read("cpuset", "cpuset.mems") == "0"


def test_update_changes_limits(runtime):
    def set_limits(config):
        config["linux"]["resources"]["memory"] = {"limit": 64 * 1024 * 1024}
        config["linux"]["resources"]["pids"] = {"limit": 10}

    container_id, pid, _ = runtime.create(["sleep", "1000"], config_changes=set_limits)
    result = runtime.command(
        "update", "--memory", "128m", "--pids-limit", "50", "--cpu-share", "256",
        "--cpu-quota", "20000", "--cpu-period", "100000", container_id,
    )
    assert result.returncode == 0, result.stderr
    relative = runtime.cgroups_path(container_id)
    own = own_cgroups()

    def read(controller, name):
        folder = os.path.join(CGROUP_ROOT, controller, own[controller].lstrip("/"), relative)
        with open(os.path.join(folder, name)) as f:
            return f.read().strip()

    assert read("memory", "memory.limit_in_bytes") == str(128 * 1024 * 1024)
    assert read("pids", "pids.max") == "50"
    assert read("cpu", "cpu.shares") == "256"
    assert read("cpu", "cpu.cfs_quota_us") == "20000"

    bad = runtime.command("update", "--memory", "lots", container_id)
    assert bad.returncode != 0


def test_pids_limit_enforced(runtime):
    def set_limit(config):
        config["linux"]["resources"]["pids"] = {"limit": 3}

    # The shell and two sleeps fill the limit of 3, so the third sleep cannot start.
    script = "sleep 1 & sleep 1 & sleep 1 & echo reached"
    result = runtime.run(["sh", "-c", script], config_changes=set_limit)
    assert "can't fork" in result.stderr
    assert "reached" not in result.stdout


def test_namespace_path_joins(runtime):
    def named(config):
        config["hostname"] = "first-box"

    first_id, first_pid, _ = runtime.create(["sleep", "1000"], config_changes=named)

    def join_first(config):
        del config["hostname"]
        for ns in config["linux"]["namespaces"]:
            if ns["type"] in ("uts", "network"):
                ns["path"] = f"/proc/{first_pid}/ns/{'net' if ns['type'] == 'network' else 'uts'}"

    result = runtime.run(["sh", "-c", "hostname; readlink /proc/self/ns/net"], config_changes=join_first)
    lines = result.stdout.splitlines()
    assert lines[0] == "first-box"
    assert lines[1] == os.readlink(f"/proc/{first_pid}/ns/net")


def start_sleeper(runtime, **process):
    def named(config):
        config["hostname"] = "exec-box"

    container_id, pid, _ = runtime.create(["sleep", "1000"], config_changes=named, **process)
    assert runtime.command("start", container_id).returncode == 0
    return container_id, pid


def test_pause_and_resume(runtime):
    container_id, pid = start_sleeper(runtime)
    assert runtime.command("pause", container_id).returncode == 0
    assert runtime.state(container_id)["status"] == "paused"
    assert runtime.command("pause", container_id).returncode != 0
    assert runtime.command("resume", container_id).returncode == 0
    assert runtime.state(container_id)["status"] == "running"
    assert runtime.command("resume", container_id).returncode != 0


def test_delete_force_of_paused_container(runtime):
    container_id, pid = start_sleeper(runtime)
    assert runtime.command("pause", container_id).returncode == 0
    result = runtime.command("delete", "--force", container_id)
    assert result.returncode == 0, result.stderr
    assert os.WTERMSIG(reap(pid)) == signal.SIGKILL
    assert not os.path.exists(memory_folder(runtime.cgroups_path(container_id)))


def test_ps_and_list(runtime):
    container_id, pid = start_sleeper(runtime)
    ps = runtime.command("ps", "--format", "json", container_id)
    assert ps.returncode == 0, ps.stderr
    assert json.loads(ps.stdout) == [pid]

    listing = runtime.command("list", "--format", "json")
    assert listing.returncode == 0, listing.stderr
    entries = {entry["id"]: entry for entry in json.loads(listing.stdout)}
    assert entries[container_id]["pid"] == pid
    assert entries[container_id]["status"] == "running"


def test_exec_joins_container(runtime):
    container_id, pid = start_sleeper(runtime, env=["PATH=/bin", "FROM_CONFIG=yes"])
    script = "echo $$; hostname; readlink /proc/self/ns/net; echo $FROM_CONFIG; cat /proc/self/cgroup"
    result = runtime.command("exec", container_id, "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] != "1"
    assert lines[1] == "exec-box"
    assert lines[2] == os.readlink(f"/proc/{pid}/ns/net")
    assert lines[3] == "yes"
    exec_cgroups = dict(line.split(":", 2)[1:] for line in lines[4:])
    with open(f"/proc/{pid}/cgroup") as f:
        init_cgroups = dict(line.rstrip("\n").split(":", 2)[1:] for line in f)
    assert exec_cgroups["memory"] == init_cgroups["memory"]
    assert exec_cgroups["pids"] == init_cgroups["pids"]


def test_exec_options_and_exit_code(runtime):
    container_id, _ = start_sleeper(runtime)
    result = runtime.command(
        "exec", "--env", "EXTRA=added", "--user", "1000:1001", "--cwd", "/tmp", container_id,
        "sh", "-c", "echo $EXTRA; id -u; id -g; pwd; grep CapEff /proc/self/status; exit 5",
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 5
    assert lines[:4] == ["added", "1000", "1001", "/tmp"]
    assert int(lines[4].split()[1], 16) == 0


def test_exec_process_file(runtime, tmp_path):
    container_id, _ = start_sleeper(runtime)
    process = {
        "terminal": False,
        "user": {"uid": 1000, "gid": 1000},
        "args": ["sh", "-c", "echo $FROM_FILE; id -u; pwd"],
        "env": ["PATH=/bin", "FROM_FILE=process.json"],
        "cwd": "/tmp",
        "noNewPrivileges": True,
    }
    process_file = tmp_path / "process.json"
    process_file.write_text(json.dumps(process))
    result = runtime.command("exec", "--process", str(process_file), container_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["process.json", "1000", "/tmp"]


def test_exec_detach_writes_pid_file(runtime):
    container_id, _ = start_sleeper(runtime)
    pid_file = os.path.join(runtime.workdir, "exec-detached.pid")
    result = runtime.command("exec", "--detach", "--pid-file", pid_file, container_id,
                             "sleep", "999", stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, capture_output=False)
    assert result.returncode == 0
    with open(pid_file) as f:
        exec_pid = int(f.read())
    runtime.pids.add(exec_pid)
    with open(f"/proc/{exec_pid}/cmdline") as f:
        assert f.read().split("\0")[:2] == ["sleep", "999"]
    relative = runtime.cgroups_path(container_id)
    with open(os.path.join(memory_folder(relative), "cgroup.procs")) as f:
        assert str(exec_pid) in f.read().split()

    # The process is this subreaper's child now. The container's init cannot finish exiting
    # until it is reaped, so it goes first.
    os.kill(exec_pid, signal.SIGKILL)
    assert os.WTERMSIG(reap(exec_pid)) == signal.SIGKILL


def test_exec_in_stopped_container_fails(runtime):
    container_id, pid = start_sleeper(runtime)
    assert runtime.command("kill", container_id, "KILL").returncode == 0
    reap(pid)
    result = runtime.command("exec", container_id, "true")
    assert result.returncode != 0
    assert result.stderr


def recording_hooks(folder, kinds):
    """Return a hooks object whose hooks save their stdin to folder/KIND.json."""
    return {
        kind: [{"path": "/bin/sh", "args": ["sh", "-c", f"cat > {folder}/{kind}.json"]}]
        for kind in kinds
    }


def test_hooks_run_with_state(runtime, tmp_path):
    kinds = ["prestart", "createRuntime", "poststart", "poststop"]

    def add_hooks(config):
        config["hooks"] = recording_hooks(tmp_path, kinds)

    container_id, pid, _ = runtime.create(["sleep", "1000"], config_changes=add_hooks)
    for kind in ("prestart", "createRuntime"):
        state = json.loads((tmp_path / f"{kind}.json").read_text())
        assert state["id"] == container_id
        assert state["pid"] == pid
    # runc 1.1 runs poststart hooks during create already, against the runtime spec, while
    # servin-runtime runs them in start.
    if runtime.name == "servin-runtime":
        assert not (tmp_path / "poststart.json").exists()

    assert runtime.command("start", container_id).returncode == 0
    poststart = json.loads((tmp_path / "poststart.json").read_text())
    assert poststart["id"] == container_id
    if runtime.name == "servin-runtime":
        assert poststart["status"] == "running"

    assert runtime.command("kill", container_id, "KILL").returncode == 0
    reap(pid)
    assert not (tmp_path / "poststop.json").exists()
    assert runtime.command("delete", container_id).returncode == 0
    assert json.loads((tmp_path / "poststop.json").read_text())["id"] == container_id


def test_failing_create_runtime_hook_fails_create(runtime, tmp_path):
    def add_hook(config):
        config["hooks"] = {"createRuntime": [
            {"path": "/bin/sh", "args": ["sh", "-c", "cat >/dev/null; echo boom >&2; exit 3"]}
        ]}

    container_id = runtime.new_id()
    bundle = runtime.bundle(container_id, ["sleep", "1000"], config_changes=add_hook)
    result = runtime.command("create", "--bundle", bundle, container_id)
    assert result.returncode != 0
    assert "boom" in result.stderr
    assert runtime.command("state", container_id).returncode != 0
    assert not os.path.exists(memory_folder(runtime.cgroups_path(container_id)))


def test_failing_poststart_hook_is_warning(servin, tmp_path):
    def add_hook(config):
        config["hooks"] = {"poststart": [
            {"path": "/bin/sh", "args": ["sh", "-c", "echo late >&2; exit 4"]}
        ]}

    container_id, pid, _ = servin.create(["sleep", "1000"], config_changes=add_hook)
    log = os.path.join(servin.workdir, "start.log")
    result = subprocess.run(
        [SERVIN_RUNTIME, "--root", servin.root, "--log", log, "--log-format", "json", "start",
         container_id], capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0
    warning = json.loads(open(log).read().splitlines()[-1])
    assert warning["level"] == "warning"
    assert "poststart hook 0 (/bin/sh) failed with exit status 4: late" in warning["msg"]
    assert servin.state(container_id)["status"] == "running"


def test_container_namespace_hooks_rejected(servin, tmp_path):
    def add_hook(config):
        config["hooks"] = recording_hooks(tmp_path, ["createContainer"])

    result = servin.run(["true"], config_changes=add_hook)
    assert result.returncode != 0
    assert "hooks.createContainer and hooks.startContainer are not supported" in result.stderr


CASES = {
    "missing config": None,
    "invalid json": "{ this is not json",
    "missing root": "no-root",
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_config_fails_clearly(runtime, case):
    container_id = runtime.new_id()
    bundle = os.path.join(runtime.workdir, "bundles", container_id)
    os.makedirs(bundle)
    if case == "invalid json":
        runtime_bundle.write_bundle(bundle, CASES[case])
    elif case == "missing root":
        config = runtime_bundle.make_config(["true"], runtime.rootfs)
        del config["root"]
        runtime_bundle.write_bundle(bundle, config)
    log = os.path.join(runtime.workdir, "log.json")

    result = subprocess.run(
        [runtime.binary, "--root", runtime.root, "--log", log, "--log-format", "json",
         "run", "--bundle", bundle, container_id],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode != 0
    with open(log) as f:
        last = json.loads(f.read().splitlines()[-1])
    assert last["level"] == "error"
    assert last["msg"]
    assert last["time"]
    assert not os.path.exists(os.path.join(runtime.root, container_id))

    if runtime.name == "servin-runtime":
        expected = {"missing config": "config.json", "invalid json": "invalid JSON",
                    "missing root": "root.path"}[case]
        assert expected in result.stderr
        assert expected in last["msg"]


def test_missing_executable_fails_at_create(runtime):
    container_id = runtime.new_id()
    bundle = runtime.bundle(container_id, ["no-such-program"])
    result = runtime.command("create", "--bundle", bundle, container_id)
    assert result.returncode != 0
    assert "no-such-program" in result.stderr
    assert not os.path.exists(memory_folder(runtime.cgroups_path(container_id)))


def test_non_executable_file_fails_at_create(runtime):
    container_id = runtime.new_id()
    bundle = runtime.bundle(container_id, ["/etc/passwd"])
    result = runtime.command("create", "--bundle", bundle, container_id)
    assert result.returncode != 0
    assert "/etc/passwd" in result.stderr
    assert "ermission denied" in result.stderr


def test_absolute_cgroup_path_beneath_root(runtime):
    absolute = f"/{runtime.cgroup_parent}/absolute"

    def set_absolute(config):
        config["linux"]["cgroupsPath"] = absolute

    _, pid, _ = runtime.create(["sleep", "1000"], config_changes=set_absolute)
    with open(f"/proc/{pid}/cgroup") as f:
        lines = dict(line.rstrip("\n").split(":", 2)[1:] for line in f)
    assert lines["memory"] == absolute
    assert os.path.isdir(os.path.join(CGROUP_ROOT, "memory", absolute.lstrip("/")))

    assert runtime.command("delete", runtime.ids[-1]).returncode == 0
    reap(pid)
    assert not os.path.exists(os.path.join(CGROUP_ROOT, "memory", absolute.lstrip("/")))


def test_exec_failure_after_start_is_logged(servin, tmp_path):
    program = tmp_path / "not-a-program"
    program.write_bytes(b"\x00\x01 neither ELF nor script\n")
    program.chmod(0o755)

    def add_program(config):
        config["mounts"].append({"destination": "/bin/not-a-program", "type": "bind",
                                 "source": str(program), "options": ["bind", "ro"]})

    container_id = servin.new_id()
    bundle = servin.bundle(container_id, ["/bin/not-a-program"], config_changes=add_program)
    log = os.path.join(servin.workdir, "runtime.log")
    pid_file = os.path.join(servin.workdir, "exec.pid")
    base = [SERVIN_RUNTIME, "--root", servin.root, "--log", log, "--log-format", "json"]
    with open(os.path.join(servin.workdir, "exec.out"), "w") as out:
        create = subprocess.run(base + ["create", "--bundle", bundle, "--pid-file", pid_file,
                                        container_id], stdout=out, stderr=out, timeout=30)
    assert create.returncode == 0
    pid = int(open(pid_file).read())
    servin.pids.add(pid)
    assert subprocess.run(base + ["start", container_id], timeout=30).returncode == 0

    status = reap(pid)
    assert os.WEXITSTATUS(status) == 127
    last = json.loads(open(log).read().splitlines()[-1])
    assert last["level"] == "error"
    assert last["msg"] == "cannot execute /bin/not-a-program: Exec format error"
    assert time.strptime(last["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert "Exec format error" in open(os.path.join(servin.workdir, "exec.out")).read()


def test_spec_writes_runnable_template(servin, tmp_path):
    bundle = tmp_path / "spec-bundle"
    bundle.mkdir()
    result = subprocess.run([SERVIN_RUNTIME, "spec", "--bundle", str(bundle)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    config = json.loads((bundle / "config.json").read_text())
    assert config["process"]["terminal"] is False
    assert config["root"]["path"] == "rootfs"

    again = subprocess.run([SERVIN_RUNTIME, "spec", "--bundle", str(bundle)],
                           capture_output=True, text=True)
    assert again.returncode != 0
    assert "File exists" in again.stderr

    os.symlink(servin.rootfs, bundle / "rootfs")
    config["process"]["args"] = ["echo", "from the template"]
    config["linux"]["cgroupsPath"] = servin.cgroups_path(servin.new_id())
    (bundle / "config.json").write_text(json.dumps(config))
    run = servin.command("run", "--bundle", str(bundle), servin.ids[-1])
    assert run.returncode == 0, run.stderr
    assert run.stdout == "from the template\n"


@pytest.mark.skipif(RUNC is None, reason="runc is not installed")
def test_spec_matches_runc_spec(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    subprocess.run([SERVIN_RUNTIME, "spec", "--bundle", str(ours)], check=True)
    subprocess.run([RUNC, "spec", "--bundle", str(theirs)], check=True)
    ours_config = json.loads((ours / "config.json").read_text())
    runc_config = json.loads((theirs / "config.json").read_text())
    for config in (ours_config, runc_config):
        del config["ociVersion"], config["hostname"], config["process"]["terminal"]
    assert ours_config == runc_config


DEVICE_PROBE = """
import errno, os, sys
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
os.mknod(sys.argv[2], 0o600 | 0o060000, os.makedev(8, 0))
for path in ("/dev/null", "/dev/full", "/dev/kmsg", sys.argv[2]):
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        print(path, "opened")
    except OSError as error:
        print(path, errno.errorcode[error.errno])
"""


def test_cgroup2_device_filter(servin, tmp_path):
    container_id, _, _ = servin.create(["sleep", "1000"])
    folder = unified_folder(servin.cgroups_path(container_id))
    node = str(tmp_path / "disk")

    # The probe joins only the container's cgroup2 cgroup, not its v1 devices cgroup, so only
    # the device filter program decides what it may open.
    result = subprocess.run(
        [sys.executable, "-c", DEVICE_PROBE, os.path.join(folder, "cgroup.procs"), node],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/dev/null opened",
        "/dev/full opened",
        "/dev/kmsg EPERM",
        f"{node} EPERM",
    ]


def test_duplicate_id_rejected(servin):
    container_id, _, _ = servin.create(["sleep", "1000"])
    bundle = servin.bundle(container_id, ["true"])
    result = servin.command("create", "--bundle", bundle, container_id)
    assert result.returncode != 0
    assert "already exists" in result.stderr
    assert servin.state(container_id)["status"] == "created"


def test_systemd_cgroup_rejected(servin):
    result = subprocess.run(
        [SERVIN_RUNTIME, "--systemd-cgroup", "state", "x"], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "--systemd-cgroup is not supported" in result.stderr


def test_console_socket_receives_terminal(runtime):
    container_id = runtime.new_id()
    bundle = runtime.bundle(
        container_id, ["sh", "-c", "tty; test -t 1 && echo on-a-terminal; sleep 1000"],
        terminal=True, consoleSize={"height": 30, "width": 100},
    )
    socket_path = os.path.join(runtime.workdir, "console.sock")
    pid_file = os.path.join(runtime.workdir, "console.pid")

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(socket_path)
        listener.listen(1)
        create = subprocess.Popen(
            [runtime.binary, "--root", runtime.root, "create", "--bundle", bundle,
             "--console-socket", socket_path, "--pid-file", pid_file, container_id],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        listener.settimeout(30)
        connection, _ = listener.accept()
        with connection:
            _, fds, _, _ = socket.recv_fds(connection, 1024, 1)
        _, stderr = create.communicate(timeout=30)

    assert create.returncode == 0, stderr
    assert len(fds) == 1
    master = fds[0]
    with open(pid_file) as f:
        pid = int(f.read())
    runtime.pids.add(pid)

    try:
        assert runtime.command("start", container_id).returncode == 0
        output = b""
        deadline = time.monotonic() + 10
        while b"on-a-terminal" not in output and time.monotonic() < deadline:
            output += os.read(master, 1024)
        rows, columns = struct.unpack("HHHH", fcntl.ioctl(master, termios.TIOCGWINSZ, bytes(8)))[:2]
    finally:
        os.close(master)
    lines = output.decode().splitlines()
    assert lines[0].startswith("/dev/pts/")
    assert lines[1] == "on-a-terminal"
    assert (rows, columns) == (30, 100)


def test_terminal_without_console_socket_fails(runtime):
    container_id = runtime.new_id()
    bundle = runtime.bundle(container_id, ["true"], terminal=True)
    result = runtime.command("create", "--bundle", bundle, container_id)
    assert result.returncode != 0
    assert "console" in result.stderr
    assert runtime.command("state", container_id).returncode != 0


def test_devices_cgroup_denies_unlisted_device(runtime):
    def allow_mknod(config):
        for name in ("bounding", "effective", "permitted"):
            config["process"]["capabilities"][name] = ["CAP_MKNOD", "CAP_DAC_OVERRIDE"]

    # 8:0 is the first SCSI disk; the devices controller rejects the open before any driver.
    script = "mknod /dev/disk b 8 0 && head -c 1 /dev/disk"
    result = runtime.run(["sh", "-c", script], config_changes=allow_mknod)
    assert result.returncode != 0
    assert "Operation not permitted" in result.stderr


def test_log_text_format(servin):
    log = os.path.join(servin.workdir, "log.txt")
    result = subprocess.run(
        [SERVIN_RUNTIME, "--root", servin.root, "--log", log, "state", "nothing-here"],
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    line = open(log).read().splitlines()[-1]
    assert line.startswith('time="')
    assert 'level=error msg="container nothing-here does not exist' in line


def test_delete_force_of_unknown_container_succeeds(runtime):
    assert runtime.command("delete", "--force", "never-created").returncode == 0
    assert runtime.command("delete", "never-created").returncode != 0


def test_relative_cgroup_path_limit_with_swap_v1(servin):
    def set_limits(config):
        config["linux"]["resources"]["memory"] = {"limit": 32 * 1024 * 1024,
                                                  "swap": 64 * 1024 * 1024}

    container_id, _, _ = servin.create(["sleep", "1000"], config_changes=set_limits)
    folder = memory_folder(servin.cgroups_path(container_id))
    memsw = os.path.join(folder, "memory.memsw.limit_in_bytes")
    if not os.path.exists(memsw):
        pytest.skip("swap accounting is off on this host")
    assert open(memsw).read().strip() == str(64 * 1024 * 1024)
