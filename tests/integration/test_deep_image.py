# SPDX-License-Identifier: GPL-2.0-or-later
"""Images with many layers, pulled through servind and run.

A container root stacks every layer of its image as an overlayfs lowerdir.
servind names each layer by a short link under DATA_ROOT/l and mounts with
paths relative to the data root, so that the mount options of about 130
layers fit in the one page that mount(2) copies.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from servin_testlib.registry import Registry
from servin_testlib.servind import MKIMAGE, SAMPLE_ARCHIVE


def max_overlay_layers():
    """The layers a container root stacks: the overlay mount options take 217
    bytes for one layer and a 64-character container id, and 29 bytes for
    each further layer, in one page."""
    return min((os.sysconf("SC_PAGE_SIZE") - 1 - 217) // 29 + 1, 500)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_layer(index):
    """A gzip layer tar that adds /deep/file-INDEX and overwrites /deep/top,
    both holding INDEX. Returns (tar bytes, gzip bytes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = tarfile.TarInfo("deep")
        folder.type = tarfile.DIRTYPE
        folder.mode = 0o755
        tar.addfile(folder)
        for name in (f"deep/file-{index:03d}", "deep/top"):
            data = f"{index}\n".encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = buffer.getvalue()
    return tar_bytes, gzip.compress(tar_bytes, compresslevel=1, mtime=0)


def make_deep_layout(path, file_layers):
    """Write the sample image of servin-mkimage as an OCI layout at @path,
    with @file_layers layers from file_layer() on top of its own, tagged
    "latest". Returns the number of layers of the image."""
    subprocess.run([MKIMAGE, "--layout", path, "--tag", "latest"], check=True,
                   capture_output=True, timeout=120)
    blobs = os.path.join(path, "blobs", "sha256")
    with open(os.path.join(path, "index.json")) as f:
        index = json.load(f)
    with open(os.path.join(blobs, index["manifests"][0]["digest"][7:])) as f:
        manifest = json.load(f)
    with open(os.path.join(blobs, manifest["config"]["digest"][7:])) as f:
        config = json.load(f)

    def add_blob(data):
        digest = sha256(data)
        with open(os.path.join(blobs, digest[7:]), "wb") as f:
            f.write(data)
        return digest, len(data)

    for i in range(file_layers):
        tar_bytes, layer = file_layer(i)
        digest, size = add_blob(layer)
        config["rootfs"]["diff_ids"].append(sha256(tar_bytes))
        manifest["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                   "digest": digest, "size": size})
    config.pop("history", None)
    config_digest, config_size = add_blob(json.dumps(config).encode())
    manifest["config"] = dict(manifest["config"], digest=config_digest, size=config_size)
    manifest_digest, manifest_size = add_blob(json.dumps(manifest).encode())
    index["manifests"] = [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "digest": manifest_digest, "size": manifest_size,
                           "annotations": {"org.opencontainers.image.ref.name": "latest"}}]
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump(index, f)
    return len(manifest["layers"])


@pytest.fixture
def registry():
    reg = Registry().start()
    yield reg
    reg.stop()


def run_output(servind, *args):
    result = servind.servin("run", "--rm", *args, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_hundred_file_layers_run(servind, registry, tmp_path):
    layout = str(tmp_path / "deep")
    assert make_deep_layout(layout, 100) == 101
    reference = registry.push_layout(layout, "latest", "deep")
    servind.servin("pull", reference, check=True, timeout=300)

    listing = run_output(servind, reference, "ls", "/deep").split()
    assert listing == sorted([f"file-{i:03d}" for i in range(100)] + ["top"])
    contents = run_output(servind, reference, "sh", "-c", "cat /deep/file-*").split()
    assert contents == [str(i) for i in range(100)]
    # The last layer of the manifest is the top of the overlay.
    assert run_output(servind, reference, "cat", "/deep/top") == "99\n"
    # Files of the bottom layer, from servin-mkimage, are there too.
    assert run_output(servind, reference, "cat", "/etc/passwd").startswith("root:")

    links = os.listdir(os.path.join(servind.data_root, "l"))
    assert len(links) == 101
    assert all(len(name) == 26 for name in links)


def test_image_at_layer_limit_runs(servind, registry, tmp_path):
    limit = max_overlay_layers()
    layout = str(tmp_path / "limit")
    assert make_deep_layout(layout, limit - 1) == limit
    reference = registry.push_layout(layout, "latest", "limit")
    servind.servin("pull", reference, check=True, timeout=300)

    assert run_output(servind, reference, "cat", "/deep/top") == f"{limit - 2}\n"
    count = run_output(servind, reference, "sh", "-c", "ls /deep | wc -l")
    assert count.strip() == str(limit)


def test_image_over_layer_limit_rejected(servind, registry, tmp_path):
    limit = max_overlay_layers()
    layout = str(tmp_path / "over")
    assert make_deep_layout(layout, limit) == limit + 1
    reference = registry.push_layout(layout, "latest", "over")

    result = servind.servin("pull", reference, timeout=300)
    assert result.returncode != 0
    message = result.stderr.decode()
    assert f"has {limit + 1} layers, more than the {limit} layers" in message
    assert servind.servin("images", "-q", check=True).stdout.decode() == ""


def test_container_without_links_starts(servind):
    """A data root written before layers had links: servind creates them when
    it mounts the container's root."""
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    servind.servin("create", "--name", "older", "servin/sample", "sh", "-c", "echo hi",
                   check=True)
    servind.stop()
    links = os.path.join(servind.data_root, "l")
    shutil.rmtree(links)
    servind.start()

    result = servind.servin("start", "-a", "older")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == "hi\n"
    assert len(os.listdir(links)) >= 1

    servind.servin("rm", "older", check=True)
    servind.servin("rmi", "servin/sample", check=True)
    assert os.listdir(links) == []
