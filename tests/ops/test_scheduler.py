"""The scheduler daemon: jobs fire, overlaps are skipped, crashes and stops are recorded, one per database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session, select

from scanner import runs
from scanner.config import Config
from scanner.ops.lock import read_lock
from scanner.ops.scheduler import JOBS_TABLE, JobRunner, SchedulerDaemon, job_specs
from scanner.store.models import PollSnapshot, Run
from tests.ops.conftest import OpsSetup, Site, seed_confirmed, write_config

SCANNER = [sys.executable, "-m", "scanner.cli.main"]


def wait_for(predicate: Callable[[], object], what: str, timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def all_runs(ops: OpsSetup) -> list[Run]:
    with Session(ops.engine) as session:
        return list(session.exec(select(Run).order_by(Run.id)))  # type: ignore[arg-type]


def open_reverify_run(ops: OpsSetup) -> Run | None:
    return next((r for r in all_runs(ops) if r.kind == "reverify" and r.status == "running"), None)


def every_second(_cron: str) -> IntervalTrigger:
    return IntervalTrigger(seconds=1)


POLLER = """\
sites: []
discovery: {enabled: false}
pollers:
  - {name: okx-p2p, adapter: okx_p2p, base_url: "http://www.okx.test", platform: okx.test, schedule: hourly}
