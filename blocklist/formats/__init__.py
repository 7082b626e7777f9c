"""One pure writer per artefact: `FeedView` -> bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from blocklist.formats import csv, hosts, json, rails, rpz, stix
from blocklist.view import FeedView


@dataclass(frozen=True)
class Format:
    name: str  # `scanner export --format` name
    artefact: str  # file name under /feed/v1/
    media_type: str
    write: Callable[[FeedView], bytes]
    incremental: bool  # honours `since`; the others always carry the full current list
    needs_rails: bool = False


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("json", "blocklist.json", "application/json", json.write, True),
        Format("csv", "blocklist.csv", "text/csv; charset=utf-8", csv.write, True),
        Format("domains", "domains.txt", "text/plain; charset=utf-8", hosts.write_domains, False),
        Format("hosts", "hosts.txt", "text/plain; charset=utf-8", hosts.write_hosts, False),
        Format("rpz", "blocklist.rpz", "text/dns; charset=utf-8", rpz.write, False),
        Format("stix", "stix.json", "application/stix+json;version=2.1", stix.write, True),
        Format("rails", "rails.json", "application/json", rails.write, False, needs_rails=True),
    )
}
BY_ARTEFACT: dict[str, Format] = {f.artefact: f for f in FORMATS.values()}
