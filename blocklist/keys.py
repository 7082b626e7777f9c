"""Per-bank API keys: shown once at creation, stored as a SHA-256 hash with a short lookup prefix.

The keys are 256-bit random tokens, so a fast hash is enough (no dictionary to guess from) and
keeps every feed request cheap; the prefix finds the row without knowing the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session, col, select

from scanner.store.models import ApiKey, utcnow

KEY_PREFIX = "pks_"
PREFIX_LENGTH = 12  # "pks_" + 8 characters of the token


class KeyAdminError(ValueError):
    """A key operation that cannot be done (unknown bank, ambiguous prefix)."""


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(session: Session, bank: str) -> tuple[ApiKey, str]:
    """A new key for ``bank``: the row (hash only) and the raw key, which is never stored."""
    bank = bank.strip()
    # Shown to officers (disputes, deliveries): "HBL\u200b" would pass for HBL, "\u202e" reorders a line.
    if not bank or len(bank) > 128 or not bank.isprintable():
        raise KeyAdminError(
            "the bank name must be 1 to 128 printable characters (no control or format character)"
        )
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(bank=bank, prefix=raw[:PREFIX_LENGTH], key_hash=hash_key(raw))
    session.add(row)
    session.flush()
    return row, raw


def revoke(session: Session, bank_or_prefix: str) -> list[ApiKey]:
    """Revoke every active key of a bank, or the one key with that prefix."""
    target = bank_or_prefix.strip()
    query = select(ApiKey).where(col(ApiKey.revoked_at).is_(None))
    rows = list(session.exec(query.where(ApiKey.prefix == target)))
    if not rows:
        rows = list(session.exec(query.where(ApiKey.bank == target)))
    if not rows:
        raise KeyAdminError(f"no active API key for bank or prefix {target!r} (see: scanner keys list)")
    now = utcnow()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    return rows


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.bank), col(ApiKey.created_at))))


def authenticate(session: Session, raw: str | None) -> ApiKey | None:
    """The active key row matching ``raw``, else None (constant-time hash comparison)."""
    if not raw or not raw.startswith(KEY_PREFIX) or len(raw) > 200:
        return None
    digest = hash_key(raw)
    query = select(ApiKey).where(ApiKey.prefix == raw[:PREFIX_LENGTH], col(ApiKey.revoked_at).is_(None))
    for row in session.exec(query):
        if hmac.compare_digest(row.key_hash, digest):
            return row
    return None
