"""Discovery sources against the simulated web and against recorded real responses."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from scanner.config import Config
from scanner.discovery.runner import DiscoveryOutcome, run_discovery
from scanner.store.db import open_store
from scanner.world import World, start_world
from tests.pollers.conftest import Sleeps, make_config_dir, use_proxy

RECORDED = Path(__file__).parent / "recorded"
_calls = iter(range(10**9))


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    with start_world(port=0, slow_seconds=3.0, sprawl_pages=10) as running:
        yield running


@pytest.fixture
def config(tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch) -> Config:
    use_proxy(monkeypatch, world)
    return Config(make_config_dir(tmp_path), env={"SCANNER_DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def engine(config: Config) -> Engine:
    return open_store(config)


@pytest.fixture
def discover(config: Config) -> Callable[..., DiscoveryOutcome]:
    """discover(name, fault=None, sleeps=None, store=True, **changes) -> DiscoveryOutcome."""

    def run(name: str, *, fault: str | None = None, sleeps: Sleeps | None = None, store: bool = True,
            **changes: object) -> DiscoveryOutcome:  # fmt: skip
        target = config.targets.source(name)
        if fault:
            # A fresh fault session per call: one-off faults fire once per (session, host, fault).
            scheme, _, rest = str(target.base_url).partition("://")
            host, _, path = rest.partition("/")
            changes["base_url"] = f"{scheme}://{host}/__fault/{fault}@d{os.getpid()}-{next(_calls)}/{path}"
        target = target.model_copy(update=changes)
        return run_discovery(
            config, target, trigger="test", store=store, sleep=sleeps if sleeps is not None else Sleeps()
        )

    return run
