"""`scanner schedule [--list] [--now JOB]` (the scheduler daemon) and `scanner reverify`."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from scanner.cli._common import config, console, err_console, store


def schedule(
    ctx: typer.Context,
    list_jobs: bool = typer.Option(False, "--list", help="Print the jobs and their next run times, then exit."),
    now: Annotated[
        list[str] | None,
        typer.Option("--now", metavar="JOB", help="Also run this job (id from --list) right after start. Repeatable."),
    ] = None,
) -> None:
    """Run the scheduler daemon: every crawl, poll and re-verification on its cron, one subprocess per run.

    Only one scheduler may run per database; a second one exits with code 1. SIGTERM or Ctrl-C stops
    it cleanly: running jobs are terminated and their runs recorded as interrupted.
    """
    from scanner.ops.lock import SchedulerLocked, read_lock
    from scanner.ops.scheduler import SchedulerDaemon, job_specs, stored_next_runs

    cfg = config(ctx)
    engine = store(ctx)
    specs = job_specs(cfg)
    if list_jobs:
        _print_jobs(specs, stored_next_runs(engine, cfg))
        lock = read_lock(engine)
        console.print(
            f"scheduler: running as {lock.holder}, last heartbeat {lock.age_seconds():.0f} s ago"
            if lock
            else "scheduler: not running"
        )
        return
    try:
        daemon = SchedulerDaemon(cfg, engine, specs=specs, run_now=now or [])
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if not os.environ.get("SCANNER_LOG_LEVEL"):
        # The daemon's own job start/finish lines are its audit trail: show them even at the default level.
        logging.getLogger("scanner.ops").setLevel(logging.INFO)
    daemon.install_signal_handlers()
    try:
        daemon.start()
    except SchedulerLocked as exc:
        err_console.print(f"[red]scheduler not started:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _print_jobs(specs: list, stored: dict) -> None:  # type: ignore[type-arg]
    now = datetime.now(UTC)
    table = Table(title="scheduled jobs (times in UTC)")
    for column in ("job", "command", "cron", "next run", "stored"):
        table.add_column(column, no_wrap=column == "job")  # ids are what --now takes: never cut
    for spec in specs:
        if spec.id in stored:
            next_run, where = stored[spec.id], "yes"
        else:
            next_run, where = spec.trigger.get_next_fire_time(None, now), "not yet (added at start)"
        table.add_row(spec.id, spec.command, spec.cron, f"{next_run:%Y-%m-%d %H:%M}" if next_run else "paused", where)
    for job_id in sorted(set(stored) - {spec.id for spec in specs}):
        table.add_row(job_id, "", "", "", "will be removed (no longer in config)")
    console.print(table)


def reverify(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the outcome per platform as JSON lines."),
) -> None:
    """Re-fetch every confirmed platform; mark those that went offline or changed for officer review.

    Nothing is removed from the blocklist: an officer decides on each marked finding.
    """
    from scanner.ops.reverify import reverify_confirmed

    cfg = config(ctx)
    engine = store(ctx)
    report = reverify_confirmed(cfg, engine, trigger=os.environ.get("SCANNER_RUN_TRIGGER", "cli"))
    if as_json:
        for outcome in report.outcomes:
            typer.echo(json.dumps(outcome.to_json(), ensure_ascii=False))
    else:
        table = Table(title=f"re-verification run #{report.run_id}")
        for column in ("finding", "platform", "result", "note"):
            table.add_column(column)
        for outcome in report.outcomes:
            table.add_row(str(outcome.finding_id), outcome.platform, outcome.result, outcome.note)
        console.print(table)
    if report.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("schedule")(schedule)
    app.command("reverify")(reverify)
