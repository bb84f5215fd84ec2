# SPDX-License-Identifier: GPL-2.0-or-later
"""Every method of servind's D-Bus API is checked with polkit.

The table of methods comes from the introspection XML itself, so a method
added there is covered here without editing this file.
"""

import os
import xml.etree.ElementTree as ET

import pytest
from gi.repository import Gio, GLib

from servin_testlib import dbus_call
from servin_testlib.servind import SAMPLE_ARCHIVE, SOURCE_ROOT

XML = os.path.join(SOURCE_ROOT, "data", "org.servin.Servin1.xml")
ACTION_ANNOTATION = "org.servin.Servin1.Action"
READ_ACTION = "org.servin.read"
NOT_AUTHORIZED = "org.servin.Servin1.Error.NotAuthorized"
PLAIN_USER = "servin-ci-user"
ADMIN_USER = "servin-ci-admin"

# Values for the arguments of each D-Bus type, good enough to reach the
# authorisation check, which runs before any argument is looked at.
DUMMY_VALUES = {"s": "denied-test", "o": "/", "u": 1, "i": 1, "b": False, "t": 0, "h": 0,
                "as": [], "a{sv}": {}, "a{ss}": {}}


def api_methods():
    """(interface, method, action, in-signatures) for every method in the XML."""
    methods = []
    for iface in ET.parse(XML).getroot().iter("interface"):
        name = iface.get("name").rsplit(".", 1)[1]
        for method in iface.iter("method"):
            actions = [a.get("value") for a in method.iter("annotation")
                       if a.get("name") == ACTION_ANNOTATION]
            in_types = [a.get("type") for a in method.iter("arg")
                        if a.get("direction", "in") == "in"]
            methods.append((name, method.get("name"), actions[0] if actions else None,
                            in_types))
    return methods


def test_xml_names_action_for_every_method():
    missing = [f"{i}.{m}" for i, m, action, _ in api_methods() if action is None]
    assert missing == []


def managed_objects(address):
    connection = dbus_call.connect(address)
    reply = connection.call_sync(
        "org.servin.Servin1", "/org/servin/Servin1", "org.freedesktop.DBus.ObjectManager",
        "GetManagedObjects", None, GLib.VariantType("(a{oa{sa{sv}}})"),
        Gio.DBusCallFlags.NONE, 10000, None)
    connection.close_sync(None)
    return reply.unpack()[0]


def snapshot(address):
    """Paths and states of every object, to show that nothing changed."""
    objects = managed_objects(address)
    summary = {}
    for path, interfaces in objects.items():
        props = next(iter(interfaces.values()))
        summary[path] = (props.get("State"), props.get("RepoTags"), props.get("Completed"))
    return summary


def root_call(address, path, interface, method, signature, args, fds=(), connection=None):
    reply, error, message = dbus_call.call(address, path, interface, method, signature, args,
                                           fds, connection=connection)
    assert error is None, f"{interface}.{method} as root failed: {error}: {message}"
    return reply


@pytest.fixture
def populated(servind):
    """A servind with an image, a running container, an exited one and a failed job."""
    address = servind.bus.address
    manager = "/org/servin/Servin1/Manager"
    fd = os.open(SAMPLE_ARCHIVE, os.O_RDONLY)
    try:
        root_call(address, manager, "Manager", "Load", "ha{sv}", [0, {}], fds=[fd])
    finally:
        os.close(fd)

    config = {"Image": GLib.Variant("s", "servin/sample"),
              "Cmd": GLib.Variant("as", ["sleep", "1000"])}
    running = root_call(address, manager, "Manager", "Create", "sa{sv}", ["running", config])[0]
    root_call(address, running, "Container", "Start", "", [])

    config["Cmd"] = GLib.Variant("as", ["true"])
    exited = root_call(address, manager, "Manager", "Create", "sa{sv}", ["exited", config])[0]
    root_call(address, exited, "Container", "Start", "", [])
    root_call(address, exited, "Container", "Wait", "", [])

    # A registry port where nothing listens: the job fails at once, and stays
    # on the bus while the connection that started it is open.
    job_owner = dbus_call.connect(address)
    job = root_call(address, manager, "Manager", "Pull", "sa{sv}",
                    ["127.0.0.1:9/nothing:latest", {}], connection=job_owner)[0]
    images = [p for p in managed_objects(address) if "/images/" in p]
    yield {"Manager": manager, "Container": running, "ExitedContainer": exited,
           "Image": images[0], "Job": job, "servind": servind}
    job_owner.close_sync(None)


def dummy_args(in_types):
    return [DUMMY_VALUES[t] for t in in_types]


def test_plain_user_denied_every_changing_method(populated):
    address = populated["servind"].bus.address
    before = snapshot(address)
    changing = [m for m in api_methods() if m[2] != READ_ACTION]
    assert len(changing) >= 10

    for interface, method, action, in_types in changing:
        result = dbus_call.call_as(PLAIN_USER, address, populated[interface], interface, method,
                                   "".join(in_types), dummy_args(in_types),
                                   fd_paths=["/dev/null"] if "h" in in_types else [])
        assert result["error"] == NOT_AUTHORIZED, f"{interface}.{method}: {result}"
        assert action in result["message"], f"{interface}.{method}: {result['message']}"

    assert snapshot(address) == before


def test_plain_user_may_read(populated):
    address = populated["servind"].bus.address
    reads = [m for m in api_methods() if m[2] == READ_ACTION]
    assert reads

    for interface, method, _action, in_types in reads:
        path = populated["ExitedContainer" if interface == "Container" else interface]
        result = dbus_call.call_as(PLAIN_USER, address, path, interface, method,
                                   "".join(in_types), dummy_args(in_types))
        assert result["error"] is None, f"{interface}.{method}: {result}"


def test_group_member_may_manage(populated):
    address = populated["servind"].bus.address
    result = dbus_call.call_as(ADMIN_USER, address, "/org/servin/Servin1/Manager", "Manager",
                               "Create", "sa{sv}", ["by-admin", {}])
    # Past polkit, the engine itself rejects the empty config and names Image.
    assert result["error"] == "org.servin.Servin1.Error.InvalidArgument", result
    assert "Image" in result["message"]


def test_running_container_survives_denied_remove(populated):
    address = populated["servind"].bus.address
    result = dbus_call.call_as(PLAIN_USER, address, populated["Container"], "Container",
                               "Remove", "a{sv}", [{}])
    assert result["error"] == NOT_AUTHORIZED
    state = snapshot(address)[populated["Container"]][0]
    assert state == "running"
