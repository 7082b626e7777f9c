"""`AnalysisStore`: analysed documents into the store in batches, findings re-judged at intervals.

One job, used in two places: inside the detection worker (`scanner.crawl.detect_worker`, the usual
case: storing then costs the crawl's reactor nothing) and by `StorePipeline` in the crawl process
(detection inline, or a document the worker could not take).

Documents are written a batch at a time in one transaction. A kill loses at most the batch not yet
committed, never evidence: the captures are committed before anything is derived from them, and a
resumed crawl replays them and stores what was missing (`replayed` documents already stored are
skipped, their platforms re-judged all the same). Platforms touched are re-judged
(`scanner.findings.rejudge.judge`) at most every ``interval`` seconds, longer when re-judging takes
long, and by `refresh` at the end. The batch's transaction marks its platforms stale and the
re-judging clears the mark, so what a kill or an outage leaves unjudged is re-judged by the next run.
Each transaction is retried through a database outage for a bounded time (`scanner.store.db.retrying`),
then `StoreUnavailable` is raised.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from scanner.detection import Document, analyze
from scanner.detection.identity import page_identity
from scanner.findings import record_document
from scanner.findings.rejudge import judge, mark_stale
from scanner.names import InvalidName
from scanner.store.db import StoreUnavailable, retrying, session_scope
from scanner.store.models import PageAnalysis

log = logging.getLogger(__name__)


def detect(url: str, content_type: str, body: bytes, lexicons: Any, register: Any) -> tuple[Any, Any]:
    """(Analysis, PageIdentity or None) of one document: what a `Pending` stores."""
    document = Document(url, content_type, body)
    return analyze(document, lexicons, register), page_identity(document)


@dataclass
class Pending:
    analysis: Any
    identity: Any
    capture_id: int | None
    replayed: bool


class AnalysisStore:
    def __init__(self, engine: Engine, lexicons: Any, register: Any, run_id: int | None, *, interval: float):
        self.engine = engine
        self.lexicons = lexicons
        self.register = register
        self.run_id = run_id
        self.interval = interval
        self.dirty: set[int] = set()
        self.flagged: set[int] = set()  # finding ids judged "flag" by this run's refreshes
        self.unflagged: set[int] = set()
        self.last_refresh = time.monotonic()
        self.refresh_cost = 0.0
        self.refreshes = 0

    def store(self, documents: list[Pending]) -> int:
        """Store ``documents`` in one transaction (raises, storing nothing, on failure); returns how many were new."""
        stored, touched = retrying(lambda: self._store_once(documents), what=f"storing {len(documents)} analyses")
        # Only once committed: a rolled-back batch may name platforms that were never created.
        self.dirty |= touched
        return stored

    def _store_once(self, documents: list[Pending]) -> tuple[int, set[int]]:
        stored, touched = 0, set()
        with session_scope(self.engine) as session:
            for doc in documents:
                if doc.replayed and doc.capture_id is not None:
                    done = session.exec(
                        select(PageAnalysis.platform_id).where(PageAnalysis.capture_id == doc.capture_id)
                    ).first()
                    if done is not None:
                        touched.add(done)  # stored before the interruption; this run saw it again
                        continue
                try:
                    page = record_document(
                        session, doc.analysis, capture=doc.capture_id, run_id=self.run_id, identity=doc.identity
                    )
                except InvalidName as exc:
                    # A host no platform can have (the capture stays as evidence); nothing was written.
                    log.warning("page %s not attributed to a platform: %s", doc.analysis.source, exc)
                    continue
                touched.add(page.platform_id)
                stored += 1
            mark_stale(session, touched, self.run_id)
        return stored, touched

    def refresh_due(self) -> bool:
        # Re-judging a big platform reads all its documents: keep that under ~10% of the crawl's time.
        wait = max(self.interval, 10 * self.refresh_cost)
        return self.interval > 0 and bool(self.dirty) and time.monotonic() - self.last_refresh >= wait

    def _judge_once(self, platform_id: int) -> tuple[int | None, str]:
        with session_scope(self.engine) as session:
            finding = judge(session, platform_id, self.lexicons, self.register, self.run_id)
            return (finding.id, finding.verdict) if finding is not None else (None, "")

    def refresh(self) -> None:
        """Re-judge the platforms touched since the last refresh; raises `StoreUnavailable` (keeping them due)."""
        self.last_refresh = started = time.monotonic()
        dirty, self.dirty = sorted(self.dirty), set()
        for index, platform_id in enumerate(dirty):
            try:
                finding_id, verdict = retrying(
                    lambda p=platform_id: self._judge_once(p), what=f"re-judging platform {platform_id}"
                )
            except StoreUnavailable:
                self.dirty.update(dirty[index:])
                raise
            except Exception:
                # One platform's failure must not lose the others; it is retried at the next refresh.
                log.exception("refreshing the finding of platform %s failed", platform_id)
                self.dirty.add(platform_id)
                continue
            # Counted only once committed: the run's summary says what the database holds.
            if finding_id is not None:
                (self.flagged if verdict == "flag" else self.unflagged).add(finding_id)
                (self.unflagged if verdict == "flag" else self.flagged).discard(finding_id)
        self.refresh_cost = time.monotonic() - started
        self.refreshes += len(dirty)
