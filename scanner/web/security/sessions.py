"""Sessions: a signed cookie naming a server-side `WebSession` row.

The cookie is ``base64(json {sid, uid, exp}).hmac`` so a forged or altered cookie is refused without
a database read; the row makes logout and expiry hold on every web server sharing the database.
The user's role and whether the account is enabled are read on each request (`scanner.web.auth`),
so a role change or a disabled account takes effect at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from scanner.store.models import WebSession, utcnow

COOKIE_NAME = "pkscan_session"


@dataclass(frozen=True)
class SessionData:
    sid: str
    user_id: int
    expires: float


class SessionStore:
    def __init__(self, engine: Engine, secret: bytes, max_age_seconds: float):
        self.engine = engine
        self._key = hashlib.sha256(b"session:" + secret).digest()
        self.max_age = max_age_seconds

    def _mac(self, body: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, body, hashlib.sha256).digest()).decode().rstrip("=")

    def issue(self, user_id: int, address: str = "") -> tuple[str, SessionData]:
        now = utcnow()
        row = WebSession(
            sid=secrets.token_urlsafe(24),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(seconds=self.max_age),
            address=address[:64],
        )
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
            data = SessionData(row.sid, user_id, row.expires_at.timestamp())
        body = base64.urlsafe_b64encode(
            json.dumps({"sid": data.sid, "uid": data.user_id, "exp": data.expires}).encode()
        ).rstrip(b"=")
        return f"{body.decode()}.{self._mac(body)}", data

    def read(self, cookie: str | None) -> SessionData | None:
        if not cookie or "." not in cookie:
            return None
        body, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(body.encode())):
            return None
        try:
            raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            data = SessionData(str(raw["sid"]), int(raw["uid"]), float(raw["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        now = utcnow()
        if data.expires < now.timestamp():
            return None
        with Session(self.engine) as session:
            row = session.get(WebSession, data.sid)
        if row is None or row.revoked_at is not None or row.user_id != data.user_id or row.expires_at < now:
            return None
        return data

    def revoke(self, data: SessionData) -> None:
        with Session(self.engine) as session:
            row = session.get(WebSession, data.sid)
            if row is not None and row.revoked_at is None:
                row.revoked_at = utcnow()
                session.add(row)
                session.commit()
