"""`domains.txt` (one domain a line) and `hosts.txt` (`0.0.0.0 domain`): the full current list.

Hosts files cannot express removals or wildcards, so they always carry every listed domain (ASCII
form); consumers replace the whole file.
"""

from __future__ import annotations

from blocklist.view import FeedView, iso
from scanner.names import dns_name_or_none


def listed_domains(view: FeedView) -> list[str]:
    names = {dns_name_or_none(e.value) for e in view.entries if e.type == "domain"}
    return sorted(n for n in names if n)


def write_domains(view: FeedView) -> bytes:
    return "".join(f"{d}\n" for d in listed_domains(view)).encode()


def write_hosts(view: FeedView) -> bytes:
    header = (
        f"# {view.publisher}\n# version {view.version}, generated {iso(view.generated_at)}\n"
        "# subdomains are not covered by a hosts file; use blocklist.rpz for wildcard blocking\n"
    )
    return (header + "".join(f"0.0.0.0 {d}\n" for d in listed_domains(view))).encode()