"""


@pytest.mark.slow
def test_job_fires_on_schedule_and_restart_keeps_jobs_and_history(ops: OpsSetup, world: object) -> None:
    write_config(ops.config_dir, targets=POLLER)
    config = Config(env=ops.env)
    specs = [s for s in job_specs(config, trigger_for=every_second) if s.id == "poll:okx-p2p"]
    daemon = SchedulerDaemon(config, ops.engine, specs=specs, env=ops.env, blocking=False)
    daemon.start()
    try:
        assert daemon.changes == {"poll:okx-p2p": "added"}
        done = wait_for(lambda: [r for r in all_runs(ops) if (r.kind, r.name, r.status) == ("poll", "okx-p2p", "ok")],
                        "a scheduled poll run")
    finally:
        daemon.stop()
    run = done[0]  # type: ignore[index]
    assert run.items > 0 and run.finished_at is not None, "the poll fetched the simulated OKX order book"
    with Session(ops.engine) as session:
        assert session.exec(select(PollSnapshot).where(PollSnapshot.run_id == run.id)).first() is not None
    assert read_lock(ops.engine) is None, "a stopped scheduler releases its lock"
    assert not [r for r in all_runs(ops) if r.status == "running"], "stopping leaves no run open"

    history = {r.id for r in all_runs(ops)}
    again = SchedulerDaemon(config, ops.engine, specs=specs, env=ops.env, blocking=False)
    again.start()
    try:
        assert again.changes == {"poll:okx-p2p": "kept"}, "the job store kept the job across the restart"
        assert [job.id for job in again.scheduler.get_jobs()] == ["poll:okx-p2p"]
    finally:
        again.stop()
    assert history <= {r.id for r in all_runs(ops)}, "history survives the restart"


@pytest.mark.slow
def test_run_missed_while_the_scheduler_was_down_happens_at_start(ops: OpsSetup, world: object) -> None:
    write_config(ops.config_dir, targets=POLLER)
    config = Config(env=ops.env)
    specs = [s for s in job_specs(config) if s.id == "poll:okx-p2p"]  # the real cron: 15 * * * *
    down = SchedulerDaemon(config, ops.engine, specs=specs, env=ops.env, blocking=False)
    down.scheduler.start(paused=True)  # stores the job
    down.scheduler.shutdown(wait=False)
    # The scheduler went down just before the job was due, and comes back 30 s late.
    store = SQLAlchemyJobStore(engine=ops.engine, tablename=JOBS_TABLE)
    store.start(down.scheduler, "default")
    job = store.lookup_job("poll:okx-p2p")
    job.next_run_time = datetime.now(UTC) - timedelta(seconds=30)
    store.update_job(job)

    daemon = SchedulerDaemon(config, ops.engine, specs=specs, env=ops.env, blocking=False)
    daemon.start()
    try:
        assert daemon.changes == {"poll:okx-p2p": "kept"}
        wait_for(lambda: [r for r in all_runs(ops) if (r.kind, r.status) == ("poll", "ok")], "the missed poll", timeout=15)
        next_run = daemon.scheduler.get_job("poll:okx-p2p").next_run_time
    finally:
        daemon.stop()
    assert next_run > datetime.now(UTC) and next_run.minute == 15, "then back on its cron"


def test_overlapping_run_is_skipped_and_recorded(ops: OpsSetup) -> None:
    manual = runs.start_run(ops.engine, "reverify", "reverify", trigger="cli")  # this (live) process holds it
    runner = JobRunner(ops.engine, timeout_seconds=60, env=ops.env)
    assert runner.run("reverify", ["reverify"], "reverify", "reverify") == "skipped"
    skipped = [r for r in all_runs(ops) if r.status == "skipped"]
    assert len(skipped) == 1
    assert f"run #{manual} of 'reverify' is still running" in skipped[0].error_summary
    assert skipped[0].trigger == "schedule"


@pytest.mark.slow
def test_job_still_running_in_this_scheduler_is_skipped_when_due_again(ops: OpsSetup, site: Site) -> None:
    seed_confirmed(ops.engine, "hang.test", {site.url("/slow"): "<p>x</p>"})
    specs = job_specs(ops.config, trigger_for=every_second)  # reverify, which hangs on /slow
    daemon = SchedulerDaemon(ops.config, ops.engine, specs=specs, env=ops.env, blocking=False)
    daemon.start()
    try:
        skipped = wait_for(lambda: [r for r in all_runs(ops) if r.status == "skipped"], "a skipped run")
    finally:
        daemon.stop()
    assert "still running in this scheduler" in skipped[0].error_summary  # type: ignore[index]
    statuses = [r.status for r in all_runs(ops) if r.trigger == "schedule" and r.status != "skipped"]
    assert statuses == ["interrupted"], "one run at a time; stopping the scheduler interrupted it"


def test_run_left_open_by_a_dead_process_does_not_block(ops: OpsSetup) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = runs.start_run(ops.engine, "reverify", "reverify")
    with Session(ops.engine) as session:
        row = session.get(Run, orphan)
        row.pid = int(dead.stdout)  # type: ignore[union-attr]
        session.add(row)
        session.commit()
    runner = JobRunner(ops.engine, timeout_seconds=60, env=ops.env)
    assert runner.run("reverify", ["reverify"], "reverify", "reverify") == "ok"
    statuses = {r.id: r.status for r in all_runs(ops)}
    assert statuses[orphan] == "interrupted"


@pytest.mark.slow
def test_crashed_subprocess_is_recorded_as_failed(ops: OpsSetup, site: Site) -> None:
    seed_confirmed(ops.engine, "hang.test", {site.url("/slow"): "<p>x</p>"})
    runner = JobRunner(ops.engine, timeout_seconds=60, env=ops.env)
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(runner.run("reverify", ["reverify"], "reverify", "reverify")))
    worker.start()
    running = wait_for(lambda: open_reverify_run(ops), "the child's run")
    os.kill(running.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    worker.join(30)
    assert result == ["failed"]
    run = [r for r in all_runs(ops) if r.id == running.id][0]  # type: ignore[attr-defined]
    assert run.status == "failed"
    assert "killed by SIGKILL" in run.error_summary


@pytest.mark.slow
def test_hung_subprocess_times_out(ops: OpsSetup, site: Site) -> None:
    seed_confirmed(ops.engine, "hang.test", {site.url("/slow"): "<p>x</p>"})
    runner = JobRunner(ops.engine, timeout_seconds=2, env=ops.env)
    assert runner.run("reverify", ["reverify"], "reverify", "reverify") == "failed"
    [run] = all_runs(ops)
    assert run.status == "failed" and run.error_summary.startswith("timed out after 2 s")


def test_child_failing_before_it_records_a_run_is_recorded(ops: OpsSetup) -> None:
    (ops.config_dir / "targets.yaml").write_text("sites: [{name: BAD NAME}]\n")
    runner = JobRunner(ops.engine, timeout_seconds=60, env=ops.env)
    assert runner.run("reverify", ["reverify"], "reverify", "reverify") == "failed"
    [run] = all_runs(ops)
    assert run.kind == "reverify" and run.trigger == "schedule"
    assert "exit code 2" in run.error_summary
    assert "targets.yaml" in run.error_summary, "the child's own error message is kept"


@pytest.mark.slow
def test_cli_daemon_lock_list_and_sigterm(ops: OpsSetup, site: Site) -> None:
    seed_confirmed(ops.engine, "hang.test", {site.url("/slow"): "<p>x</p>"})
    daemon = subprocess.Popen([*SCANNER, "schedule", "--now", "reverify"], env=ops.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        child_run = wait_for(lambda: open_reverify_run(ops), "the scheduled child's run")
        assert child_run.trigger == "schedule"  # type: ignore[attr-defined]

        second = subprocess.run([*SCANNER, "schedule"], env=ops.env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "another scheduler is already running on this database" in " ".join(second.stderr.split())

        listing = subprocess.run([*SCANNER, "schedule", "--list"], env=ops.env, capture_output=True, text=True,
                                 timeout=60)
        assert listing.returncode == 0 and "reverify" in listing.stdout and "0 3 * * *" in listing.stdout
        assert "scheduler: running as" in listing.stdout

        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, stderr
    run = [r for r in all_runs(ops) if r.id == child_run.id][0]  # type: ignore[attr-defined]
    assert run.status == "interrupted"
    assert "scheduler stopped" in run.error_summary
    with pytest.raises(ProcessLookupError):
        os.kill(run.pid, 0)  # type: ignore[arg-type]
    assert read_lock(ops.engine) is None
    logs = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(entry.get("message") == "scheduler started" for entry in logs)


def test_unknown_now_job_is_a_usage_error(ops: OpsSetup) -> None:
    result = subprocess.run([*SCANNER, "schedule", "--now", "poll:nope"], env=ops.env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "unknown job id(s): poll:nope" in result.stderr
