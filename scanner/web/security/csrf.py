"""CSRF protection: a token bound to the session.

Logged in, the token is HMAC(secret, session id): it changes at every login and is worthless with any
other session, so a token obtained elsewhere (or a cookie planted from a sibling subdomain) does
not work. Before login (the login form itself) it is HMAC(secret, a random ``pkscan_csrf`` cookie),
and that cookie is replaced at login. Forms carry ``csrf_token``; scripts send ``X-CSRF-Token``; a
state-changing request without the right token is refused with 403.
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

    def token_for(self, session_id: str | None, cookie: str | None) -> str:
        """The token for a session (when logged in) or for the pre-login cookie; "" for neither."""
        if session_id:
            bound = "session:" + session_id
        elif cookie:
            bound = "anonymous:" + cookie
        else:
            return ""
        return hmac.new(self._key, bound.encode(), hashlib.sha256).hexdigest()
