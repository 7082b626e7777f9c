from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from scanner.world import World, start_world


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    with start_world(port=0, slow_seconds=1.5, sprawl_pages=2000) as running:
        yield running


@pytest.fixture()
def http(world: World) -> Iterator[requests.Session]:
    """A requests session that reaches the world as an ordinary HTTP proxy."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"http": world.proxy_url}
    yield session
    session.close()


@pytest.fixture()
def session_id() -> str:
    """A fresh fault session, so one-off faults fire once in every test."""
    return uuid.uuid4().hex[:12]
