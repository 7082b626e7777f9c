"""Re-verification marks offline or changed confirmed platforms for review; `scanner runs` lists history."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from sqlmodel import Session, select
from typer.testing import CliRunner

from scanner import runs
from scanner.cli.main import app
from scanner.config import set_config
from scanner.store.models import BlocklistEntry, Capture, Finding, FindingEvent
from tests.ops.conftest import OpsSetup, Site, seed_confirmed

SCANNER = [sys.executable, "-m", "scanner.cli.main"]
PAGE = "<html><body><h1>Buy USDT with JazzCash</h1><p>PKR deposits in minutes</p></body></html>"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_reverify_marks_offline_and_changed_platforms_without_unlisting(ops: OpsSetup, site: Site) -> None:
    site.pages["/same"] = (200, PAGE)
    site.pages["/edited"] = (200, PAGE.replace("JazzCash", "Easypaisa and JazzCash"))
    stable = seed_confirmed(ops.engine, "stable.test", {site.url("/same"): PAGE})
    changed = seed_confirmed(ops.engine, "changed.test", {site.url("/edited"): PAGE, site.url("/same"): PAGE},
                             status="pending-approval")
    offline = seed_confirmed(ops.engine, "offline.test", {closed_port_url(): PAGE, site.url("/removed"): PAGE})
    dismissed = seed_confirmed(ops.engine, "dismissed.test", {closed_port_url(): PAGE}, status="dismissed")

    result = subprocess.run([*SCANNER, "reverify", "--json"], env=ops.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    outcomes = {o["finding_id"]: o for o in map(json.loads, result.stdout.splitlines())}
    assert {k: o["result"] for k, o in outcomes.items()} == {stable: "unchanged", changed: "change", offline: "offline"}

    with Session(ops.engine) as session:
        findings = {f.id: f for f in session.exec(select(Finding))}
        events = {(e.finding_id, e.kind) for e in session.exec(select(FindingEvent))}
        entries = list(session.exec(select(BlocklistEntry)))
        captured = {c.url for c in session.exec(select(Capture))}
    assert not findings[stable].needs_review
    assert findings[changed].needs_review and "content changed" in findings[changed].review_note
    assert site.url("/edited") in findings[changed].review_note
    assert findings[offline].needs_review and "platform offline" in findings[offline].review_note
    assert "HTTP 404" in findings[offline].review_note
    assert not findings[dismissed].needs_review
    assert {(stable, "sighting"), (changed, "change"), (offline, "offline")} <= events
    assert all(e.removed_at is None for e in entries), "re-verification never unlists a platform"
    assert {site.url("/same"), site.url("/edited"), site.url("/removed")} <= captured, "re-fetches are evidence"

    [run] = [r for r in runs.recent_runs(ops.engine) if r.kind == "reverify"]
    assert run.status == "ok" and run.items == 3 and run.pages == 5 and run.errors == 2
    assert run.stats["results"] == {"unchanged": 1, "change": 1, "offline": 1}


def test_runs_command_lists_history_as_json_and_table(ops: OpsSetup) -> None:
    ok = runs.start_run(ops.engine, "crawl", "alpha", trigger="schedule")
    runs.finish_run(ops.engine, ok, "ok", pages=12, items=3, errors=1)
    skipped = runs.record_skipped(ops.engine, "poll", "p2p-one", "previous run still going")
    failed = runs.start_run(ops.engine, "crawl", "beta")
    runs.finish_run(ops.engine, failed, "failed", error_summary="timed out after 60 s\nmore detail")
    cli = CliRunner()
    set_config(ops.config)
    try:
        result = cli.invoke(app, ["runs", "--json"])
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r["id"] for r in rows] == [failed, skipped, ok]
        first = rows[2]
        assert (first["kind"], first["name"], first["trigger"], first["status"]) == ("crawl", "alpha", "schedule", "ok")
        assert (first["pages"], first["items"], first["errors"]) == (12, 3, 1)
        assert first["duration_seconds"] is not None and first["duration_seconds"] >= 0
        assert rows[1]["error_summary"] == "previous run still going"

        only_failed = cli.invoke(app, ["runs", "--json", "--status", "failed"])
        assert [json.loads(line)["id"] for line in only_failed.stdout.splitlines()] == [failed]

        table = cli.invoke(app, ["runs", "--limit", "2"], env={"COLUMNS": "200"})
        assert "timed out after 60 s" in table.stdout and "alpha" not in table.stdout

        bad = cli.invoke(app, ["runs", "--status", "weird"])
        assert bad.exit_code == 2 and "'weird' is not one of" in bad.output
    finally:
        set_config(None)
