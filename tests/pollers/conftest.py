"""Pollers against the simulated exchange APIs (scanner.world), through the HTTP proxy mechanism."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import Engine

from scanner.config import Config
from scanner.pollers.runner import PollOutcome, run_poll
from scanner.store.db import open_store
from scanner.world import World, start_world

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = REPO_ROOT / "config" / "demo"


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    with start_world(port=0, slow_seconds=3.0, sprawl_pages=10) as running:
        yield running


def use_proxy(monkeypatch: pytest.MonkeyPatch, world: World) -> None:
    """requests reads HTTP_PROXY from the environment, as in the demo and production."""
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", world.proxy_url)
    monkeypatch.setenv("http_proxy", world.proxy_url)


@pytest.fixture
def proxied(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    use_proxy(monkeypatch, world)
    return world


def make_config_dir(tmp_path: Path, **settings_overrides: Any) -> Path:
    """The demo config in tmp_path (lexicons inherited from config/), with settings overridden."""
    directory = tmp_path / "config"
    directory.mkdir(exist_ok=True)
    for name in ("targets.yaml", "licensed.yaml", "schedules.yaml"):
        shutil.copy(DEMO / name, directory / name)
    settings = yaml.safe_load((DEMO / "settings.yaml").read_text())
    settings["inherit"] = str(REPO_ROOT / "config")
    for key, value in settings_overrides.items():
        if isinstance(value, dict):
            settings.setdefault(key, {}).update(value)
        else:
            settings[key] = value
    (directory / "settings.yaml").write_text(yaml.safe_dump(settings))
    return directory


@pytest.fixture
def config(tmp_path: Path, proxied: World) -> Config:
    return Config(make_config_dir(tmp_path), env={"SCANNER_DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def engine(config: Config) -> Engine:
    return open_store(config)


class Sleeps(list[float]):
    """Records the waits a poll asked for, without waiting (Retry-After is 1 s in the world)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def poll(config: Config) -> Callable[..., PollOutcome]:
    return poller(config)


_calls = iter(range(10**9))


def poller(config: Config) -> Callable[..., PollOutcome]:
    """poll(name, fault=None, base_url=None, store=True, sleeps=None, cfg=None) -> PollOutcome."""
    counter = _calls

    def run(name: str, *, fault: str | None = None, base_url: str | None = None, store: bool = True,
            sleeps: Sleeps | None = None, cfg: Config | None = None) -> PollOutcome:
        cfg = cfg or config
        target = cfg.targets.poller(name)
        url = base_url or str(target.base_url)
        if fault:
            # A fresh fault session per call: one-off faults fire once per (session, host, fault).
            scheme, _, rest = url.partition("://")
            host, _, path = rest.partition("/")
            url = f"{scheme}://{host}/__fault/{fault}@t{os.getpid()}-{next(counter)}/{path}"
        target = target.model_copy(update={"base_url": url})
        return run_poll(cfg, target, trigger="test", store=store, sleep=sleeps if sleeps is not None else Sleeps())

    return run
