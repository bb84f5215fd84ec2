# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile input and races against servind through its D-Bus interface.

Each test checks behaviour a user relies on. Tests of bugs that are still
open are marked xfail(strict=True), so they fail the suite once the bug is
fixed and the mark must go.
"""

import gzip
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import tarfile
import tempfile
import threading
import time

import pytest
from gi.repository import GLib

from servin_testlib import dbus_call
from servin_testlib.servind import MKIMAGE, SAMPLE_ARCHIVE
from servin_testlib.servind import SERVIN as SERVIN_CLI

MANAGER = "/org/servin/Servin1/Manager"


def container_path(container_id):
    return f"/org/servin/Servin1/containers/{container_id}"


def call(servind, path, interface, method, signature="", args=(), **kwargs):
    return dbus_call.call(servind.bus.address, path, interface, method, signature, list(args),
                          **kwargs)


def load_sample(servind):
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)


def responds(servind, timeout=5):
    """Return True when servind replies to Info within TIMEOUT seconds."""
    _reply, error, message = call(servind, MANAGER, "Manager", "Info",
                                  timeout_ms=int(timeout * 1000))
    return error is None and message is None


def row_of(servind, container_id):
    out = servind.servin("ps", "-a", "--no-trunc", check=True).stdout.decode()
    rows = [line for line in out.splitlines() if line.startswith(container_id)]
    return rows[0] if rows else None


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def build_image(workdir, reference, entries, user=None):
    """Write an OCI layout archive: the sample image plus one layer of ENTRIES.

    ENTRIES are (TarInfo, bytes or None) pairs, so a test can put symbolic
    links and other hostile members into the layer. Returns the archive path."""
    layout = os.path.join(workdir, "layout")
    if not os.path.isdir(layout):
        subprocess.run([MKIMAGE, "--layout=" + layout], check=True, capture_output=True)
    blobs = os.path.join(layout, "blobs", "sha256")
    with open(os.path.join(layout, "index.json")) as f:
        manifest_digest = json.load(f)["manifests"][0]["digest"][7:]
    with open(os.path.join(blobs, manifest_digest)) as f:
        manifest = json.load(f)
    with open(os.path.join(blobs, manifest["config"]["digest"][7:])) as f:
        config = json.load(f)
    with open(os.path.join(blobs, manifest["layers"][0]["digest"][7:]), "rb") as f:
        base_layer = f.read()

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as layer:
        for info, data in entries:
            layer.addfile(info, io.BytesIO(data) if data is not None else None)
    raw = raw.getvalue()
    extra_layer = gzip.compress(raw, mtime=0)

    config["rootfs"]["diff_ids"].append("sha256:" + _sha256(raw))
    if user is not None:
        config["config"]["User"] = user
    config_bytes = json.dumps(config).encode()
    layers = [base_layer, extra_layer]
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + _sha256(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + _sha256(blob), "size": len(blob)} for blob in layers],
    }
    manifest_bytes = json.dumps(manifest).encode()
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + _sha256(manifest_bytes),
                       "size": len(manifest_bytes),
                       "annotations": {"org.opencontainers.image.ref.name": reference}}],
    }
    members = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
               "index.json": json.dumps(index).encode()}
    for blob in [config_bytes, manifest_bytes, *layers]:
        members["blobs/sha256/" + _sha256(blob)] = blob
    path = os.path.join(workdir, reference.replace("/", "_").replace(":", "_") + ".tar")
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def symlink(name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return (info, None)


def regular_file(name, size):
    info = tarfile.TarInfo(name)
    info.size = size
    return info


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="servin-hostile.")
    os.chmod(path, 0o755)
    yield path
    subprocess.run(["rm", "-rf", path], check=False)


# Bad input that servind must reject with InvalidArgument.

@pytest.mark.parametrize("config, words", [
    ({"Cmd": GLib.Variant("s", "echo hi")}, "Cmd"),
    ({"Env": GLib.Variant("as", ["NOVALUE"])}, "NOVALUE"),
    ({"Env": GLib.Variant("as", ["=value"])}, "=value"),
    ({"WorkingDir": GLib.Variant("s", "relative/dir")}, "relative/dir"),
    ({"User": GLib.Variant("s", "../../etc")}, "../../etc"),
    ({"Labels": GLib.Variant("as", ["a=b"])}, "Labels"),
    ({"Tty": GLib.Variant("s", "yes")}, "Tty"),
    ({"Privileged": GLib.Variant("b", True)}, "Privileged"),
    # Values that would fail only at Start.
    ({"Hostname": GLib.Variant("s", "h" * 65)}, "longer than 64"),
    ({"Hostname": GLib.Variant("s", "a/b")}, "a/b"),
    ({"Cmd": GLib.Variant("as", [""])}, "empty string"),
    ({"Env": GLib.Variant("as", ["HUGE=" + "x" * 200000])}, "HUGE"),
    ({"Labels": GLib.Variant("a{ss}", {"": "x"})}, "label key"),
])
def test_create_refuses_bad_config(servind, config, words):
    load_sample(servind)
    config = dict(config, Image=GLib.Variant("s", "servin/sample"))
    _reply, error, message = call(servind, MANAGER, "Manager", "Create", "sa{sv}", ["", config])
    assert error == "org.servin.Servin1.Error.InvalidArgument", message
    assert words in message
    out = servind.servin("ps", "-a", "-q", check=True)
    assert out.stdout.strip() == b""


@pytest.mark.parametrize("name", ["a/b", "..", ".", "../../x", "-x", "a b", "a\nb"])
def test_create_refuses_bad_names(servind, name):
    load_sample(servind)
    _reply, error, message = call(servind, MANAGER, "Manager", "Create", "sa{sv}",
                                  [name, {"Image": GLib.Variant("s", "servin/sample")}])
    assert error == "org.servin.Servin1.Error.InvalidArgument", message


@pytest.mark.parametrize("signal_text", ["", "NOPE", "0", "65", "-9", "9x", "SIG"])
def test_kill_refuses_bad_signals(servind, signal_text):
    load_sample(servind)
    container_id = servind.servin("run", "-d", "servin/sample", "sleep", "60",
                                  check=True).stdout.decode().strip()
    _reply, error, message = call(servind, container_path(container_id), "Container", "Kill",
                                  "s", [signal_text])
    assert error == "org.servin.Servin1.Error.InvalidArgument", message
    assert "Up " in row_of(servind, container_id)


def test_labels_keep_keys_with_equals_signs(servind):
    """Labels are stored as KEY=VALUE, so a key with '=' is refused; a value may have '='."""
    load_sample(servind)
    labels = {"a=b": "c", "plain": "x=y"}
    reply, error, message = call(servind, MANAGER, "Manager", "Create", "sa{sv}",
                                 ["", {"Image": GLib.Variant("s", "servin/sample"),
                                       "Labels": GLib.Variant("a{ss}", labels)}])
    assert error == "org.servin.Servin1.Error.InvalidArgument", message
    assert '"a=b"' in message
    assert servind.servin("ps", "-a", "-q", check=True).stdout.strip() == b""

    labels = {"plain": "x=y"}
    reply, error, message = call(servind, MANAGER, "Manager", "Create", "sa{sv}",
                                 ["", {"Image": GLib.Variant("s", "servin/sample"),
                                       "Labels": GLib.Variant("a{ss}", labels)}])
    assert error is None, message
    connection = dbus_call.connect(servind.bus.address)
    try:
        value = connection.call_sync(
            "org.servin.Servin1", reply[0], "org.freedesktop.DBus.Properties", "Get",
            GLib.Variant("(ss)", ("org.servin.Servin1.Container", "Labels")), None, 0, 10000,
            None).unpack()[0]
    finally:
        connection.close_sync(None)
    assert value == labels


# Image archives with hostile content.

def test_load_refuses_layer_paths_out_of_the_layer(servind, workdir):
    for name, entries in [
        ("dotdot", [(tarfile.TarInfo("../../../../pwned"), b"")]),
        ("through-link", [symlink("escape", workdir), (tarfile.TarInfo("escape/pwned"), b"")]),
    ]:
        archive = build_image(workdir, f"hostile/{name}:1", entries)
        out = servind.servin("load", "-i", archive)
        assert out.returncode != 0, name
        assert b"unsafe layer entry" in out.stderr, out.stderr
    assert not os.path.exists(os.path.join(workdir, "pwned"))
    assert servind.servin("images", "-q", check=True).stdout.strip() == b""


def test_user_lookup_stays_inside_the_image(servind, workdir):
    """An image whose /etc/passwd links to a host file must not have servind read that file.

    The same hole lets an image link /etc/passwd to /dev/zero, which makes
    servind read without end until the machine runs out of memory."""
    host_passwd = os.path.join(workdir, "host-passwd")
    with open(host_passwd, "w") as f:
        f.write("hostonly:x:4242:4242::/:/bin/sh\n")
    archive = build_image(workdir, "hostile/passwd-link:1",
                          [symlink("etc/passwd", host_passwd)])
    servind.servin("load", "-i", archive, check=True)
    out = servind.servin("create", "-u", "hostonly", "hostile/passwd-link:1", "id")
    assert out.returncode != 0, "servind found the user in a host file"
    assert b"unable to find user hostonly" in out.stderr


def test_load_pipe_keeps_servind_responsive(servind):
    read_end, write_end = os.pipe()
    result = {}

    def load():
        result["load"] = call(servind, MANAGER, "Manager", "Load", "ha{sv}", [0, {}],
                              fds=[read_end], timeout_ms=60000)

    thread = threading.Thread(target=load)
    thread.start()
    try:
        time.sleep(1)
        answered = responds(servind, timeout=5)
    finally:
        os.close(write_end)
        thread.join()
        os.close(read_end)
    assert answered, "servind did not answer Info while a Load waited on a pipe"


def test_load_stops_when_caller_leaves(servind, workdir):
    archive = build_image(workdir, "hostile/stalled:1",
                          [(regular_file("large", 8 * 1024 * 1024), os.urandom(8 * 1024 * 1024))])
    with open(archive, "rb") as f:
        data = f.read()
    tmp = os.path.join(servind.data_root, "tmp")
    read_end, write_end = os.pipe()
    result = {}

    def load():
        # The call times out and closes its connection, so the caller leaves the bus.
        result["load"] = call(servind, MANAGER, "Manager", "Load", "ha{sv}", [0, {}],
                              fds=[read_end], timeout_ms=3000)

    thread = threading.Thread(target=load)
    thread.start()
    try:
        view = memoryview(data)[:len(data) * 3 // 4]
        while view:
            view = view[os.write(write_end, view[:65536]):]
        thread.join()
        deadline = time.monotonic() + 10
        while os.listdir(tmp) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = os.listdir(tmp)
    finally:
        os.close(write_end)
        thread.join()
        os.close(read_end)
    assert result["load"][0] is None, "the Load call did not time out"
    assert left == [], "the load still runs after its caller left"
    assert responds(servind)
    assert servind.servin("images", "-q", check=True).stdout.strip() == b""


def test_load_refuses_a_write_only_descriptor(servind, workdir):
    archive = os.path.join(workdir, "sample.tar")
    with open(SAMPLE_ARCHIVE, "rb") as src, open(archive, "wb") as dst:
        dst.write(src.read())
    fd = os.open(archive, os.O_WRONLY | os.O_APPEND)
    try:
        _reply, error, _message = call(servind, MANAGER, "Manager", "Load", "ha{sv}", [0, {}],
                                       fds=[fd])
    finally:
        os.close(fd)
    assert error == "org.servin.Servin1.Error.InvalidArgument"
    assert servind.servin("images", "-q", check=True).stdout.strip() == b""


def test_load_refuses_an_o_path_descriptor(servind):
    fd = os.open(SAMPLE_ARCHIVE, os.O_PATH)
    try:
        _reply, error, message = call(servind, MANAGER, "Manager", "Load", "ha{sv}", [0, {}],
                                      fds=[fd])
    finally:
        os.close(fd)
    assert error == "org.servin.Servin1.Error.InvalidArgument", message
    assert "not open for reading" in message
    assert servind.servin("images", "-q", check=True).stdout.strip() == b""


def test_load_error_names_no_descriptor_path(servind, workdir):
    garbage = os.path.join(workdir, "garbage.tar")
    with open(garbage, "wb") as f:
        f.write(b"this is not a tar archive\n" * 100)
    with open(garbage, "rb") as f:
        _reply, error, message = call(servind, MANAGER, "Manager", "Load", "ha{sv}", [0, {}],
                                      fds=[f.fileno()])
    assert error == "org.servin.Servin1.Error.InvalidArgument", message
    assert "image archive" in message
    assert "/proc/" not in message


def load_in_threads(servind, count):
    """Run COUNT Loads of the sample archive at once; returns their (reply, error, message)."""
    files = [open(SAMPLE_ARCHIVE, "rb") for _ in range(count)]
    results = [None] * count

    def load(i):
        results[i] = call(servind, MANAGER, "Manager", "Load", "ha{sv}", [0, {}],
                          fds=[files[i].fileno()], timeout_ms=60000)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for f in files:
            f.close()
    return results


def test_concurrent_loads_of_one_image(servind):
    for _round in range(3):
        for _reply, error, message in load_in_threads(servind, 3):
            assert error is None, message
        ids = servind.servin("images", "-q", check=True).stdout.split()
        assert len(ids) == 1
        out = servind.servin("run", "--rm", "servin/sample", "true")
        assert out.returncode == 0, out.stderr
        servind.servin("rmi", "servin/sample", check=True)
        assert servind.servin("images", "-q", check=True).stdout.strip() == b""


def test_load_racing_pull_of_one_image(servind):
    from servin_testlib.registry import Registry

    registry = Registry().start()
    try:
        reference = registry.push_archive(SAMPLE_ARCHIVE, "sample")
        for _round in range(3):
            result = {}

            def pull():
                result["pull"] = servind.servin("pull", reference)

            thread = threading.Thread(target=pull)
            thread.start()
            loads = load_in_threads(servind, 1)
            thread.join()
            for _reply, error, message in loads:
                assert error is None, message
            assert result["pull"].returncode == 0, result["pull"].stderr
            for name in (reference, "servin/sample"):
                out = servind.servin("run", "--rm", name, "true")
                assert out.returncode == 0, out.stderr
            for name in (reference, "servin/sample"):
                servind.servin("rmi", name, check=True)
            assert servind.servin("images", "-q", check=True).stdout.strip() == b""
    finally:
        registry.stop()


def test_restart_removes_unused_blobs_and_layers(servind):
    load_sample(servind)
    blobs = os.path.join(servind.data_root, "blobs", "sha256")
    layers = os.path.join(servind.data_root, "layers")
    kept_blobs = sorted(os.listdir(blobs))
    kept_layers = sorted(os.listdir(layers))
    data = os.urandom(4096)
    unused_blob = os.path.join(blobs, hashlib.sha256(data).hexdigest())
    with open(unused_blob, "wb") as f:
        f.write(data)
    unused_layer = os.path.join(layers, hashlib.sha256(b"unused layer").hexdigest())
    os.makedirs(os.path.join(unused_layer, "etc"))
    with open(unused_layer + ".size", "w") as f:
        f.write("0\n")

    servind.kill9()
    servind.start()

    assert not os.path.exists(unused_blob)
    assert not os.path.exists(unused_layer)
    assert not os.path.exists(unused_layer + ".size")
    assert sorted(os.listdir(blobs)) == kept_blobs
    assert sorted(os.listdir(layers)) == kept_layers
    out = servind.servin("run", "--rm", "servin/sample", "true")
    assert out.returncode == 0, out.stderr


# Options of the wrong type.

@pytest.mark.parametrize("options, option", [
    ({"Tail": GLib.Variant("s", "10")}, "Tail"),
    ({"Tail": GLib.Variant("u", 10)}, "Tail"),
    ({"Follow": GLib.Variant("s", "yes")}, "Follow"),
    ({"Timestamps": GLib.Variant("i", 1)}, "Timestamps"),
])
def test_logs_refuses_wrongly_typed_options(servind, options, option):
    load_sample(servind)
    container_id = servind.servin("create", "servin/sample", "true",
                                  check=True).stdout.decode().strip()
    _reply, error, message = call(servind, container_path(container_id), "Container", "Logs",
                                  "a{sv}", [options])
    assert error == "org.servin.Servin1.Error.InvalidArgument", message
    assert f"option {option}" in message
    assert "expected" in message


@pytest.mark.parametrize("options, option", [
    ({"Force": GLib.Variant("s", "true")}, "Force"),
    ({"Reference": GLib.Variant("i", 1)}, "Reference"),
])
def test_image_remove_refuses_wrongly_typed_options(servind, options, option):
    load_sample(servind)
    image_id = servind.servin("images", "-q", "--no-trunc",
                              check=True).stdout.decode().strip()
    path = "/org/servin/Servin1/images/" + image_id.split(":", 1)[-1]
    _reply, error, message = call(servind, path, "Image", "Remove", "a{sv}", [options])
    assert error == "org.servin.Servin1.Error.InvalidArgument", message
    assert f"option {option}" in message
    assert "expected" in message
    assert servind.servin("images", "-q", check=True).stdout.strip() != b""


# Stop and removal.

def test_stop_timeout_does_not_wrap(servind):
    load_sample(servind)
    # sleep is the container's PID 1, which ignores SIGTERM: only SIGKILL ends it.
    container_id = servind.servin("run", "-d", "servin/sample", "sleep", "60",
                                  check=True).stdout.decode().strip()
    connection = dbus_call.connect(servind.bus.address)
    try:
        connection.call(
            "org.servin.Servin1", container_path(container_id), "org.servin.Servin1.Container",
            "Stop", GLib.Variant("(u)", (4294968,)), None, 0, -1, None, None, None)
        connection.flush_sync(None)
        time.sleep(3)
        assert "Up " in row_of(servind, container_id)
    finally:
        connection.close_sync(None)
        servind.servin("rm", "-f", container_id)


def monitor_pid(servind, container_id):
    with open(os.path.join(servind.state, "c", container_id[:12], "monitor.pid")) as f:
        return int(f.read())


def container_pid(servind, container_id):
    with open(os.path.join(servind.state, "c", container_id[:12], "container.pid")) as f:
        return int(f.read())


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_forced_remove_right_after_kill_ends_the_container(servind):
    """Kill TERM, then Remove with Force, while the monitor is briefly busy.

    The monitor is held with SIGSTOP so both requests wait in its socket, as
    they do when the monitor is slow to be scheduled."""
    load_sample(servind)
    container_id = servind.servin("run", "-d", "servin/sample", "sleep", "1000",
                                  check=True).stdout.decode().strip()
    path = container_path(container_id)
    monitor = monitor_pid(servind, container_id)
    init = container_pid(servind, container_id)
    result = {}

    def remove():
        result["remove"] = call(servind, path, "Container", "Remove", "a{sv}",
                                [{"Force": GLib.Variant("b", True)}], timeout_ms=60000)

    os.kill(monitor, signal.SIGSTOP)
    try:
        _reply, error, message = call(servind, path, "Container", "Kill", "s", ["TERM"])
        assert error is None, message
        thread = threading.Thread(target=remove)
        thread.start()
        time.sleep(1)
    finally:
        os.kill(monitor, signal.SIGCONT)
    thread.join()
    try:
        _reply, error, message = result["remove"]
        assert error is None, message
        assert row_of(servind, container_id) is None
        deadline = time.monotonic() + 10
        while alive(init) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(init), "the container still runs after a forced removal"
    finally:
        for pid in (init, monitor):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def start_forced_removal(servind, path, result):
    """Call Remove with Force in a thread, storing the reply in RESULT["remove"]."""
    def remove():
        result["remove"] = call(servind, path, "Container", "Remove", "a{sv}",
                                [{"Force": GLib.Variant("b", True)}], timeout_ms=60000)

    thread = threading.Thread(target=remove)
    thread.start()
    return thread


def answers_quickly(servind):
    """Return the seconds that Info and `servin ps` took, each with a 5 s limit."""
    start = time.monotonic()
    assert responds(servind, timeout=5), "servind did not answer Info"
    info_seconds = time.monotonic() - start
    start = time.monotonic()
    servind.servin("ps", "-a", timeout=5, check=True)
    return info_seconds, time.monotonic() - start


def kill_leftovers(*pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_forced_remove_waits_without_blocking_servind(servind):
    """A forced removal waits for the monitor while servind keeps answering.

    The monitor is held with SIGSTOP, so it cannot record the exit until
    SIGCONT. Meanwhile a second removal and a start are rejected."""
    load_sample(servind)
    container_id = servind.servin("run", "-d", "--name", "slow-monitor", "servin/sample",
                                  "sleep", "1000", check=True).stdout.decode().strip()
    path = container_path(container_id)
    monitor = monitor_pid(servind, container_id)
    init = container_pid(servind, container_id)
    result = {}

    os.kill(monitor, signal.SIGSTOP)
    try:
        thread = start_forced_removal(servind, path, result)
        time.sleep(1)
        info_seconds, ps_seconds = answers_quickly(servind)
        second = call(servind, path, "Container", "Remove", "a{sv}",
                      [{"Force": GLib.Variant("b", True)}], timeout_ms=5000)
        start = call(servind, path, "Container", "Start", timeout_ms=5000)
        removal_was_waiting = thread.is_alive()
    finally:
        os.kill(monitor, signal.SIGCONT)
    thread.join()
    try:
        assert info_seconds < 1, f"Info took {info_seconds:.2f} s during a forced removal"
        assert ps_seconds < 1, f"servin ps took {ps_seconds:.2f} s during a forced removal"
        assert removal_was_waiting, "the removal ended while the monitor was stopped"
        _reply, error, message = second
        assert error == "org.servin.Servin1.Error.Conflict", message
        assert "slow-monitor: removal already in progress" in message
        _reply, error, message = start
        assert error == "org.servin.Servin1.Error.Conflict", message
        assert "container slow-monitor is being removed" in message
        _reply, error, message = result["remove"]
        assert error is None, message
        assert row_of(servind, container_id) is None
        assert not os.path.exists(os.path.join(servind.state, "c", container_id[:12]))
        assert not alive(init), "the container still runs after a forced removal"
    finally:
        kill_leftovers(init, monitor)


def test_forced_remove_times_out_naming_the_container(servind):
    """A monitor stopped for longer than 15 s ends the removal with an error."""
    load_sample(servind)
    container_id = servind.servin("run", "-d", "--name", "stuck-monitor", "servin/sample",
                                  "sleep", "1000", check=True).stdout.decode().strip()
    path = container_path(container_id)
    monitor = monitor_pid(servind, container_id)
    init = container_pid(servind, container_id)
    result = {}

    os.kill(monitor, signal.SIGSTOP)
    try:
        started = time.monotonic()
        thread = start_forced_removal(servind, path, result)
        time.sleep(8)
        info_seconds, ps_seconds = answers_quickly(servind)
        thread.join(30)
        removal_seconds = time.monotonic() - started
    finally:
        os.kill(monitor, signal.SIGCONT)
    thread.join()
    try:
        assert info_seconds < 1, f"Info took {info_seconds:.2f} s during a forced removal"
        assert ps_seconds < 1, f"servin ps took {ps_seconds:.2f} s during a forced removal"
        _reply, error, message = result["remove"]
        assert error == "org.servin.Servin1.Error.Failed", message
        assert "container stuck-monitor did not exit within 15 s of SIGKILL" in message
        assert f"(monitor pid {monitor})" in message
        assert 14 < removal_seconds < 25
        deadline = time.monotonic() + 10
        while "Exited (137)" not in (row_of(servind, container_id) or "") \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "Exited (137)" in row_of(servind, container_id)
        servind.servin("rm", container_id, check=True)
        assert row_of(servind, container_id) is None
    finally:
        kill_leftovers(init, monitor)


def test_environment_with_many_entries_is_merged_quickly(servind):
    """40000 Env entries used to take seconds on servind's main loop."""
    load_sample(servind)
    env = [f"VAR{i}=value{i}" for i in range(40000)] + ["VAR7=again"]
    start = time.monotonic()
    reply, error, message = call(servind, MANAGER, "Manager", "Create", "sa{sv}",
                                 ["", {"Image": GLib.Variant("s", "servin/sample"),
                                       "Env": GLib.Variant("as", env)}])
    assert error is None, message
    assert time.monotonic() - start < 2
    out = servind.servin("inspect", reply[0].split("/")[-1], check=True).stdout
    merged = json.loads(out)[0]["Config"]["Env"]
    assert merged.count("VAR7=again") == 1 and "VAR7=value7" not in merged


