"""Re-verification marks offline or changed confirmed platforms for review; `scanner runs` lists history."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from sqlmodel import Session, select

from scanner import runs
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
    runs.record_skipped(ops.engine, "poll", "p2p-one", "previous run still going")
    failed = runs.start_run(ops.engine, "crawl", "beta")
    runs.finish_run(ops.engine, failed, "failed", error_summary="timed out after 60 s\nmore detail")

    result = subprocess.run([*SCANNER, "runs", "--json"], env=ops.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [failed, ok + 1, ok]
    first_ok = rows[2]
    assert (first_ok["kind"], first_ok["name"], first_ok["trigger"], first_ok["status"]) == ("crawl", "alpha", "schedule", "ok")
    assert (first_ok["pages"], first_ok["items"], first_ok["errors"]) == (12, 3, 1)
    assert first_ok["duration_seconds"] is not None and first_ok["duration_seconds"] >= 0

    only_failed = subprocess.run([*SCANNER, "runs", "--json", "--status", "failed"], env=ops.env,
                                 capture_output=True, text=True, timeout=60)
    assert [json.loads(line)["id"] for line in only_failed.stdout.splitlines()] == [failed]

    table = subprocess.run([*SCANNER, "runs", "--limit", "2"], env={**ops.env, "COLUMNS": "200"},
                           capture_output=True, text=True, timeout=60)
    assert "timed out after 60 s" in table.stdout and "alpha" not in table.stdout

    bad = subprocess.run([*SCANNER, "runs", "--status", "weird"], env=ops.env, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "'weird' is not one of" in bad.stderr
