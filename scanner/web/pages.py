"""Officer pages: the queue, a finding, its captures, decisions, the evidence bundle, run status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select
from starlette.background import BackgroundTask
from starlette.responses import Response

from scanner.config import Config
from scanner.discovery.frontier import discovered_by
from scanner.discovery.leads import also_seen_on, contact_count
from scanner.evidence.verify import read_screenshot
from scanner.findings.query import UNLISTED, QueueFilter, queue_query, rail_history, signal_overview
from scanner.findings.vantages import vantage_views
from scanner.pollers.storage import exposure
from scanner.review import audit, disputes
from scanner.review.bundle import build_bundle, scratch_file
from scanner.review.captures import CaptureUnavailable, body_text, capture_body, highlight
from scanner.review.decisions import (
    ACTIONS,
    STATUSES,
    DecisionConflict,
    DecisionError,
    allowed_actions,
    decisions_for,
    record,
)
from scanner.review.referral import ReferralError, build_referral
from scanner.review.timeline import finding_timeline
from scanner.runs import recent_runs
from scanner.store.db import session_scope
from scanner.store.models import (
    Capture,
    Finding,
    P2PAd,
    Platform,
    PlatformDomain,
    PollSnapshot,
    Signal,
    User,
    utcnow,
)
from scanner.web import charts
from scanner.web.auth import Officer, csrf_protect, require_officer
from scanner.web.rendering import render
from scanner.web.security.csp import SANDBOX_CSP

router = APIRouter(prefix="/review", dependencies=[Depends(require_officer), Depends(csrf_protect)])

M = TypeVar("M", bound=SQLModel)
PAGE_SIZE = 100
JUDGEMENTS = ("crypto_service", "targets_pakistan", "licensed")


def _db(request: Request) -> Session:
    return Session(request.app.state.engine, expire_on_commit=False)


def _parse_date(value: str | None, name: str, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name}: not a date (expected YYYY-MM-DD): {value!r}") from None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


# ---------------------------------------------------------------- queue


@router.get("/")
def queue(
    request: Request,
    status: str = "",
    kind: str = "",
    platform: str = "",
    since: str = "",
    until: str = "",
    licence: str = "",
    verdict: str = "flag",
    page: int = 1,
) -> Response:
    if status and status not in STATUSES:
        raise HTTPException(400, f"status: unknown status {status!r}")
    filters = QueueFilter(
        status=status or None, verdict=verdict if verdict in ("flag", "clear") else None, kind=kind or None,
        platform=platform or None, licence=licence or None,
        seen_from=_parse_date(since, "since"), seen_until=_parse_date(until, "until", end=True),
    )  # fmt: skip
    page = max(page, 1)
    if page > MAX_ROW_ID // PAGE_SIZE:
        raise HTTPException(404, f"page {page} not found")
    with _db(request) as session:
        rows = session.exec(queue_query(filters).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
        counts = dict(
            session.exec(select(Finding.status, func.count()).group_by(Finding.status)).all()  # type: ignore[arg-type]
        )
        kinds = sorted(session.exec(select(Signal.kind).distinct()).all())
        licences = sorted(
            {value for value in session.exec(select(Finding.licence_status).distinct()).all() if value}
        )
        discovered = discovered_by(session, [p.key for _, p in rows[:PAGE_SIZE]])
    return render(
        request,
        "queue.html",
        {
            "rows": rows[:PAGE_SIZE],
            "discovered": discovered,  # how discovery found the platforms no config names
            "more": len(rows) > PAGE_SIZE,
            "page": page,
            "counts": counts,
            "total": sum(counts.values()),
            "statuses": STATUSES,
            "kinds": kinds,
            "licences": [*licences, UNLISTED],
            "filters": {
                "status": status,
                "kind": kind,
                "platform": platform,
                "since": since,
                "until": until,
                "licence": licence,
                "verdict": verdict,
            },
        },
    )


# ---------------------------------------------------------------- finding


EXPOSURE_COLUMNS = (
    "rail",
    "pakistani",
    "ads",
    "merchants",
    "available_fiat",
    "median_price",
    "asset",
    "adapter",
    "taken_at",
)


def _exposure(session: Session, platform_id: int) -> list[dict[str, Any]]:
    """Current PKR ads by payment rail, largest available volume first."""
    points = exposure(session, platform_id, latest=True)
    rows = [{c: getattr(p, c, None) for c in EXPOSURE_COLUMNS} for p in points if p.fiat == "PKR"]
    return sorted(rows, key=lambda r: (-(r["available_fiat"] or 0), r["rail"]))


# A site can invent any number of subdomains (each a valid name, each recorded): the page lists the first.
MAX_DOMAINS_SHOWN = 200


def _platform_keys(session: Session, platform: Platform) -> list[str]:
    """The finding's platform and its mirrors: a contact seen on either is the finding's."""
    mirrors = session.exec(select(Platform.key).where(Platform.mirror_of_id == platform.id)).all()
    return [platform.key, *mirrors]


def _finding_context(session: Session, finding: Finding, user: User, two_person_rule: bool) -> dict[str, Any]:
    platform = session.get(Platform, finding.platform_id)
    decisions = decisions_for(session, finding.id or 0)
    signals = signal_overview(session, finding.id or 0)
    timeline = finding_timeline(session, finding.id or 0, decisions)
    exposure = _exposure(session, finding.platform_id)
    keys = _platform_keys(session, platform) if platform else []
    has_ads = session.exec(
        select(P2PAd.id).join(PollSnapshot).where(PollSnapshot.platform_id == finding.platform_id).limit(1)
    ).first()
    return {
        "finding": finding,
        "platform": platform,
        "domains": session.exec(
            select(PlatformDomain)
            .where(PlatformDomain.platform_id == finding.platform_id)
            .order_by(PlatformDomain.value)
            .limit(MAX_DOMAINS_SHOWN)
        ).all(),
        "domain_count": session.exec(
            select(func.count()).where(PlatformDomain.platform_id == finding.platform_id)
        ).one(),
        "mirrors": session.exec(
            select(Platform).where(Platform.mirror_of_id == finding.platform_id).limit(MAX_DOMAINS_SHOWN)
        ).all(),
        "mirror_of": session.get(Platform, platform.mirror_of_id)
        if platform and platform.mirror_of_id
        else None,
        "discovered": discovered_by(session, [platform.key]).get(platform.key) if platform else None,
        # WhatsApp numbers and P2P merchants seen here, and where else (scanner.discovery.leads)
        "contacts": also_seen_on(session, keys),
        "contact_count": contact_count(session, keys),
        "judgements": [
            (name, getattr(finding, name), finding.explanation.get(name, [])) for name in JUDGEMENTS
        ],
        "other_reasons": {k: v for k, v in finding.explanation.items() if k not in JUDGEMENTS},
        "vantages": vantage_views(session, finding),  # what each vantage point saw, when several did
        "signals": signals,
        "timeline": timeline,
        "score_chart": charts.line_chart(
            "Score over time (dashed: decisions)",
            # a folded run of sightings is drawn from its first to its last moment
            {
                "score": [
                    (t, e.score or 0.0) for e in timeline if e.kind != "decision" for t in {e.at, e.until}
                ]
            },
            markers=[
                (e.at, e.label, f"{e.label} by {e.by}: {e.reason}") for e in timeline if e.kind == "decision"
            ],
            y_max=1.0,
            height=120,
        ),
        "exposure_chart": charts.line_chart(
            "Available PKR per payment rail, per poll",
            rail_history(session, finding.platform_id),
            value_label=" PKR",
        ),
        "exposure": exposure,
        "exposure_columns": list(dict.fromkeys(key for row in exposure for key in row)),
        "p2p": has_ads is not None,
        "decisions": decisions,
        "allowed": allowed_actions(decisions, user.username, two_person_rule),
        "actions": ACTIONS,
        "trail": audit.events(session, audit.finding_subject(finding.id or 0)),
        "disputes": disputes.for_finding(session, finding.id or 0),
        "now": utcnow(),
    }


# Row ids are 32-bit on PostgreSQL (64 on SQLite): a larger number names no row, and must not reach
# the driver, which fails on it (a 500 before).
MAX_ROW_ID = 2**31 - 1


def _check_id(row_id: int, what: str) -> int:
    if not 1 <= row_id <= MAX_ROW_ID:
        raise HTTPException(404, f"{what} {row_id} not found")
    return row_id


def _get_or_404(session: Session, model: type[M], row_id: int) -> M:
    _check_id(row_id, model.__name__.lower())
    row = session.get(model, row_id)
    if row is None:
        raise HTTPException(404, f"{model.__name__.lower()} {row_id} not found")
    return row


def _load_finding(session: Session, finding_id: int) -> Finding:
    return _get_or_404(session, Finding, finding_id)


@router.get("/findings/{finding_id}")
def finding_page(request: Request, finding_id: int, user: Officer) -> Response:
    rule = request.app.state.config.settings.review.two_person_rule
    with _db(request) as session:
        context = _finding_context(session, _load_finding(session, finding_id), user, rule)
    return render(request, "finding.html", {**context, "error": None, "reason": ""})


@router.post("/findings/{finding_id}/decisions")
def add_decision(
    request: Request,
    finding_id: int,
    user: Officer,
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    config = request.app.state.config
    with _db(request) as session:
        _load_finding(session, finding_id)
    try:
        record(request.app.state.engine, config, finding_id, action, reason, user.username, via="web")
    except DecisionError as exc:
        # the page is shown again with the decision that got in first, and why this one was refused
        with _db(request) as session:
            context = _finding_context(
                session, _load_finding(session, finding_id), user, config.settings.review.two_person_rule
            )
        status_code = 409 if isinstance(exc, DecisionConflict) else 400
        return render(
            request, "finding.html", {**context, "error": str(exc), "reason": reason}, status_code=status_code
        )
    return RedirectResponse(f"/review/findings/{finding_id}?done={action}", status_code=303)


@router.get("/findings/{finding_id}/bundle")
def bundle(request: Request, finding_id: int, user: Officer) -> Response:
    return _built_download(request, finding_id, user, "bundle", build_bundle)


@router.get("/findings/{finding_id}/referral")
def referral(request: Request, finding_id: int, user: Officer) -> Response:
    return _built_download(request, finding_id, user, "referral", build_referral)


def _built_download(
    request: Request,
    finding_id: int,
    user: User,
    what: str,
    build: Callable[[Session, Config, int, Path], Path],
) -> Response:
    """Built on demand into a private temporary file, streamed, then deleted: downloads do not pile up."""
    config = request.app.state.config
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    name = (
        f"finding-{finding_id}-{what}-{stamp}.zip"
        if what != "bundle"
        else f"finding-{finding_id}-{stamp}.zip"
    )
    out = scratch_file(config.data_dir, suffix=".zip")
    try:
        with session_scope(request.app.state.engine) as session:
            _load_finding(session, finding_id)
            # Audited before building so the bundle's own audit trail shows who asked for it.
            audit.record(
                session, user.username, f"{what}.download", audit.finding_subject(finding_id), file=name
            )
            session.flush()
            try:
                build(session, config, finding_id, out)
            except ReferralError as exc:
                raise HTTPException(409, str(exc)) from None
            except (FileNotFoundError, ValueError) as exc:
                raise HTTPException(500, f"cannot build the evidence {what}: {exc}") from None
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return FileResponse(
        out,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(out.unlink, missing_ok=True),
    )


# ---------------------------------------------------------------- captures


@router.get("/captures/{capture_id}")
def capture_page(request: Request, capture_id: int, finding: int | None = None) -> Response:
    data_dir = request.app.state.config.data_dir
    with _db(request) as session:
        capture = _get_or_404(session, Capture, capture_id)
        query = select(Signal).where(Signal.capture_id == capture_id)
        if finding is not None:
            query = query.where(Signal.finding_id == _check_id(finding, "finding"))
        signals = session.exec(query.order_by(col(Signal.id))).all()
    error = None
    segments: list[Any] = []
    try:
        limit = request.app.state.config.settings.http.max_response_bytes
        text = body_text(capture_body(data_dir, capture, limit), capture.content_type)
        segments = highlight(text, [s.snippet for s in signals] + [s.value for s in signals])
    except CaptureUnavailable as exc:
        error = str(exc)
    return render(
        request,
        "capture.html",
        {"capture": capture, "signals": signals, "segments": segments, "error": error, "finding_id": finding},
    )


@router.get("/captures/{capture_id}/screenshot")
def capture_screenshot(request: Request, capture_id: int) -> Response:
    """The PNG of a page rendered in Chromium, served only when it hashes to the chained digest."""
    with _db(request) as session:
        capture = _get_or_404(session, Capture, capture_id)
    try:
        png = read_screenshot(request.app.state.config.data_dir, capture)
    except (OSError, ValueError) as exc:
        raise HTTPException(404, f"capture {capture_id}: screenshot unavailable: {exc}") from None
    if png is None:
        raise HTTPException(404, f"capture {capture_id} is not a rendered page and has no screenshot")
    return Response(
        png,
        media_type="image/png",
        headers={"Content-Security-Policy": SANDBOX_CSP, "X-Content-Type-Options": "nosniff"},
    )


def _header_safe(value: str) -> str:
    """A captured header value to send on: visible ASCII only. The site chose it, and a NUL (stored as
    U+FFFD), a control character or a NUL stored before the store's hook made the response fail (500:
    Starlette encodes headers as Latin-1, uvicorn refuses control characters)."""
    return "".join(char for char in value if " " <= char <= "~")


@router.get("/captures/{capture_id}/raw")
def capture_raw(request: Request, capture_id: int) -> Response:
    with _db(request) as session:
        capture = _get_or_404(session, Capture, capture_id)
    try:
        config = request.app.state.config
        body = capture_body(config.data_dir, capture, config.settings.http.max_response_bytes)
    except CaptureUnavailable as exc:
        raise HTTPException(404, str(exc)) from None
    html = "html" in capture.content_type.lower()
    return Response(
        body,
        media_type=_header_safe(capture.content_type) if html else "text/plain; charset=utf-8",
        headers={
            "Content-Security-Policy": SANDBOX_CSP,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "no-store",
        },
    )


# ---------------------------------------------------------------- runs


@router.get("/runs")
def runs_page(request: Request) -> Response:
    return render(request, "runs.html", {"runs": recent_runs(request.app.state.engine, limit=100)})
