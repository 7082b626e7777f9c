"""CSRF protection: signed double-submit tokens.

A random ``pkscan_csrf`` cookie (HttpOnly, SameSite=Strict) is set on the first page; forms carry
``csrf_token`` = HMAC(secret, cookie) and scripts send it as ``X-CSRF-Token``. A state-changing
request without a matching token is refused with 403. An attacker's page can neither read the
cookie nor compute the HMAC without the server's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE_NAME = "pkscan_csrf"
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfTokens:
    def __init__(self, secret: bytes):
        self._key = hashlib.sha256(b"csrf:" + secret).digest()

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(24)

    def token_for(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode(), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token:
            return False
        return hmac.compare_digest(self.token_for(cookie), token)
