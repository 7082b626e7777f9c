"""Licensed-register matching.

A platform matches a register entry when its host is one of the entry's domains or a subdomain of
one, or when the platform's own name (the registrable label, or the channel/app id on a hosting site)
equals one of the entry's aliases. Aliases are matched against the platform identity only, never
against page text: a clone page that *says* it is a licensed brand must not be cleared by saying so.

Only status ``licensed`` clears a platform. ``noc`` (a PVARA No Objection Certificate),
``suspended`` and ``revoked`` are reported as ``licence_status`` but do not clear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanner.config import Register, RegisteredPlatform
from scanner.detection.platform import host_of, platform_key

CLEARING_STATUSES = frozenset({"licensed"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _norm(name: str) -> str:
    return _NON_ALNUM.sub("", name.lower())


@dataclass(frozen=True)
class RegisterMatch:
    entry: RegisteredPlatform
    how: str  # human description: "domain binance.com", "alias Binance"

    @property
    def status(self) -> str:
        return self.entry.status

    @property
    def licensed(self) -> bool:
        return self.entry.status in CLEARING_STATUSES


class RegisterIndex:
    """Register entries indexed by domain and normalised alias."""

    def __init__(self, register: Register | None):
        self.by_domain: dict[str, RegisteredPlatform] = {}
        self.by_alias: dict[str, RegisteredPlatform] = {}
        for entry in (register.platforms if register else []):
            for domain in entry.domains:
                self.by_domain.setdefault(domain.lower().lstrip("*.").rstrip("."), entry)
            for alias in [entry.name, *entry.aliases]:
                if _norm(alias):
                    self.by_alias.setdefault(_norm(alias), entry)

    def match(self, url_or_key: str) -> RegisterMatch | None:
        host = host_of(url_or_key)
        key = platform_key(url_or_key)
        for candidate in (host, key):
            labels = candidate.split("/")[0].split(".")
            for i in range(len(labels) - 1):
                domain = ".".join(labels[i:])
                entry = self.by_domain.get(domain)
                if entry is not None:
                    return RegisterMatch(entry, f"domain {domain}")
        for name in _identity_names(key):
            entry = self.by_alias.get(_norm(name))
            if entry is not None:
                return RegisterMatch(entry, f"alias {name}")
        return None


def _identity_names(key: str) -> list[str]:
    """Names that identify the platform itself: the domain label, the channel or the app id parts."""
    if "/" in key:
        tail = key.split("/", 1)[1]
        if "id=" in tail:
            app = tail.split("id=", 1)[1]
            return [app, *app.split(".")]
        return [tail.split("/")[-1].lstrip("@+")]
    return [key.split(".")[0]]


_INDEX_CACHE: dict[int, tuple[Register | None, RegisterIndex]] = {}


def index_for(register: Register | None) -> RegisterIndex:
    """A cached index per register object (registers are immutable pydantic models)."""
    cached = _INDEX_CACHE.get(id(register))
    if cached is not None and cached[0] is register:
        return cached[1]
    index = RegisterIndex(register)
    if len(_INDEX_CACHE) > 32:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[id(register)] = (register, index)
    return index


def match_register(url_or_key: str, register: Register | None) -> RegisterMatch | None:
    """The register entry for a URL or platform key, or None when the platform is not listed."""
    return index_for(register).match(url_or_key)
