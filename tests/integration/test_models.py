# SPDX-License-Identifier: GPL-2.0-or-later
"""libservin-client's list models follow servind without polling.

sv-model-check builds SvContainerModel and SvImageModel and prints a line
per event; these tests change servind's objects with the CLI and read the
lines. sv-model-check also compares each model with the items-changed
signals it received and prints an error line when a position is wrong.
"""

import os
import pwd
import queue
import re
import subprocess
import threading
import time

import pytest

from servin_testlib.servind import BUILD_ROOT, SAMPLE_ARCHIVE

CHECK = os.path.join(BUILD_ROOT, "tests", "integration", "sv-model-check")
SAMPLE = "servin/sample"
PLAIN_USER = "servin-ci-user"

pytestmark = pytest.mark.skipif(not os.path.exists(CHECK), reason=f"{CHECK} is not built")


class ModelCheck:
    """sv-model-check running against SERVIND, its output lines read by a thread."""

    def __init__(self, servind, *args, user=None):
        cmd = [CHECK, *args]
        if user is not None:
            cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *cmd]
        # A GLib critical or warning aborts sv-model-check, so it fails the test.
        env = dict(servind.env(), G_DEBUG="fatal-warnings")
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.seen = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        line = self.lines.get(timeout=remaining)
        if line is None:
            raise AssertionError(f"sv-model-check exited {self.proc.wait()}: "
                                 f"{self.proc.stderr.read()}\nlines: {self.seen}")
        self.seen.append(line)
        assert not line.startswith("error:"), f"{line}\nlines: {self.seen}"
        return line

    def wait_for(self, pattern, timeout=30):
        """Read lines until one matches the regular expression PATTERN, and return the match."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                match = re.fullmatch(pattern, self.next_line(deadline))
                if match:
                    return match
        except (TimeoutError, queue.Empty):
            raise AssertionError(f"no line matching {pattern!r} within {timeout} s; "
                                 f"lines: {self.seen}") from None

    def wait_for_each(self, *patterns, timeout=30):
        """Read lines until each of PATTERNS has matched one, in any order."""
        deadline = time.monotonic() + timeout
        waiting = list(patterns)
        try:
            while waiting:
                line = self.next_line(deadline)
                waiting = [p for p in waiting if not re.fullmatch(p, line)]
        except (TimeoutError, queue.Empty):
            raise AssertionError(f"no lines matching {waiting!r} within {timeout} s; "
                                 f"lines: {self.seen}") from None

    def lines_about(self, item_id):
        return [line for line in self.seen if f" {item_id} " in line + " "]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


@pytest.fixture
def model_check(servind):
    checks = []

    def start(*args, user=None):
        check = ModelCheck(servind, *args, user=user)
        checks.append(check)
        return check

    yield start
    for check in checks:
        check.stop()


def servin_out(servind, *args):
    return servind.servin(*args, check=True).stdout.decode().strip()


def image_id(servind, reference):
    ids = servin_out(servind, "images", "-q", "--no-trunc", reference).splitlines()
    assert len(ids) == 1, ids
    return ids[0]


def test_container_state_follows_servind(servind, model_check):
    check = model_check()
    check.wait_for(r"ready containers=0 images=0")
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    check.wait_for(r"image added sha256:[0-9a-f]{64} servin/sample:latest")

    container = servin_out(servind, "run", "-d", SAMPLE, "sh", "-c", "sleep 1; exit 3")
    check.wait_for(rf"container notify {container} state exited")

    states = [re.split(" ", line)[-1] for line in check.lines_about(container)
              if line.startswith(f"container added {container} ")
              or line.startswith(f"container notify {container} state ")]
    assert states == ["created", "running", "exited"]
    notified = {line.split()[3] for line in check.lines_about(container)
                if line.startswith("container notify ")}
    assert "exit-code" in notified
    assert "status-text" in notified
    assert "finished-at" in notified
    # Properties whose value stayed the same emit no notify.
    assert notified.isdisjoint({"id", "name", "image", "image-id", "command", "created",
                                "labels", "auto-remove"})
    assert f"container notify {container} exit-code 3" in check.seen

    servind.servin("rm", container, check=True)
    check.wait_for(rf"container removed {container} exited")


def test_created_container_appears_and_starts(servind, model_check):
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    check = model_check()
    check.wait_for(r"ready containers=0 images=1")

    container = servin_out(servind, "create", "--name", "idle", SAMPLE, "sleep", "1000")
    check.wait_for(rf"container added {container} created")
    servind.servin("start", container, check=True)
    check.wait_for(rf"container notify {container} state running")
    servind.servin("rm", "-f", container, check=True)
    check.wait_for(rf"container removed {container} .*")
    assert check.stop() == 0


def test_images_follow_load_and_rmi(servind, model_check):
    check = model_check()
    check.wait_for(r"ready containers=0 images=0")

    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    sample_id = image_id(servind, SAMPLE)
    check.wait_for(rf"image added {sample_id} servin/sample:latest")

    servind.servin("rmi", SAMPLE, check=True)
    check.wait_for(rf"image removed {sample_id} servin/sample:latest")
    assert check.stop() == 0


@pytest.fixture
def registry():
    from servin_testlib.registry import Registry

    reg = Registry().start()
    yield reg
    reg.stop()


def test_new_tag_notifies_display_tags(servind, registry, model_check):
    reference = registry.push_archive(SAMPLE_ARCHIVE, "sample")
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    sample_id = image_id(servind, SAMPLE)
    check = model_check()
    check.wait_for(rf"image added {sample_id} servin/sample:latest")
    check.wait_for(r"ready containers=0 images=1")

    # The registry contains the same image, so the pull adds a tag to it.
    servind.servin("pull", reference, check=True)
    assert image_id(servind, reference) == sample_id
    tags = check.wait_for(rf"image notify {sample_id} display-tags (.*)").group(1).split(",")
    assert sorted(tags) == sorted(["servin/sample:latest", reference])
    assert f"image added {sample_id} {reference}" not in "\n".join(check.seen)

    servind.servin("rmi", reference, check=True)
    check.wait_for(rf"image notify {sample_id} display-tags servin/sample:latest")
    assert not [line for line in check.seen if line.startswith("image removed")]
    assert check.stop() == 0


def test_model_lists_existing_objects(servind, model_check):
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    sample_id = image_id(servind, SAMPLE)
    first = servin_out(servind, "create", SAMPLE, "true")
    # The first listing is ordered by creation time, which has whole seconds.
    time.sleep(1.1)
    second = servin_out(servind, "create", SAMPLE, "true")

    check = model_check()
    check.wait_for(r"ready containers=2 images=1")
    assert check.seen[:-1].count(f"image added {sample_id} servin/sample:latest") == 1
    added = [line.split()[2] for line in check.seen if line.startswith("container added ")]
    assert added == [first, second]


def test_async_connect_lists_objects(servind, model_check):
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    check = model_check("--async")
    check.wait_for(r"image added sha256:[0-9a-f]{64} servin/sample:latest")
    check.wait_for(r"ready containers=0 images=1")


@pytest.mark.parametrize("mode", [[], ["--async"]], ids=["sync", "async"])
def test_connect_without_servind_fails(servind, mode):
    servind.stop()
    check = ModelCheck(servind, *mode)
    try:
        assert check.proc.wait(30) == 2
        message = check.proc.stderr.read()
    finally:
        check.stop()
    assert "servind is not running on the system bus" in message
    assert "servin daemon" in message


@pytest.mark.parametrize("mode", [[], ["--async"]], ids=["sync", "async"])
def test_connect_without_bus_fails(tmp_path, mode):
    address = f"unix:path={tmp_path}/no-bus-socket"
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
    result = subprocess.run([CHECK, *mode], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"cannot connect to the system bus at {address}" in result.stderr
    assert "DBUS_SYSTEM_BUS_ADDRESS" in result.stderr


def test_models_empty_and_refill_across_restart(servind, model_check):
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    sample_id = image_id(servind, SAMPLE)
    container = servin_out(servind, "create", SAMPLE, "true")
    check = model_check()
    check.wait_for(r"ready containers=1 images=1")

    # The object manager client notifies name-owner first, then removes
    # each object, so the models empty right after the notify.
    servind.stop()
    check.wait_for(r"name-owner none")
    check.wait_for_each(rf"container removed {container} created",
                        rf"image removed {sample_id} servin/sample:latest")

    # The new objects arrive before the notify of the new owner.
    servind.start()
    check.wait_for_each(rf"container added {container} created",
                        rf"image added {sample_id} servin/sample:latest",
                        r"name-owner :\d+\.\d+")

    servind.servin("rm", container, check=True)
    check.wait_for(rf"container removed {container} created")
    assert check.stop() == 0


def test_plain_user_lists_and_follows(servind, model_check):
    try:
        pwd.getpwnam(PLAIN_USER)
    except KeyError:
        pytest.skip(f"tests/harness/env-up.sh creates the {PLAIN_USER} test user")
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    sample_id = image_id(servind, SAMPLE)
    check = model_check(user=PLAIN_USER)
    check.wait_for(rf"image added {sample_id} servin/sample:latest")
    check.wait_for(r"ready containers=0 images=1")

    container = servin_out(servind, "run", "-d", SAMPLE, "sh", "-c", "sleep 1")
    check.wait_for(rf"container notify {container} state exited")
    servind.servin("rm", container, check=True)
    check.wait_for(rf"container removed {container} exited")
    assert check.stop() == 0


def test_items_changed_positions(servind, model_check):
    """sv-model-check prints an error line when a signal's position is wrong."""
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    first = servin_out(servind, "create", SAMPLE, "true")
    check = model_check()
    check.wait_for(r"ready containers=1 images=1")

    second = servin_out(servind, "create", SAMPLE, "true")
    check.wait_for(rf"container added {second} created")
    third = servin_out(servind, "create", SAMPLE, "true")
    check.wait_for(rf"container added {third} created")
    servind.servin("rm", second, check=True)
    check.wait_for(rf"container removed {second} created")
    servind.servin("rm", first, check=True)
    check.wait_for(rf"container removed {first} created")
    fourth = servin_out(servind, "create", SAMPLE, "true")
    check.wait_for(rf"container added {fourth} created")
    assert check.stop() == 0
