# SPDX-License-Identifier: GPL-2.0-or-later
"""Containers outlive servind, and a new servind finds them again."""

import os
import time

from servin_testlib.servind import SAMPLE_ARCHIVE, Servind


def restart(servind):
    servind.kill9()
    servind.start()


def state_of(servind, name):
    out = servind.servin("ps", "-a", check=True).stdout.decode()
    rows = [line for line in out.splitlines() if line.endswith(name)]
    assert rows, f"{name} missing from ps -a:\n{out}"
    return rows[0]


def monitor_pids(servind):
    pids = []
    for root, _dirs, files in os.walk(servind.state):
        if "container.pid" in files:
            with open(os.path.join(root, "container.pid")) as f:
                pids.append(int(f.read()))
    return pids


def test_detached_container_survives_servind_crash(servind):
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    servind.servin("run", "-d", "--name", "survivor", "servin/sample", "sh", "-c",
                   "trap 'exit 3' TERM; sleep 1000 & wait", check=True)
    pids = monitor_pids(servind)
    assert len(pids) == 1

    restart(servind)
    os.kill(pids[0], 0)  # still running
    assert "Up " in state_of(servind, "survivor")

    out = servind.servin("stop", "-t", "5", "survivor")
    assert out.returncode == 0, out.stderr
    row = state_of(servind, "survivor")
    assert "Exited (3)" in row


def test_exit_while_servind_down_keeps_code(servind):
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    servind.servin("run", "-d", "--name", "quitter", "servin/sample", "sh", "-c",
                   "sleep 2; exit 7", check=True)
    servind.kill9()
    time.sleep(3)
    servind.start()
    assert "Exited (7)" in state_of(servind, "quitter")
    out = servind.servin("wait", "quitter")
    assert out.stdout.decode().strip() == "7"


def test_auto_remove_done_after_restart(servind):
    servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    servind.servin("run", "-d", "--rm", "--name", "gone", "servin/sample", "sh", "-c",
                   "sleep 2", check=True)
    servind.kill9()
    time.sleep(3)
    servind.start()
    out = servind.servin("ps", "-a", check=True).stdout.decode()
    assert "gone" not in out


def test_clean_stop_keeps_containers(bus):
    daemon = Servind(bus)
    try:
        daemon.start()
        daemon.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
        daemon.servin("run", "-d", "--name", "kept", "servin/sample", "sleep", "1000",
                      check=True)
        daemon.stop()
        daemon.start()
        assert "Up " in state_of(daemon, "kept")
        assert "Stopping servind" in daemon.log()
    finally:
        daemon.cleanup()
