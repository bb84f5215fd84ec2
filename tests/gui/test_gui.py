# SPDX-License-Identifier: GPL-2.0-or-later
"""servin-gui in a real window on Xvfb against a private servind.

Each test drives the app through the actions it exports on its session bus,
reads its rows through the accessibility tree and its page changes, toasts
and pull progress through its debug log (G_MESSAGES_DEBUG=ServinGui), and
saves a screenshot of each step in tests/artifacts/gui/.
"""

import json
import os
import pwd
import re
import subprocess
import tempfile

import pytest

from gui_session import (GuiSession, SERVIN_GUI, ThrottledProxy, a11y_click, a11y_rows, a11y_texts, wait_for,
                         wait_row)
from servin_testlib.registry import Registry
from servin_testlib.servind import MKIMAGE, SAMPLE_ARCHIVE

PLAIN_USER = "servin-ci-user"

pytestmark = [
    pytest.mark.skipif(not os.path.exists(SERVIN_GUI), reason=f"{SERVIN_GUI} is not built"),
    pytest.mark.skipif(subprocess.run(["/usr/bin/python3", "-c", "import pyatspi"],
                                      capture_output=True).returncode != 0,
                       reason="python3-pyatspi is not installed"),
]


def gvariant_string(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def container_state(servind, name):
    out = servind.servin("inspect", name)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)[0]["State"]["Status"]


def container_id(servind, name):
    out = servind.servin("inspect", name, check=True)
    return json.loads(out.stdout)[0]["Id"]


def image_id(servind, reference):
    out = servind.servin("images", "-q", "--no-trunc", reference, check=True)
    ids = out.stdout.decode().split()
    assert len(ids) == 1, f"servin images {reference}: {ids}"
    return ids[0]


@pytest.fixture
def registry():
    with Registry() as running:
        yield running


@pytest.mark.parametrize("scheme", ["prefer-light", "prefer-dark"])
def test_pull_run_stop_remove(servind, registry, display, scheme):
    shot = scheme.replace("prefer-", "")
    reference = registry.push_archive(SAMPLE_ARCHIVE, "sample")
    gui = GuiSession(servind, display, color_scheme=scheme).start()
    try:
        gui.wait_log(r"showing page lists")
        gui.wait_log(r"containers view: 0 items")
        gui.screenshot(f"{shot}-01-empty")

        gui.activate("pull", gvariant_string(reference))
        gui.wait_log(r"pulled .* as sha256:", timeout=120)
        gui.wait_log(r"images view: 1 items")
        rows = wait_for(lambda: [r for r in a11y_rows(gui) if any("sample" in c for c in r)],
                        30, "the pulled image's row")
        image_row = rows[0]
        assert any(c.endswith("/sample:latest") for c in image_row), image_row
        short_id = image_id(servind, reference).removeprefix("sha256:")[:12]
        assert short_id in image_row
        gui.screenshot(f"{shot}-02-pulled")

        # The run dialog of the image's row; the test then runs through app.run.
        gui.activate("image-run", gvariant_string(image_id(servind, reference)))
        wait_for(lambda: "Run Container" in a11y_texts(gui), 10, "the run dialog")
        gui.screenshot(f"{shot}-02-run-dialog")
        assert a11y_click(gui, "Cancel")
        wait_for(lambda: "Run Container" not in a11y_texts(gui), 10, "the run dialog to close")

        command = "echo gui-started; while true; do echo tick; sleep 1; done"
        gui.activate("run", f"({gvariant_string(reference)}, 'gui-web', "
                            f"['sh', '-c', {gvariant_string(command)}], ['GREETING=hello'])")
        try:
            wait_for(lambda: container_state(servind, "gui-web") == "running", 60,
                     "gui-web to run")
        except TimeoutError:
            raise AssertionError("gui-web did not run; servin-gui log:\n" + gui.log()[-2000:]
                                 + "\nservind log:\n" + servind.log()[-3000:])
        row = wait_row(gui, "gui-web")
        row = [r for r in row if "gui-web" in r][0]
        assert "Running" in row
        assert reference in row or any(reference.endswith(c) for c in row), row
        gui.screenshot(f"{shot}-03-running")

        web_id = container_id(servind, "gui-web")
        gui.activate("container-show", gvariant_string(web_id))
        gui.wait_log(r"showing page details")
        wait_for(lambda: "GREETING=hello" in "\n".join(a11y_texts(gui)), 30,
                 "the environment on the details page")
        gui.screenshot(f"{shot}-04-details")

        gui.activate("container-logs", gvariant_string(web_id))
        wait_for(lambda: any("gui-started" in t and "tick" in t for t in a11y_texts(gui)), 30,
                 "the log on the details page")
        gui.screenshot(f"{shot}-05-logs")

        gui.activate("show-view", "'containers'")
        gui.wait_log(r"showing page lists")
        gui.activate("container-stop", gvariant_string(web_id))
        wait_for(lambda: container_state(servind, "gui-web") == "exited", 60, "gui-web to stop")
        wait_for(lambda: [r for r in a11y_rows(gui)
                          if "gui-web" in r and any(c.startswith("Exited (") for c in r)],
                 30, "gui-web's row to show it exited")
        gui.screenshot(f"{shot}-06-stopped")

        gui.activate("container-remove", gvariant_string(web_id))
        wait_for(lambda: container_state(servind, "gui-web") is None, 60, "gui-web to go")
        gui.wait_log(r"containers view: 0 items")
        assert not [r for r in a11y_rows(gui) if "gui-web" in r]
        gui.screenshot(f"{shot}-07-removed")

        gui.activate("show-view", "'images'")
        gui.activate("image-remove", gvariant_string(image_id(servind, reference)))
        gui.wait_log(r"images view: 0 items")
        assert servind.servin("images", "-q").stdout.strip() == b""
        gui.screenshot(f"{shot}-08-no-images")
        assert not re.search(r"toast: Cannot", gui.log()), gui.log()
    finally:
        gui.stop()


