"""SQLModel tables: each class is the table, its validation and its API schema.

Times are timezone-aware UTC (``utcnow()``); SQLModel's UTCDateTime stores and returns them so on
SQLite and PostgreSQL alike.
Decisions are append-only; a finding's ``status`` is a cache of what its decisions derive
(``scanner.review.decisions.derive_status``), rewritten whenever a decision is added.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKeyConstraint, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

_Model = TypeVar("_Model", bound=SQLModel)


def utcnow() -> datetime:
    return datetime.now(UTC)


def detached(model: type[_Model], values: dict[str, Any]) -> _Model:
    """A row written with a Core statement as an instance of its model, detached (as if loaded and
    expunged). The values are put in place the way the ORM fills an object it loads, not set one by
    one through validation and attribute events (~5x cheaper; hot paths write a row per page).
    ``values`` holds every column, as written."""
    instance: _Model = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    return instance


def json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def json_list_column() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


# ---------------------------------------------------------------- platforms


class Platform(SQLModel, table=True):
    """A platform: a registrable domain, or a channel/app/page on a hosting site (t.me/xyz)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=512)
    name: str = Field(default="", max_length=256)
    kind: str = Field(default="domain", max_length=16)  # domain | hosted | app
    mirror_of_id: int | None = Field(default=None, foreign_key="platform.id", index=True)
    candidate: bool = False  # found by discovery, not yet a configured target
    found_on_url: str | None = Field(default=None, sa_column=Column(Text))
    first_seen: datetime = Field(default_factory=utcnow)


class PlatformDomain(SQLModel, table=True):
    """Every host name and alias seen for a platform (mirrors point at the original platform)."""

    __table_args__ = (UniqueConstraint("platform_id", "value"),)
    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="platform.id", index=True)
    value: str = Field(index=True, max_length=512)
    kind: str = Field(default="domain", max_length=16)  # domain | mirror | alias
    first_seen: datetime = Field(default_factory=utcnow)


# ---------------------------------------------------------------- runs and evidence


class Run(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)  # crawl | poll | scan | reverify
    name: str = Field(max_length=128, index=True)  # spider or poller name
    trigger: str = Field(default="cli", max_length=16)  # cli | schedule | demo | test
    status: str = Field(default="running", max_length=16, index=True)  # running|ok|failed|interrupted|skipped
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    pages: int = 0
    items: int = 0
    errors: int = 0
    error_summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    stats: dict[str, Any] = json_column()
    pid: int | None = None
    host: str = Field(default="", max_length=256)
    job_dir: str | None = Field(default=None, max_length=1024)
    # Written every `runs.HEARTBEAT_SECONDS` while the process lives: how a run started on another
    # host (whose pid cannot be checked from here) is known to be gone.
    heartbeat_at: datetime | None = None


class Capture(SQLModel, table=True):
    """One HTTP exchange kept as evidence: where its WARC records are and its place in the hash chain."""

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(index=True, unique=True)  # chain position, 1-based, gapless
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)
    platform_id: int | None = Field(default=None, foreign_key="platform.id", index=True)
    method: str = Field(default="GET", max_length=8)
    url: str = Field(sa_column=Column(Text, nullable=False))
    final_url: str = Field(sa_column=Column(Text, nullable=False))
    status: int
    content_type: str = Field(default="", max_length=256)
    fetched_at: datetime
    remote_ip: str | None = Field(default=None, max_length=64)
    warc_file: str = Field(max_length=512)  # relative to the data dir
    warc_offset: int
    warc_length: int
    # WARC-Record-ID of the response record (of the ``conversion`` record for a RENDER capture)
    record_id: str = Field(max_length=128)
    # of the request record (of the screenshot ``resource`` record for a RENDER capture)
    request_record_id: str | None = Field(default=None, max_length=128)
    body_sha256: str = Field(max_length=64, index=True)
    body_length: int = 0
    warc_sha256: str = Field(default="", max_length=64)  # SHA-256 of the stored bytes [offset, offset+length)
    # A RENDER capture (the DOM and screenshot of a page rendered in Chromium): the PNG's SHA-256.
    screenshot_sha256: str | None = Field(default=None, max_length=64)
    # The vantage point (scanner.net.vantage) it was fetched through; None: direct. Chained when set.
    vantage: str | None = Field(default=None, max_length=64)
    prev_chain_hash: str = Field(max_length=64)
    chain_hash: str = Field(max_length=64, unique=True)


# ---------------------------------------------------------------- detection results


