"""Re-verification of confirmed platforms (`scanner reverify`, a Run of kind ``reverify``).

A platform on (or about to be on) the blocklist is re-fetched on its own cadence: the pages its
newest analyses came from (its mirrors' included) are fetched again through the same evidence and
detection path as a crawl: each answer is written to WARC and the capture chain, analysed, stored
and re-judged through `scanner.observation`, as the crawl's pages are.

Pages are fetched through the shared egress client (`scanner.net.http`): a URL, redirect or DNS
answer the egress policy refuses is not fetched (the page counts as offline, the note says why),
and every response ends within ``http.timeout_seconds``.

A platform whose pages all fail (DNS, refused connection, timeout, 404/410/451, server errors) is
*offline*; one where a page's content digest (of the extracted text) differs from its last analysis
has *changed*. Either way the finding is marked ``needs_review`` with a note saying what was seen,
and this run's FindingEvent says ``offline`` or ``change``. Nothing is removed from the blocklist
here, and the officers' status is untouched: only an officer's decision changes those. Pages known
only from captures (no analysis yet) can show offline, not change.
"""

from __future__ import annotations

import logging
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scanner import runs
from scanner.config import DIRECT_VANTAGE, Config
from scanner.evidence.recorder import EvidenceRecorder
from scanner.findings import mirrors
from scanner.net.egress import EgressRefused
from scanner.net.http import EgressClient, Exchange, FetchError
from scanner.observation import ObservationWriter, rules_for
from scanner.render import RENDERED_FRAGMENT
from scanner.store.db import session_scope
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
    refused: str = ""  # the egress policy's reason, when it refused the page (or a redirect of it)
    digest: str = ""
    capture_id: int | None = None

    @property
    def offline(self) -> bool:
        return self.status is None or self.status in OFFLINE_STATUSES

    @property
    def changed(self) -> bool:
        # Same digest means the same extracted text, hence the same (pure) detection result.
        return not self.offline and bool(self.known_digest) and self.digest != self.known_digest

    def describe(self) -> str:
        if self.status is None:
            return f"{self.url}: {self.error}"
        if self.offline:
            return f"{self.url}: HTTP {self.status}"
        return f"{self.url}: content changed (capture #{self.capture_id})"


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
        }  # fmt: skip


@dataclass
class Report:
    run_id: int
    outcomes: list[Outcome] = field(default_factory=list)
    failed: bool = False


def known_pages(
    session: Session, platform: Platform, limit: int = MAX_PAGES_PER_PLATFORM
) -> list[tuple[tuple[str, str | None], str]]:
    """((url, vantage point), content digest) of the platform's (and its mirrors') newest analysed
    pages, else its captures: a page is re-fetched from the vantage point it was seen from."""
    group = mirrors.group_ids(session, platform)
    pages: dict[tuple[str, str | None], str] = {}
    analyses = session.exec(
        select(PageAnalysis)
        .where(col(PageAnalysis.platform_id).in_(group), col(PageAnalysis.superseded).is_(False))
        .order_by(col(PageAnalysis.last_seen).desc(), col(PageAnalysis.id).desc())
    )
    for analysis in analyses:
        if analysis.url.endswith(RENDERED_FRAGMENT):
            continue  # a page rendered in Chromium: a plain re-fetch would always differ from it
        pages.setdefault((analysis.url, analysis.vantage), analysis.content_digest)
        if len(pages) >= limit:
            return list(pages.items())
    if not pages:
        captures = session.exec(
            select(Capture)
            .where(col(Capture.platform_id).in_(group))
            .order_by(col(Capture.fetched_at).desc())
        )
        for capture in captures:
            pages.setdefault((capture.url, capture.vantage), "")
            if len(pages) >= limit:
                break
    return list(pages.items())


