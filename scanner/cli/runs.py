"""`scanner runs [--json] [--limit N] [--status S] [--kind K]`: recent run history."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table
from sqlmodel import Session, col, select

from scanner.cli._common import console, err_console, shown, store
from scanner.runs import FINAL_STATUSES, close_orphaned_runs
from scanner.store.models import Run

STATUSES = ("running", *FINAL_STATUSES)


def run_json(run: Run) -> dict[str, Any]:
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "id": run.id,
        "kind": run.kind,
        "name": run.name,
        "trigger": run.trigger,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": round(duration, 3) if duration is not None else None,
        "pages": run.pages,
        "items": run.items,
        "errors": run.errors,
        "error_summary": run.error_summary,
        "host": run.host,
        "pid": run.pid,
    }


def runs_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line, newest first."),
    limit: int = typer.Option(50, "--limit", min=1, help="How many runs to show."),
    status: str | None = typer.Option(None, "--status", help=f"Only runs with this status ({', '.join(STATUSES)})."),
    kind: str | None = typer.Option(None, "--kind", help="Only runs of this kind (crawl, poll, reverify, scan)."),
) -> None:
    """List recent crawl, poll and re-verification runs with their status and figures."""
    if status is not None and status not in STATUSES:
        err_console.print(f"[red]error:[/red] --status: {status!r} is not one of {', '.join(STATUSES)}")
        raise typer.Exit(2)
    query = select(Run).order_by(col(Run.started_at).desc(), col(Run.id).desc()).limit(limit)
    if status:
        query = query.where(Run.status == status)
    if kind:
        query = query.where(Run.kind == kind)
    engine = store(ctx)
    close_orphaned_runs(engine)  # a run whose process is gone is not shown as still running
    with Session(engine) as session:
        rows = list(session.exec(query))
    if as_json:
        for run in rows:
            typer.echo(json.dumps(run_json(run), ensure_ascii=False))
        return
    table = Table(title="recent runs (UTC)")
    for column in ("id", "kind", "name", "trigger", "status", "started", "duration", "pages", "items", "errors", "error"):
        table.add_column(column, overflow="fold")
    for run in rows:
        data = run_json(run)
        duration = data["duration_seconds"]
        table.add_row(
            str(run.id), run.kind, run.name, run.trigger, _styled(run.status),
            f"{run.started_at:%Y-%m-%d %H:%M:%S}", f"{duration:.1f} s" if duration is not None else "",
            str(run.pages), str(run.items), str(run.errors), shown(run.error_summary.splitlines()[0]) if run.error_summary else "",
        )  # fmt: skip
    console.print(table)


def _styled(status: str) -> str:
    colour = {"ok": "green", "degraded": "yellow", "failed": "red", "interrupted": "yellow", "skipped": "dim", "running": "cyan"}
    return f"[{colour.get(status, 'white')}]{status}[/]"


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_command)
