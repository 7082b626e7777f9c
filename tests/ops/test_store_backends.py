"""The scheduler's lock and job store on SQLite and PostgreSQL (the production store)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from scanner.config import Config
from scanner.ops.lock import HeldLock, SchedulerLocked, read_lock
from scanner.ops.scheduler import SchedulerDaemon, job_specs, stored_next_runs
from scanner.store.db import open_store
from scanner.store.models import SchedulerLock, utcnow
from tests.ops.conftest import write_config

TARGETS = """\
sites:
  - {name: alpha, seeds: ["http://alpha.test/"], schedule: daily}
  - {name: beta, seeds: ["http://beta.test/"], schedule: daily, enabled: false}
discovery: {enabled: true, schedule: daily}
pollers:
  - {name: p2p-one, adapter: okx_p2p, base_url: "http://api.test/", platform: api.test, schedule: hourly}
"""


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    write_config(tmp_path / "config", targets=TARGETS)
    return Config(env={"SCANNER_CONFIG_DIR": str(tmp_path / "config"), "SCANNER_DATA_DIR": str(tmp_path / "data"),
                       "SCANNER_DATABASE_URL": database_url})


def test_lock_refuses_a_second_scheduler_and_yields_when_stale(config: Config) -> None:
    engine = open_store(config)
    first = HeldLock(engine, holder="host-a:1")
    first.acquire()
    with pytest.raises(SchedulerLocked, match="another scheduler is already running.*host-a:1"):
        HeldLock(engine, holder="host-b:2").acquire()
    assert first.beat() is True
    # host-a crashed long ago: its heartbeat went stale, so a new scheduler may take over.
    with Session(engine) as session:
        row = session.get(SchedulerLock, "scheduler")
        row.heartbeat_at = utcnow() - timedelta(minutes=10)  # type: ignore[union-attr]
        session.add(row)
        session.commit()
    second = HeldLock(engine, holder="host-b:2")
    second.acquire()
    assert read_lock(engine).holder == "host-b:2"  # type: ignore[union-attr]
    assert first.beat() is False, "the old holder notices it lost the lock"
    first.release()
    assert read_lock(engine) is not None, "releasing a lock we lost leaves the new holder's row alone"
    second.release()
    assert read_lock(engine) is None


def test_job_store_keeps_jobs_and_follows_the_config(config: Config) -> None:
    engine = open_store(config)
    specs = job_specs(config)
    by_id = {s.id: s for s in specs}
    assert set(by_id) == {"crawl:site:alpha", "crawl:discovery", "poll:p2p-one", "reverify"}, "disabled: no job"
    assert by_id["crawl:site:alpha"].command == "scanner crawl site --target alpha"
    assert by_id["crawl:discovery"].command == "scanner crawl discovery"
    assert by_id["poll:p2p-one"].command == "scanner poll p2p-one"
    daemon = SchedulerDaemon(config, engine, specs=specs, blocking=False)
    daemon.scheduler.start(paused=True)  # starting brings the store in line with the config
    daemon.scheduler.shutdown(wait=False)
    assert set(daemon.changes.values()) == {"added"}
    stored = stored_next_runs(engine, config)
    assert set(stored) == {s.id for s in specs}
    assert stored["poll:p2p-one"].minute == 15  # type: ignore[union-attr]

    # Next start, with the poller gone from the config and the site's schedule changed.
    write_config(config.dir, targets=TARGETS.replace("pollers:\n  - {name: p2p-one", "pollers: []\n#").replace(
        'alpha.test/"], schedule: daily}', 'alpha.test/"], schedule: hourly}'))
    changed = Config(env=config.env)
    again = SchedulerDaemon(changed, engine, specs=job_specs(changed), blocking=False)
    again.scheduler.start(paused=True)
    again.scheduler.shutdown(wait=False)
    assert again.changes == {
        "poll:p2p-one": "removed", "crawl:site:alpha": "replaced", "crawl:discovery": "kept", "reverify": "kept"
    }
    assert stored_next_runs(engine, changed)["crawl:site:alpha"].minute == 15  # type: ignore[union-attr]
