"""Rate limiting: a sliding one-minute window per (who, where), in process memory.

The bank feeds use it per API key, and per client address for wrong keys. Review logins are counted
in the database instead (`scanner.web.security.attempts`), so that limit holds across web servers.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, attempts_per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.limit = attempts_per_minute
        self.window = 60.0
        self._clock = clock
        self._attempts: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, who: str, where: str) -> bool:
        """Count one attempt; False once the limit for this minute is used up."""
        key = (who.strip().lower(), where)
        now = self._clock()
        with self._lock:
            attempts = self._attempts.setdefault(key, deque())
            while attempts and attempts[0] <= now - self.window:
                attempts.popleft()
            if len(attempts) >= self.limit:
                return False
            attempts.append(now)
            if len(self._attempts) > 10000:
                self._prune(now)
            return True

    def retry_after(self, who: str, where: str) -> int:
        """Seconds until an attempt would be allowed again (0: allowed now); counts nothing."""
        key = (who.strip().lower(), where)
        now = self._clock()
        with self._lock:
            attempts = [t for t in self._attempts.get(key, ()) if t > now - self.window]
            if len(attempts) < self.limit:
                return 0
            return max(1, int(attempts[-self.limit] + self.window - now + 0.999))

    def reset(self, who: str, where: str) -> None:
        with self._lock:
            self._attempts.pop((who.strip().lower(), where), None)

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._attempts.items() if not v or v[-1] <= now - self.window]:
            del self._attempts[key]
