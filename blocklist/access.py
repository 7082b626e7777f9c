"""Shared by the feeds and TAXII: the feed context (store, signer, limiter, cache), API-key
authentication, the per-key rate limit and the delivery log."""

from __future__ import annotations

import base64
import binascii
import threading
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from blocklist import keys
from blocklist.artefacts import Cache
from blocklist.sign import Signer, load_signer
from scanner.config import Config, get_config
from scanner.store.db import open_store
from scanner.store.models import ApiKey, Delivery, utcnow
from scanner.web.security.ratelimit import LoginRateLimiter

FEED_REALM = 'Bearer realm="pkscan-feed"'


@dataclass
class FeedContext:
    config: Config
    engine: Engine
    signer: Signer
    limiter: LoginRateLimiter
    cache: Cache = field(default_factory=Cache)

    @classmethod
    def from_config(cls, config: Config) -> FeedContext:
        return cls(
            config=config,
            engine=open_store(config),
            signer=load_signer(config.data_dir),
            limiter=LoginRateLimiter(config.settings.feed.requests_per_minute),
        )


_default: FeedContext | None = None
_default_lock = threading.Lock()


def feed_context() -> FeedContext:
    """The process-wide context from the environment's config (override in tests)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = FeedContext.from_config(get_config())
        return _default


Context = Annotated[FeedContext, Depends(feed_context)]


def presented_key(request: Request, allow_basic: bool = False) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if allow_basic and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def authorize(ctx: FeedContext, request: Request, challenge: str, allow_basic: bool = False) -> ApiKey:
    """The caller's API key, or 401; then the per-key rate limit, or 429 (logged)."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        key = keys.authenticate(session, presented_key(request, allow_basic))
    if key is None:
        raise HTTPException(401, "a valid API key is required (Authorization: Bearer KEY)", {"WWW-Authenticate": challenge})
    if not ctx.limiter.allow(key.prefix, "feed"):
        record_delivery(ctx, key, request.url.path, None, None, 429)
        raise HTTPException(
            429,
            f"rate limit of {ctx.config.settings.feed.requests_per_minute} requests per minute exceeded",
            {"Retry-After": "60"},
        )
    return key


def record_delivery(
    ctx: FeedContext, key: ApiKey, artefact: str, version: int | None, since: int | None, status: int
) -> None:
    with Session(ctx.engine) as session:
        session.add(
            Delivery(
                api_key_id=key.id or 0, bank=key.bank, artefact=artefact[:128], version=version, since=since,
                status_code=status,
            )
        )
        row = session.get(ApiKey, key.id)
        if row is not None:
            row.last_used_at = utcnow()
            session.add(row)
        session.commit()
