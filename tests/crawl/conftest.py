"""Crawl tests: real `scanner crawl` subprocesses against the simulated web, real SQLite, real WARC."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import Engine

from scanner.store.db import make_engine, upgrade
from scanner.world import World, start_world
from tests.conftest import REPO_ROOT

SCANNER = str(Path(sys.executable).with_name("scanner"))
SCRAPY = str(Path(sys.executable).with_name("scrapy"))
WARCIO = str(Path(sys.executable).with_name("warcio"))
SLOW_SECONDS = 4.0  # badhost /slow: longer than the test config's 2 s timeout


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    with start_world(slow_seconds=SLOW_SECONDS, sprawl_pages=3000) as running:
        yield running


def make_config(directory: Path, *, http: dict[str, Any] | None = None, extra_sites: list[dict[str, Any]] | None = None,
                site_overrides: dict[str, dict[str, Any]] | None = None) -> Path:  # fmt: skip
    """config/demo with a shorter timeout (and optional changes), inheriting the real lexicons."""
    demo = REPO_ROOT / "config" / "demo"
    directory.mkdir(parents=True, exist_ok=True)
    settings = yaml.safe_load((demo / "settings.yaml").read_text())
    settings["inherit"] = str(REPO_ROOT / "config")
    settings.pop("data_dir", None)
    settings["http"].update({"timeout_seconds": 2, "retries": 1, **(http or {})})
    (directory / "settings.yaml").write_text(yaml.safe_dump(settings))
    targets = yaml.safe_load((demo / "targets.yaml").read_text())
    for site in targets["sites"]:
        site.update((site_overrides or {}).get(site["name"], {}))
    targets["sites"].extend(extra_sites or [])
    (directory / "targets.yaml").write_text(yaml.safe_dump(targets))
    for name in ("licensed.yaml", "schedules.yaml"):
        shutil.copy(demo / name, directory / name)
    return directory


def crawl_env(world: World, config_dir: Path, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("SCANNER_DATABASE_URL", "NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "REDIS_URL"):
        env.pop(var, None)
    env.update(
        SCANNER_CONFIG_DIR=str(config_dir),
        SCANNER_DATA_DIR=str(data_dir),
        HTTP_PROXY=world.proxy_url,
        http_proxy=world.proxy_url,
        PKSCAN_DEMO_PK_EXIT=world.pk_exit_url,  # the demo config's vantage point pk
        SCANNER_RUN_TRIGGER="test",
    )
    return env


def run(cmd: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)


def scanner(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return run([SCANNER, *args], env, timeout)


def engine_for(data_dir: Path) -> Engine:
    engine = make_engine(f"sqlite:///{(data_dir / 'pkscan.sqlite3').resolve()}")
    upgrade(engine)
    return engine


class Crawled:
    """A data dir some crawls wrote, with what a test needs to look at it."""

    def __init__(self, world: World, config_dir: Path, data_dir: Path):
        self.world, self.config_dir, self.data_dir = world, config_dir, data_dir
        self.env = crawl_env(world, config_dir, data_dir)

    @property
    def engine(self) -> Engine:
        return engine_for(self.data_dir)

    def scanner(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return scanner(self.env, *args, timeout=timeout)

    def copy(self, to: Path) -> Crawled:
        shutil.copytree(self.data_dir, to / "data")
        return Crawled(self.world, self.config_dir, to / "data")

    def warc_files(self) -> list[str]:
        return sorted(str(p) for p in (self.data_dir / "warc").glob("*.warc.gz"))


@pytest.fixture(scope="module")
def demo_crawl(world: World, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """Every demo site target, then discovery, crawled once for the module."""
    base = tmp_path_factory.mktemp("demo-crawl")
    crawled = Crawled(world, make_config(base / "config"), base / "data")
    for args in (("crawl", "site"), ("crawl", "discovery")):
        result = crawled.scanner(*args)
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return crawled
