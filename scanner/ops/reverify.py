"""Re-verification of confirmed platforms (`scanner reverify`, a Run of kind ``reverify``).

A platform on (or about to be on) the blocklist is re-fetched on its own cadence: the pages its newest
analyses came from are fetched again and compared with what the officers confirmed. A platform whose
pages all fail (DNS, refused connection, 404/410, server errors) is *offline*; one whose content
digest changed, or whose pages are no longer flagged, has *changed*. Either way the finding is marked
``needs_review`` with a note saying what was seen, and a FindingEvent records it. Nothing is removed
from the blocklist here: only an officer's decision does that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scanner import runs
from scanner.config import Config
from scanner.detection.document import Document
from scanner.evidence.recorder import EvidenceRecorder
from scanner.store.models import Capture, Finding, FindingEvent, PageAnalysis, Platform, utcnow

log = logging.getLogger("scanner.ops.reverify")

CONFIRMED_STATUSES = ("published", "pending-approval")
MAX_PAGES_PER_PLATFORM = 10
OFFLINE_STATUSES = frozenset({404, 410, 451}) | frozenset(range(500, 600))


@dataclass
class PageCheck:
    url: str
    known_digest: str
    status: int | None = None
    error: str = ""
    digest: str = ""
    capture_id: int | None = None

    @property
    def offline(self) -> bool:
        return self.status is None or self.status in OFFLINE_STATUSES

    @property
    def changed(self) -> bool:
        if self.offline:
            return False
        # Same digest means the same extracted text, hence the same (pure) detection result.
        return bool(self.known_digest) and self.digest != self.known_digest

    def describe(self) -> str:
        if self.status is None:
            return f"{self.url}: {self.error}"
        if self.offline:
            return f"{self.url}: HTTP {self.status}"
        return f"{self.url}: content changed"


@dataclass
class Outcome:
    finding_id: int
    platform: str
    result: str  # unchanged | offline | change | no-pages
    note: str = ""
    pages: list[PageCheck] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "platform": self.platform,
            "result": self.result,
            "note": self.note,
            "pages": [
                {"url": p.url, "status": p.status, "error": p.error, "changed": p.changed, "offline": p.offline,
                 "capture_id": p.capture_id}
                for p in self.pages
            ],
        }


@dataclass
class Report:
    run_id: int
    outcomes: list[Outcome] = field(default_factory=list)
    failed: bool = False


def known_pages(session: Session, platform_id: int, limit: int = MAX_PAGES_PER_PLATFORM) -> list[tuple[str, str]]:
    """(url, content digest) of the platform's newest analysed pages, or of its captures if none."""
    pages: dict[str, str] = {}
    analyses = session.exec(
        select(PageAnalysis)
        .where(PageAnalysis.platform_id == platform_id, col(PageAnalysis.superseded).is_(False))
        .order_by(col(PageAnalysis.last_seen).desc())
    )
    for analysis in analyses:
        pages.setdefault(analysis.url, analysis.content_digest)
        if len(pages) >= limit:
            return list(pages.items())
    if not pages:
        captures = session.exec(
            select(Capture).where(Capture.platform_id == platform_id).order_by(col(Capture.fetched_at).desc())
        )
        for capture in captures:
            pages.setdefault(capture.url, "")
            if len(pages) >= limit:
                break
    return list(pages.items())


class Fetcher:
    """Plain requests re-fetch honouring the configured politeness; proxies come from the environment.

    Every answer is recorded as evidence (WARC + hash-chained Capture) before it is compared, like any
    other fetch: a note saying "content changed" points at the capture that shows the new content.
    """

    def __init__(self, config: Config, recorder: EvidenceRecorder):
        http = config.settings.http
        self.timeout = http.timeout_seconds
        self.max_bytes = http.max_response_bytes
        self.recorder = recorder
        self.session = requests.Session()
        # identity: the recorded body is then exactly what was received, and what we digest.
        self.session.headers.update({"User-Agent": http.user_agent, "Accept-Encoding": "identity"})
        self.session.max_redirects = http.max_redirects

    def check(self, url: str, known_digest: str) -> PageCheck:
        page = PageCheck(url=url, known_digest=known_digest)
        fetched_at = utcnow()
        try:
            with self.session.get(url, timeout=self.timeout, stream=True) as response:
                body = response.raw.read(self.max_bytes + 1, decode_content=True)[: self.max_bytes]
                page.status = response.status_code
                capture = self.recorder.record(
                    method="GET", url=url, request_headers=list(response.request.headers.items()),
                    request_body=None, final_url=response.url, status=response.status_code,
                    reason=response.reason, response_headers=list(response.headers.items()), body=body,
                    fetched_at=fetched_at, remote_ip=None,
                )  # fmt: skip
                page.capture_id = capture.id
                content_type = response.headers.get("Content-Type", "")
        except requests.RequestException as exc:
            page.error = _short_error(exc)
            return page
        if not page.offline:
            page.digest = Document(url, content_type, body).extract().digest
        return page


