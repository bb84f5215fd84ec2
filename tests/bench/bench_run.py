#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Time `run --rm IMAGE true` end to end: servin against podman with runc.

Both run the same sample image in the same run of this script. Absolute times
vary from one run to the next, so the ratio is the figure to compare. Also prints
servind's idle memory (PSS and RSS) and each monitor's while a container runs.

Usage, as root, after building into ./build:
    SERVIN_BUILD_ROOT=$PWD/build /usr/bin/python3 tests/bench/bench_run.py [RUNS]
"""

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from servin_testlib.servind import (SAMPLE_ARCHIVE, PrivateBus, Servind,  # noqa: E402
                                    unmount_beneath)

PODMAN_CONF = """[containers]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def median_ms(command, runs, env=None):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def memory_kb(pid):
    """(PSS, RSS) in kB from /proc/PID/smaps_rollup."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Pss:", "Rss:"):
                values[parts[0]] = int(parts[1])
    return values["Pss:"], values["Rss:"]


def podman_setup(work):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    conf = os.path.join(work, "containers.conf")
    with open(conf, "w") as f:
        f.write(PODMAN_CONF.format(nofile=hard))
    base = ["podman", "--root", os.path.join(work, "root"), "--runroot",
            os.path.join(work, "runroot"), "--runtime", "runc"]
    env = dict(os.environ, CONTAINERS_CONF=conf)
    subprocess.run(base + ["load", "-i", SAMPLE_ARCHIVE], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return base, env


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    work = tempfile.mkdtemp(prefix="servin-bench.")
    bus = PrivateBus().start()
    daemon = Servind(bus)
    try:
        daemon.start()
        daemon.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
        servin = [os.path.join(os.environ["SERVIN_BUILD_ROOT"], "app", "cli", "servin")]
        servin_env = daemon.env()
        median_ms(servin + ["run", "--rm", "servin/sample", "true"], 2, servin_env)
        servin_ms = median_ms(servin + ["run", "--rm", "servin/sample", "true"], runs,
                              servin_env)

        time.sleep(1)
        servind_pss, servind_rss = memory_kb(daemon.proc.pid)
        daemon.servin("run", "-d", "--name", "idle", "servin/sample", "sleep", "60", check=True)
        monitor_pid = next(int(open(os.path.join(root, "monitor.pid")).read())
                           for root, _dirs, files in os.walk(daemon.state)
                           if "monitor.pid" in files)
        monitor_pss, monitor_rss = memory_kb(monitor_pid)

        podman, podman_env = podman_setup(work)
        podman_run = podman + ["run", "--rm", "--pull", "never", "--network", "none",
                               "servin/sample", "true"]
        median_ms(podman_run, 2, podman_env)
        podman_ms = median_ms(podman_run, runs, podman_env)
    finally:
        daemon.cleanup()
        bus.stop()
        # podman leaves its storage folder mounted on itself.
        unmount_beneath(work)
        shutil.rmtree(work, ignore_errors=True)

    load = os.getloadavg()
    print(f"run --rm true, median of {runs} runs (load {load[0]:.2f} {load[1]:.2f})")
    print(f"  servin            {servin_ms:8.1f} ms")
    print(f"  podman --runtime runc {podman_ms:8.1f} ms")
    print(f"  ratio podman/servin {podman_ms / servin_ms:6.1f}x")
    print(f"servind idle: PSS {servind_pss / 1024:.1f} MB, RSS {servind_rss / 1024:.1f} MB")
    print(f"servin-monitor: PSS {monitor_pss / 1024:.2f} MB, RSS {monitor_rss / 1024:.2f} MB")


if __name__ == "__main__":
    main()
