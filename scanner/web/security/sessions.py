"""Signed session cookies: ``base64(json payload).hmac``, checked against the database on each request.

The cookie carries only the session id, the user id and the expiry; the user's role and whether the
account is still enabled are read from the database on every request, so a role change or a disabled
account takes effect at once. Logging out revokes the session id in this process (the cookie also
expires after ``review.session_hours``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE_NAME = "pkscan_session"


@dataclass(frozen=True)
class SessionData:
    sid: str
    user_id: int
    expires: float


class SessionSigner:
    def __init__(self, secret: bytes, max_age_seconds: float):
        self._key = hashlib.sha256(b"session:" + secret).digest()
        self.max_age = max_age_seconds
        self._revoked: dict[str, float] = {}

    def _mac(self, body: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, body, hashlib.sha256).digest()).decode().rstrip("=")

    def issue(self, user_id: int) -> tuple[str, SessionData]:
        data = SessionData(secrets.token_urlsafe(18), user_id, time.time() + self.max_age)
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
        if data.expires < time.time() or data.sid in self._revoked:
            return None
        return data

    def revoke(self, data: SessionData) -> None:
        now = time.time()
        self._revoked = {sid: exp for sid, exp in self._revoked.items() if exp > now}
        self._revoked[data.sid] = data.expires