def test_attaches_before_start_are_capped(servind):
    """Each Attach before Start holds a descriptor in servind until Start, so they are capped."""
    load_sample(servind)
    container_id = servind.servin("create", "servin/sample", "true",
                                  check=True).stdout.decode().strip()
    path = container_path(container_id)
    for _ in range(16):
        _reply, error, message = call(servind, path, "Container", "Attach", "a{sv}", [{}])
        assert error is None, message
    _reply, error, message = call(servind, path, "Container", "Attach", "a{sv}", [{}])
    assert error == "org.servin.Servin1.Error.Conflict", message
    assert "16 attaches already wait" in message
    servind.servin("start", container_id, check=True)
    assert servind.servin("wait", container_id, check=True).stdout.strip() == b"0"
    servind.servin("rm", container_id, check=True)


def test_concurrent_starts_run_one_container(servind):
    load_sample(servind)
    container_id = servind.servin("create", "servin/sample", "sleep", "60",
                                  check=True).stdout.decode().strip()
    results = []

    def start():
        results.append(call(servind, container_path(container_id), "Container", "Start"))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = sorted(str(error) for _reply, error, _message in results)
    assert errors == ["None", "org.servin.Servin1.Error.Conflict"]
    monitors = [name for name in os.listdir(os.path.join(servind.state, "c"))]
    assert monitors == [container_id[:12]]
    servind.servin("rm", "-f", container_id, check=True)


