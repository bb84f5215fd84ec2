#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Time servin-runtime against runc (and crun, where it runs) on the same busybox bundle.

Each round runs `RUNTIME --root STATE run --bundle BUNDLE ID` of `true`, which covers create,
start, wait and delete, and prints the median and the ratio to servin-runtime. A second mode
times the separate create, start and delete commands the monitor uses.

With --seccomp the bundle carries the linux.seccomp that servind writes for a default container
(from data/seccomp-default.json), so the rounds include loading the filter.

Usage: sudo /usr/bin/python3 tests/bench/bench_runtime.py [-n ROUNDS] [--build-root DIR] [--seccomp]
"""

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import runtime_bundle  # noqa: E402


def own_cgroup_folders(relative):
    """Folders that a relative cgroupsPath leads to, beneath this process's own cgroups."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            own[controllers] = path
    folders = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            mount_point, fstype = left.split()[4], right.split()[0]
            if fstype == "cgroup2":
                folders.append(os.path.join(mount_point, own.get("", "/").lstrip("/"), relative))
            elif fstype == "cgroup":
                options = set(right.split()[2].split(","))
                for controllers, path in own.items():
                    if controllers and options & set(controllers.split(",")):
                        folders.append(os.path.join(mount_point, path.lstrip("/"), relative))
    return folders


def time_run(binary, root, bundle, container_id):
    start = time.perf_counter()
    result = subprocess.run(
        [binary, "--root", root, "run", "--bundle", bundle, container_id],
        stdin=subprocess.DEVNULL, capture_output=True,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{binary} run failed: {result.stderr.decode().strip()}")
    return elapsed


def time_lifecycle(binary, root, bundle, container_id):
    """Time create, start and delete as separate commands, as the monitor runs them."""
    pid_file = os.path.join(root, f"{container_id}.pid")
    start = time.perf_counter()
    subprocess.run(
        [binary, "--root", root, "create", "--bundle", bundle, "--pid-file", pid_file,
         container_id],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True,
    )
    subprocess.run([binary, "--root", root, "start", container_id], check=True)
    with open(pid_file) as f:
        pid = int(f.read())
    # The init is a child of this subreaper once create has exited.
    os.waitpid(pid, 0)
    subprocess.run([binary, "--root", root, "delete", container_id], check=True)
    return time.perf_counter() - start


def set_subreaper():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--rounds", type=int, default=50, help="runs per runtime")
    parser.add_argument("--build-root", default=os.environ.get(
        "SERVIN_BUILD_ROOT", os.path.join(HERE, "..", "..", "build")))
    parser.add_argument("--seccomp", action="store_true",
                        help="add the default seccomp profile to the bundle")
    args = parser.parse_args()

    runtimes = [("servin-runtime", os.path.join(args.build_root, "engine", "runtime",
                                                "servin-runtime"))]
    for name in ("runc", "crun"):
        path = shutil.which(name, path="/usr/bin:/usr/sbin:/bin:/sbin")
        if path:
            runtimes.append((name, path))

    set_subreaper()
    workdir = tempfile.mkdtemp(prefix="servin-bench-runtime-")
    cgroup_parent = f"servin-rt-bench-{secrets.token_hex(4)}"
    try:
        rootfs = os.path.join(workdir, "rootfs")
        runtime_bundle.make_rootfs(rootfs)
        config = runtime_bundle.make_config(["true"], rootfs, cgroups_path=f"{cgroup_parent}/bench")
        if args.seccomp:
            config["linux"]["seccomp"] = runtime_bundle.default_seccomp(
                os.path.join(HERE, "..", "..", "data", "seccomp-default.json"))
        bundle = runtime_bundle.write_bundle(os.path.join(workdir, "bundle"), config)
        # Rounds alternate between the runtimes, so that a busy moment on the machine slows
        # them all alike.
        usable = []
        for name, binary in runtimes:
            root = os.path.join(workdir, f"state-{name}")
            os.makedirs(root)
            try:
                for i in range(3):  # warm the page cache
                    time_run(binary, root, bundle, f"warm-{i}")
            except RuntimeError as error:
                print(f"{name}: skipped, {error}")
                continue
            usable.append((name, binary, root))
        results = {name: ([], []) for name, _, _ in usable}
        for i in range(args.rounds):
            for name, binary, root in usable:
                results[name][0].append(time_run(binary, root, bundle, f"run-{i}"))
                results[name][1].append(time_lifecycle(binary, root, bundle, f"life-{i}"))
        results = {name: (statistics.median(run), statistics.median(life))
                   for name, (run, life) in results.items()}

        base_run, base_life = results["servin-runtime"]
        profile = " with the default seccomp profile" if args.seccomp else ""
        print(f"{args.rounds} rounds of busybox `true`{profile}, median wall time per container")
        print(f"{'runtime':<16}{'run':>10}{'ratio':>8}{'create+start+delete':>22}{'ratio':>8}")
        for name, (run_median, life_median) in results.items():
            print(f"{name:<16}{run_median * 1000:>8.2f}ms{run_median / base_run:>8.2f}"
                  f"{life_median * 1000:>20.2f}ms{life_median / base_life:>8.2f}")
    finally:
        for folder in own_cgroup_folders(cgroup_parent):
            for child in (os.listdir(folder) if os.path.isdir(folder) else []):
                if os.path.isdir(os.path.join(folder, child)):
                    os.rmdir(os.path.join(folder, child))
            if os.path.isdir(folder):
                os.rmdir(folder)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
