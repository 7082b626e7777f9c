"""Vantage points: where a fetch appears to come from.

Many exchanges show PKR prices, local payment rails and Urdu only to visitors from Pakistan. A
vantage point (``vantage_points:`` in targets.yaml) is an HTTP proxy standing for a country, e.g. a
Pakistani exit; sites, pollers, discovery sources and the discovery crawl name one with
``vantage:`` (else ``default_vantage``; ``direct`` is built in and means no proxy of ours, the
environment's ``HTTP_PROXY``/``HTTPS_PROXY`` still applying as before).

A vantage proxy is one more proxy to the egress policy (`scanner.net.egress`): its own address must
be public or allowed by ``egress.proxy_networks``, and target URLs are still checked (IP literals,
``localhost``, schemes) before they are handed to it. Evidence records the vantage point's name
and country with every capture made through it (``WARC-Pkscan-Vantage``,
``WARC-Pkscan-Vantage-Country``, ``Capture.vantage``), never the proxy's URL or credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# The vantage point that is no proxy of ours: fetches leave from this machine (or through the
# environment's HTTP_PROXY/HTTPS_PROXY, as before vantage points existed).
DIRECT_VANTAGE = "direct"


def redact_proxy(url: str) -> str:
    """A proxy URL without its credentials (``http://***@host:port``), safe for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    _userinfo, at, hostport = rest.rpartition("@")
    shown = f"***@{hostport}" if at else rest
    return f"{scheme}://{shown}" if sep else shown


def proxy_url_problem(url: str) -> str | None:
    """Why ``url`` is not a usable HTTP proxy URL (``http://[user:password@]host:port``), or None.

    Messages never repeat the credentials."""
    shown = redact_proxy(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # its text may quote part of the credentials
        return f"{shown!r} is not a valid proxy URL (malformed port or address); give http://[user:password@]host:port"
    if parts.scheme.lower() not in ("http", "https"):
        return (
            f"{shown!r} is not a valid proxy URL: scheme {parts.scheme or '(none)'!r} is not supported "
            "(an HTTP proxy: http://[user:password@]host:port)"
        )
    if not parts.hostname:
        return f"{shown!r} is not a valid proxy URL: no host; give http://[user:password@]host:port"
    if port is None:
        return f"{shown!r} is not a valid proxy URL: no port; give http://[user:password@]host:port"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"{shown!r} is not a valid proxy URL: a proxy URL has no path or query"
    return None


# WARC headers on the records of a capture made through a vantage point.
WARC_VANTAGE = "WARC-Pkscan-Vantage"
WARC_VANTAGE_COUNTRY = "WARC-Pkscan-Vantage-Country"


class VantageUnavailable(Exception):
    """A vantage point that cannot be used now (its proxy's environment variable is unset or wrong)."""


@dataclass(frozen=True)
class Vantage:
    """A resolved vantage point. ``proxy`` may hold credentials: never log or record it (`shown`)."""

    name: str
    proxy: str | None = field(default=None, repr=False)
    country: str | None = None

    @property
    def direct(self) -> bool:
        return self.proxy is None

    @property
    def recorded(self) -> str | None:
        """What evidence records: the name of a vantage point, None for a direct fetch."""
        return None if self.direct else self.name

    @property
    def shown(self) -> str:
        """For messages: the name and the proxy without credentials."""
        return self.name if self.proxy is None else f"{self.name} (proxy {redact_proxy(self.proxy)})"


DIRECT = Vantage(DIRECT_VANTAGE)


def resolve_vantage(name: str, points: Mapping[str, Any], env: Mapping[str, str]) -> Vantage:
    """The vantage point ``name`` of ``points`` (targets.yaml ``vantage_points``: each with ``proxy``,
    ``proxy_env`` and ``country``) with its proxy URL read.

    Names were checked when targets.yaml loaded; what can still be wrong is the environment
    variable a ``proxy_env`` names (unset, or not a proxy URL)."""
    if name == DIRECT_VANTAGE:
        return DIRECT
    point = points.get(name)
    if point is None:
        known = ", ".join([DIRECT_VANTAGE, *points])
        raise VantageUnavailable(f"unknown vantage point {name!r} (known: {known})")
    url = point.proxy
    if url is None:
        url = (env.get(point.proxy_env or "") or "").strip()
        if not url:
            raise VantageUnavailable(
                f"vantage_points.{name}.proxy_env: environment variable {point.proxy_env} is not set "
                "(it holds the proxy URL, http://[user:password@]host:port)"
            )
        if problem := proxy_url_problem(url):
            raise VantageUnavailable(f"vantage_points.{name}.proxy_env: {point.proxy_env}: {problem}")
    return Vantage(name, url, point.country)
