"""SIGKILL of the crawler, and of its detection worker, mid-crawl: the run says so and the findings heal.

Before: a resumed crawl skipped the analyses stored before the kill and never re-judged their
platforms (every finding stayed `clear 0.00`); a killed worker's platforms stayed clear while the
run said `ok`, exit 0.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.faults.conftest import Scanner, fault_config

pytestmark = pytest.mark.slow


def running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for whoever adopted it to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def worker_of(pid: int) -> int | None:
    """The detection worker process the crawl `pid` started, if it runs yet."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"spawn_main" in cmdline:  # the one process of its pool (not the resource tracker)
            return int(entry.name)
    return None


# Where the kill lands: after the first capture (no analysis stored yet), mid-crawl (analyses stored),
# near the end. Captures commit page by page; analyses commit in the detection worker's batches (up to
# a second apart), so "near the end" counts captures: by 40 analyses the crawl may already be done.
KILL_POINTS = {
    "first capture": ("capture", 1),
    "mid-crawl": ("pageanalysis", 15),
    "near the end": ("capture", 45),
}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_of_the_crawler_then_resume_flags_every_baseline_platform(world, baseline, tmp_path, point):
    kill_and_resume(Scanner(world, fault_config(tmp_path / "config"), tmp_path / "data"), baseline, tmp_path, point)


def test_sigkill_of_a_crawl_on_postgresql_then_resume_flags_every_baseline_platform(world, baseline, postgres, tmp_path):
    scanner = Scanner(world, fault_config(tmp_path / "config"), tmp_path / "data", postgres.url)
    kill_and_resume(scanner, baseline, tmp_path, "mid-crawl")


def kill_and_resume(scanner: Scanner, baseline: set[str], tmp_path: Path, point: str) -> None:
    table, rows = KILL_POINTS[point]
    crawl = scanner.start("crawl", "site", log=tmp_path / "killed.log")
    try:
        scanner.wait_for(lambda: scanner.count(table) >= rows, crawl)
        worker = worker_of(crawl.pid)
        crawl.send_signal(signal.SIGKILL)
    finally:
        crawl.wait(30)
    if worker is not None:  # the orphaned detection worker ends by itself
        deadline = time.monotonic() + 15
        while running(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(worker), "the detection worker outlived the killed crawl"
    assert baseline - scanner.flagged(), (
        "the kill should leave stored analyses whose findings were not judged"
    )

    resumed = scanner.run("crawl", "site")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr[-3000:]
    assert scanner.flagged() >= baseline
    killed, healed = scanner.runs_cli()
    assert (killed["status"], healed["status"]) == ("interrupted", "ok")
    assert killed["error_summary"] == "process ended without closing the run"
    assert scanner.runs()[1].stats["pkscan/resumed_runs"] == [killed["id"]]
    assert scanner.run("findings", "rejudge").stdout.startswith("re-judged 0 findings")  # nothing left stale


@pytest.mark.parametrize("analyses", [0, 10], ids=["as it starts", "mid-crawl"])
def test_sigkill_of_the_detection_worker_is_degraded_and_heals_in_the_same_run(
    world, baseline, tmp_path, analyses
):
    scanner = Scanner(world, fault_config(tmp_path / "config"), tmp_path / "data")
    crawl = scanner.start("crawl", "site", log=tmp_path / "crawl.log")
    try:
        scanner.wait_for(
            lambda: scanner.count("pageanalysis") >= analyses and worker_of(crawl.pid) is not None, crawl
        )
        worker = worker_of(crawl.pid)
        assert worker is not None
        os.kill(worker, signal.SIGKILL)
        code = crawl.wait(120)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    output = (tmp_path / "crawl.log").read_text()
    assert code == 3, output[-3000:]  # degraded
    assert "degraded" in output and "the detection worker died" in output
    (run,) = scanner.runs_cli()
    assert run["status"] == "degraded" and run["error_summary"].startswith("the detection worker died")
    # The pages after the kill were detected and stored by the crawl itself; the worker's platforms,
    # stored but never judged, were re-judged at the end: nothing flagged in the baseline is missing.
    assert scanner.flagged() >= baseline

    # On demand, from the stored analyses alone: a platform licensed since is cleared.
    register = tmp_path / "config" / "licensed.yaml"
    register.write_text(
        register.read_text() + "  - {name: Rupee, domains: [rupee-exchange.test], status: licensed}\n"
    )
    rejudged = scanner.run("findings", "rejudge", "--all")
    assert rejudged.returncode == 0 and rejudged.stdout.startswith("re-judged "), (
        rejudged.stdout + rejudged.stderr
    )
    assert scanner.flagged() == baseline - {"rupee-exchange.test"}
