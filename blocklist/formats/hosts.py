"""`domains.txt` (one domain a line) and `hosts.txt` (`0.0.0.0 domain`): the full current list.

Hosts files cannot express removals or wildcards, so they always carry every listed domain (ASCII
form); consumers replace the whole file.
"""

from __future__ import annotations

import re

from blocklist.view import FeedView, iso

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def dns_name(value: str) -> str | None:
    """The ASCII (IDNA) form of a domain, or None if it is not a usable host name."""
    try:
        ascii_name = value.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    return ascii_name


def listed_domains(view: FeedView) -> list[str]:
    names = {dns_name(e.value) for e in view.entries if e.type == "domain"}
    return sorted(n for n in names if n)


def write_domains(view: FeedView) -> bytes:
    return "".join(f"{d}\n" for d in listed_domains(view)).encode()


def write_hosts(view: FeedView) -> bytes:
    header = (
        f"# {view.publisher}\n# version {view.version}, generated {iso(view.generated_at)}\n"
        "# subdomains are not covered by a hosts file; use blocklist.rpz for wildcard blocking\n"
    )
    return (header + "".join(f"0.0.0.0 {d}\n" for d in listed_domains(view))).encode()
