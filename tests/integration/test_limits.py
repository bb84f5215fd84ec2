# SPDX-License-Identifier: GPL-2.0-or-later
"""Resource limits from servin run's flags to the cgroup files, with
servin-runtime and with runc: memory and OOM kills, pids, CPU, ulimits,
a host without a controller, and the rlimit clamp."""

import json
import os
import shutil
import subprocess
import time

import pytest

from servin_testlib.servind import SAMPLE_ARCHIVE, SERVIN, SERVIND, Servind, wait_for

SAMPLE = "servin/sample"
USAGE_EXIT = 125
RUNC = shutil.which("runc", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")

pytestmark = pytest.mark.skipif(not os.path.exists(SERVIND),
                                reason="servind is not built in this tree")

RUNTIMES = [
    pytest.param("servin-runtime", id="servin-runtime"),
    pytest.param("runc", id="runc",
                 marks=pytest.mark.skipif(RUNC is None, reason="runc is not installed")),
]


class WrappedServind(Servind):
    """servind started through WRAPPER (a command line that ends by running
    the program given as its last argument), for a changed environment."""

    def __init__(self, bus, wrapper, **kwargs):
        super().__init__(bus, **kwargs)
        self.wrapper = wrapper

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([*self.wrapper, SERVIND], env=self.env(), stdout=log,
                                     stderr=subprocess.STDOUT)
        wait_for(lambda: self.proc.poll() is not None
                 or self.bus.name_has_owner("org.servin.Servin1"), 20, "servind")
        if self.proc.poll() is not None:
            raise RuntimeError(f"servind exited with {self.proc.returncode}; log:\n" + self.log())
        return self


def start_servind(bus, runtime, wrapper=None):
    daemon = (WrappedServind(bus, wrapper, runtime=runtime) if wrapper
              else Servind(bus, runtime=runtime))
    try:
        daemon.start()
        daemon.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    except BaseException:
        daemon.cleanup()
        raise
    return daemon


@pytest.fixture(params=RUNTIMES)
def servind(request, bus):
    daemon = start_servind(bus, request.param)
    yield daemon
    daemon.cleanup()


def out(result):
    return result.stdout.decode(errors="replace")


def err(result):
    return result.stderr.decode(errors="replace")


def inspect(servind, name):
    return json.loads(out(servind.servin("inspect", name, check=True)))[0]


def container_id(servind, name):
    return inspect(servind, name)["Id"]


def dbus_property(servind, cid, name):
    result = subprocess.run(
        ["gdbus", "call", "--address", servind.bus.address, "--dest", "org.servin.Servin1",
         "--object-path", f"/org/servin/Servin1/containers/{cid}",
         "--method", "org.freedesktop.DBus.Properties.Get", "org.servin.Servin1.Container",
         name], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def cgroup_mounts():
    """(mount point, type, controllers) of each cgroup mount."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            kind = fields[sep + 1]
            if kind == "cgroup":
                mounts.append((fields[4], kind, fields[sep + 3].split(",")))
            elif kind == "cgroup2":
                mounts.append((fields[4], kind, []))
    return mounts


def container_cgroup(servind, cid, controller):
    """The host folder of the container's cgroup that has CONTROLLER: its v1
    hierarchy, or else cgroup2. It sits in a folder named after servind's
    cgroup parent."""
    mounts = [m for m in cgroup_mounts() if controller in m[2]]
    mounts += [m for m in cgroup_mounts() if m[1] == "cgroup2"]
    for point, _kind, _controllers in mounts:
        for root, dirs, _files in os.walk(point):
            if os.path.basename(root) == servind.cgroup_parent:
                if cid in dirs and (_kind == "cgroup" or os.path.exists(
                        os.path.join(root, cid, f"{controller}.max"))):
                    return os.path.join(root, cid)
                dirs[:] = []
    raise AssertionError(f"no {controller} cgroup of container {cid} below "
                         f"{servind.cgroup_parent}")


def read(folder, name):
    with open(os.path.join(folder, name)) as f:
        return f.read().strip()


def test_oom_kill_reported(servind):
    servind.servin("run", "-d", "--name", "bystander", SAMPLE, "sleep", "300", check=True)

    # Doubling a shell string passes 32 MiB within 25 rounds. The memory plus
    # swap limit defaults to 64 MiB, so without swap the OOM killer ends it.
    result = servind.servin("run", "--name", "hog", "-m", "32m", SAMPLE, "sh", "-c",
                            "a=x; while :; do a=$a$a; done", timeout=120)
    assert result.returncode == 137, err(result)

    hog = inspect(servind, "hog")
    assert hog["State"]["OOMKilled"] is True
    assert hog["State"]["ExitCode"] == 137
    assert hog["HostConfig"]["Memory"] == 32 * 1024 * 1024
    assert dbus_property(servind, hog["Id"], "OOMKilled") == "(<true>,)"
    assert "after the OOM killer killed a process of it" in servind.log()

    # servind and the other container carry on.
    assert servind.proc.poll() is None
    bystander = inspect(servind, "bystander")
    assert bystander["State"]["Running"] is True
    assert bystander["State"]["OOMKilled"] is False
    assert dbus_property(servind, bystander["Id"], "OOMKilled") == "(<false>,)"
    ps = out(servind.servin("ps", check=True))
    assert "bystander" in ps

    # The record keeps OOMKilled across a restart of servind.
    servind.stop()
    servind.start()
    assert inspect(servind, "hog")["State"]["OOMKilled"] is True
    assert dbus_property(servind, hog["Id"], "OOMKilled") == "(<true>,)"
    assert inspect(servind, "bystander")["State"]["Running"] is True

    # A new run starts with OOMKilled false again.
    servind.servin("rm", "-f", "bystander", check=True)
    result = servind.servin("run", "--name", "fits", "-m", "32m", SAMPLE, "true")
    assert result.returncode == 0, err(result)
    assert inspect(servind, "fits")["State"]["OOMKilled"] is False


def test_memory_files(servind):
    servind.servin("run", "-d", "--name", "mem", "-m", "64m", "--memory-swap", "96m", SAMPLE,
                   "sleep", "300", check=True)
    cid = container_id(servind, "mem")
    folder = container_cgroup(servind, cid, "memory")
    if "memory.limit_in_bytes" in os.listdir(folder):
        assert read(folder, "memory.limit_in_bytes") == str(64 * 1024 * 1024)
        assert read(folder, "memory.memsw.limit_in_bytes") == str(96 * 1024 * 1024)
    else:
        assert read(folder, "memory.max") == str(64 * 1024 * 1024)
        assert read(folder, "memory.swap.max") == str(32 * 1024 * 1024)
    host_config = inspect(servind, "mem")["HostConfig"]
    assert host_config["Memory"] == 64 * 1024 * 1024
    assert host_config["MemorySwap"] == 96 * 1024 * 1024


def test_pids_limit_stops_fork_loop(servind):
    # The inner shell exits at its first failed fork; the outer one then
    # execs so that it needs no fork of its own.
    script = ("sh -c 'i=0; while [ $i -lt 40 ]; do sleep 300 & i=$((i+1)); done'; "
              "echo forked $?; exec sleep 300")
    servind.servin("run", "-d", "--name", "forker", "--pids-limit", "10", SAMPLE, "sh", "-c",
                   script, check=True)
    cid = container_id(servind, "forker")
    folder = container_cgroup(servind, cid, "pids")
    assert read(folder, "pids.max") == "10"

    wait_for(lambda: "forked" in out(servind.servin("logs", "forker")), 30,
             "the fork loop to end")
    logs = servind.servin("logs", "forker")
    assert "can't fork" in err(logs)
    assert "forked 2" in out(logs)
    assert int(read(folder, "pids.current")) <= 10
    if os.path.exists(os.path.join(folder, "pids.peak")):
        assert int(read(folder, "pids.peak")) <= 10
    with open(os.path.join(folder, "cgroup.procs")) as f:
        assert len(f.read().split()) <= 10
    # pids.events counts the forks that the limit refused.
    assert int(read(folder, "pids.events").split()[-1]) > 0
    assert inspect(servind, "forker")["HostConfig"]["PidsLimit"] == 10


def test_ulimit_nofile(servind):
    result = servind.servin("run", "--rm", "--ulimit", "nofile=1024:2048", "--ulimit",
                            "nproc=500", SAMPLE, "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -u")
    assert result.returncode == 0, err(result)
    assert out(result).split() == ["1024", "2048", "500"]


def test_cpu_files(servind):
    servind.servin("run", "-d", "--name", "cpu", "--cpus", "0.5", "--cpu-shares", "512", SAMPLE,
                   "sleep", "300", check=True)
    cid = container_id(servind, "cpu")
    folder = container_cgroup(servind, cid, "cpu")
    if "cpu.shares" in os.listdir(folder):
        assert read(folder, "cpu.cfs_quota_us") == "50000"
        assert read(folder, "cpu.cfs_period_us") == "100000"
        assert read(folder, "cpu.shares") == "512"
    else:
        assert read(folder, "cpu.max") == "50000 100000"
    host_config = inspect(servind, "cpu")["HostConfig"]
    assert host_config["NanoCpus"] == 500000000
    assert host_config["CpuShares"] == 512


@pytest.mark.parametrize("flags, message", [
    (["-m", "32x"], 'invalid argument "32x" for "-m, --memory" flag'),
    (["--memory", "-5"], 'invalid argument "-5" for "-m, --memory" flag'),
    (["--memory-swap", "lots"], 'invalid argument "lots" for "--memory-swap" flag'),
    (["--pids-limit", "ten"], 'invalid argument "ten" for "--pids-limit" flag'),
    (["--cpus", "1,5"], 'invalid argument "1,5" for "--cpus" flag'),
    (["--cpus", "-1"], 'invalid argument "-1" for "--cpus" flag'),
    (["--cpu-shares", "-3"], 'invalid argument "-3" for "-c, --cpu-shares" flag'),
    (["--ulimit", "nofile"], 'invalid argument "nofile" for "--ulimit" flag'),
    (["--ulimit", "nofile=1:x"], 'invalid argument "nofile=1:x" for "--ulimit" flag'),
    (["--ulimit", "nofile=20:10"], "the soft limit must not exceed the hard limit"),
])
def test_invalid_flags(flags, message):
    for command in ("run", "create"):
        result = subprocess.run([SERVIN, command, *flags, SAMPLE, "true"], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == USAGE_EXIT, result.stderr
        assert message in result.stderr
        assert f"See 'servin {command} --help'." in result.stderr


@pytest.mark.parametrize("flags, message", [
    (["-m", "1m"], "invalid Memory 1048576: the minimum memory limit is 6 MiB"),
    (["--memory-swap", "64m"], "it needs a Memory limit too"),
    (["-m", "64m", "--memory-swap", "32m"], "must be at least the Memory limit"),
    (["--cpus", "100000"], "invalid NanoCpus 100000000000000"),
    (["--cpus", "0.001"], "the range of CPUs is from 0.01"),
    (["--ulimit", "openfiles=10"], 'invalid ulimit name "openfiles"'),
])
def test_invalid_values_rejected_by_servind(bus, flags, message):
    daemon = start_servind(bus, "servin-runtime")
    try:
        for command in ("run", "create"):
            result = daemon.servin(command, *flags, SAMPLE, "true")
            assert result.returncode == USAGE_EXIT, err(result)
            assert message in err(result)
        assert out(daemon.servin("ps", "-a", "-q", check=True)).strip() == ""
    finally:
        daemon.cleanup()


def without_pids_hierarchy():
    """A wrapper that runs servind in a mount namespace where the v1 pids
    hierarchy is unmounted, as on a host without that controller."""
    points = [m[0] for m in cgroup_mounts() if m[1] == "cgroup" and "pids" in m[2]]
    if not points:
        pytest.skip("the host has no v1 pids hierarchy to hide")
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            f'umount "{points[0]}" && exec "$0"']


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_missing_controller(bus, runtime):
    daemon = start_servind(bus, runtime, wrapper=without_pids_hierarchy())
    try:
        result = daemon.servin("run", "--rm", "--pids-limit", "10", SAMPLE, "true")
        assert result.returncode == USAGE_EXIT, err(result)
        assert "PidsLimit 10 (--pids-limit)" in err(result)
        assert "the host has no pids cgroup controller" in err(result)
        assert "--ignore-unsupported-limits" in err(result)

        result = daemon.servin("run", "--rm", "--pids-limit", "10", "-m", "32m",
                               "--ignore-unsupported-limits", SAMPLE, "sh", "-c",
                               "echo ran")
        assert result.returncode == 0, err(result)
        assert out(result) == "ran\n"
        assert "PidsLimit 10 (--pids-limit) not applied" in daemon.log()

        # Limits the host has stay applied.
        daemon.servin("run", "-d", "--name", "kept", "--pids-limit", "10", "-m", "32m",
                      "--ignore-unsupported-limits", SAMPLE, "sleep", "300", check=True)
        folder = container_cgroup(daemon, container_id(daemon, "kept"), "memory")
        assert read(folder, "memory.limit_in_bytes") == str(32 * 1024 * 1024)
    finally:
        daemon.cleanup()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_rlimit_clamped_to_host(bus, runtime):
    daemon = start_servind(bus, runtime, wrapper=["prlimit", "--nofile=4096:4096"])
    try:
        result = daemon.servin("run", "--rm", "--ulimit", "nofile=1024:8192", SAMPLE, "sh", "-c",
                               "ulimit -n; ulimit -Hn")
        assert result.returncode == 0, err(result)
        assert out(result).split() == ["1024", "4096"]
        assert "RLIMIT_NOFILE lowered from 1024:8192 to 1024:4096, the host's hard limit" \
            in daemon.log()

        # The default of 1048576 is lowered the same way.
        result = daemon.servin("run", "--rm", SAMPLE, "sh", "-c", "ulimit -n; ulimit -Hn")
        assert result.returncode == 0, err(result)
        assert out(result).split() == ["4096", "4096"]
        assert "RLIMIT_NOFILE lowered from 1048576:1048576 to 4096:4096" in daemon.log()
    finally:
        daemon.cleanup()
