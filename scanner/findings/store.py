"""Detection results into stored findings: documents, signals, one finding per platform, history.

Used by the crawl pipelines and the API pollers alike::

    with session_scope(engine) as session:
        page = record_document(session, analysis, capture=capture, run_id=run_id, document=doc)
    with session_scope(engine) as session:
        finding = refresh_finding(session, page.platform_id, lexicons, register, run_id)

`record_document` stores what one document showed. The same URL with the same content digest again
only moves ``last_seen`` (no new rows); changed content gets a new `PageAnalysis` and the old one is
marked ``superseded``. Signals are stored with the capture and page analysis they came from, under
the finding of the platform's *original* (see `scanner.findings.mirrors`).

`refresh_finding` re-judges the platform over its current documents and its mirrors' with
`scanner.detection.aggregate`, and keeps one `FindingEvent` per run: ``first`` (never judged
before), ``sighting`` (same combined content digest as the previous run) or ``change``.
``sightings`` counts the runs that saw the platform. Calling it several times in one run (crawls
refresh periodically) updates that run's event instead of adding more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from scanner.config import Register
from scanner.detection import Analysis, Document, Lexicons, aggregate
from scanner.detection.identity import PageIdentity, page_identity
from scanner.findings import mirrors
from scanner.findings.rows import PLATFORM_BY_KEY, ensure_finding
from scanner.names import InvalidName, dns_name_or_none, ip_literal
from scanner.names import platform_key as checked_platform_key
from scanner.store.models import (
    Capture,
    Finding,
    FindingEvent,
    PageAnalysis,
    Platform,
    PlatformDomain,
    Signal,
    detached,
    utcnow,
)

log = logging.getLogger(__name__)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------- analyses as stored JSON


# ---------------------------------------------------------------- platforms


def platform_kind(key: str) -> str:
    """``hosted`` for a channel/app/page on a hosting site (``t.me/xyz``), else ``domain``."""
    return "hosted" if "/" in key else "domain"


def ensure_platform(
    session: Session, key: str, *, name: str = "", candidate: bool = False, found_on_url: str | None = None
) -> tuple[Platform, bool]:
    """The platform with ``key``, created if new; (platform, created). Safe against a concurrent insert.

    Raises `InvalidName` (before touching the session) for a key that is not a valid DNS name, IP
    address or hosting-site channel: such names come from hostile pages and never become platforms.
    """
    cache = session.info.setdefault("pkscan_platforms", {})
    existing = cache.get(key)
    if existing is not None:
        return existing, False
    checked_platform_key(key)
    existing = session.execute(PLATFORM_BY_KEY, {"key": key}).scalars().first()
    if existing is not None:
        cache[key] = existing
        return existing, False
    platform = Platform(
        key=key, name=name[:256], kind=platform_kind(key), candidate=candidate, found_on_url=found_on_url
    )
    try:
        with session.begin_nested():
            session.add(platform)
    except IntegrityError:
        # Another process created it between our select and insert.
        return session.execute(PLATFORM_BY_KEY, {"key": key}).scalars().one(), False
    return platform, True


def note_domain(session: Session, platform: Platform, host: str, kind: str = "domain") -> None:
    """Record ``host`` as a domain of the platform, in its ASCII form, if it is a valid DNS name.

    A host such as ``=1+2.evil-exchange.test`` (a subdomain the site itself can invent) is not
    recorded: aliases end up in the banks' feeds.
    """
    noted = session.info.setdefault("pkscan_domains", set())
    if not host or (platform.id, host) in noted:
        return
    noted.add((platform.id, host))
    name = dns_name_or_none(host)
    if name is None:
        if ip_literal(host) is None:  # an address is not a domain either, but nothing to warn about
            log.warning("not recorded as a domain of %s: %r is not a valid DNS name", platform.key, host)
        return
    host = name
    known = session.execute(_DOMAIN, {"platform_id": platform.id, "value": host}).first()
    if known is None:
        try:
            with session.begin_nested():
                session.add(PlatformDomain(platform_id=platform.id, value=host, kind=kind))
        except IntegrityError:
            pass


# ---------------------------------------------------------------- documents


def record_document(
    session: Session,
    analysis: Analysis,
    *,
    capture: Capture | int | None,
    run_id: int | None,
    document: Document | None = None,
    identity: PageIdentity | None = None,
    vantage: str | None = None,
    batch: DocumentBatch | None = None,
) -> PageAnalysis:
    """Store one document's analysis and signals (see module doc); returns its PageAnalysis.

    ``capture`` is the Capture (or its id) holding the document; ``document`` (optional) lets
    HTML pages take part in mirror grouping (or pass its ``identity``, from
    `scanner.detection.identity.page_identity`, if already computed). Nothing is committed: the
    caller's session does that; several documents may share one session. A platform key that is not
    a valid name raises `InvalidName` before anything is added to the session. ``vantage`` is the
    vantage point the capture was fetched through (taken from ``capture`` when it is a Capture): the
    same URL seen from another vantage point is another current document, not a change. Several
    documents stored in one transaction share a ``batch`` (`DocumentBatch`, finished by the caller);
    without one, the document is a batch of its own.
    """
    if identity is None and document is not None:
        identity = page_identity(document)
    if batch is None:
        batch = DocumentBatch(session, [(analysis, identity)])
        page = record_document(
            session, analysis, capture=capture, run_id=run_id, document=document, identity=identity,
            vantage=vantage, batch=batch,
        )  # fmt: skip
        batch.finish()
        return page
    capture_id = capture.id if isinstance(capture, Capture) else capture
    if isinstance(capture, Capture):
        vantage = capture.vantage
    seen_at = _aware(capture.fetched_at) if isinstance(capture, Capture) else utcnow()
    key = analysis.platform
    batch.check_key(key)  # InvalidName before anything is written (see ensure_platform)
    platform, _ = ensure_platform(session, key, name=identity.brand if identity else "")
    assert platform.id is not None
    note_domain(session, platform, (urlsplit(analysis.source).hostname or "").lower())
    if capture_id is not None:
        batch.capture_platforms.append({"capture_id": capture_id, "platform_id": platform.id})

    current = batch.current_page(platform.id, key, analysis.source, vantage)
    if current is not None and current["content_digest"] == analysis.content_digest:
        current["last_seen"] = max(_aware(current["last_seen"]), seen_at)
        session.execute(_TOUCH_PAGE, {"page_id": current["id"], "last_seen": current["last_seen"]})
        return detached(PageAnalysis, current)
    if current is not None:
        session.execute(_SUPERSEDE_PAGE, {"page_id": current["id"]})
        batch.superseded(current)

    root = (
        mirrors.group(session, platform, identity, batch.mirrors)
        if identity
        else mirrors.root_of(session, platform)
    )
    finding = ensure_finding(session, root.id or 0)
    values = {
        "platform_id": platform.id,
        "capture_id": capture_id,
        "run_id": run_id,
        "url": analysis.source,
        "verdict": analysis.verdict,
        "score": analysis.score,
        "content_digest": analysis.content_digest,
        "analysis": analysis.to_json(),
        "first_seen": seen_at,
        "last_seen": seen_at,
        "superseded": False,
        "brand": identity.brand if identity else "",
        "text_digest": identity.text_digest if identity else "",
        "canonical_key": identity.canonical_key if identity else None,
        "vantage": vantage,
    }
    # A Core insert: a unit-of-work flush per document cost more than the rest of storing it. The row
    # is in the transaction at once (queries of this session see it); the object returned is detached.
    row = {"id": session.execute(_INSERT_PAGE, values).scalar_one(), **values}
    page = detached(PageAnalysis, row)
    batch.added(row)
    if analysis.signals:
        # One executemany on the table: ORM objects for every signal cost more than detecting them.
        session.execute(
            _INSERT_SIGNALS,
            [
                {
                    "finding_id": finding.id,
                    "capture_id": capture_id,
                    "page_analysis_id": page.id,
                    "kind": hit.kind,
                    "value": hit.value,
                    "snippet": hit.snippet,
                    "locator": hit.locator,
                    "weight": hit.weight,
                    "seen_at": seen_at,
                }
                for hit in analysis.signals
            ],
        )
    return page


# Built once (values bound per call): they run for every stored page.
_INSERT_SIGNALS = insert(Signal.__table__)  # type: ignore[attr-defined]
_PAGES = PageAnalysis.__table__  # type: ignore[attr-defined]
_INSERT_PAGE = insert(_PAGES).returning(_PAGES.c.id)
_CAPTURES = Capture.__table__  # type: ignore[attr-defined]
# On the table, not the entity: no ORM session synchronisation needed (Capture rows are not loaded).
_SET_CAPTURE_PLATFORM = (
    update(_CAPTURES)
    .where(_CAPTURES.c.id == bindparam("capture_id"))
    .values(platform_id=bindparam("platform_id"))
)
_DOMAINS = PlatformDomain.__table__  # type: ignore[attr-defined]
_DOMAIN = select(_DOMAINS.c.id).where(
    _DOMAINS.c.platform_id == bindparam("platform_id"), _DOMAINS.c.value == bindparam("value")
)
_TOUCH_PAGE = (
    update(_PAGES).where(_PAGES.c.id == bindparam("page_id")).values(last_seen=bindparam("last_seen"))
)
_SUPERSEDE_PAGE = update(_PAGES).where(_PAGES.c.id == bindparam("page_id")).values(superseded=True)
# The current analyses of a platform's URLs (every column: an unchanged page returns its row). Not
# ordered: with ORDER BY id, SQLite reads every row of the platform instead of its (platform, url) index.
_CURRENT_PAGES = (
    select(*_PAGES.c)
    .where(_PAGES.c.platform_id == bindparam("platform_id"))
    .where(_PAGES.c.url.in_(bindparam("urls", expanding=True)))
    .where(_PAGES.c.superseded.is_(False))
)


class DocumentBatch:
    """What storing several documents in one transaction looks up once instead of once a page.

    - The current analysis of each (platform, URL, vantage point): read for all the batch's URLs of a
      platform with one query when the first of them is stored, then kept up to date as the batch
      stores, touches and supersedes analyses (a URL twice in a batch sees its first analysis).
    - Mirror grouping's questions (`scanner.findings.mirrors.MirrorIndex`).
    - The captures' platforms: written with one statement (executemany) by `finish`, which the
      caller runs before the transaction commits; nothing in between reads them.

    Only this transaction's writes are followed (see `MirrorIndex`).
    """

    def __init__(self, session: Session, documents: list[tuple[Analysis, PageIdentity | None]]):
        self.session = session
        self.urls: dict[str, set[str]] = {}  # platform key -> the batch's URLs
        for analysis, _ in documents:
            self.urls.setdefault(analysis.platform, set()).add(analysis.source)
        branded = [identity for _, identity in documents if identity is not None and identity.brand]
        self.mirrors = mirrors.MirrorIndex(
            {identity.text_digest for identity in branded if identity.text_digest},
            {identity.brand for identity in branded},
            set(self.urls),
        )
        # platform id -> (url, vantage) -> the current analysis's columns
        self.current: dict[int, dict[tuple[str, str | None], dict[str, Any]]] = {}
        self.capture_platforms: list[dict[str, Any]] = []
        self.valid_keys: set[str] = set()

    def check_key(self, key: str) -> None:
        """`scanner.names.platform_key` (raises `InvalidName`), once a batch for a valid key."""
        if key not in self.valid_keys:
            checked_platform_key(key)
            self.valid_keys.add(key)

    def current_page(
        self, platform_id: int, key: str, url: str, vantage: str | None
    ) -> dict[str, Any] | None:
        """The current analysis of ``url`` seen from ``vantage`` on the platform (id and ``key``)."""
        pages = self.current.get(platform_id)
        if pages is None:
            pages = self.current[platform_id] = {}
            urls = sorted(self.urls.get(key, ()) | {url})
            rows = self.session.execute(_CURRENT_PAGES, {"platform_id": platform_id, "urls": urls})
            for row in sorted(rows.mappings(), key=lambda row: row["id"]):  # the highest id of a URL stays
                pages[(row["url"], row["vantage"])] = dict(row)
        return pages.get((url, vantage))

    def added(self, row: dict[str, Any]) -> None:
        """An analysis this transaction inserted (``row``: every column): the current one of its URL."""
        self.current.setdefault(row["platform_id"], {})[(row["url"], row["vantage"])] = dict(row)
        self.mirrors.added(
            row["id"], row["platform_id"], row["brand"], row["text_digest"], row["canonical_key"]
        )

    def superseded(self, row: dict[str, Any]) -> None:
        self.current[row["platform_id"]].pop((row["url"], row["vantage"]), None)
        self.mirrors.superseded(
            row["id"], row["platform_id"], row["brand"], row["text_digest"], row["canonical_key"]
        )

    def finish(self) -> None:
        """Write what the batch deferred; before the transaction commits."""
        if self.capture_platforms:
            self.session.execute(_SET_CAPTURE_PLATFORM, self.capture_platforms)
            self.capture_platforms = []


# ---------------------------------------------------------------- findings


def refresh_finding(
    session: Session, platform_id: int, lexicons: Lexicons, register: Register | None, run_id: int | None
) -> Finding | None:
    """Re-judge the platform (or the original it mirrors) over its current documents; None if it has none."""
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise LookupError(f"platform {platform_id} not found")
    root = mirrors.root_of(session, platform)
    pages = _CurrentPages(session, mirrors.group_ids(session, root))
    judged = aggregate(root.key, pages, lexicons, register)
    if pages.latest is None:
        return session.exec(select(Finding).where(Finding.platform_id == root.id)).first()
    finding = ensure_finding(session, root.id or 0)
    latest = pages.latest

    events = list(
        session.exec(
            select(FindingEvent)
            .where(FindingEvent.finding_id == finding.id)
            .order_by(col(FindingEvent.id).desc())
            .limit(2)
        )
    )
    same_run = bool(events) and run_id is not None and events[0].run_id == run_id
    if same_run:
        event = events[0]
        if event.kind != "first":
            before = events[1].content_digest if len(events) > 1 else None
            event.kind = "sighting" if judged.content_digest == before else "change"
    else:
        kind = (
            "first"
            if not events
            else ("sighting" if judged.content_digest == finding.content_digest else "change")
        )
        event = FindingEvent(finding_id=finding.id or 0, run_id=run_id, kind=kind)
        finding.sightings = (finding.sightings or 0) + 1
    event.at = utcnow()
    event.score, event.verdict, event.content_digest = judged.score, judged.verdict, judged.content_digest
    event.capture_id = latest.capture_id
    session.add(event)

    finding.verdict = judged.verdict
    finding.score = judged.score
    finding.crypto_service = judged.crypto_service
    finding.targets_pakistan = judged.targets_pakistan
    finding.licensed = judged.licensed
    finding.licence_status = judged.licence_status
    finding.explanation = judged.explanation
    finding.content_digest = judged.content_digest
    finding.first_seen = pages.first_seen
    finding.last_seen = _aware(latest.last_seen)
    session.add(finding)
    if root.name == "" and pages.brand:
        root.name = pages.brand[:256]
        session.add(root)
    return finding


class _CurrentPages:
    """The current (not superseded) analyses of a mirror group, read once as a stream for `aggregate`,
    noting on the way what the finding takes from the rows: first seen, the latest page, the first
    brand. A platform of many thousand pages is judged without loading them all as ORM objects."""

    STREAM_ROWS = 100  # ~1 MB of rows at a time (a stored analysis is ~2 KB of JSON, ~10 KB read)

    def __init__(self, session: Session, group: list[int]):
        self.session = session
        self.group = group
        self.latest: Any = None  # the row last seen (then highest id): its capture is the finding's
        self.first_seen: datetime | None = None
        self.brand = ""

    def __iter__(self) -> Iterator[Analysis]:
        query = (
            select(
                PageAnalysis.id, PageAnalysis.analysis, PageAnalysis.first_seen, PageAnalysis.last_seen,
                PageAnalysis.capture_id, PageAnalysis.brand,
            )
            .where(col(PageAnalysis.platform_id).in_(self.group))
            .where(col(PageAnalysis.superseded).is_(False))
            .order_by(col(PageAnalysis.id))
            .execution_options(yield_per=self.STREAM_ROWS)
        )  # fmt: skip
        latest_key: tuple[datetime, int] | None = None
        for row in self.session.exec(query):
            first_seen, key = _aware(row.first_seen), (_aware(row.last_seen), row.id or 0)
            if self.first_seen is None or first_seen < self.first_seen:
                self.first_seen = first_seen
            if latest_key is None or key > latest_key:
                self.latest, latest_key = row, key
            if not self.brand:
                self.brand = row.brand
            yield Analysis.from_json(row.analysis)


def record_candidate(
    session: Session,
    url: str,
    found_on_url: str,
    run_id: int | None,
    *,
    source: str = "link",
    reason: str = "",
    capture_id: int | None = None,
) -> bool:
    """Record a platform discovery found (an outbound link, or a discovery source's lead); False if
    the platform was already known. A candidate seen again moves its ``last_seen``, counts the
    sighting and notes the source (the frontier ranks candidates several sources name first)."""
    from scanner.detection import platform_key
    from scanner.store.models import Candidate

    key = platform_key(url)
    known = session.exec(select(Candidate).where(Candidate.key == key)).first()
    if known is not None:
        known.last_seen = utcnow()
        known.seen_count = (known.seen_count or 0) + 1
        if source not in (known.sources or []):
            known.sources = [*(known.sources or []), source]  # a new list: JSON columns track assignment
        session.add(known)
        return False
    try:
        platform, created = ensure_platform(session, key, candidate=True, found_on_url=found_on_url)
    except InvalidName as exc:
        log.info("link not recorded as a candidate platform: %s", exc)
        return False
    if not created:
        return False
    candidate = Candidate(
        key=key,
        url=url,
        found_on_url=found_on_url,
        run_id=run_id,
        source=source,
        reason=reason[:2000],
        capture_id=capture_id,
        last_seen=utcnow(),
        sources=[source],
    )
    try:
        with session.begin_nested():
            session.add(candidate)
    except IntegrityError:
        return False
    return True


def mark_candidate_crawled(session: Session, key: str) -> None:
    """Discovery fetched a page of this candidate platform."""
    from scanner.store.models import Candidate

    session.execute(update(Candidate).where(col(Candidate.key) == key).values(crawled=True))
