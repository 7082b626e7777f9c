"""Fixtures shared by every test area.

Real components only: a real SQLite file per test, a real PostgreSQL database per test when
SCANNER_TEST_POSTGRES_URL points at a server (`.ci/run` starts one). With CI=true a test that needs
PostgreSQL, Redis or Chromium fails instead of skipping when the component is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(component: str, available: bool, how: str) -> None:
    """Skip locally, fail in CI, when a real component a test needs is missing."""
    if available:
        return
    message = f"{component} is not available: {how}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


def chromium_path() -> str | None:
    return shutil.which("chromium") or (os.path.exists("/usr/bin/chromium") and "/usr/bin/chromium") or None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin_url = os.environ.get("SCANNER_TEST_POSTGRES_URL")
    require("PostgreSQL", bool(admin_url), "set SCANNER_TEST_POSTGRES_URL (bash .ci/run does)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"pkscan_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A redis-server of its own on a free loopback port (nothing else shares its keys), stopped afterwards."""
    server = shutil.which("redis-server")
    require("redis-server", server is not None, "install the Debian package redis-server (bash .ci/run does)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [server, "--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(10)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a store test on both back ends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a subprocess using config/demo with its own data dir."""
    env = dict(os.environ)
    env.update(
        SCANNER_CONFIG_DIR=str(REPO_ROOT / "config" / "demo"),
        SCANNER_DATA_DIR=str(tmp_path / "data"),
    )
    env.pop("SCANNER_DATABASE_URL", None)
    return env
