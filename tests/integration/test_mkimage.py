# SPDX-License-Identifier: GPL-2.0-or-later
"""servin-mkimage writes valid OCI images: skopeo reads its archives and
layouts, and a real docker-registry on 127.0.0.1 accepts them and serves the
same manifests back."""

import gzip
import hashlib
import json
import os
import subprocess
import tarfile

import pytest

from servin_testlib.registry import DOCKER_REGISTRY, SKOPEO, Registry

BUILD_ROOT = os.environ.get(
    "SERVIN_BUILD_ROOT",
    os.path.join(os.path.dirname(__file__), "..", "..", "build"))
MKIMAGE = os.path.join(BUILD_ROOT, "engine", "image", "servin-mkimage")
SAMPLE_TAR = os.path.join(BUILD_ROOT, "engine", "image", "servin-sample.tar")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(MKIMAGE), reason=f"{MKIMAGE} is not built"),
    pytest.mark.skipif(not os.path.exists(SKOPEO), reason="skopeo is not installed"),
    pytest.mark.skipif(not os.path.exists(DOCKER_REGISTRY),
                       reason="docker-registry is not installed"),
]


def mkimage(*args):
    return subprocess.run([MKIMAGE, *args], check=True, capture_output=True, text=True,
                          timeout=120)


def skopeo_json(*args):
    result = subprocess.run([SKOPEO, "--insecure-policy", *args], check=True,
                            capture_output=True, text=True, timeout=120)
    return json.loads(result.stdout)


def read_blob(layout, digest):
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as blob:
        return blob.read()


def layout_top(layout):
    with open(os.path.join(layout, "index.json")) as index:
        entries = json.load(index)["manifests"]
    assert len(entries) == 1
    return entries[0]


def layer_names(layout, descriptor):
    path = os.path.join(layout, "blobs", "sha256", descriptor["digest"].split(":", 1)[1])
    with tarfile.open(path) as tar:
        return set(tar.getnames())


@pytest.fixture
def registry():
    with Registry() as running:
        yield running


