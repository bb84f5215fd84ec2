# SPDX-License-Identifier: GPL-2.0-or-later
"""servind on a private bus: objects, live properties and jobs."""

import subprocess

from gi.repository import Gio, GLib

from servin_testlib import dbus_call
from servin_testlib.servind import SAMPLE_ARCHIVE, SERVIND, Servind

MANAGER = "/org/servin/Servin1/Manager"


def load_sample(servind):
    out = servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    assert b"servin/sample" in out.stdout


class StateRecorder:
    """A second client: an object manager client that records every State it
    is told about through PropertiesChanged, without ever asking."""

    def __init__(self, address):
        self.context = GLib.MainContext.new()
        self.context.push_thread_default()
        self.connection = dbus_call.connect(address)
        self.client = Gio.DBusObjectManagerClient.new_sync(
            self.connection, Gio.DBusObjectManagerClientFlags.NONE, "org.servin.Servin1",
            "/org/servin/Servin1", None, None, None)
        self.states = {}
        self.client.connect("interface-proxy-properties-changed", self.on_changed)
        self.client.connect("object-added", self.on_added)

    def on_added(self, _client, obj):
        iface = obj.get_interface("org.servin.Servin1.Container")
        if iface is not None:
            state = iface.get_cached_property("State")
            self.states.setdefault(obj.get_object_path(), []).append(state.unpack())

    def on_changed(self, _client, obj, _proxy, changed, _invalidated):
        state = changed.unpack().get("State")
        if state is not None:
            self.states.setdefault(obj.get_object_path(), []).append(state)

    def run_until(self, predicate, timeout):
        deadline = GLib.get_monotonic_time() + int(timeout * 1e6)
        while not predicate() and GLib.get_monotonic_time() < deadline:
            self.context.iteration(False) or self.context.iteration(True)

    def close(self):
        self.connection.close_sync(None)
        self.context.pop_thread_default()


def test_manager_info_counts(servind):
    reply, error, _ = dbus_call.call(servind.bus.address, MANAGER,
                                     "Manager", "Info", "", [])
    assert error is None
    assert reply[0]["Containers"] == 0


def test_second_client_sees_state_changes(servind):
    load_sample(servind)
    recorder = StateRecorder(servind.bus.address)
    try:
        out = servind.servin("run", "-d", "servin/sample", "sh", "-c", "sleep 1", check=True)
        container_id = out.stdout.decode().strip()
        path = f"/org/servin/Servin1/containers/{container_id}"
        recorder.run_until(lambda: "exited" in recorder.states.get(path, []), 30)
        states = recorder.states.get(path, [])
    finally:
        recorder.close()
    assert states[0] == "created"
    assert "running" in states
    assert states[-1] == "exited"


def test_pull_failure_kept_in_job(servind):
    # The job lives while the connection that started it is on the bus.
    connection = dbus_call.connect(servind.bus.address)
    reply, error, _ = dbus_call.call(servind.bus.address, MANAGER, "Manager", "Pull",
                                     "sa{sv}", ["127.0.0.1:9/missing:latest", {}],
                                     connection=connection)
    assert error is None
    job = reply[0]
    props = Gio.DBusProxy.new_sync(connection, Gio.DBusProxyFlags.NONE, None,
                                   "org.servin.Servin1", job, "org.servin.Servin1.Job", None)
    assert props.get_cached_property("Operation").unpack() == "pull"
    deadline = GLib.get_monotonic_time() + 30 * 1000000
    while not props.get_cached_property("Completed").unpack():
        assert GLib.get_monotonic_time() < deadline, "the pull job never completed"
        GLib.MainContext.default().iteration(True)
    assert props.get_cached_property("Success").unpack() is False
    assert props.get_cached_property("ErrorName").unpack() == \
        "org.servin.Servin1.Error.Unreachable"
    assert "127.0.0.1:9" in props.get_cached_property("ErrorMessage").unpack()
    connection.close_sync(None)


def test_servind_logs_failed_request(servind):
    out = servind.servin("rm", "no-such-container")
    assert out.returncode != 0
    assert "no-such-container" in out.stderr.decode()


def test_second_servind_refuses_to_start(servind):
    other = Servind(servind.bus)
    try:
        other.proc = subprocess.Popen([SERVIND], env=other.env(), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True)
        _out, err = other.proc.communicate(timeout=30)
        assert other.proc.returncode == 1
        assert "another servind" in err
    finally:
        other.cleanup()
    out = servind.servin("version")
    assert out.returncode == 0