def test_remove_running_asks_first(servind, display):
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    servind.servin("run", "-d", "--name", "busy", "servin/sample", "sleep", "600", check=True)
    gui = GuiSession(servind, display).start()
    try:
        wait_row(gui, "busy")
        gui.activate("container-remove", gvariant_string(container_id(servind, "busy")))
        wait_for(lambda: "Remove Running Container?" in a11y_texts(gui), 30,
                 "the confirmation dialog")
        gui.screenshot("light-09-remove-running")
        assert container_state(servind, "busy") == "running"
    finally:
        gui.stop()


def test_plain_user_cannot_stop(servind, display):
    try:
        pwd.getpwnam(PLAIN_USER)
    except KeyError:
        pytest.skip(f"tests/harness/env-up.sh creates the {PLAIN_USER} test user")

    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    servind.servin("run", "-d", "--name", "kept", "servin/sample", "sleep", "600", check=True)
    gui = GuiSession(servind, display, user=PLAIN_USER).start()
    try:
        row = [r for r in wait_row(gui, "kept") if "kept" in r][0]
        assert "Running" in row

        gui.activate("container-stop", gvariant_string(container_id(servind, "kept")))
        match = gui.wait_log(r"toast: Cannot stop kept: (.*)")
        message = match.group(1)
        assert "GDBus.Error" not in message
        assert message.strip() != ""
        wait_for(lambda: any(t.startswith("Cannot stop kept: ") for t in a11y_texts(gui)), 10,
                 "the error toast in the window")
        gui.screenshot("plain-user-1-stop-refused")
        assert container_state(servind, "kept") == "running"

        # The toast's button shows the whole message, which a toast may cut.
        wait_for(lambda: a11y_click(gui, "Details"), 10, "the toast's Details button")
        gui.screenshot("plain-user-2-error-details")
        wait_for(lambda: message in a11y_texts(gui), 10, "the message dialog")
    finally:
        gui.stop()


