# SPDX-License-Identifier: GPL-2.0-or-later
"""A private system bus, polkitd and servind, each test with its own.

Each test gets its own dbus-daemon and polkitd, so servind can own its
well-known name on every test's bus at once and tests run in parallel.
servind runs with its own data root, runtime state folder and cgroup parent.
Everything is stopped by PID; containers and monitors left behind are found
through the runtime state folder.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

BUILD_ROOT = os.environ.get("SERVIN_BUILD_ROOT", "")
SOURCE_ROOT = os.environ.get(
    "SERVIN_SOURCE_ROOT",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))

SERVIND = os.path.join(BUILD_ROOT, "helper", "servind")
SERVIN = os.path.join(BUILD_ROOT, "app", "cli", "servin")
SAMPLE_ARCHIVE = os.path.join(BUILD_ROOT, "engine", "image", "servin-sample.tar")
MKIMAGE = os.path.join(BUILD_ROOT, "engine", "image", "servin-mkimage")

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <includedir>{policy_dir}</includedir>
  <includedir>/usr/share/dbus-1/system.d</includedir>
</busconfig>
"""


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def stop_process(proc, timeout=5.0):
    """Send SIGTERM to the child PROC, then SIGKILL if it has not exited after TIMEOUT."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class PrivateBus:
    """A dbus-daemon with the system bus's policy plus Servin's, and polkitd on it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="servin-bus.")
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "system_bus_socket")
        self.address = "unix:path=" + self.socket
        self.daemon = None
        self.polkitd = None

    def start(self):
        policy_dir = os.path.join(self.dir, "system.d")
        os.mkdir(policy_dir)
        shutil.copy(os.path.join(SOURCE_ROOT, "data", "org.servin.Servin1.conf"), policy_dir)
        config = os.path.join(self.dir, "system.conf")
        with open(config, "w") as f:
            f.write(BUS_CONFIG.format(socket=self.socket, policy_dir=policy_dir))
        log = open(os.path.join(self.dir, "daemon.log"), "w")
        self.daemon = subprocess.Popen(
            ["dbus-daemon", "--config-file=" + config, "--nofork", "--nopidfile"],
            stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(self.socket), 10, "the private bus socket")

        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address)
        log = open(os.path.join(self.dir, "polkitd.log"), "w")
        self.polkitd = subprocess.Popen(["/usr/lib/polkit-1/polkitd", "--no-debug"],
                                        env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.name_has_owner("org.freedesktop.PolicyKit1"), 20, "polkitd")
        return self

    def name_has_owner(self, name):
        out = subprocess.run(
            ["gdbus", "call", "--address", self.address, "--dest", "org.freedesktop.DBus",
             "--object-path", "/org/freedesktop/DBus",
             "--method", "org.freedesktop.DBus.NameHasOwner", name],
            capture_output=True, text=True)
        return out.returncode == 0 and "true" in out.stdout

    def stop(self):
        for proc in (self.polkitd, self.daemon):
            if proc is not None:
                stop_process(proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class Servind:
    """servind on a PrivateBus with a data root, state folder and cgroup parent of its own."""

    def __init__(self, bus, runtime=None, extra_config=""):
        self.bus = bus
        self.tag = uuid.uuid4().hex[:8]
        self.dir = tempfile.mkdtemp(prefix="servin-servind.")
        os.chmod(self.dir, 0o755)
        self.data_root = os.path.join(self.dir, "data")
        # Socket paths have at most 107 bytes, so the state folder is short.
        self.state = f"/run/svt-{self.tag}"
        self.cgroup_parent = f"servin-test-{self.tag}"
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write("daemon:\n  log_level: debug\n" + extra_config)
        self.runtime = runtime or os.environ.get("SERVIN_TEST_RUNTIME", "servin-runtime")
        self.log_path = os.path.join(self.dir, "servind.log")
        self.proc = None

    def env(self):
        # servind run from the build tree finds its data files (the seccomp
        # profile) in the source tree named here.
        return dict(os.environ,
                    SERVIN_SOURCE_ROOT=os.environ.get("SERVIN_SOURCE_ROOT", SOURCE_ROOT),
                    DBUS_SYSTEM_BUS_ADDRESS=self.bus.address,
                    SERVIN_CONFIG=self.config,
                    SERVIN_DATA_ROOT=self.data_root,
                    SERVIN_RUNTIME_STATE=self.state,
                    SERVIN_CGROUP_PARENT=self.cgroup_parent,
                    SERVIN_RUNTIME=self.runtime)

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([SERVIND], env=self.env(), stdout=log,
                                     stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: self.proc.poll() is not None
                     or self.bus.name_has_owner("org.servin.Servin1"), 20, "servind")
        except TimeoutError:
            raise RuntimeError("servind did not own its bus name; log:\n" + self.log())
        if self.proc.poll() is not None:
            raise RuntimeError(f"servind exited with {self.proc.returncode}; log:\n" + self.log())
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, timeout=10)

    def kill9(self):
        """Crash servind: SIGKILL, as a test of restart survival."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def servin(self, *args, user=None, input=None, timeout=120, check=False):
        """Run the servin CLI against this servind, as root or as USER."""
        cmd = [SERVIN, *args]
        if user is not None:
            cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *cmd]
        out = subprocess.run(cmd, env=self.env(), input=input, capture_output=True,
                             timeout=timeout)
        if check and out.returncode != 0:
            raise AssertionError(
                f"servin {' '.join(args)} exited {out.returncode}: "
                f"{out.stderr.decode(errors='replace')}")
        return out

    def cleanup(self):
        """Stop servind, then every monitor and container it left, by PID."""
        self.stop()
        pids = []
        if os.path.isdir(self.state):
            for root, _dirs, files in os.walk(self.state):
                for name in ("container.pid", "monitor.pid"):
                    if name in files:
                        try:
                            with open(os.path.join(root, name)) as f:
                                pids.append(int(f.read().strip()))
                        except (OSError, ValueError):
                            pass
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
        unmount_beneath(self.state)
        unmount_beneath(self.data_root)
        remove_cgroups(self.cgroup_parent)
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def unmount_beneath(path):
    """Unmount every mount point at or below PATH, deepest first."""
    path = os.path.realpath(path)
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if point == path or point.startswith(path + "/"):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def remove_cgroups(parent_name):
    """Remove cgroup folders named PARENT_NAME, with what is below, in every hierarchy."""
    for mount_point in cgroup_mount_points():
        for root, dirs, _files in os.walk(mount_point):
            if os.path.basename(root) == parent_name:
                for sub, _d, _f in sorted(os.walk(root), key=lambda w: -len(w[0])):
                    try:
                        os.rmdir(sub)
                    except OSError:
                        pass
                dirs[:] = []


def cgroup_mount_points():
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] in ("cgroup", "cgroup2"):
                points.append(fields[4])
    return points
