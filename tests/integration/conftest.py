# SPDX-License-Identifier: GPL-2.0-or-later
"""pytest fixtures: a private bus with polkitd, and servind on it."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from servin_testlib.servind import PrivateBus, Servind  # noqa: E402


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