def make_layered_layout(path, layer_count, layer_size):
    """An OCI layout of LAYER_COUNT random-data layers, big enough that
    servind reports the download's progress several times."""
    import hashlib
    import io
    import tarfile

    blobs = os.path.join(path, "blobs", "sha256")
    os.makedirs(blobs)

    def add_blob(data, media_type):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest[7:]), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    layers, diff_ids = [], []
    for i in range(layer_count):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(f"layer{i}.bin")
            info.size = layer_size
            tar.addfile(info, io.BytesIO(os.urandom(layer_size)))
        data = buffer.getvalue()
        diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
        layers.append(add_blob(data, "application/vnd.oci.image.layer.v1.tar"))
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/layer0.bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": add_blob(config, "application/vnd.oci.image.config.v1+json"),
        "layers": layers,
    }).encode()
    entry = add_blob(manifest, "application/vnd.oci.image.manifest.v1+json")
    entry["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [entry]}, f)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def test_pull_progress_and_cancel(servind, registry, display):
    layout = tempfile.mkdtemp(prefix="servin-gui-layout.")
    try:
        make_layered_layout(layout, 4, 8 * 1024 * 1024)
        registry.push_layout(layout, "latest", "big")
    finally:
        subprocess.run(["rm", "-rf", layout], check=True)

    # At 4 MB/s per connection the 32 MB pull takes seconds, not a blink.
    proxy = ThrottledProxy(registry.host, 4 * 1024 * 1024)
    reference = f"{proxy.host}/big:latest"
    gui = GuiSession(servind, display).start()
    try:
        gui.wait_log(r"showing page lists")

        # The dialog's Cancel button calls Job.Cancel while the pull runs.
        gui.activate("pull", gvariant_string(reference))
        gui.wait_log(r"pull progress 0\.[0-9]*[1-9]", timeout=120)
        assert a11y_click(gui, "Cancel")
        gui.wait_log(r"cancelling /org/servin/Servin1/jobs/")
        error = gui.wait_log(r"pull error: (.*)", timeout=60).group(1)
        assert "cancel" in error.lower(), error
        assert "pulled " not in gui.log()
        gui.screenshot("light-10-pull-cancelled")
        assert servind.servin("images", "-q").stdout.strip() == b""

        log_length = len(gui.log())
        gui.activate("pull", gvariant_string(reference))
        gui.wait_log(r"pull progress 0\.[0-9]*[1-9]", timeout=120, since=log_length)
        gui.screenshot("light-11-pull-progress", settle=0)
        try:
            gui.wait_log(r"pulled .* as sha256:", timeout=120, since=log_length)
        except TimeoutError:
            raise AssertionError("second pull did not finish; servind log:\n"
                                 + servind.log()[-4000:])
        log = gui.log()[log_length:]
        values = {float(v) for v in re.findall(r"pull progress ([0-9.]+)", log)}
        between = sorted(v for v in values if 0 < v < 1)
        assert len(between) > 2, f"progress values: {sorted(values)}"
        gui.wait_log(r"images view: 1 items")
        gui.screenshot("light-12-pulled-big")
    finally:
        gui.stop()
        proxy.stop()


def test_two_layer_image_pulls(servind, registry, display):
    layout = tempfile.mkdtemp(prefix="servin-gui-layout.")
    try:
        subprocess.run([MKIMAGE, "--two-layer", "--layout", layout, "--tag", "latest"],
                       check=True, capture_output=True, timeout=120)
        reference = registry.push_layout(layout, "latest", "two-layer")
    finally:
        subprocess.run(["rm", "-rf", layout], check=True)

    gui = GuiSession(servind, display).start()
    try:
        gui.wait_log(r"showing page lists")
        gui.activate("pull", gvariant_string(reference))
        gui.wait_log(r"pulled .* as sha256:", timeout=120)
        wait_for(lambda: [r for r in a11y_rows(gui) if any("two-layer" in c for c in r)], 30,
                 "the two-layer image's row")
    finally:
        gui.stop()


def test_pull_error_stays_in_dialog(servind, registry, display):
    gui = GuiSession(servind, display).start()
    try:
        gui.wait_log(r"showing page lists")
        gui.activate("pull", gvariant_string(f"{registry.host}/missing:latest"))
        match = gui.wait_log(r"pull error: (.*)", timeout=60)
        assert "missing" in match.group(1)
        wait_for(lambda: any(t == match.group(1) for t in a11y_texts(gui)), 10,
                 "the error in the pull dialog")
        gui.screenshot("light-13-pull-error")
    finally:
        gui.stop()


def test_unreachable_then_servind_starts(bus, display):
    from servin_testlib.servind import Servind

    daemon = Servind(bus)
    gui = GuiSession(daemon, display).start()
    try:
        gui.wait_log(r"showing page unreachable")
        wait_for(lambda: any("servin daemon" in t for t in a11y_texts(gui)), 10,
                 "the advice to start servind")
        gui.screenshot("light-14-unreachable")

        daemon.start()
        gui.wait_log(r"showing page lists", timeout=30)
        gui.wait_log(r"containers view: 0 items")
        gui.screenshot("light-15-servind-appeared")

        log_length = len(gui.log())
        daemon.stop()
        wait_for(lambda: "showing page unreachable" in gui.log()[log_length:], 30,
                 "the unreachable page after servind stopped; log:\n" + gui.log()[-3000:])
    finally:
        gui.stop()
        daemon.cleanup()
