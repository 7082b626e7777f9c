"""`/metrics`: Prometheus text built from the database at each scrape.

Every figure comes from the store, not from in-process counters, so it is the same whichever web
worker answers and survives restarts; crawls and polls run in other processes anyway. The router is
mounted by `scanner.web.app` when this module imports; its engine is the app's (``app.state.engine``)
or, standing alone, the configured store. Tests override `metrics_engine`.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scanner.ops.lock import LOCK_NAME
from scanner.store.models import BlocklistEntry, Capture, Finding, Publication, Run, SchedulerLock, utcnow

router = APIRouter()

CLOSED = ("ok", "degraded", "failed", "interrupted")


def metrics_engine(request: Request) -> Engine:
    """The store of the app serving the metrics (``app.state.engine``, set by `scanner.web.create_app`)."""
    engine: Engine = request.app.state.engine
    return engine


class StoreCollector(Collector):
    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        with Session(self.engine) as session:
            yield from self._runs(session)
            yield from self._findings(session)
            yield from self._blocklist(session)
            yield from self._scheduler(session)

    def _runs(self, session: Session) -> Iterator[Metric]:
        by_status = GaugeMetricFamily("pkscan_runs", "Runs recorded, by kind and status", labels=["kind", "status"])
        for kind, status, count in session.exec(select(Run.kind, Run.status, func.count()).group_by(Run.kind, Run.status)):
            by_status.add_metric([kind, status], count)
        yield by_status

        latest = (
            select(func.max(Run.id)).where(col(Run.status).in_(CLOSED)).group_by(Run.kind, Run.name).scalar_subquery()
        )
        last_runs = list(session.exec(select(Run).where(col(Run.id).in_(latest))))
        labels = ["kind", "name"]
        families = {
            "duration": GaugeMetricFamily("pkscan_last_run_duration_seconds", "Duration of the last finished run", labels=labels),
            "pages": GaugeMetricFamily("pkscan_last_run_pages", "Pages fetched by the last finished run", labels=labels),
            "items": GaugeMetricFamily("pkscan_last_run_items", "Items recorded by the last finished run", labels=labels),
            "errors": GaugeMetricFamily("pkscan_last_run_errors", "Errors in the last finished run", labels=labels),
            "ok": GaugeMetricFamily("pkscan_last_run_success", "1 if the last finished run ended ok, else 0", labels=labels),
            "finished": GaugeMetricFamily(
                "pkscan_last_run_finished_timestamp_seconds", "When the last finished run ended (Unix time)", labels=labels
            ),
        }  # fmt: skip
        for run in last_runs:
            key = [run.kind, run.name]
            finished = run.finished_at or run.started_at
            families["duration"].add_metric(key, (finished - run.started_at).total_seconds())
            families["pages"].add_metric(key, run.pages)
            families["items"].add_metric(key, run.items)
            families["errors"].add_metric(key, run.errors)
            families["ok"].add_metric(key, 1 if run.status == "ok" else 0)
            families["finished"].add_metric(key, finished.timestamp())
        yield from families.values()

    def _findings(self, session: Session) -> Iterator[Metric]:
        findings = GaugeMetricFamily("pkscan_findings", "Findings by verdict and status", labels=["verdict", "status"])
        query = select(Finding.verdict, Finding.status, func.count()).group_by(Finding.verdict, Finding.status)
        for verdict, status, count in session.exec(query):
            findings.add_metric([verdict, status], count)
        yield findings
        review = session.exec(select(func.count()).select_from(Finding).where(col(Finding.needs_review).is_(True))).one()
        yield GaugeMetricFamily(
            "pkscan_findings_needs_review", "Confirmed findings re-verification marked for review", value=review
        )
        captures = session.exec(select(func.count()).select_from(Capture)).one()
        yield GaugeMetricFamily("pkscan_captures", "HTTP exchanges kept as evidence", value=captures)

    def _blocklist(self, session: Session) -> Iterator[Metric]:
        active = session.exec(
            select(func.count()).select_from(BlocklistEntry).where(col(BlocklistEntry.removed_at).is_(None))
        ).one()
        yield GaugeMetricFamily("pkscan_blocklist_entries_active", "Blocklist entries currently listed", value=active)
        version = session.exec(select(func.max(Publication.version))).one()
        yield GaugeMetricFamily(
            "pkscan_blocklist_publication_version", "Newest blocklist publication version (0: none)", value=version or 0
        )

    def _scheduler(self, session: Session) -> Iterator[Metric]:
        lock = session.get(SchedulerLock, LOCK_NAME)
        yield GaugeMetricFamily("pkscan_scheduler_up", "1 if a scheduler holds the lock", value=1 if lock else 0)
        if lock is not None:
            age = (utcnow() - lock.heartbeat_at).total_seconds()
            yield GaugeMetricFamily(
                "pkscan_scheduler_heartbeat_age_seconds", "Seconds since the scheduler's last heartbeat", value=age
            )


def render_metrics(engine: Engine) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(engine))
    return generate_latest(registry)


@router.get("/metrics", include_in_schema=False)
def metrics(engine: Engine = Depends(metrics_engine)) -> Response:  # noqa: B008
    return Response(render_metrics(engine), media_type=CONTENT_TYPE_LATEST)
