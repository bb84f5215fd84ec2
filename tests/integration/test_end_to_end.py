# SPDX-License-Identifier: GPL-2.0-or-later
"""Pull from a real registry and run through servind and the servin CLI.

Each image is built by servin-mkimage, pushed to Debian's docker-registry on
127.0.0.1 with skopeo, pulled by `servin pull` or `servin run`, and checked
from inside a running container.
"""

import subprocess

import pytest

from servin_testlib.registry import Registry
from servin_testlib.servind import MKIMAGE


@pytest.fixture
def registry():
    reg = Registry().start()
    yield reg
    reg.stop()


def push_built_image(registry, tmp_path, name, *options):
    layout = tmp_path / name
    subprocess.run([MKIMAGE, "--layout", str(layout), "--tag", "latest", *options],
                   check=True, capture_output=True)
    return registry.push_layout(str(layout), "latest", name, all_images="--multiarch" in options)


def run_output(servind, *args):
    result = servind.servin("run", "--rm", *args)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_sample_runs_with_its_defaults(servind, registry, tmp_path):
    reference = push_built_image(registry, tmp_path, "sample")
    servind.servin("pull", reference, check=True)

    assert run_output(servind, reference) == "Hello from Servin!\n"
    assert run_output(servind, reference, "sh", "-c", "echo $$") == "1\n"
    assert run_output(servind, reference, "pwd") == "/srv\n"
    assert run_output(servind, "--hostname", "box", reference, "hostname") == "box\n"
    assert run_output(servind, "-u", "servin", reference, "id", "-u") == "1000\n"

    result = servind.servin("run", "--rm", reference, "sh", "-c", "echo oops >&2; exit 42")
    assert result.returncode == 42
    assert result.stderr.decode() == "oops\n"


def test_whiteout_and_opaque_folder(servind, registry, tmp_path):
    reference = push_built_image(registry, tmp_path, "layered", "--two-layer")
    servind.servin("pull", reference, check=True)

    assert run_output(servind, reference, "ls", "/data/old") == "new-file\n"
    result = servind.servin("run", "--rm", reference, "test", "-e", "/etc/removed-file")
    assert result.returncode == 1
    assert run_output(servind, reference, "cat", "/etc/passwd").startswith("root:")


def test_index_picks_host_platform(servind, registry, tmp_path):
    reference = push_built_image(registry, tmp_path, "multi", "--multiarch")

    # run pulls the missing image itself, choosing amd64 though arm64 is listed first.
    result = servind.servin("run", "--rm", reference, "cat", "/etc/servin-arch")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == "amd64\n"
    assert "Unable to find image" in result.stderr.decode()


def test_unknown_tag_names_reference(servind, registry, tmp_path):
    reference = push_built_image(registry, tmp_path, "sample")
    missing = reference.rsplit(":", 1)[0] + ":nope"
    result = servind.servin("pull", missing)
    assert result.returncode != 0
    assert missing in result.stderr.decode()