class Finding(SQLModel, table=True):
    """One per platform: the latest judgement, with history in FindingEvent."""

    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="platform.id", unique=True)
    verdict: str = Field(default="clear", max_length=8, index=True)  # flag | clear
    score: float = Field(default=0.0, index=True)
    crypto_service: bool = False
    targets_pakistan: bool = False
    licensed: bool = False
    licence_status: str | None = Field(default=None, max_length=16)  # register status, if listed
    status: str = Field(default="new", max_length=24, index=True)  # derived from decisions
    needs_review: bool = False  # set by re-verification when a confirmed platform changed or went offline
    review_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    sightings: int = 1
    content_digest: str | None = Field(default=None, max_length=64)
    explanation: dict[str, Any] = json_column()  # judgement -> reasons


class FindingEvent(SQLModel, table=True):
    """Score and sighting history: first sighting, same evidence again, changed content, offline."""

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="run.id")
    capture_id: int | None = Field(default=None, foreign_key="capture.id")
    kind: str = Field(max_length=16)  # first | sighting | change | offline
    at: datetime = Field(default_factory=utcnow)
    score: float = 0.0
    verdict: str = Field(default="clear", max_length=8)
    content_digest: str | None = Field(default=None, max_length=64)


class PageAnalysis(SQLModel, table=True):
    """Detection result for one captured document; a finding aggregates its platform's latest ones."""

    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="platform.id", index=True)
    capture_id: int | None = Field(default=None, foreign_key="capture.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="run.id")
    url: str = Field(sa_column=Column(Text, nullable=False))
    verdict: str = Field(default="clear", max_length=8)
    score: float = 0.0
    content_digest: str = Field(default="", max_length=64, index=True)
    analysis: dict[str, Any] = json_column()  # Analysis.to_json()
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    superseded: bool = False  # a newer analysis of the same URL exists
    # Page identity for mirror grouping (scanner.findings.mirrors): brand name, digest of the visible
    # text with the page's own host names masked, and the platform a cross-platform canonical names.
    brand: str = Field(default="", max_length=256)
    text_digest: str = Field(default="", max_length=64, index=True)
    canonical_key: str | None = Field(default=None, max_length=512, index=True)
    # The vantage point its capture came through (None: direct): a URL seen from two vantage points is
    # two current documents, so the finding holds what each of them saw.
    vantage: str | None = Field(default=None, max_length=64)


class StaleFinding(SQLModel, table=True):
    """A platform whose stored analyses changed after its finding was last judged (scanner.findings.rejudge).

    Written in the transaction that stores the analyses, deleted in the one that re-judges the
    finding: a kill or an outage between the two leaves the row, and the next run re-judges it.
    """

    platform_id: int = Field(foreign_key="platform.id", primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)  # the run that stored them
    since: datetime = Field(default_factory=utcnow)


class Signal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    capture_id: int | None = Field(default=None, foreign_key="capture.id", index=True)
    page_analysis_id: int | None = Field(default=None, foreign_key="pageanalysis.id", index=True)
    kind: str = Field(max_length=48, index=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
    snippet: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    locator: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    weight: float = 0.0
    seen_at: datetime = Field(default_factory=utcnow)


class Candidate(SQLModel, table=True):
    """A domain discovery found in an outbound link, with where it was found."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=512)
    url: str = Field(sa_column=Column(Text, nullable=False))
    found_on_url: str = Field(sa_column=Column(Text, nullable=False))
    run_id: int | None = Field(default=None, foreign_key="run.id")
    found_at: datetime = Field(default_factory=utcnow)
    crawled: bool = False
    # Discovery sources (scanner.discovery): which source found it first ("link" for a crawled page's
    # outbound link), why it is interesting, the capture of the response that named it, and the
    # frontier's counts: how often and by which sources it was seen since.
    source: str = Field(default="link", max_length=32, index=True)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    capture_id: int | None = Field(default=None, foreign_key="capture.id")
    last_seen: datetime | None = None
    seen_count: int = 1
    sources: list[str] = json_list_column()
    attempts: int = 0  # discovery crawls that took it from the frontier (a dead site leaves after a few)


class Sighting(SQLModel, table=True):
    """A contact seen on a platform: a WhatsApp number on a crawled page or in a channel's message, a
    P2P merchant in a platform's ads. Not a platform (nothing to crawl, never a feed entry): a lead
    that connects the platforms sharing it (``scanner.discovery.leads``). One row per contact and
    platform, counting its sightings."""

    __table_args__ = (
        UniqueConstraint("kind", "match_key", "platform", name="uq_sighting_kind_key_platform"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)  # phone | merchant
    value: str = Field(max_length=256)  # as shown: "+923001234567", a merchant's nickname
    match_key: str = Field(max_length=256, index=True)  # what two sightings must share to be one contact
    platform: str = Field(max_length=512, index=True)  # key of the platform it was seen on
    url: str = Field(sa_column=Column(Text, nullable=False))  # the page, message or API response
    source: str = Field(max_length=32)  # crawl-links | p2p-ads | a discovery source's name
    detail: str = Field(default="", max_length=256)  # the merchant's id on that platform, ...
    capture_id: int | None = Field(default=None, foreign_key="capture.id")
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    seen_count: int = 1


# ---------------------------------------------------------------- P2P polling


class PollSnapshot(SQLModel, table=True):
    """One complete poll of one adapter for one fiat/asset; only complete snapshots are written."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)
    adapter: str = Field(max_length=64, index=True)
    platform_id: int = Field(foreign_key="platform.id", index=True)
    fiat: str = Field(max_length=8)
    asset: str = Field(default="", max_length=16)
    taken_at: datetime = Field(default_factory=utcnow, index=True)
    ads: int = 0
    merchants: int = 0
    median_price: float | None = None
    available_fiat: float = 0.0
    rails: dict[str, Any] = json_column()  # rail -> {ads, merchants, available_fiat, median_price}
    markets: list[str] = json_list_column()  # PKR-quoted pairs for market-list adapters


class P2PAd(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="pollsnapshot.id", index=True)
    capture_id: int | None = Field(default=None, foreign_key="capture.id")
    ad_id: str = Field(max_length=64)
    side: str = Field(max_length=4)  # buy | sell (from the advertiser's side)
    asset: str = Field(max_length=16)
    fiat: str = Field(max_length=8)
    price: float
    min_amount: float | None = None
    max_amount: float | None = None
    available: float | None = None
    payment_methods: list[str] = json_list_column()  # canonical rails
    raw_payment_methods: list[str] = json_list_column()
    merchant_id: str = Field(default="", max_length=128)
    merchant_name: str = Field(default="", max_length=256)
    completion_rate: float | None = None
    order_count: int | None = None
    suspicious_price: bool = False


# ---------------------------------------------------------------- decisions and publication


DECISION_ACTIONS = ("confirm", "dismiss", "more-evidence", "approve", "revoke")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Decision(SQLModel, table=True):
    """Append-only: rows are never updated or deleted.

    A finding's decisions form one line (``seq`` 1, 2, 3 … per finding, unique), so two decisions
    taken from the same state cannot both be stored. Each row records the status it was taken from;
    the CHECKs refuse the transitions the rules forbid, and an approval names the confirmation it
    approves together with that confirmation's officer (a composite foreign key proves the name),
    who must differ from the approver. Rows from before these columns existed have
    ``status_before`` NULL and are kept as they are.
    """

    __table_args__ = (
        UniqueConstraint("finding_id", "seq", name="uq_decision_finding_seq"),
        UniqueConstraint("approves_id", name="uq_decision_approves"),  # a confirmation is approved once
        UniqueConstraint("id", "finding_id", "by_user", name="uq_decision_id_finding_by"),
        ForeignKeyConstraint(
            ["approves_id", "finding_id", "confirmer"],
            ["decision.id", "decision.finding_id", "decision.by_user"],
            name="fk_decision_approves_confirmation",
        ),
        CheckConstraint(f"action IN ({_sql_list(DECISION_ACTIONS)})", name="ck_decision_action"),
        CheckConstraint(
            "(action = 'approve' AND (status_before IS NULL OR"
            " (approves_id IS NOT NULL AND confirmer IS NOT NULL AND confirmer <> by_user)))"
            " OR (action <> 'approve' AND approves_id IS NULL AND confirmer IS NULL)",
            name="ck_decision_approval",
        ),
        CheckConstraint(
            "status_before IS NULL"
            " OR (action = 'confirm' AND status_before NOT IN ('pending-approval', 'published'))"
            " OR (action = 'approve' AND status_before = 'pending-approval')"
            " OR (action = 'revoke' AND status_before = 'published')"
            " OR (action IN ('dismiss', 'more-evidence') AND status_before <> 'published')",
            name="ck_decision_transition",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    seq: int  # position in the finding's line of decisions, 1-based
    action: str = Field(max_length=16)  # confirm | dismiss | more-evidence | approve | revoke
    reason: str = Field(sa_column=Column(Text, nullable=False))
    by_user: str = Field(max_length=128)
    at: datetime = Field(default_factory=utcnow)
    status_before: str | None = Field(default=None, max_length=24)  # the finding's status it was taken from
    approves_id: int | None = None  # an approval: the confirmation it approves
    confirmer: str | None = Field(default=None, max_length=128)  # an approval: who made that confirmation


class Publication(SQLModel, table=True):
    """One version of the blocklist; versions only grow."""

    version: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    adds: int = 0
    removals: int = 0
    note: str = Field(default="", max_length=512)


class PublicationHold(SQLModel, table=True):
    """A blocklist change a publication gate stopped (`blocklist.gates`); banks never see it.

    ``status``: held (the open one, at most one), superseded (the pending change became a different
    one, or passed the gates) or released (an admin published it anyway: who, why, which version).
    """

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default="held", max_length=16, index=True)  # held | superseded | released
    adds: int = 0
    removals: int = 0
    failures: list[dict[str, Any]] = json_list_column()  # [{gate, message, entries}]
    closed_at: datetime | None = None
    released_by: str | None = Field(default=None, max_length=128)
    release_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    version: int | None = None  # the version the release published


class BlocklistEntry(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("type", "value", "finding_id"),)
    id: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(unique=True, max_length=64)
    type: str = Field(max_length=16)  # domain | url | app_id
    value: str = Field(max_length=1024)
    platform_id: int = Field(foreign_key="platform.id", index=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    confidence: float = 0.0
    evidence_digest: str = Field(default="", max_length=64)
    first_seen: datetime
    listed_at: datetime = Field(default_factory=utcnow)
    version_added: int = Field(index=True)
    removed_at: datetime | None = None
    version_removed: int | None = Field(default=None, index=True)
    removal_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


DISPUTE_SOURCES = ("bank", "operator")
DISPUTE_STATUSES = ("open", "revoke-proposed", "upheld", "revoked")


class Dispute(SQLModel, table=True):
    """A bank's or a platform operator's challenge of a published blocklist entry (`scanner.review.disputes`).

    ``status``: open -> upheld (the entry stays), or open -> revoke-proposed -> revoked (a second
    officer approved; the finding's revoke decision is ``decision_id``). Each step is in the audit
    trail of the finding; ``version`` is the feed version that first showed banks the current status.
    """

    id: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(foreign_key="blocklistentry.entry_id", index=True, max_length=64)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    source: str = Field(max_length=16)  # bank | operator
    api_key_id: int | None = Field(default=None, foreign_key="apikey.id")
    requester: str = Field(max_length=256)  # the bank's name, or the operator's contact address
    address: str = Field(default="", max_length=64, index=True)  # where it came from (the form's rate limit)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=16, index=True)
    opened_at: datetime = Field(default_factory=utcnow, index=True)
    due_at: datetime  # opened_at + review.dispute_answer_days: the target time to answer
    proposed_by: str | None = Field(default=None, max_length=128)  # who proposed the revocation
    proposed_at: datetime | None = None
    proposal_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    resolved_by: str | None = Field(default=None, max_length=128)
    resolved_at: datetime | None = None
    resolution_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    decision_id: int | None = Field(default=None, foreign_key="decision.id")  # the revoke decision
    version: int | None = None


# ---------------------------------------------------------------- accounts


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=128)
    password_hash: str = Field(max_length=256)
    role: str = Field(max_length=16)  # officer | admin
    created_at: datetime = Field(default_factory=utcnow)
    disabled: bool = False


class WebSession(SQLModel, table=True):
    """A review workspace login; the signed cookie names the row, so logout holds on every server."""

    sid: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    revoked_at: datetime | None = None
    address: str = Field(default="", max_length=64)


class LoginAttempt(SQLModel, table=True):
    """A review login attempt, written before the password is checked (`scanner.web.security.attempts`)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    username: str = Field(max_length=128, index=True)
    address: str = Field(max_length=64, index=True)
    outcome: str = Field(max_length=16)  # failed | limited | ok


class ApiKey(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    bank: str = Field(max_length=128, index=True)
    prefix: str = Field(max_length=16, index=True)  # first characters, to find the row without the key
    key_hash: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class Delivery(SQLModel, table=True):
    """Which bank pulled which artefact at which version."""

    id: int | None = Field(default=None, primary_key=True)
    api_key_id: int = Field(foreign_key="apikey.id", index=True)
    bank: str = Field(max_length=128)
    artefact: str = Field(max_length=128)
    version: int | None = None
    since: int | None = None
    status_code: int = 200
    at: datetime = Field(default_factory=utcnow, index=True)


class AuditEvent(SQLModel, table=True):
    """Who did what in the review workspace and admin CLI (logins, decisions, exports, keys)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=128)
    action: str = Field(max_length=64)
    subject: str = Field(default="", max_length=256)
    detail: dict[str, Any] = json_column()


class SchedulerLock(SQLModel, table=True):
    """A row per running scheduler; refuses a second scheduler on the same database."""

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=256)
    heartbeat_at: datetime = Field(default_factory=utcnow)
