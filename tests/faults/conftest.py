"""Fault-injection tests: real crawls, polls and databases, killed or cut off mid-run.

The simulated web and the CLI helpers are the crawl tests' (`tests.crawl.conftest`). The crawls here
cover a few platforms (flagged ones and look-alikes) with small budgets, so that a baseline, a
faulty run and the run that heals it fit in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scanner.store.db import make_engine, upgrade
from scanner.store.models import Finding, Platform, Run
from scanner.world import World
from tests.conftest import REPO_ROOT, require
from tests.crawl.conftest import SCANNER, crawl_env, make_config, world

__all__ = ["world"]

# Five platforms the demo flags and two look-alikes that must stay clear.
SITES = (
    "rupee-exchange",
    "sarmaya-crypto",
    "crescent-bit",
    "desi-p2p",
    "paisa-kamao",
    "coin-chronicle",
    "lahore-mobiles",
)


def fault_config(directory: Path) -> Path:
    """config/demo cut to `SITES`, 12 pages each, requests spaced so that a kill lands mid-crawl."""
    # A 10 s timeout: the poll test holds responses back with the simulated web's 4 s "slow" fault.
    # 0.3 s between a site's requests: the crawl outlasts the detection worker's start (1-2 s on a busy
    # machine), so analyses are stored while the crawl still runs, not only as it closes.
    make_config(directory, http={"autothrottle": False, "download_delay_seconds": 0.3, "timeout_seconds": 10})
    targets = yaml.safe_load((directory / "targets.yaml").read_text())
    targets["sites"] = [dict(site, max_pages=12) for site in targets["sites"] if site["name"] in SITES]
    (directory / "targets.yaml").write_text(yaml.safe_dump(targets))
    return directory


class Scanner:
    """One data dir (and database) the `scanner` CLI works on, with what the tests look at."""

    def __init__(self, world: World, config_dir: Path, data_dir: Path, database_url: str | None = None):
        self.env = crawl_env(world, config_dir, data_dir)
        self.env["SCANNER_DB_RETRY_SECONDS"] = "2"
        # Findings re-judged only at the end of a crawl (tests/faults/settings.py): a kill then always
        # leaves stored analyses whose findings were never judged, the case that must heal.
        self.env["SCRAPY_SETTINGS_MODULE"] = "tests.faults.settings"
        self.env["PYTHONPATH"] = str(REPO_ROOT)
        self.url = database_url or f"sqlite:///{(data_dir / 'pkscan.sqlite3').resolve()}"
        if database_url:
            self.env["SCANNER_DATABASE_URL"] = database_url

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SCANNER, *args], env=self.env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
        )

    def start(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        out = log.open("wb")
        return subprocess.Popen([SCANNER, *args], env=self.env, cwd=REPO_ROOT, stdout=out, stderr=out)

    @property
    def engine(self) -> Engine:
        engine = make_engine(self.url)
        upgrade(engine)
        return engine

    def count(self, table: str) -> int:
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608 - our names
        except Exception:  # noqa: BLE001 - not created yet
            return 0

    def wait_for(self, what: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            assert proc.poll() is None, "the run ended before the fault could be injected"
            assert time.monotonic() < deadline, "timed out waiting for the run to get going"
            time.sleep(0.05)

    def flagged(self) -> set[str]:
        with Session(self.engine) as session:
            rows = session.exec(select(Platform.key).join(Finding, Finding.platform_id == Platform.id)
                                .where(Finding.verdict == "flag"))  # fmt: skip
            return set(rows)

    def runs(self) -> list[Run]:
        with Session(self.engine) as session:
            return list(session.exec(select(Run).order_by(Run.id)))  # type: ignore[arg-type]

    def runs_cli(self) -> list[dict[str, object]]:
        """`scanner runs --json`, oldest first: what an operator sees."""
        result = self.run("runs", "--json")
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in reversed(result.stdout.splitlines())]


@pytest.fixture(scope="session")
def baseline(world: World, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The platforms an uninterrupted crawl of the fault config flags."""
    base = tmp_path_factory.mktemp("baseline")
    scanner = Scanner(world, fault_config(base / "config"), base / "data")
    result = scanner.run("crawl", "site")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    flagged = scanner.flagged()
    assert len(flagged) >= 4, flagged
    return flagged


def human_lines(output: str) -> list[str]:
    """Console lines that are not structured (JSON) log records."""
    return [line for line in output.splitlines() if line.strip() and not line.startswith("{")]


# ---------------------------------------------------------------- a PostgreSQL server of the test's own


def _pg_bin() -> Path:
    """Debian's server binaries (initdb, pg_ctl), newest version first, as .ci/run picks the server."""
    if configured := os.environ.get("PKSCAN_TEST_PG_BIN"):
        return Path(configured)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: [int(n) for n in p.parts[-3].split(".") if n.isdigit()],
    )
    return versions[-1].parent if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()


class Postgres:
    """A throwaway PostgreSQL cluster on a free port, which the test stops and starts at will.

    The shared server cannot be stopped. ``pg_ctl`` refuses to run as root, so as root (CI, this
    machine) the cluster belongs to the ``postgres`` user and its commands run through ``runuser``.
    """

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgresql+psycopg://pkscan@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        command = [str(PG_BIN / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{' '.join(argv[:2])} failed: {result.stdout}{result.stderr}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "pkscan", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    as_root_ok = os.geteuid() != 0 or (shutil.which("runuser") is not None and _user_exists("postgres"))
    require("PostgreSQL server binaries", (PG_BIN / "pg_ctl").exists() and as_root_ok,
            f"initdb and pg_ctl in {PG_BIN} (apt-get install postgresql), and a postgres user when run as root")  # fmt: skip
    # Not under tmp_path: pytest's base dir is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="pkscan-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    server = Postgres(root)
    server.init()
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        except AssertionError:
            pass  # already stopped
        shutil.rmtree(root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