def test_sample_archive_inspects():
    inspected = skopeo_json("inspect", f"oci-archive:{SAMPLE_TAR}")
    config = skopeo_json("inspect", "--config", f"oci-archive:{SAMPLE_TAR}")

    assert inspected["Os"] == "linux"
    assert inspected["Architecture"] == "amd64"
    assert len(inspected["Layers"]) == 1
    assert config["config"]["Cmd"] == ["echo", "Hello from Servin!"]
    assert config["config"]["WorkingDir"] == "/srv"
    assert config["config"]["Env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    assert config["rootfs"]["type"] == "layers"

    with tarfile.open(SAMPLE_TAR) as archive:
        index = json.load(archive.extractfile("index.json"))
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == \
        "servin/sample:latest"


def test_blobs_match_their_digests(tmp_path):
    layout = str(tmp_path / "layout")
    mkimage("--layout", layout, "--two-layer")

    blob_dir = os.path.join(layout, "blobs", "sha256")
    for name in os.listdir(blob_dir):
        with open(os.path.join(blob_dir, name), "rb") as blob:
            assert hashlib.sha256(blob.read()).hexdigest() == name


def test_two_layer_whiteouts(tmp_path, registry):
    layout = str(tmp_path / "two")
    mkimage("--layout", layout, "--two-layer", "--tag", "two")
    manifest = json.loads(read_blob(layout, layout_top(layout)["digest"]))
    lower = layer_names(layout, manifest["layers"][0])
    upper = layer_names(layout, manifest["layers"][1])

    assert "etc/removed-file" in lower
    assert "data/old/a" in lower
    assert "etc/.wh.removed-file" in upper
    assert "data/old/.wh..wh..opq" in upper
    assert "data/old/new-file" in upper

    pushed = registry.push_layout(layout, "two", "servin/two")
    served, _ = registry.manifest("servin/two", "latest")
    assert json.loads(served) == manifest
    inspected = skopeo_json("inspect", "--tls-verify=false", f"docker://{pushed}")
    assert inspected["Layers"] == [layer["digest"] for layer in manifest["layers"]]


def test_multiarch_index(tmp_path, registry):
    layout = str(tmp_path / "multi")
    mkimage("--layout", layout, "--multiarch", "--tag", "multi")
    top = layout_top(layout)
    assert top["mediaType"] == "application/vnd.oci.image.index.v1+json"

    index = json.loads(read_blob(layout, top["digest"]))
    platforms = [entry["platform"] for entry in index["manifests"]]
    assert platforms == [
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
        {"architecture": "amd64", "os": "linux"},
    ]
    for entry, arch in zip(index["manifests"], ["arm64", "amd64"]):
        manifest = json.loads(read_blob(layout, entry["digest"]))
        blob = os.path.join(layout, "blobs", "sha256", manifest["layers"][0]["digest"][7:])
        with tarfile.open(blob) as tar:
            assert tar.extractfile("etc/servin-arch").read() == f"{arch}\n".encode()
            assert "bin/busybox" in tar.getnames()

    pushed = registry.push_layout(layout, "multi", "servin/multi", all_images=True)
    served, _ = registry.manifest("servin/multi", "latest")
    assert hashlib.sha256(served).hexdigest() == top["digest"].split(":", 1)[1]
    arm = skopeo_json("inspect", "--tls-verify=false", "--override-arch", "arm64",
                      f"docker://{pushed}")
    assert arm["Architecture"] == "arm64"


def test_zstd_archive(tmp_path, registry):
    archive = str(tmp_path / "zstd.tar")
    mkimage("--output", archive, "--compression", "zstd", "--tag", "servin/zstd:1")
    inspected = skopeo_json("inspect", "--raw", f"oci-archive:{archive}")
    assert inspected["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd"

    pushed = registry.push_archive(archive, "servin/zstd", "1")
    back = skopeo_json("inspect", "--raw", "--tls-verify=false", f"docker://{pushed}")
    assert back == inspected


def test_same_input_same_archive(tmp_path):
    first = str(tmp_path / "a.tar")
    second = str(tmp_path / "b.tar")
    mkimage("--output", first)
    mkimage("--output", second)
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() == b.read()


def make_rootfs_folders(base):
    """Two host folders for --rootfs: the top level, and /usr with an owned tool."""
    lower = base / "lower"
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "os-release").write_text("ID=servin-test\n")
    os.link(lower / "etc" / "os-release", lower / "etc" / "os-release.link")
    os.symlink("usr/bin", lower / "bin")
    upper = base / "upper"
    (upper / "usr" / "bin").mkdir(parents=True)
    tool = upper / "usr" / "bin" / "tool"
    tool.write_text("#!/bin/sh\necho tool\n")
    # chown clears the set-user-ID bit, so it comes first.
    os.chown(tool, 1000, 50)
    os.chmod(tool, 0o4751)
    return str(lower), str(upper)


def test_rootfs_one_layer_per_folder(tmp_path, registry):
    lower, upper = make_rootfs_folders(tmp_path)
    layout = str(tmp_path / "layout")
    mkimage("--layout", layout, "--tag", "rootfs", "--rootfs", lower, "--rootfs", upper)
    manifest = json.loads(read_blob(layout, layout_top(layout)["digest"]))
    config = json.loads(read_blob(layout, manifest["config"]["digest"]))

    assert len(manifest["layers"]) == 2
    assert layer_names(layout, manifest["layers"][0]) == {
        "bin", "etc", "etc/os-release", "etc/os-release.link"}
    assert layer_names(layout, manifest["layers"][1]) == {"usr", "usr/bin", "usr/bin/tool"}
    assert config["config"]["Cmd"] == ["/bin/sh"]
    assert [h["created_by"] for h in config["history"]] == [
        "servin-mkimage: --rootfs folder 1", "servin-mkimage: --rootfs folder 2"]

    for layer, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"]):
        with gzip.open(os.path.join(layout, "blobs", "sha256", layer["digest"][7:])) as tar:
            assert "sha256:" + hashlib.sha256(tar.read()).hexdigest() == diff_id

    lower_tar = os.path.join(layout, "blobs", "sha256", manifest["layers"][0]["digest"][7:])
    with tarfile.open(lower_tar) as tar:
        assert tar.getmember("bin").issym()
        assert tar.getmember("bin").linkname == "usr/bin"
        assert tar.getmember("etc/os-release.link").islnk()
        assert tar.getmember("etc/os-release.link").linkname == "etc/os-release"
        assert tar.extractfile("etc/os-release").read() == b"ID=servin-test\n"
    upper_tar = os.path.join(layout, "blobs", "sha256", manifest["layers"][1]["digest"][7:])
    with tarfile.open(upper_tar) as tar:
        tool = tar.getmember("usr/bin/tool")
        assert tool.mode == 0o4751
        assert (tool.uid, tool.gid) == (1000, 50)

    pushed = registry.push_layout(layout, "rootfs", "servin/rootfs")
    inspected = skopeo_json("inspect", "--tls-verify=false", f"docker://{pushed}")
    assert inspected["Layers"] == [layer["digest"] for layer in manifest["layers"]]


def test_rootfs_same_folders_same_archive(tmp_path):
    lower, upper = make_rootfs_folders(tmp_path)
    first = str(tmp_path / "a.tar")
    second = str(tmp_path / "b.tar")
    mkimage("--output", first, "--rootfs", lower, "--rootfs", upper)
    mkimage("--output", second, "--rootfs", lower, "--rootfs", upper)
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() == b.read()


def test_bad_options(tmp_path):
    result = subprocess.run([MKIMAGE, "--output", str(tmp_path / "x.tar"), "--compression", "xz"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "invalid --compression" in result.stderr

    result = subprocess.run([MKIMAGE, "--output", str(tmp_path / "x.tar"),
                             "--busybox", str(tmp_path / "missing")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "busybox-static" in result.stderr
    assert not os.path.exists(tmp_path / "x.tar")


def test_bad_rootfs_options(tmp_path):
    output = tmp_path / "x.tar"
    result = subprocess.run([MKIMAGE, "--output", str(output), "--rootfs",
                             str(tmp_path / "missing")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot read --rootfs {tmp_path / 'missing'}" in result.stderr

    (tmp_path / "file").write_text("not a folder\n")
    result = subprocess.run([MKIMAGE, "--output", str(output), "--rootfs",
                             str(tmp_path / "file")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "not a folder" in result.stderr

    result = subprocess.run([MKIMAGE, "--output", str(output), "--rootfs", str(tmp_path),
                             "--two-layer"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "--rootfs cannot be combined" in result.stderr
    assert not output.exists()
