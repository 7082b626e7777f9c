"""`blocklist.rpz`: a DNS Response Policy Zone; `CNAME .` answers NXDOMAIN for the domain and `*.`.

The SOA serial is the publication version, so secondaries transfer the zone when it changes.
"""

from __future__ import annotations

from blocklist.formats.hosts import listed_domains
from blocklist.view import FeedView, iso

TTL = 300


def write(view: FeedView) -> bytes:
    zone = view.rpz_zone.rstrip(".")
    lines = [
        f"; {view.publisher}: response policy zone, version {view.version}, generated {iso(view.generated_at)}",
        f"$ORIGIN {zone}.",
        f"$TTL {TTL}",
        f"@ IN SOA localhost. hostmaster.{zone}. ({view.version} 3600 600 604800 {TTL})",
        "@ IN NS localhost.",
    ]
    limit = 253 - len(zone) - 3  # the owner name `*.<domain>.<zone>` must fit in 255 octets
    for domain in listed_domains(view):
        if len(domain) > limit:
            continue
        lines.append(f"{domain} CNAME .")
        lines.append(f"*.{domain} CNAME .")
    return ("\n".join(lines) + "\n").encode()
