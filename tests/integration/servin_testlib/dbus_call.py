# SPDX-License-Identifier: GPL-2.0-or-later
"""Call servind's D-Bus methods from tests, as root or as another user.

Run as a program, it makes one call and prints a JSON line with the reply
or the D-Bus error name, so tests can make calls as an unprivileged user
through setpriv.
"""

import json
import os
import subprocess
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = "org.servin.Servin1"
INTERFACE_PREFIX = "org.servin.Servin1."


def connect(address):
    return Gio.DBusConnection.new_for_address_sync(
        address,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
        | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)


def call(address, path, interface, method, signature, args, fds=(), timeout_ms=120000,
         connection=None):
    """Call METHOD and return (reply, None, None) or (None, error name, message).

    The call goes over CONNECTION when given, which stays open afterwards, so
    objects tied to the caller (jobs) outlive the call."""
    own_connection = connection is None
    if own_connection:
        connection = connect(address)
    fd_list = Gio.UnixFDList.new()
    for fd in fds:
        fd_list.append(fd)
    params = GLib.Variant(f"({signature})", tuple(args)) if signature else None
    try:
        reply, out_fds = connection.call_with_unix_fd_list_sync(
            BUS_NAME, path, INTERFACE_PREFIX + interface, method, params, None,
            Gio.DBusCallFlags.NONE, timeout_ms, fd_list, None)
    except GLib.Error as error:
        name = Gio.DBusError.get_remote_error(error)
        Gio.DBusError.strip_remote_error(error)
        return None, name, error.message
    finally:
        if own_connection:
            connection.close_sync(None)
    return reply.unpack(), None, None


def call_as(user, address, path, interface, method, signature, args, fd_paths=()):
    """Make the call as USER in a new process; returns the parsed JSON result."""
    request = json.dumps({"address": address, "path": path, "interface": interface,
                          "method": method, "signature": signature, "args": args,
                          "fd_paths": list(fd_paths)})
    out = subprocess.run(
        ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups",
         "/usr/bin/python3", os.path.abspath(__file__)],
        input=request, capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    if out.returncode != 0:
        raise AssertionError(f"call as {user} failed to run: {out.stderr}")
    return json.loads(out.stdout)


def main():
    request = json.load(sys.stdin)
    fds = [os.open(p, os.O_RDONLY) for p in request["fd_paths"]]
    args = [tuple(a) if isinstance(a, list) and request["signature"] == "(tt)" else a
            for a in request["args"]]
    reply, error_name, message = call(request["address"], request["path"],
                                      request["interface"], request["method"],
                                      request["signature"], args, fds)
    print(json.dumps({"reply": reply, "error": error_name, "message": message},
                     default=str))


if __name__ == "__main__":
    main()
