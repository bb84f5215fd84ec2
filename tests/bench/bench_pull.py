#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Time `servin pull` against `podman pull` of one multi-layer Debian image.

The image is a debootstrap minbase root file system of Debian 12, cleaned as
Docker's debian images are (no device nodes, no apt package cache or lists)
and split into two layers: /usr, and everything else. servin-mkimage packs
it with Servin's own image writer (gzip layers), and Debian's docker-registry
on 127.0.0.1 serves it. The cache folder (default /var/tmp/servin-bench)
keeps the root file system and the OCI layout between runs. debootstrap
downloads from deb.debian.org only when the cache is empty, and every pull
goes to the registry on 127.0.0.1.

Each round times one `servin pull` into servind's data root and one `podman
pull` into a new podman storage root, in alternating order. After both pulls
servin removes the image, the script checks that the layers folder is empty
and deletes podman's storage root, so every pull downloads, checks and
unpacks every layer. Before each timed pull the script runs sync, so neither
tool pays for the other's writeback.

Both tools store what they pull on one new ext4 file system with a journal
(mkfs.ext4's default, as on a standard Debian install), on a loop device over
a sparse file in the cache folder. On a file system of its own, servind's
syncfs flushes only the pulls' writes, not those of other programs on the
machine. `--filesystem host` stores under /tmp instead. On ext4 without a
journal, inode allocation skips recently freed inodes and reads the inode
table for each one it skips. So a pull right after the removal of the same
6,700 files spends over half of its CPU time in that scan (perf shows
recently_deleted under ext4_create, on Linux 6.18), and waiting 32 s after the
removal did not shorten it.

Usage, as root, after building into ./build:
    SERVIN_BUILD_ROOT=$PWD/build /usr/bin/python3 tests/bench/bench_pull.py \
        [-n ROUNDS] [--filesystem loop|host]
"""

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from servin_testlib.registry import Registry  # noqa: E402
from servin_testlib.servind import (  # noqa: E402
    MKIMAGE, SERVIN, PrivateBus, Servind, unmount_beneath)

DEFAULT_CACHE = "/var/tmp/servin-bench"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
IMAGE_NAME = "servin-bench/debian"
LAYOUT_TAG = "bench"

# tmp_dir keeps podman's lock and event files out of /run/libpod, and
# image_copy_tmp_dir keeps its blob copies out of /var/tmp.
PODMAN_CONF = """[containers]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{work}/podman-tmp"
image_copy_tmp_dir = "{work}/podman-copy"
"""


def run_quiet(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: "
                           f"{result.stderr.strip()}")
    return result


def clean_rootfs(rootfs):
    """Empty /dev (the runtime fills it) and drop apt's package cache and lists, as
    Docker's debian images do."""
    for folder in ("dev", "var/cache/apt/archives", "var/lib/apt/lists"):
        path = os.path.join(rootfs, folder)
        for name in os.listdir(path):
            child = os.path.join(path, name)
            if name in ("partial", "lock"):
                continue
            if os.path.isdir(child) and not os.path.islink(child):
                shutil.rmtree(child)
            else:
                os.unlink(child)
    for name in os.listdir(os.path.join(rootfs, "var/cache/apt")):
        if name.endswith(".bin"):
            os.unlink(os.path.join(rootfs, "var/cache/apt", name))


def debootstrap(cache):
    """Return CACHE/rootfs, a cleaned minbase root file system, running debootstrap if needed."""
    rootfs = os.path.join(cache, "rootfs")
    if os.path.isdir(rootfs):
        return rootfs
    if shutil.which("debootstrap") is None:
        sys.exit("bench_pull: debootstrap is missing: apt-get install debootstrap")

    partial = rootfs + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    print(f"debootstrap --variant=minbase {DEBIAN_SUITE} into {partial} (once)", flush=True)
    run_quiet(["debootstrap", "--variant=minbase", DEBIAN_SUITE, partial, DEBIAN_MIRROR],
              timeout=1800)

    clean_rootfs(partial)
    os.rename(partial, rootfs)
    return rootfs


def split_layers(cache, rootfs):
    """Return two folders for servin-mkimage --rootfs: everything but /usr, and /usr.

    Both are hard-linked copies of ROOTFS, so the split costs no file data."""
    split = os.path.join(cache, "layers")
    folders = [os.path.join(split, "1-base"), os.path.join(split, "2-usr")]
    if os.path.isdir(split):
        return folders

    partial = split + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    base = os.path.join(partial, "1-base")
    usr = os.path.join(partial, "2-usr")
    os.makedirs(usr)
    run_quiet(["cp", "-al", rootfs, base])
    os.rename(os.path.join(base, "usr"), os.path.join(usr, "usr"))
    os.rename(partial, split)
    return folders


def build_layout(cache, folders):
    """Return CACHE/layout, the OCI layout servin-mkimage writes from FOLDERS, and its facts."""
    layout = os.path.join(cache, "layout")
    facts_path = os.path.join(cache, "image.json")
    if os.path.exists(facts_path):
        with open(facts_path) as f:
            return layout, json.load(f)

    shutil.rmtree(layout, ignore_errors=True)
    command = [MKIMAGE, "--layout", layout, "--tag", LAYOUT_TAG]
    for folder in folders:
        command += ["--rootfs", folder]
    print("servin-mkimage " + " ".join(command[1:]), flush=True)
    run_quiet(command, timeout=1800)

    with open(os.path.join(layout, "index.json")) as f:
        manifest_digest = json.load(f)["manifests"][0]["digest"]
    with open(blob_path(layout, manifest_digest)) as f:
        manifest = json.load(f)

    facts = {"layers": len(manifest["layers"]), "compressed": 0, "tar": 0, "files": 0,
             "file_bytes": 0}
    for layer in manifest["layers"]:
        facts["compressed"] += layer["size"]
        with gzip.open(blob_path(layout, layer["digest"])) as tar:
            while chunk := tar.read(1 << 20):
                facts["tar"] += len(chunk)
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            facts["files"] += len(dirs) + len(files)
            for name in files:
                st = os.lstat(os.path.join(root, name))
                facts["file_bytes"] += st.st_size
    with open(facts_path, "w") as f:
        json.dump(facts, f)
    return layout, facts


def blob_path(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])


class LoopFilesystem:
    """A new ext4 file system on a loop device over a sparse file in FOLDER, mounted at
    MOUNT_POINT."""

    SIZE = "4G"

    def __init__(self, folder, mount_point):
        fd, self.image = tempfile.mkstemp(prefix="pull-fs.", suffix=".img", dir=folder)
        os.close(fd)
        self.mount_point = mount_point
        self.device = None

    def start(self):
        run_quiet(["truncate", "--size", self.SIZE, self.image])
        run_quiet(["mkfs.ext4", "-q", "-F", self.image], timeout=300)
        self.device = run_quiet(["losetup", "--find", "--show", self.image]).stdout.strip()
        os.makedirs(self.mount_point, exist_ok=True)
        run_quiet(["mount", self.device, self.mount_point])
        return self

    def stop(self):
        if self.device is not None:
            unmount_beneath(self.mount_point)
            subprocess.run(["umount", self.mount_point], capture_output=True)
            run_quiet(["losetup", "--detach", self.device])
            self.device = None
        if os.path.exists(self.image):
            os.unlink(self.image)


def timed(command, env):
    subprocess.run(["sync"], check=True)
    start = time.perf_counter()
    result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: "
                           f"{result.stderr.strip()}")
    return elapsed


class ServinSide:
    """servind on a private bus with a new data root, pulling with the servin CLI."""

    def __init__(self, reference, data_root):
        self.reference = reference
        self.bus = PrivateBus().start()
        self.daemon = Servind(self.bus)
        self.daemon.data_root = data_root
        # Debug logging writes a line per event; the benchmark measures the pull, not the log.
        with open(self.daemon.config, "w") as f:
            f.write("daemon:\n  log_level: info\n")
        try:
            self.daemon.start()
        except Exception:
            self.stop()
            raise
        self.layers_dir = os.path.join(self.daemon.data_root, "layers")

    def pull(self):
        return timed([SERVIN, "pull", self.reference], self.daemon.env())

    def remove(self):
        self.daemon.servin("rmi", self.reference, check=True)
        left = os.listdir(self.layers_dir)
        if left:
            raise RuntimeError(f"servin rmi left {left} in {self.layers_dir}")

    def stop(self):
        self.daemon.cleanup()
        self.bus.stop()


class PodmanSide:
    """podman with a private containers.conf and a new storage root for every pull."""

    def __init__(self, reference, work, storage_parent):
        self.reference = reference
        self.storage_parent = storage_parent
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        conf = os.path.join(work, "containers.conf")
        with open(conf, "w") as f:
            f.write(PODMAN_CONF.format(nofile=hard, work=work))
        os.makedirs(os.path.join(work, "podman-copy"))
        self.env = dict(os.environ, CONTAINERS_CONF=conf)
        self.storage = None

    def pull(self):
        self.storage = tempfile.mkdtemp(prefix="p-", dir=self.storage_parent)
        command = ["podman", "--root", os.path.join(self.storage, "root"),
                   "--runroot", os.path.join(self.storage, "runroot"),
                   "--storage-driver", "overlay",
                   "pull", "--quiet", "--tls-verify=false", self.reference]
        return timed(command, self.env)

    def remove(self):
        if self.storage is not None:
            unmount_beneath(self.storage)
            shutil.rmtree(self.storage)
            self.storage = None


def print_results(facts, rounds, filesystem, times, loads):
    servin = statistics.median(times["servin"])
    podman = statistics.median(times["podman"])
    print(f"image: {facts['layers']} layers, {facts['compressed'] / 1e6:.1f} MB gzip, "
          f"{facts['tar'] / 1e6:.1f} MB as tar, {facts['files']} files and folders "
          f"({facts['file_bytes'] / 1e6:.1f} MB of file data)")
    print(f"pull to the {filesystem} file system, median of {rounds} rounds "
          f"(load average {loads[0]:.2f} before, {loads[1]:.2f} after)")
    print(f"  servin pull  {servin:7.2f} s   (all: "
          + " ".join(f"{t:.2f}" for t in times["servin"]) + ")")
    print(f"  podman pull  {podman:7.2f} s   (all: "
          + " ".join(f"{t:.2f}" for t in times["podman"]) + ")")
    print(f"  ratio podman/servin {podman / servin:5.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--rounds", type=int, default=5,
                        help="timed pulls of each tool (default 5)")
    parser.add_argument("--cache", default=DEFAULT_CACHE,
                        help=f"folder for the root file system and image (default {DEFAULT_CACHE})")
    parser.add_argument("--filesystem", choices=("loop", "host"), default="loop",
                        help="store pulls on a new ext4 file system on a loop device "
                        "(default) or under /tmp")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not os.path.exists(SERVIN):
        sys.exit(f"bench_pull: {SERVIN} is missing: build Servin and set SERVIN_BUILD_ROOT")

    os.makedirs(args.cache, exist_ok=True)
    rootfs = debootstrap(args.cache)
    layout, facts = build_layout(args.cache, split_layers(args.cache, rootfs))

    # podman rejects a runroot path of more than 50 characters, so the names are short.
    work = tempfile.mkdtemp(prefix="sv-pull.")
    registry = Registry(os.path.join(work, "registry"))
    loop = None
    servin = podman = None
    times = {"servin": [], "podman": []}
    try:
        storage = os.path.join(work, "fs")
        os.makedirs(storage)
        if args.filesystem == "loop":
            loop = LoopFilesystem(args.cache, storage).start()
        registry.start()
        reference = registry.push_layout(layout, LAYOUT_TAG, IMAGE_NAME)
        servin = ServinSide(reference, os.path.join(storage, "servin"))
        podman = PodmanSide(reference, work, storage)

        # One untimed pull each brings the registry's blobs and both programs into the
        # page cache.
        for side in (servin, podman):
            side.pull()
        for side in (servin, podman):
            side.remove()

        load_before = os.getloadavg()[0]
        for i in range(args.rounds):
            order = [("servin", servin), ("podman", podman)]
            if i % 2:
                order.reverse()
            for name, side in order:
                times[name].append(side.pull())
            for side in (servin, podman):
                side.remove()
        load_after = os.getloadavg()[0]
    finally:
        if podman is not None:
            podman.remove()
        if servin is not None:
            servin.stop()
        registry.stop()
        if loop is not None:
            loop.stop()
        shutil.rmtree(work, ignore_errors=True)

    print_results(facts, args.rounds, args.filesystem, times, (load_before, load_after))


if __name__ == "__main__":
    main()
