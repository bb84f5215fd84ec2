# SPDX-License-Identifier: GPL-2.0-or-later
"""pytest fixtures for servin-gui: an X display, plus the private bus,
polkitd and servind of the integration tests."""

import os
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from servin_testlib.servind import PrivateBus, Servind  # noqa: E402
from gui_session import XDisplay  # noqa: E402


@pytest.fixture
def bus():
    private_bus = PrivateBus().start()
    yield private_bus
    private_bus.stop()


@pytest.fixture
def servind(bus):
    daemon = Servind(bus)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.cleanup()


@pytest.fixture(scope="session")
def display():
    """The display of tests/harness/env-up.sh's Xvfb, or an Xvfb of our own."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = XDisplay().start()
    try:
        yield xvfb.name
    finally:
        xvfb.stop()
