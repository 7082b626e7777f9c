"""One way to observe a page: what crawl, pollers, re-verification and ``scanner analyze`` share.

Every caller fetched something and recorded it as evidence already (`scanner.evidence`); from there
the path is the same for all of them:

- `Rules` is a configuration's detection vocabulary (lexicons and the licensed register), compiled once
  per `Config` (`rules_for`) and immutable, so processes and threads share it.
- `Rules.observe` turns one body into an `Observation`: the page's analysis and identity, tied to the
  capture it came from. Pure; ``scanner analyze`` prints it and stores nothing.
- `ObservationWriter` stores observations (and the mobile numbers their pages write, as contacts of
  the platform: `scanner.discovery.leads`) and re-judges the findings they touch. The crawl writes
  through it in its detection worker (`scanner.crawl.detect_worker`) or inline (`StorePipeline`); the
  pollers and re-verification write inside their own transaction (`add` + `judge`).

The crawl's documents are written a batch at a time in one transaction. A kill loses at most the batch
not yet committed, never evidence: the captures are committed before anything is derived from them,
and a resumed crawl replays them and stores what was missing (`replayed` observations already stored
are skipped, their platforms re-judged all the same). Platforms touched are re-judged
(`scanner.findings.rejudge.judge`) at most every ``interval`` seconds, longer when re-judging takes
long, and by `refresh` at the end. The batch's transaction marks its platforms stale and the
re-judging clears the mark, so what a kill or an outage leaves unjudged is re-judged by the next run.
Each transaction is retried through a database outage for a bounded time (`scanner.store.db.retrying`),
then `StoreUnavailable` is raised.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scanner.config import Config, Register
from scanner.detection import Analysis, Document, Lexicons, analyze
from scanner.detection.identity import PageIdentity, page_identity
from scanner.detection.rules import lexicons_for
from scanner.discovery.leads import mobile_of, record_sighting
from scanner.findings import record_document
from scanner.findings.rejudge import judge, mark_stale
from scanner.findings.store import DocumentBatch
from scanner.names import InvalidName
from scanner.store.db import StoreUnavailable, retrying, session_scope
from scanner.store.models import Finding, PageAnalysis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Observation:
    """One observed body: its analysis and page identity, and the capture that holds it as evidence."""

    analysis: Analysis
    identity: PageIdentity | None
    capture_id: int | None = None
    replayed: bool = False  # seen again by a resumed crawl: stored before the interruption, perhaps
    # The vantage point its capture came through (scanner.net.vantage); None: direct.
    vantage: str | None = None


@dataclass(frozen=True)
class Rules:
    """What detection judges with: the compiled lexicons and the licensed register."""

    lexicons: Lexicons
    register: Register | None

    def analyse(self, document: Document) -> Analysis:
        return analyze(document, self.lexicons, self.register)

    def observe(
        self,
        url: str,
        content_type: str,
        body: bytes,
        *,
        capture_id: int | None = None,
        replayed: bool = False,
        platform: str | None = None,
        vantage: str | None = None,
    ) -> Observation:
        """Analyse one body. ``platform`` attributes it to a known platform (an API answer speaks for
        the exchange polled, whatever its host); ``vantage`` is where it was fetched from."""
        document = Document(url, content_type, body)
        analysis = self.analyse(document)
        if platform is not None:
            analysis = dataclasses.replace(analysis, platform=platform)
        return Observation(analysis, page_identity(document), capture_id, replayed, vantage)


def rules_for(config: Config) -> Rules:
    """``config``'s rules, compiled on first use and kept as long as the Config lives."""
    return config.built("rules", lambda: Rules(lexicons_for(config), config.register))


class ObservationWriter:
    """Stores observations and re-judges the findings they touch (see the module doc)."""

    def __init__(self, engine: Engine, rules: Rules, run_id: int | None, *, interval: float = 0.0):
        self.engine = engine
        self.rules = rules
        self.run_id = run_id
        self.interval = interval
        self.dirty: set[int] = set()
        self.flagged: set[int] = set()  # finding ids judged "flag" by this run's refreshes
        self.unflagged: set[int] = set()
        self.last_refresh = time.monotonic()
        self.refresh_cost = 0.0
        self.refreshes = 0

    def store(self, observations: list[Observation]) -> int:
        """Store ``observations`` in one transaction (raises, storing nothing, on failure); returns how many
        were new. Their platforms are re-judged by `refresh`."""
        stored, touched = retrying(
            lambda: self._store_once(observations), what=f"storing {len(observations)} analyses"
        )
        # Only once committed: a rolled-back batch may name platforms that were never created.
        self.dirty |= touched
        return stored

    def _store_once(self, observations: list[Observation]) -> tuple[int, set[int]]:
        with session_scope(self.engine) as session:
            return self.add(session, observations)

    def add(self, session: Session, observations: list[Observation]) -> tuple[int, set[int]]:
        """Store ``observations`` in the caller's transaction and mark their platforms stale; returns
        (how many were new, the platform ids touched). The caller judges them (`judge`) or leaves
        them to `refresh`."""
        stored, touched = 0, set()
        batch = DocumentBatch(session, [(seen.analysis, seen.identity) for seen in observations])
        for seen in observations:
            if seen.replayed and seen.capture_id is not None:
                done = session.exec(
                    select(PageAnalysis.platform_id).where(PageAnalysis.capture_id == seen.capture_id)
                ).first()
                if done is not None:
                    touched.add(done)  # stored before the interruption; this run saw it again
                    continue
            try:
                page = record_document(
                    session,
                    seen.analysis,
                    capture=seen.capture_id,
                    run_id=self.run_id,
                    identity=seen.identity,
                    vantage=seen.vantage,
                    batch=batch,
                )
            except InvalidName as exc:
                # A host no platform can have (the capture stays as evidence); nothing was written.
                log.warning("page %s not attributed to a platform: %s", seen.analysis.source, exc)
                continue
            touched.add(page.platform_id)
            stored += 1
            self._note_contacts(session, seen)
        batch.finish()
        mark_stale(session, touched, self.run_id)
        return stored, touched

    def _note_contacts(self, session: Session, seen: Observation) -> None:
        """Mobile numbers the page writes are contacts of its platform (`scanner.discovery.leads`): the
        same desk number on two platforms ties them together."""
        analysis = seen.analysis
        # Numbers in WhatsApp links are the crawl's link leads (source crawl-links), not page text.
        written = [s.value.lower() for s in analysis.signals if s.kind == "pk_phone"]
        numbers = {mobile_of(v) for v in written if "wa.me" not in v and "whatsapp" not in v}
        for number in sorted(n for n in numbers if n):
            record_sighting(
                session, kind="phone", value=number, platform=analysis.platform, url=analysis.source,
                source="page-text", capture_id=seen.capture_id,
            )  # fmt: skip

    def judge(self, session: Session, platform_id: int) -> Finding | None:
        """Re-judge one platform's finding in the caller's transaction (clearing its stale mark)."""
        return judge(session, platform_id, self.rules.lexicons, self.rules.register, self.run_id)

    def refresh_due(self) -> bool:
        # Re-judging a big platform reads all its documents: keep that under ~10% of the crawl's time.
        wait = max(self.interval, 10 * self.refresh_cost)
        return self.interval > 0 and bool(self.dirty) and time.monotonic() - self.last_refresh >= wait

    def _judge_once(self, platform_id: int) -> tuple[int | None, str]:
        with session_scope(self.engine) as session:
            finding = self.judge(session, platform_id)
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
