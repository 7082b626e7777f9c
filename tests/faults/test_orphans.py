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
