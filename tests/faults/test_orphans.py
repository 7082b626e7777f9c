"""A run whose process is gone is never left `running`: the next start closes it as interrupted."""

from __future__ import annotations

import subprocess
from datetime import timedelta

from sqlmodel import Session

from scanner import runs
from scanner.store.db import make_engine, upgrade
from scanner.store.models import Run, utcnow


def test_a_run_whose_pid_now_belongs_to_another_process_is_closed(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    upgrade(engine)
    stranger = subprocess.Popen(["sleep", "60"])  # holds a pid the dead run's process once had
    try:
        with Session(engine) as session:
            session.add(Run(kind="crawl", name="before-reboot", pid=stranger.pid, host=runs.socket.gethostname(),
                            started_at=utcnow() - timedelta(hours=1)))  # fmt: skip
            session.add(Run(kind="crawl", name="alive", pid=stranger.pid, host=runs.socket.gethostname()))
            session.commit()
        runs.start_run(engine, "poll", "next")
        statuses = {run.name: run.status for run in runs.recent_runs(engine)}
    finally:
        stranger.kill()
        stranger.wait()
    assert statuses == {"before-reboot": "interrupted", "alive": "running", "next": "running"}


def test_a_run_of_another_host_is_closed_when_its_heartbeat_stops(tmp_path):
    """Several machines share one PostgreSQL: their pids mean nothing here, their heartbeats do."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    upgrade(engine)
    long_ago = utcnow() - timedelta(seconds=runs.HEARTBEAT_STALE_SECONDS + 60)
    with Session(engine) as session:
        session.add(
            Run(
                kind="crawl",
                name="silent",
                pid=1,
                host="crawler-2",
                started_at=long_ago,
                heartbeat_at=long_ago,
            )
        )
        session.add(
            Run(
                kind="crawl",
                name="beating",
                pid=1,
                host="crawler-3",
                started_at=long_ago,
                heartbeat_at=utcnow(),
            )
        )
        session.add(Run(kind="crawl", name="never-beat", pid=1, host="crawler-4", started_at=long_ago))
        session.commit()
    runs.start_run(engine, "poll", "next")
    by_name = {run.name: run for run in runs.recent_runs(engine)}
    assert {name: run.status for name, run in by_name.items()} == {
        "silent": "interrupted", "beating": "running", "never-beat": "interrupted", "next": "running"
    }  # fmt: skip
    assert by_name["silent"].error_summary.startswith("no heartbeat from host crawler-2 since ")
    assert by_name["next"].heartbeat_at is not None  # this process beats from the start
    beat = runs._Heartbeat(engine, by_name["next"].id)
    assert beat.beat() is True  # stamped while open ...
    runs.finish_run(engine, by_name["next"].id, "ok")
    assert beat.beat() is False  # ... and the thread ends once the run is closed
