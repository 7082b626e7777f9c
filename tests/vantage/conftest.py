"""Vantage point tests: the simulated web and its Pakistani exit on loopback, real subprocesses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scanner.world import PakistanExit, World, start_exit, start_world

# Credentials of the authenticated exit: they must reach the proxy and never the evidence or a message.
EXIT_USER, EXIT_PASSWORD = "pkscan-user", "s3cret-exit-pass"


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    with start_world(sprawl_pages=200) as running:
        yield running


@pytest.fixture
def paid_exit(world: World) -> Iterator[PakistanExit]:
    """A Pakistani exit that wants credentials (407 without), like a commercial one."""
    with start_exit((world.host, world.port), credentials=(EXIT_USER, EXIT_PASSWORD)) as running:
        yield running