# Crashes of servind.

def test_restart_removes_half_written_load(servind, workdir):
    archive = build_image(workdir, "hostile/large:1",
                          [(regular_file("large", 8 * 1024 * 1024), os.urandom(8 * 1024 * 1024))])
    with open(archive, "rb") as f:
        data = f.read()
    read_end, write_end = os.pipe()
    result = {}

    def load():
        result["load"] = call(servind, MANAGER, "Manager", "Load", "ha{sv}", [0, {}],
                              fds=[read_end], timeout_ms=60000)

    thread = threading.Thread(target=load)
    thread.start()
    try:
        view = memoryview(data)[:len(data) * 3 // 4]
        while view:
            view = view[os.write(write_end, view[:65536]):]
        time.sleep(1)
        servind.kill9()
    finally:
        os.close(write_end)
        thread.join()
        os.close(read_end)
    servind.start()
    tmp = os.path.join(servind.data_root, "tmp")
    assert os.listdir(tmp) == []


def test_pull_reports_servind_crash_clearly(servind):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    try:
        host = f"127.0.0.1:{server.getsockname()[1]}"
        pull = subprocess.Popen([SERVIN_CLI, "pull", f"{host}/silent:1"], env=servind.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(2)
        servind.kill9()
        _out, err = pull.communicate(timeout=30)
    finally:
        server.close()
    assert pull.returncode != 0
    assert b"(null)" not in err, err
    assert f"{host}/silent:1".encode() in err


def test_container_remove_refuses_wrongly_typed_force(servind):
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    out = servind.servin("run", "-d", "--name", "typed", "servin/sample", "sleep", "1000",
                         check=True)
    path = "/org/servin/Servin1/containers/" + out.stdout.decode().strip()
    _reply, error, message = dbus_call.call(servind.bus.address, path, "Container", "Remove",
                                            "a{sv}", [{"Force": GLib.Variant("s", "yes")}])
    assert error == "org.servin.Servin1.Error.InvalidArgument"
    assert "Force" in message
    assert "running" in servind.servin("inspect", "typed", check=True).stdout.decode()
