"""Review workspace fixtures (helpers in reviewkit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scanner.config import Config
from scanner.web import create_app
from tests.web.reviewkit import Seeded, login, make_config, seed


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def seeded(config: Config) -> Seeded:
    return seed(config)


@pytest.fixture
def seeded_any(database_url: str, tmp_path: Path) -> Seeded:
    """Seeded on SQLite and on PostgreSQL (tests/conftest.py's database_url)."""
    return seed(make_config(tmp_path, database_url=database_url))


@pytest.fixture
def client(seeded: Seeded) -> TestClient:
    return TestClient(create_app(seeded.config), follow_redirects=False)


@pytest.fixture
def as_alice(client: TestClient) -> tuple[TestClient, str]:
    return client, login(client, "alice")