def _short_error(exc: Exception) -> str:
    text = str(exc)
    for marker in ("NameResolutionError", "Failed to resolve", "Connection refused", "timed out", "Max retries"):
        if marker in text:
            return f"{type(exc).__name__}: {marker}"
    return f"{type(exc).__name__}: {text[:200]}"


def reverify_confirmed(config: Config, engine: Engine, trigger: str = "cli") -> Report:
    """Check every confirmed finding once; the Run row carries pages/items/errors."""
    report = Report(run_id=runs.start_run(engine, "reverify", "reverify", trigger=trigger))
    try:
        with Session(engine) as session:
            confirmed = list(
                session.exec(
                    select(Finding, Platform)
                    .join(Platform, col(Platform.id) == Finding.platform_id)
                    .where(col(Finding.status).in_(CONFIRMED_STATUSES))
                    .order_by(col(Finding.id))
                )
            )
            targets = [(f.id or 0, p.key, known_pages(session, p.id or 0)) for f, p in confirmed]
        with EvidenceRecorder(engine, config.data_dir, config.settings.warc_max_bytes, run_id=report.run_id) as rec:
            fetcher = Fetcher(config, rec)
            for finding_id, key, known in targets:
                report.outcomes.append(_check(fetcher, engine, report.run_id, finding_id, key, known))
    except BaseException as exc:
        report.failed = True
        status = "interrupted" if isinstance(exc, KeyboardInterrupt | SystemExit) else "failed"
        runs.finish_run(engine, report.run_id, status, **_figures(report), error_summary=f"{type(exc).__name__}: {exc}")
        raise
    runs.finish_run(engine, report.run_id, "ok", **_figures(report), stats={"results": _summary(report.outcomes)})
    return report


def _check(fetcher: Fetcher, engine: Engine, run_id: int, finding_id: int, key: str,
           known: list[tuple[str, str]]) -> Outcome:  # fmt: skip
    outcome = Outcome(finding_id, key, "no-pages", note="no captured page to re-fetch")
    if known:
        outcome.pages = [fetcher.check(url, digest) for url, digest in known]
        _judge(outcome)
        _record(engine, run_id, outcome)
    log.info("reverified", extra={"finding_id": finding_id, "platform": key, "result": outcome.result})
    return outcome


def _figures(report: Report) -> dict[str, int]:
    pages = [page for outcome in report.outcomes for page in outcome.pages]
    return {"pages": len(pages), "items": len(report.outcomes), "errors": sum(1 for p in pages if p.offline)}


def _judge(outcome: Outcome) -> None:
    if all(p.offline for p in outcome.pages):
        outcome.result = "offline"
        outcome.note = "platform offline: " + "; ".join(p.describe() for p in outcome.pages)
    elif any(p.changed for p in outcome.pages):
        outcome.result = "change"
        outcome.note = "content changed since confirmation: " + "; ".join(
            p.describe() for p in outcome.pages if p.changed or p.offline
        )
    else:
        outcome.result = "unchanged"
        outcome.note = ""


def _record(engine: Engine, run_id: int, outcome: Outcome) -> None:
    now = utcnow()
    with Session(engine) as session:
        finding = session.get(Finding, outcome.finding_id)
        if finding is None:
            return
        shown = next((p for p in outcome.pages if p.changed), None) or next(
            (p for p in outcome.pages if p.capture_id), None
        )
        if outcome.result in ("offline", "change"):
            stamp = f"re-verification {now:%Y-%m-%d %H:%M} UTC (run #{run_id}): "
            finding.needs_review = True
            finding.review_note = (stamp + outcome.note)[:20000]
            kind = outcome.result
        else:
            finding.last_seen = now
            kind = "sighting"
        session.add(finding)
        session.add(
            FindingEvent(
                finding_id=outcome.finding_id, run_id=run_id, kind=kind, at=now, score=finding.score,
                verdict=finding.verdict, capture_id=shown.capture_id if shown else None,
                content_digest=shown.digest or None if shown else None,
            )
        )  # fmt: skip
        session.commit()


def _summary(outcomes: list[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    return counts
