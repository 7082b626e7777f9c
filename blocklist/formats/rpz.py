"""`blocklist.rpz`: a DNS Response Policy Zone; `CNAME .` answers NXDOMAIN for the domain and `*.`.

The SOA serial is the publication version, so secondaries transfer the zone when it changes. A
listed domain too long to sit under the zone (or its ``*.`` under it) is named in a ``; NOT LISTED``
comment at the end.
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
    # An owner name is at most 255 octets: `<domain>.<zone>.` takes len(domain) + len(zone) + 3 of
    # them, `*.<domain>.<zone>.` two more. A site can pick a name of up to 253 characters that still
    # fits no zone: what cannot be listed is said in the zone (it used to be left out silently).
    exact_limit = 252 - len(zone)
    wildcard_limit = exact_limit - 2
    too_long = []
    for domain in listed_domains(view):
        if len(domain) <= exact_limit:
            lines.append(f"{domain} CNAME .")
        if len(domain) <= wildcard_limit:
            lines.append(f"*.{domain} CNAME .")
        else:
            too_long.append(domain)
    for domain in too_long:
        what = "its subdomains are" if len(domain) <= exact_limit else "it is"
        lines.append(
            f"; NOT LISTED: {domain}: {what} too long to list under {zone} (a DNS name is at most"
            " 255 octets); block it from blocklist.json or domains.txt"
        )
    return ("\n".join(lines) + "\n").encode()
