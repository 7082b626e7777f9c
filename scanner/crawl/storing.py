"""`AnalysisStore`: analysed documents into the store in batches, findings re-judged at intervals.

One job, used in two places: inside the detection worker (`scanner.crawl.detect_worker`, the usual
case: storing then costs the crawl's reactor nothing) and by `StorePipeline` in the crawl process
(detection inline, or a document the worker could not take).

Documents are written a batch at a time in one transaction. A kill loses at most the batch not yet
committed, never evidence: the captures are committed before anything is derived from them, and a
resumed crawl replays them and stores what was missing (`replayed` documents already stored are
skipped). Platforms touched are re-judged (`refresh_finding`) at most every ``interval`` seconds,
longer when re-judging takes long, and by `refresh` at the end.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from scanner.findings import record_document, refresh_finding
from scanner.names import InvalidName
from scanner.store.db import session_scope
from scanner.store.models import PageAnalysis

log = logging.getLogger(__name__)


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
        stored, touched = 0, set()
        with session_scope(self.engine) as session:
            for doc in documents:
                if doc.replayed and doc.capture_id is not None:
                    done = session.exec(
                        select(PageAnalysis.id).where(PageAnalysis.capture_id == doc.capture_id)
                    ).first()
                    if done is not None:
                        continue  # stored before the interruption
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
        # Only once committed: a rolled-back batch may name platforms that were never created.
        self.dirty |= touched
        return stored

    def refresh_due(self) -> bool:
        # Re-judging a big platform reads all its documents: keep that under ~10% of the crawl's time.
        wait = max(self.interval, 10 * self.refresh_cost)
        return self.interval > 0 and bool(self.dirty) and time.monotonic() - self.last_refresh >= wait

    def refresh(self) -> None:
        self.last_refresh = started = time.monotonic()
        dirty, self.dirty = self.dirty, set()
        for platform_id in sorted(dirty):
            try:
                with session_scope(self.engine) as session:
                    finding = refresh_finding(session, platform_id, self.lexicons, self.register, self.run_id)
                    if finding is not None and finding.id is not None:
                        if finding.verdict == "flag":
                            self.flagged.add(finding.id)
                            self.unflagged.discard(finding.id)
                        else:
                            self.flagged.discard(finding.id)
                            self.unflagged.add(finding.id)
            except Exception:
                # One platform's failure must not lose the others; it is retried at the next refresh.
                log.exception("refreshing the finding of platform %s failed", platform_id)
                self.dirty.add(platform_id)
        self.refresh_cost = time.monotonic() - started
        self.refreshes += len(dirty)
