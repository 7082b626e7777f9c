"""Banks dispute a listed entry through the feed API, with the same API key as their feed pulls.

    POST /feed/v1/disputes   {"entry": ENTRY_ID or VALUE, "reason": TEXT}  -> 201, the dispute
    GET  /feed/v1/disputes   the disputes the calling bank raised, with their status and answer

Officers answer in the review UI (`scanner.review.disputes`); the entry's dispute status is in
`blocklist.json` and STIX from the next version on.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select

from blocklist.access import FEED_REALM, Context, authorize
from blocklist.view import iso
from scanner.review.disputes import DisputeError, DisputeNotFound, open_dispute, public_status
from scanner.store.models import ApiKey, Dispute
from scanner.store.serial import retrying

router = APIRouter(tags=["disputes"])
MAX_BODY = 16 * 1024


def dispute_json(dispute: Dispute) -> dict[str, Any]:
    return {
        "id": dispute.id,
        "entry_id": dispute.entry_id,
        "status": public_status(dispute),
        "reason": dispute.reason,
        "opened_at": iso(dispute.opened_at),
        "due_at": iso(dispute.due_at),
        "answered_at": iso(dispute.resolved_at) if dispute.resolved_at else None,
        "answer": dispute.resolution_reason or None,
        "version": dispute.version,
    }


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise HTTPException(413, f"the request body is larger than {MAX_BODY} bytes")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, 'the body must be a JSON object: {"entry": ..., "reason": ...}') from None
    if not isinstance(body, dict):
        raise HTTPException(400, 'the body must be a JSON object: {"entry": ..., "reason": ...}')
    return body


@router.post("/feed/v1/disputes", status_code=201)
async def raise_dispute(ctx: Context, request: Request) -> JSONResponse:
    key = authorize(ctx, request, FEED_REALM)
    body = await _body(request)
    reference = body.get("entry") or body.get("entry_id") or body.get("value") or ""
    reason = body.get("reason") or ""
    if not isinstance(reference, str) or not isinstance(reason, str):
        raise HTTPException(400, "`entry` and `reason` must be strings")
    address = request.client.host if request.client else ""

    def work(session: Session) -> dict[str, Any]:
        dispute = open_dispute(
            session, ctx.config, reference, reason, source="bank", requester=key.bank, address=address,
            api_key_id=key.id,
        )  # fmt: skip
        return dispute_json(dispute)

    try:
        created = retrying(ctx.engine, work, what="bank dispute")
    except DisputeNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except DisputeError as exc:
        raise HTTPException(400, str(exc)) from None
    return JSONResponse(created, status_code=201)


@router.get("/feed/v1/disputes")
def bank_disputes(ctx: Context, request: Request) -> JSONResponse:
    key = authorize(ctx, request, FEED_REALM)
    with Session(ctx.engine) as session:
        bank_keys = select(ApiKey.id).where(ApiKey.bank == key.bank)
        rows = session.exec(
            select(Dispute)
            .where(Dispute.source == "bank", col(Dispute.api_key_id).in_(bank_keys))
            .order_by(col(Dispute.id).desc())
            .limit(1000)
        ).all()
    return JSONResponse({"bank": key.bank, "disputes": [dispute_json(d) for d in rows]})
