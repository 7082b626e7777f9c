"""/metrics exposes run, finding, evidence, blocklist and scheduler figures from the database."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from scanner import runs
from scanner.ops import metrics
from scanner.ops.lock import HeldLock
from tests.ops.conftest import FLAGGED_PAGE, OpsSetup, seed_confirmed


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_expose_the_figures(ops: OpsSetup) -> None:
    first = runs.start_run(ops.engine, "crawl", "alpha", trigger="schedule")
    runs.finish_run(ops.engine, first, "failed", pages=1, errors=5)
    second = runs.start_run(ops.engine, "crawl", "alpha", trigger="schedule")
    runs.finish_run(ops.engine, second, "ok", pages=40, items=7, errors=2)
    runs.record_skipped(ops.engine, "poll", "p2p-one", "busy")
    runs.start_run(ops.engine, "poll", "p2p-one")
    seed_confirmed(ops.engine, "one.test", {"http://one.test/": FLAGGED_PAGE})
    seed_confirmed(ops.engine, "two.test", {"http://two.test/": FLAGGED_PAGE}, status="pending-approval")
    HeldLock(ops.engine, holder="host:1").acquire()

    app = FastAPI()
    app.include_router(metrics.router)
    app.dependency_overrides[metrics.metrics_engine] = lambda: ops.engine
    values = scrape(TestClient(app))

    assert values[("pkscan_runs", (("kind", "crawl"), ("status", "ok")))] == 1
    assert values[("pkscan_runs", (("kind", "crawl"), ("status", "failed")))] == 1
    assert values[("pkscan_runs", (("kind", "poll"), ("status", "skipped")))] == 1
    assert values[("pkscan_runs", (("kind", "poll"), ("status", "running")))] == 1
    alpha = (("kind", "crawl"), ("name", "alpha"))
    assert values[("pkscan_last_run_pages", alpha)] == 40, "the newest finished run wins"
    assert values[("pkscan_last_run_items", alpha)] == 7
    assert values[("pkscan_last_run_errors", alpha)] == 2
    assert values[("pkscan_last_run_success", alpha)] == 1
    assert values[("pkscan_last_run_duration_seconds", alpha)] >= 0
    assert ("pkscan_last_run_pages", (("kind", "poll"), ("name", "p2p-one"))) not in values
    assert values[("pkscan_findings", (("status", "published"), ("verdict", "flag")))] == 1
    assert values[("pkscan_findings", (("status", "pending-approval"), ("verdict", "flag")))] == 1
    assert values[("pkscan_blocklist_entries_active", ())] == 2
    assert values[("pkscan_blocklist_publication_version", ())] == 2
    assert values[("pkscan_captures", ())] == 0
    assert values[("pkscan_scheduler_up", ())] == 1
    assert 0 <= values[("pkscan_scheduler_heartbeat_age_seconds", ())] < 3600


def test_web_app_mounts_metrics(ops: OpsSetup) -> None:
    from scanner.web.app import create_app

    values = scrape(TestClient(create_app(ops.config), base_url="http://localhost"))  # an allowed host
    assert values[("pkscan_scheduler_up", ())] == 0
    assert values[("pkscan_blocklist_publication_version", ())] == 0
