# SPDX-License-Identifier: GPL-2.0-or-later
"""servin-gui in a session bus of its own, driven through its exported
GActions, observed through its debug log and the accessibility tree."""

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

BUILD_ROOT = os.environ.get("SERVIN_BUILD_ROOT", "")
SOURCE_ROOT = os.environ.get(
    "SERVIN_SOURCE_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
SERVIN_GUI = os.path.join(BUILD_ROOT, "app", "gui", "servin-gui")
ARTIFACTS = os.path.join(SOURCE_ROOT, "tests", "artifacts", "gui")
APP_ID = "org.servin.Desktop"
APP_PATH = "/org/servin/Desktop"


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


class XDisplay:
    """Xvfb on the first free display number from 120 on, stopped by PID."""

    def __init__(self):
        self.proc = None
        self.name = None

    def start(self):
        number = 120
        while (os.path.exists(f"/tmp/.X11-unix/X{number}")
               or os.path.exists(f"/tmp/.X{number}-lock")):
            number += 1
        self.name = f":{number}"
        self.proc = subprocess.Popen(
            ["Xvfb", self.name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(f"/tmp/.X11-unix/X{number}"), 10, "Xvfb")
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class GuiSession:
    """servin-gui under dbus-run-session, as root or as USER.

    The session bus address is written to a file by a shell inside the
    session, so calls reach the app's org.gtk.Actions interface.
    """

    def __init__(self, servind, display, user=None, color_scheme=None, extra_env=None):
        self.servind = servind
        self.display = display
        self.user = user
        self.dir = tempfile.mkdtemp(prefix="servin-gui.")
        os.chmod(self.dir, 0o777)
        self.address_file = os.path.join(self.dir, "session-address")
        self.log_path = os.path.join(self.dir, "servin-gui.log")
        self.color_scheme = color_scheme
        self.extra_env = extra_env or {}
        self.proc = None
        self.address = None
        self.a11y_address = None

    def _as_user(self, cmd):
        if self.user is None:
            return cmd
        return ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--init-groups", *cmd]

    def env(self):
        env = dict(self.servind.env() if self.servind else os.environ,
                   DISPLAY=self.display, GSK_RENDERER="cairo", G_MESSAGES_DEBUG="ServinGui")
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.pop("AT_SPI_BUS_ADDRESS", None)
        if self.color_scheme:
            env["ADW_DEBUG_COLOR_SCHEME"] = self.color_scheme
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            env["HOME"] = entry.pw_dir
            env["USER"] = self.user
            env["XDG_RUNTIME_DIR"] = self.dir
        env.update(self.extra_env)
        return env

    def start(self):
        log = open(self.log_path, "w")
        os.chmod(self.log_path, 0o666)
        # Several sessions share one X display, and GTK and libatspi read the
        # accessibility bus address from the display before the session bus,
        # so the address of this session's own bus is exported to both.
        script = (
            'printf "%s" "$DBUS_SESSION_BUS_ADDRESS" > "$0.session"; '
            'AT_SPI_BUS_ADDRESS=$(gdbus call --session --dest org.a11y.Bus '
            '--object-path /org/a11y/bus --method org.a11y.Bus.GetAddress '
            "| sed \"s/^('\\(.*\\)',)$/\\1/\"); export AT_SPI_BUS_ADDRESS; "
            'printf "%s" "$AT_SPI_BUS_ADDRESS" > "$0.a11y"; '
            'mv "$0.session" "$0"; exec "$1"')
        cmd = self._as_user(["dbus-run-session", "--", "sh", "-c", script, self.address_file,
                             SERVIN_GUI])
        self.proc = subprocess.Popen(cmd, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_for(lambda: self.proc.poll() is not None or os.path.exists(self.address_file), 20,
                 "the session bus")
        if self.proc.poll() is not None:
            raise RuntimeError("dbus-run-session exited early; log:\n" + self.log())
        with open(self.address_file) as f:
            self.address = f.read().strip()
        with open(self.address_file + ".a11y") as f:
            self.a11y_address = f.read().strip()
        wait_for(lambda: self.proc.poll() is not None or self.has_app(), 30,
                 "servin-gui on the session bus")
        if self.proc.poll() is not None:
            raise RuntimeError("servin-gui exited early; log:\n" + self.log())
        return self

    def gdbus(self, *args, check=True):
        cmd = self._as_user(["gdbus", "call", "--address", self.address, *args])
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if check and out.returncode != 0:
            raise AssertionError(f"gdbus {' '.join(args)} failed: {out.stderr}")
        return out

    def has_app(self):
        out = self.gdbus("--dest", "org.freedesktop.DBus", "--object-path",
                         "/org/freedesktop/DBus", "--method",
                         "org.freedesktop.DBus.NameHasOwner", APP_ID, check=False)
        return out.returncode == 0 and "true" in out.stdout

    def activate(self, action, parameter=None):
        """Activate app.ACTION with PARAMETER, a GVariant in text form such as "'abc'"."""
        target = f"[<{parameter}>]" if parameter is not None else "[]"
        self.gdbus("--dest", APP_ID, "--object-path", APP_PATH, "--method",
                   "org.gtk.Actions.Activate", action, target, "{}")

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout=30, since=0):
        """Wait for PATTERN in the app's log after its first SINCE characters."""
        regex = re.compile(pattern)
        return wait_for(lambda: regex.search(self.log()[since:]), timeout,
                        f"/{pattern}/ in the servin-gui log:\n{self.log()[-3000:]}")

    def screenshot(self, name, settle=0.7):
        """Save the screen as ARTIFACTS/NAME.png after SETTLE seconds, which
        let the last change finish drawing."""
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, name + ".png")
        time.sleep(settle)
        subprocess.run(["import", "-display", self.display, "-window", "root", path],
                       check=True, capture_output=True)
        return path

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.activate("quit")
                self.proc.wait(10)
            except (AssertionError, subprocess.TimeoutExpired, subprocess.SubprocessError):
                pass
        if self.proc.poll() is None:
            # The session was started in a process group of its own, with this PID.
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def a11y_nodes(session):
    """The visible nodes of SESSION's accessibility tree, as dicts, or [] until the
    app has registered with the accessibility bus."""
    import json
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "a11y_tree.py")
    env = dict(session.env(), DBUS_SESSION_BUS_ADDRESS=session.address,
               AT_SPI_BUS_ADDRESS=session.a11y_address)
    out = subprocess.run(session._as_user(["/usr/bin/python3", script]), env=env,
                         capture_output=True, text=True, timeout=60)
    if out.returncode == 2:
        return []
    if out.returncode != 0:
        raise AssertionError(f"cannot read the accessibility tree: {out.stderr}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def a11y_click(session, name):
    """Press the button NAME of SESSION's app; False while there is none."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "a11y_tree.py")
    env = dict(session.env(), DBUS_SESSION_BUS_ADDRESS=session.address,
               AT_SPI_BUS_ADDRESS=session.a11y_address)
    out = subprocess.run(session._as_user(["/usr/bin/python3", script, "--click", name]),
                         env=env, capture_output=True, text=True, timeout=60)
    return out.returncode == 0


def a11y_texts(session):
    """Every name and text of the nodes of SESSION's windows."""
    texts = []
    for node in a11y_nodes(session):
        for key in ("name", "text"):
            if node.get(key):
                texts.append(node[key])
    return texts


def a11y_rows(session):
    """The table rows of SESSION's window, each as the list of its cell texts."""
    nodes = a11y_nodes(session)
    rows = []
    for node in nodes:
        if node["role"] != "table row":
            continue
        prefix = node["path"] + "/"
        cells = [n.get("text") or "" for n in nodes
                 if n["path"].startswith(prefix) and n["role"] == "label"]
        rows.append([c for c in cells if c])
    return rows


def wait_row(session, cell, present=True, timeout=30):
    """Wait until a table row contains CELL (or until none does), and return the rows."""
    def check():
        rows = a11y_rows(session)
        found = any(cell in row for row in rows)
        return rows if found == present else None
    return wait_for(check, timeout, f"a row {'with' if present else 'without'} {cell!r}")


class ThrottledProxy:
    """A TCP proxy on 127.0.0.1 that forwards to TARGET ("HOST:PORT") at no
    more than RATE bytes per second per connection toward the client, so a
    pull from a registry on loopback lasts long enough to watch and cancel."""

    CHUNK = 64 * 1024

    def __init__(self, target, rate):
        import socket
        import threading
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.rate = rate
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.host = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.sockets = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        import socket
        import threading
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, None),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.rate),
                             daemon=True).start()

    def _pump(self, source, sink, rate):
        import socket
        start = time.monotonic()
        sent = 0
        try:
            while not self.stopped.is_set():
                data = source.recv(self.CHUNK)
                if not data:
                    break
                sink.sendall(data)
                sent += len(data)
                if rate:
                    ahead = sent / rate - (time.monotonic() - start)
                    if ahead > 0:
                        time.sleep(ahead)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.stopped.set()
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass
        self.thread.join(5)