class Fetcher:
    """Re-fetch through the shared egress client (`scanner.net.http`), honouring the configured politeness."""

    def __init__(self, config: Config, engine: Engine, recorder: EvidenceRecorder, run_id: int):
        self.max_bytes = config.settings.http.max_response_bytes
        self.recorder = recorder
        self.writer = ObservationWriter(engine, rules_for(config), run_id)
        self.config = config
        self.clients: dict[str | None, EgressClient] = {}  # one per vantage point

    def client(self, vantage: str | None) -> EgressClient:
        """The client fetching from ``vantage`` (None: direct); a vantage point since removed from the
        config is a ConfigError (exit 2), not a silent direct fetch."""
        if vantage not in self.clients:
            # identity: the recorded body is then exactly what was received, and what is analysed.
            self.clients[vantage] = EgressClient(
                self.config.settings, headers={"Accept-Encoding": "identity"},
                vantage=self.config.vantage(vantage or DIRECT_VANTAGE),
            )  # fmt: skip
        return self.clients[vantage]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def check(self, url: str, known_digest: str, vantage: str | None = None) -> PageCheck:
        """Fetch one page (from the vantage point it was seen from), keep it (and any redirect on the
        way) as evidence, and store its analysis."""
        page = PageCheck(url=url, known_digest=known_digest)
        captures: list[Capture] = []

        def observe(exchange: Exchange) -> None:
            captures.append(self.recorder.record(exchange.evidence()))

        try:
            exchange = self.client(vantage).fetch("GET", url, observe=observe)
            body = exchange.decoded(self.max_bytes)
        except EgressRefused as refused:
            page.error, page.refused = str(refused), refused.reason
            log.warning("%s", refused, extra={"url": url, "reason": refused.reason})
        except FetchError as exc:
            page.error = exc.problem
        else:
            page.status = exchange.status
        if captures:
            page.capture_id = captures[-1].id
        if page.offline:
            return page
        seen = self.writer.rules.observe(
            url, exchange.content_type, body, capture_id=page.capture_id, vantage=captures[-1].vantage
        )
        page.digest = seen.analysis.content_digest
        with session_scope(self.writer.engine) as session:
            self.writer.add(session, [seen])
        return page

    def refresh(self, platform_id: int) -> None:
        with session_scope(self.writer.engine) as session:
            self.writer.judge(session, platform_id)


def reverify_confirmed(config: Config, engine: Engine, trigger: str = "cli") -> Report:
    """Check every confirmed finding once; the Run row carries pages/items/errors."""
    report = Report(run_id=runs.start_run(engine, "reverify", "reverify", trigger=trigger))
    try:
        with Session(engine) as session:
            confirmed = session.exec(
                select(Finding, Platform)
                .join(Platform, col(Platform.id) == Finding.platform_id)
                .where(col(Finding.status).in_(CONFIRMED_STATUSES))
                .order_by(col(Finding.id))
            )
            targets = [(f.id or 0, p.id or 0, p.key, known_pages(session, p)) for f, p in confirmed]
        with (
            EvidenceRecorder(
                engine, config.data_dir, config.settings.warc_max_bytes, run_id=report.run_id
            ) as rec,
            closing(Fetcher(config, engine, rec, report.run_id)) as fetcher,
        ):
            for finding_id, platform_id, key, known in targets:
                outcome = Outcome(finding_id, key, "no-pages", note="no captured page to re-fetch")
                if known:
                    outcome.pages = [fetcher.check(url, digest, vantage) for (url, vantage), digest in known]
                    _judge(outcome)
                    if outcome.result != "offline":
                        fetcher.refresh(platform_id)
                    _mark(engine, report.run_id, outcome)
                log.info(
                    "reverified", extra={"finding_id": finding_id, "platform": key, "result": outcome.result}
                )
                report.outcomes.append(outcome)
    except BaseException as exc:
        report.failed = True
        status = "interrupted" if isinstance(exc, KeyboardInterrupt | SystemExit) else "failed"
        runs.finish_run(
            engine, report.run_id, status, **_figures(report), error_summary=f"{type(exc).__name__}: {exc}"
        )
        raise
    refused = [page for outcome in report.outcomes for page in outcome.pages if page.refused]
    runs.finish_run(
        engine, report.run_id, "ok", **_figures(report),
        stats={"results": _summary(report.outcomes), "egress_refused": dict(Counter(p.refused for p in refused))},
        error_summary="\n".join(page.error for page in refused),
    )  # fmt: skip
    return report


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


def _mark(engine: Engine, run_id: int, outcome: Outcome) -> None:
    """Flag the finding for the officers and make this run's event say what was seen."""
    if outcome.result not in ("offline", "change"):
        return
    now = utcnow()
    with session_scope(engine) as session:
        finding = session.get(Finding, outcome.finding_id)
        if finding is None:
            return
        finding.needs_review = True
        finding.review_note = f"re-verification {now:%Y-%m-%d %H:%M} UTC (run #{run_id}): {outcome.note}"[
            :20000
        ]
        session.add(finding)
        event = session.exec(
            select(FindingEvent).where(FindingEvent.finding_id == finding.id, FindingEvent.run_id == run_id)
        ).first()
        if event is None:  # offline: no document, so refresh_finding wrote no event
            event = FindingEvent(finding_id=finding.id or 0, run_id=run_id, score=finding.score,
                                 verdict=finding.verdict, content_digest=finding.content_digest)  # fmt: skip
        shown = next((p for p in outcome.pages if p.changed), None) or next(
            (p for p in outcome.pages if p.capture_id), None
        )
        event.kind, event.at = outcome.result, now
        event.capture_id = shown.capture_id if shown else event.capture_id
        session.add(event)


def _figures(report: Report) -> dict[str, int]:
    pages = [page for outcome in report.outcomes for page in outcome.pages]
    return {"pages": len(pages), "items": len(report.outcomes), "errors": sum(1 for p in pages if p.offline)}


def _summary(outcomes: list[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    return counts
