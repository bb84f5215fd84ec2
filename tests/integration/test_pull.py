# SPDX-License-Identifier: GPL-2.0-or-later
"""Pulls from a real docker-registry on 127.0.0.1 through sv-engine-tool.

Each test starts its own registry, pushes sample images into it with
skopeo, pulls them into a temporary data root and checks what the engine
stored: the image config, the unpacked layers and their file trees. Images
come from servin-mkimage (busybox images) and, for large ones, from random
data written as an OCI layout here.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request

import pytest

from servin_testlib.registry import DOCKER_REGISTRY, SKOPEO, Registry, closed_port

BUILD_ROOT = os.environ.get(
    "SERVIN_BUILD_ROOT",
    os.path.join(os.path.dirname(__file__), "..", "..", "build"))
TOOL = os.path.join(BUILD_ROOT, "tests", "tools", "sv-engine-tool")
MKIMAGE = os.path.join(BUILD_ROOT, "engine", "image", "servin-mkimage")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(TOOL), reason=f"{TOOL} is not built"),
    pytest.mark.skipif(not os.path.exists(DOCKER_REGISTRY),
                       reason="docker-registry is not installed"),
    pytest.mark.skipif(not os.path.exists(SKOPEO), reason="skopeo is not installed"),
    pytest.mark.skipif(not os.path.exists(MKIMAGE), reason=f"{MKIMAGE} is not built"),
]


def _sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_layout(path, kind):
    """Make the sample image @kind ("sample", "two-layer", "multiarch") with
    servin-mkimage as an OCI layout at @path, tagged "latest"."""
    command = [MKIMAGE, "--layout", path, "--tag", "latest"]
    if kind == "two-layer":
        command.append("--two-layer")
    elif kind == "multiarch":
        command.append("--multiarch")
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def make_large_layout(path, layer_count, layer_size):
    """Write an OCI layout with @layer_count gzip layers, each one file of
    @layer_size random bytes, so downloads take long enough to measure and to
    cancel."""
    blobs = os.path.join(path, "blobs", "sha256")
    os.makedirs(blobs)

    def add_blob(data, media_type):
        digest = _sha256(data)
        with open(os.path.join(blobs, digest[7:]), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    layers = []
    diff_ids = []
    for i in range(layer_count):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(f"data/layer-{i}.bin")
            info.size = layer_size
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(os.urandom(layer_size)))
        tar_bytes = buffer.getvalue()
        diff_ids.append(_sha256(tar_bytes))
        layers.append(add_blob(gzip.compress(tar_bytes, compresslevel=1, mtime=0),
                               "application/vnd.oci.image.layer.v1.tar+gzip"))

    config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": add_blob(json.dumps(config).encode(),
                                   "application/vnd.oci.image.config.v1+json"),
                "layers": layers}
    descriptor = add_blob(json.dumps(manifest).encode(),
                          "application/vnd.oci.image.manifest.v1+json")
    descriptor["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [descriptor]}, f)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


class Engine:
    """sv-engine-tool on a data root of its own."""

    def __init__(self, data_root):
        self.data_root = data_root

    def run(self, *args, check=True, timeout=300):
        result = subprocess.run([TOOL, "--data-root", self.data_root, *args],
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"sv-engine-tool {' '.join(args)} failed with "
                                 f"{result.returncode}:\n{result.stdout}{result.stderr}")
        return result

    def pull(self, reference, *extra, check=True):
        result = self.run("pull", reference, *extra, check=check)
        image_id = None
        for line in result.stdout.splitlines():
            if line.startswith("id "):
                image_id = line[3:]
        return result, image_id

    def images(self):
        lines = self.run("images").stdout.splitlines()
        return dict(line.rsplit(" ", 1) for line in lines)

    def inspect(self, reference):
        return json.loads(self.run("inspect", reference).stdout)

    def layer_path(self, reference, index):
        return self.run("layer-path", reference, str(index)).stdout.strip()

    def snapshot(self):
        """Every file name under blobs/, layers/ and images/ of the data root."""
        names = set()
        for area in ("blobs", "layers", "images"):
            top = os.path.join(self.data_root, area)
            for folder, dirs, files in os.walk(top):
                if area == "layers" and folder != top:
                    dirs[:] = []
                for name in files + (dirs if area == "layers" else []):
                    names.add(os.path.relpath(os.path.join(folder, name), self.data_root))
        return names


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="servin-pull-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def registry(workdir):
    with Registry(os.path.join(workdir, "registry")) as started:
        yield started


@pytest.fixture
def engine(workdir):
    return Engine(os.path.join(workdir, "data"))


def push_sample(registry, workdir, kind, name):
    """Push sample image @kind as NAME:latest; returns (reference, layout folder)."""
    layout = os.path.join(workdir, "layout-" + kind)
    if not os.path.exists(layout):
        make_layout(layout, kind)
    reference = registry.push_layout(layout, "latest", name, all_images=(kind == "multiarch"))
    return reference, layout


def registry_manifest(registry, name, tag="latest"):
    body, _ = registry.manifest(name, tag)
    return json.loads(body)


def test_pull_sample_image(registry, engine, workdir):
    reference, _ = push_sample(registry, workdir, "sample", "sample")
    result, image_id = engine.pull(reference)

    assert image_id is not None and image_id.startswith("sha256:"), result.stdout
    assert "progress" in result.stdout
    assert engine.images() == {reference: image_id}

    # The stored config is the registry's config blob, and the id is its digest.
    manifest = registry_manifest(registry, "sample")
    assert manifest["config"]["digest"] == image_id
    with open(registry.blob_data_path(image_id), "rb") as f:
        assert engine.inspect(reference) == json.loads(f.read())
    config = engine.inspect(reference)
    assert config["os"] == "linux"
    assert config["architecture"] == "amd64"
    assert config["rootfs"]["diff_ids"]

    layer = engine.layer_path(reference, 0)
    assert os.path.isdir(layer)
    assert os.access(os.path.join(layer, "bin", "busybox"), os.X_OK)
    assert os.path.getsize(os.path.join(layer, "bin", "busybox")) == os.path.getsize(
        "/bin/busybox")
    assert os.path.islink(os.path.join(layer, "bin", "sh"))
    assert os.path.isdir(os.path.join(layer, "tmp"))

    # The image can also be found by its short name, as a user would type it.
    short = engine.run("inspect", image_id[7:19]).stdout
    assert json.loads(short) == config


def test_pull_zstd_image_from_archive(registry, engine, workdir):
    archive = os.path.join(workdir, "sample-zstd.tar")
    subprocess.run([MKIMAGE, "--output", archive, "--compression", "zstd", "--tag", "latest"],
                   check=True, capture_output=True, timeout=120)
    reference = registry.push_archive(archive, "zstd")
    layers = registry_manifest(registry, "zstd")["layers"]
    assert layers[0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd"

    engine.pull(reference)
    layer = engine.layer_path(reference, 0)
    assert os.path.getsize(os.path.join(layer, "bin", "busybox")) == os.path.getsize(
        "/bin/busybox")


def test_pull_by_digest(registry, engine, workdir):
    reference, _ = push_sample(registry, workdir, "multiarch", "multi")
    _, headers = registry.manifest("multi", "latest")
    index_digest = headers["Docker-Content-Digest"]
    by_digest = f"{registry.host}/multi@{index_digest}"

    _, image_id = engine.pull(by_digest)
    assert engine.images() == {"<none>": image_id}
    host_arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine)
    assert engine.inspect(by_digest)["architecture"] == host_arch

    # Pulling the tag afterwards downloads nothing and tags the same image.
    result, tagged_id = engine.pull(reference)
    assert tagged_id == image_id
    assert "Downloading sha256:" not in result.stdout
    assert engine.images() == {reference: image_id}


def test_pull_with_anonymous_token(workdir, engine):
    with Registry(os.path.join(workdir, "token-registry"), auth="token") as registry:
        reference, _ = push_sample(registry, workdir, "two-layer", "private/app")
        tokens = registry.token_service
        tokens.requests.clear()

        # The registry rejects requests without a token.
        with pytest.raises(urllib.error.HTTPError) as rejected:
            urllib.request.urlopen(f"http://{registry.host}/v2/private/app/manifests/latest",
                                   timeout=10)
        assert rejected.value.code == 401

        result, image_id = engine.pull(reference)
        assert image_id is not None, result.stderr
        assert engine.images() == {reference: image_id}

        # One token for the repository's pull scope, fetched without credentials
        # and reused for the manifest, the config and both layers.
        assert len(tokens.requests) == 1
        query, authorization = tokens.requests[0]
        assert authorization is None
        assert "scope=repository%3Aprivate%2Fapp%3Apull" in query
        assert f"service={tokens.service}" in query


def test_pull_same_image_twice_downloads_nothing(registry, engine, workdir):
    reference, _ = push_sample(registry, workdir, "two-layer", "twice")
    first, first_id = engine.pull(reference)
    assert "Downloading sha256:" in first.stdout
    before = engine.snapshot()

    second, second_id = engine.pull(reference)
    assert second_id == first_id
    assert "Downloading sha256:" not in second.stdout
    assert "Already exists" in second.stdout
    assert "progress 0/0 " in second.stdout
    assert engine.snapshot() == before


def _mount_overlay(lowerdirs, target):
    # overlayfs lists the top layer first.
    options = "lowerdir=" + ":".join(reversed(lowerdirs))
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, target], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting overlayfs needs root")
def test_pull_two_layers_whiteout_and_opaque(registry, engine, workdir):
    reference, _ = push_sample(registry, workdir, "two-layer", "layers")
    engine.pull(reference)

    lower = engine.layer_path(reference, 0)
    upper = engine.layer_path(reference, 1)
    assert os.path.exists(os.path.join(lower, "etc", "removed-file"))
    assert sorted(os.listdir(os.path.join(lower, "data", "old"))) == ["a", "b"]

    merged = os.path.join(workdir, "merged")
    os.mkdir(merged)
    _mount_overlay([lower, upper], merged)
    try:
        assert not os.path.exists(os.path.join(merged, "etc", "removed-file"))
        assert sorted(os.listdir(os.path.join(merged, "data", "old"))) == ["new-file"]
        with open(os.path.join(merged, "data", "old", "new-file")) as f:
            assert f.read() == "new\n"
        assert os.path.exists(os.path.join(merged, "bin", "busybox"))
    finally:
        subprocess.run(["umount", merged], check=True)


def test_pull_multiarch_picks_host_platform(registry, engine, workdir):
    if os.uname().machine != "x86_64":
        pytest.skip("the sample index has amd64 and arm64 images; this checks amd64")
    reference, _ = push_sample(registry, workdir, "multiarch", "multi")
    index = registry_manifest(registry, "multi")
    architectures = [m["platform"]["architecture"] for m in index["manifests"]]
    assert architectures[0] == "arm64", "the index must list arm64 first for this test"
    assert "amd64" in architectures

    engine.pull(reference)
    assert engine.inspect(reference)["architecture"] == "amd64"
    with open(os.path.join(engine.layer_path(reference, 0), "etc", "servin-arch")) as f:
        assert f.read().strip() == "amd64"


def test_pull_multiarch_requested_platform(registry, engine, workdir):
    reference, _ = push_sample(registry, workdir, "multiarch", "multi")
    engine.pull(reference, "--platform", "linux/arm64")
    assert engine.inspect(reference)["architecture"] == "arm64"
    with open(os.path.join(engine.layer_path(reference, 0), "etc", "servin-arch")) as f:
        assert f.read().strip() == "arm64"

    result, _ = engine.pull(reference, "--platform", "linux/s390x", check=False)
    assert result.returncode == 1
    assert "error NOT_FOUND" in result.stderr
    assert "linux/s390x" in result.stderr
    assert "linux/amd64" in result.stderr


def test_pull_single_manifest_wrong_platform(registry, engine, workdir):
    reference, _ = push_sample(registry, workdir, "sample", "sample")
    result, _ = engine.pull(reference, "--platform", "linux/arm64", check=False)
    assert result.returncode == 1
    assert "error NOT_FOUND" in result.stderr
    assert "linux/amd64" in result.stderr
    assert "linux/arm64" in result.stderr
    assert engine.images() == {}
    assert engine.snapshot() == set()


def test_pull_unknown_tag(registry, engine, workdir):
    push_sample(registry, workdir, "sample", "sample")
    result, _ = engine.pull(f"{registry.host}/sample:nope", check=False)
    assert result.returncode == 1
    assert "error NOT_FOUND" in result.stderr
    assert f"manifest unknown: {registry.host}/sample:nope" in result.stderr


def test_pull_unknown_repository(registry, engine):
    result, _ = engine.pull(f"{registry.host}/nope", check=False)
    assert result.returncode == 1
    assert "error NOT_FOUND" in result.stderr
    assert f"manifest unknown: {registry.host}/nope:latest" in result.stderr
    assert engine.images() == {}


def test_pull_registry_unreachable(engine):
    port = closed_port()
    result, _ = engine.pull(f"127.0.0.1:{port}/sample", check=False)
    assert result.returncode == 1
    assert "error UNREACHABLE" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr


def test_pull_invalid_reference(engine):
    result, _ = engine.pull("127.0.0.1:5000/Sample", check=False)
    assert result.returncode == 1
    assert "error INVALID_ARGUMENT" in result.stderr
    assert "127.0.0.1:5000/Sample" in result.stderr
    assert "lowercase" in result.stderr


def test_pull_corrupted_blob_keeps_nothing(registry, engine, workdir):
    good, _ = push_sample(registry, workdir, "sample", "good")
    _, good_id = engine.pull(good)
    good_layer = engine.layer_path(good, 0)
    before = engine.snapshot()

    bad, _ = push_sample(registry, workdir, "two-layer", "bad")
    layers = registry_manifest(registry, "bad")["layers"]
    # Both layers differ from the good image's, so neither is downloaded already.
    registry.corrupt_blob(layers[-1]["digest"])

    result, _ = engine.pull(bad, check=False)
    assert result.returncode == 1
    assert "error DIGEST_MISMATCH" in result.stderr
    assert layers[-1]["digest"] in result.stderr

    assert engine.snapshot() == before
    assert engine.images() == {good: good_id}
    assert os.listdir(os.path.join(engine.data_root, "tmp")) == []
    assert os.access(os.path.join(good_layer, "bin", "busybox"), os.X_OK)
    assert engine.inspect(good)["rootfs"]["diff_ids"]


def add_image_on_base(layout, tag):
    """Add to @layout an image made of the first layer of its "latest" image
    and a new top layer of random data, tagged @tag. Returns the top layer's
    digest."""
    blobs = os.path.join(layout, "blobs", "sha256")
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    with open(os.path.join(blobs, index["manifests"][0]["digest"][7:])) as f:
        manifest = json.load(f)
    with open(os.path.join(blobs, manifest["config"]["digest"][7:])) as f:
        config = json.load(f)

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("top.bin")
        info.size = 4 * 1024 * 1024
        tar.addfile(info, io.BytesIO(os.urandom(info.size)))
    top_tar = buffer.getvalue()
    top = gzip.compress(top_tar, compresslevel=1, mtime=0)

    def add_blob(data):
        digest = _sha256(data)
        with open(os.path.join(blobs, digest[7:]), "wb") as f:
            f.write(data)
        return digest, len(data)

    top_digest, top_size = add_blob(top)
    config["rootfs"]["diff_ids"] = [config["rootfs"]["diff_ids"][0], _sha256(top_tar)]
    config.pop("history", None)
    config_digest, config_size = add_blob(json.dumps(config).encode())
    manifest["config"] = dict(manifest["config"], digest=config_digest, size=config_size)
    manifest["layers"] = [manifest["layers"][0],
                          {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                           "digest": top_digest, "size": top_size}]
    manifest_digest, manifest_size = add_blob(json.dumps(manifest).encode())
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "digest": manifest_digest, "size": manifest_size,
                               "annotations": {"org.opencontainers.image.ref.name": tag}})
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    return top_digest


def test_pull_failure_spares_concurrent_pull(registry, engine, workdir):
    good, layout = push_sample(registry, workdir, "two-layer", "good")
    bad_top = add_image_on_base(layout, "other")
    bad = registry.push_layout(layout, "other", "bad")
    registry.corrupt_blob(bad_top)

    # Both pulls start together and both need the shared base layer.
    result = engine.run("pull", good, bad, check=False)
    assert result.returncode == 1
    assert f"{good} id sha256:" in result.stdout
    assert f"{bad} error DIGEST_MISMATCH" in result.stderr
    assert bad_top in result.stderr

    images = engine.images()
    assert list(images) == [good]
    for index in range(2):
        assert os.path.isdir(engine.layer_path(good, index))
    assert os.access(os.path.join(engine.layer_path(good, 0), "bin", "busybox"), os.X_OK)
    for layer in registry_manifest(registry, "good")["layers"]:
        assert os.path.exists(os.path.join(engine.data_root, "blobs", "sha256",
                                           layer["digest"][7:]))


@pytest.fixture
def large_image(registry, workdir):
    """A 4-layer image of 4 x 32 MiB of random data in the registry."""
    layout = os.path.join(workdir, "layout-large")
    make_large_layout(layout, 4, 32 * 1024 * 1024)
    return registry.push_layout(layout, "latest", "large")


def test_pull_large_image(engine, large_image):
    result, image_id = engine.pull(large_image)
    assert image_id is not None
    seconds = [line for line in result.stdout.splitlines() if line.startswith("seconds ")]
    print(f"pulled 4 x 32 MiB layers on loopback in {seconds[0][8:]} s")

    # Random data does not compress, so the layer blobs are at least 4 x 32 MiB.
    progress = [line.split()[1] for line in result.stdout.splitlines()
                if line.startswith("progress ")]
    done, total = (int(n) for n in progress[-1].split("/"))
    assert done == total
    assert total >= 4 * 32 * 1024 * 1024
    for i in range(4):
        path = os.path.join(engine.layer_path(large_image, i), "data", f"layer-{i}.bin")
        assert os.path.getsize(path) == 32 * 1024 * 1024


def test_pull_cancel_keeps_nothing(engine, large_image):
    process = subprocess.Popen([TOOL, "--data-root", engine.data_root, "pull", large_image],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Cancel once the first layer is downloading.
        for line in process.stdout:
            if "Downloading sha256:" in line:
                process.send_signal(signal.SIGINT)
                break
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 1, "the pull finished before the cancel arrived"
    assert "error CANCELLED" in stderr
    assert engine.images() == {}
    assert engine.snapshot() == set()
    assert os.listdir(os.path.join(engine.data_root, "tmp")) == []
