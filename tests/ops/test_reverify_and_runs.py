"""Re-verification marks offline or changed confirmed platforms for review; `scanner runs` lists history."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
import requests
from sqlmodel import Session, select
from typer.testing import CliRunner

from scanner import runs
from scanner.cli._common import console
from scanner.cli.main import app
from scanner.store.models import BlocklistEntry, Capture, Finding, FindingEvent, PageAnalysis
from scanner.world import World
from tests.ops.conftest import FLAGGED_PAGE, OpsSetup, seed_confirmed

SCANNER = [sys.executable, "-m", "scanner.cli.main"]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.mark.slow
def test_reverify_marks_offline_and_changed_platforms_without_unlisting(ops: OpsSetup, world: World) -> None:
    live = requests.get("http://rupee-exchange.test/", proxies=world.proxies, timeout=30)
    stable = seed_confirmed(ops.engine, "rupee-exchange.test", {"http://rupee-exchange.test/": live.text})
    # Confirmed when the page said something else: the world now serves different content.
    changed = seed_confirmed(ops.engine, "sarmaya-crypto.test", {"http://sarmaya-crypto.test/": FLAGGED_PAGE},
                             status="pending-approval")
    # Gone: unknown to the world (its proxy answers 502, as for a name that no longer resolves), and a
    # direct connection refused.
    offline = seed_confirmed(ops.engine, "gone-exchange.test",
                             {"http://gone-exchange.test/": FLAGGED_PAGE, closed_port_url(): FLAGGED_PAGE})
    dismissed = seed_confirmed(ops.engine, "paisakamao.test", {"http://paisakamao.test/": FLAGGED_PAGE}, status="dismissed")

    env = {**ops.env, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    result = subprocess.run([*SCANNER, "reverify", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    outcomes = {o["finding_id"]: o for o in map(json.loads, result.stdout.splitlines())}
    assert {k: o["result"] for k, o in outcomes.items()} == {stable: "unchanged", changed: "change", offline: "offline"}

    with Session(ops.engine) as session:
        findings = {f.id: f for f in session.exec(select(Finding))}
        events = {(e.finding_id, e.kind) for e in session.exec(select(FindingEvent))}
        entries = list(session.exec(select(BlocklistEntry)))
        captured = {c.url: c for c in session.exec(select(Capture))}
        analyses = [(a.url, a.superseded) for a in session.exec(select(PageAnalysis))]
    assert not findings[stable].needs_review
    note = findings[changed].review_note
    assert findings[changed].needs_review and "content changed since confirmation" in note
    assert f"capture #{captured['http://sarmaya-crypto.test/'].id}" in note, "the note points at the new evidence"
    assert findings[offline].needs_review and "platform offline" in findings[offline].review_note
    assert "HTTP 502" in findings[offline].review_note and "Connection refused" in findings[offline].review_note
    assert not findings[dismissed].needs_review
    assert {(stable, "sighting"), (changed, "change"), (offline, "offline")} <= events
    assert findings[changed].status == "pending-approval", "the officers' status is not touched"
    assert all(e.removed_at is None for e in entries), "re-verification never unlists a platform"
    assert ("http://sarmaya-crypto.test/", False) in analyses and ("http://sarmaya-crypto.test/", True) in analyses, (
        "the new content is analysed and stored; the confirmed analysis is kept, superseded"
    )

    [run] = [r for r in runs.recent_runs(ops.engine) if r.kind == "reverify"]
    assert run.status == "ok" and run.items == 3 and run.pages == 4 and run.errors == 2
    assert run.stats["results"] == {"unchanged": 1, "change": 1, "offline": 1}


def test_runs_command_lists_history_as_json_and_table(ops: OpsSetup) -> None:
    ok = runs.start_run(ops.engine, "crawl", "alpha", trigger="schedule")
    runs.finish_run(ops.engine, ok, "ok", pages=12, items=3, errors=1)
    skipped = runs.record_skipped(ops.engine, "poll", "p2p-one", "previous run still going")
    failed = runs.start_run(ops.engine, "crawl", "beta")
    runs.finish_run(ops.engine, failed, "failed", error_summary="timed out after 60 s\nmore detail")
    cli = CliRunner()
    result = cli.invoke(app, obj=ops.config, args=["runs", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [failed, skipped, ok]
    first = rows[2]
    assert (first["kind"], first["name"], first["trigger"], first["status"]) == ("crawl", "alpha", "schedule", "ok")
    assert (first["pages"], first["items"], first["errors"]) == (12, 3, 1)
    assert first["duration_seconds"] is not None and first["duration_seconds"] >= 0
    assert rows[1]["error_summary"] == "previous run still going"

    only_failed = cli.invoke(app, obj=ops.config, args=["runs", "--json", "--status", "failed"])
    assert [json.loads(line)["id"] for line in only_failed.stdout.splitlines()] == [failed]

    width, console.width = console.width, 200  # as on an operator's terminal, whatever pytest's is
    try:
        table = cli.invoke(app, obj=ops.config, args=["runs", "--limit", "2"])
    finally:
        console.width = width
    assert "timed out after 60 s" in table.stdout and "skipped" in table.stdout and "alpha" not in table.stdout

    bad = cli.invoke(app, obj=ops.config, args=["runs", "--status", "weird"])
    assert bad.exit_code == 2 and "'weird' is not one of" in bad.output


@pytest.mark.slow
def test_reverify_on_a_disk_that_refuses_evidence_fails_in_one_line(ops: OpsSetup, world: World) -> None:
    """Before: the refused write ended the command with a traceback. After: one line, exit 1, run failed."""
    seed_confirmed(ops.engine, "rupee-exchange.test", {"http://rupee-exchange.test/": FLAGGED_PAGE})
    (ops.data_dir / "warc").write_text("not a directory")  # every new WARC file is refused: ENOTDIR
    env = {**ops.env, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    result = subprocess.run([*SCANNER, "reverify"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    console_lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("{")]
    assert len(console_lines) == 1, result.stderr
    assert console_lines[0] == "error: evidence not recorded: cannot create the evidence folder warc/: ENOTDIR not a directory"
    [run] = [r for r in runs.recent_runs(ops.engine) if r.kind == "reverify"]
    assert run.status == "failed" and "evidence not recorded" in run.error_summary
