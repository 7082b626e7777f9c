"""Leads from what crawls, channels and polls already see: WhatsApp numbers and P2P merchants.

A number in a ``wa.me/92…`` or ``api.whatsapp.com/send?phone=92…`` link, a Pakistani mobile number
written in a page's text (``0300-1234567``, ``+92 321 7654321``: the desk's WhatsApp or JazzCash
account; landlines and help lines are not kept), or a merchant's nickname in a platform's P2P ads,
is not a platform: there is nothing to crawl and nothing a bank could block.
It is a *contact* that ties platforms together: the desk number on an unknown site that is also the
number in a Telegram channel's message, the merchant who advertises on two exchanges and has a
channel of the same name. Each is stored as a `Sighting` (one row per contact and platform, counting
sightings, with the page, message or API response and its capture) and shown in ``scanner
candidates`` and on a finding's page ("also seen on"); never as a candidate platform, never in a feed.

Two sightings are the same contact when their ``match_key`` is equal: the number in E.164 form
(``+923001234567``; a local ``03…`` number is written as ``+923…``), or the merchant's nickname
case-folded with everything but letters and digits dropped (``Karachi_OTC`` = ``karachi otc``).
Nicknames shorter than `MIN_MERCHANT_KEY` letters match too much to connect anything and are not kept.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from scanner.store.models import Finding, Platform, Sighting, utcnow

WHATSAPP_HOSTS = frozenset(
    {"wa.me", "whatsapp.com", "api.whatsapp.com", "web.whatsapp.com", "chat.whatsapp.com"}
)
LINK_HOSTS = ("t.me", "telegram.me", "play.google.com", "apps.apple.com", "wa.me", "whatsapp.com")
MIN_MERCHANT_KEY = 4
# A site can print any number of phone numbers: the finding page lists the first contacts seen on it,
# and reads at most this many of their sightings elsewhere.
MAX_CONTACTS_SHOWN = 200
MAX_OTHER_SIGHTINGS = 2_000
KINDS = ("phone", "merchant")
_DIGITS = re.compile(r"[\s()+.-]")


def is_whatsapp(url: str) -> bool:
    """A link to a WhatsApp chat: a contact, never a platform to crawl (whether or not it names a number)."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return host in WHATSAPP_HOSTS


def phone_of(url: str) -> str | None:
    """The number a WhatsApp chat link opens (``+923001234567``), or None (a group invite, a short link)."""
    if not is_whatsapp(url):
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host == "wa.me":
        raw = parts.path.strip("/").split("/")[0]
    elif parts.path.rstrip("/") == "/send":
        raw = (parse_qs(parts.query).get("phone") or [""])[0]
    else:
        return None
    digits = _dialled(_DIGITS.sub("", raw))
    if not digits.isdigit() or not 8 <= len(digits) <= 15 or digits.startswith("0"):
        return None
    return "+" + digits


def _dialled(digits: str) -> str:
    """A number's digits with the country code first: the international ``00`` dropped, a Pakistani
    mobile written as dialled at home (``03…``, 11 digits) and ``+92 (0)3…`` given its ``92``."""
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("9203") and len(digits) == 13:  # +92 (0)3xx: the trunk 0 written anyway
        return "92" + digits[3:]
    if digits.startswith("03") and len(digits) == 11:
        return "92" + digits[1:]
    return digits


def mobile_of(text: str) -> str | None:
    """A Pakistani mobile number as a page writes it (``0300-1234567``, ``+92 (0)321 7654321``,
    ``0092 300 1234567``) in E.164 form (``+923001234567``); None for a landline or anything else."""
    digits = _dialled("".join(ch for ch in text if ch.isdigit()))
    return "+" + digits if len(digits) == 12 and digits.startswith("923") else None


def merchant_key(name: str) -> str | None:
    """What two nicknames must share to be one merchant; None for a name too short to tell."""
    key = "".join(ch for ch in name.casefold() if ch.isalnum())
    return key if len(key) >= MIN_MERCHANT_KEY else None


_NAMED_HOSTS = (
    "t.me/",
    "telegram.me/",
    "facebook.com/",
    "instagram.com/",
    "x.com/",
    "tiktok.com/",
    "youtube.com/",
)


def name_key(platform: str) -> str | None:
    """The ``match_key`` a merchant named like this platform has: the site's own label
    (``karachiotc.test`` -> ``karachiotc``) or the channel or page name (``t.me/karachi_otc``);
    None for what carries no name of its own (an app id, a bare hosting site)."""
    if "/" in platform:
        host, _, name = platform.partition("/")
        return merchant_key(name.lstrip("@")) if f"{host}/" in _NAMED_HOSTS and name else None
    return merchant_key(platform.split(".")[0])


def record_sighting(
    session: Session,
    *,
    kind: str,
    value: str,
    platform: str,
    url: str,
    source: str,
    capture_id: int | None = None,
    detail: str = "",
) -> bool:
    """Count a contact seen on a platform; True when this contact is new on this platform.

    The first sighting keeps where it was seen (page, capture); later ones move ``last_seen``."""
    value = " ".join(value.split())[:256]
    match_key = value if kind == "phone" else merchant_key(value)
    if kind not in KINDS or not match_key or not platform:
        return False
    query = select(Sighting).where(
        Sighting.kind == kind, Sighting.match_key == match_key, Sighting.platform == platform
    )
    known = session.exec(query).first()
    if known is not None:
        known.last_seen = utcnow()
        known.seen_count = (known.seen_count or 0) + 1
        session.add(known)
        return False
    sighting = Sighting(
        kind=kind, value=value, match_key=match_key[:256], platform=platform[:512], url=url, source=source[:32],
        capture_id=capture_id, detail=detail[:256],
    )  # fmt: skip
    try:
        with session.begin_nested():  # another process recorded it first: count it next time
            session.add(sighting)
    except IntegrityError:
        return False
    return True


def record_merchants(
    session: Session, platform: str, url: str, ads: Iterable[Any], source: str = "p2p-ads"
) -> int:
    """Each merchant of one poll's ads (`scanner.pollers.base.Ad`) seen once on ``platform``; how many
    were new there. ``url`` is the API the ads came from; the capture is the first ad's of that merchant."""
    merchants: dict[str, Any] = {}
    for ad in ads:
        key = merchant_key(ad.merchant_name or "")
        if key is not None:
            merchants.setdefault(key, ad)
    new = 0
    for ad in merchants.values():
        new += record_sighting(
            session, kind="merchant", value=ad.merchant_name, platform=platform, url=url, source=source,
            capture_id=ad.capture_id, detail=ad.merchant_id,
        )  # fmt: skip
    return new


def _findings(session: Session, platforms: set[str]) -> dict[str, tuple[int, str]]:
    """Platform key -> (finding id, verdict), a mirror's being its original's."""
    if not platforms:
        return {}
    query = (
        select(Platform.key, Finding.id, Finding.verdict)
        .join(Finding, col(Finding.platform_id) == func.coalesce(Platform.mirror_of_id, Platform.id))
        .where(col(Platform.key).in_(platforms))
    )
    return {key: (finding_id, verdict) for key, finding_id, verdict in session.exec(query)}


def _place(row: Sighting, findings: dict[str, tuple[int, str]]) -> dict[str, Any]:
    finding = findings.get(row.platform)
    return {
        "platform": row.platform, "url": row.url, "source": row.source, "capture_id": row.capture_id,
        "detail": row.detail, "first_seen": row.first_seen, "last_seen": row.last_seen, "seen_count": row.seen_count,
        "finding_id": finding[0] if finding else None, "verdict": finding[1] if finding else None,
    }  # fmt: skip


def lead_rows(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """Every contact with the platforms it was seen on; those tying most platforms together first."""
    rows = list(session.exec(select(Sighting).order_by(col(Sighting.first_seen), col(Sighting.id))))
    findings = _findings(session, {row.platform for row in rows})
    groups: dict[tuple[str, str], list[Sighting]] = defaultdict(list)
    for row in rows:
        groups[(row.kind, row.match_key)].append(row)
    named: dict[str, list[str]] = defaultdict(list)  # merchant key -> platforms named like it
    if any(kind == "merchant" for kind, _ in groups):
        for key in session.exec(select(Platform.key).order_by(col(Platform.id))):
            if (label := name_key(key)) is not None and ("merchant", label) in groups:
                named[label].append(key)
    out = []
    for (kind, match_key), seen in groups.items():
        out.append({
            "kind": kind, "key": f"{kind}:{match_key}", "value": seen[0].value,
            "named_like": named.get(match_key, []) if kind == "merchant" else [],
            "platforms": len(seen), "sources": sorted({s.source for s in seen}),
            "seen_count": sum(s.seen_count or 0 for s in seen),
            "first_seen": min(s.first_seen for s in seen), "last_seen": max(s.last_seen for s in seen),
            "seen_on": [_place(s, findings) for s in seen],
        })  # fmt: skip
    out.sort(key=lambda r: (-r["platforms"] - len(r["named_like"]), -r["seen_count"], _when(r["first_seen"])))
    return out[:limit]


def also_seen_on(session: Session, platforms: list[str]) -> list[dict[str, Any]]:
    """The contacts seen on these platforms (a finding's platform and its mirrors), each with the
    other platforms it was seen on: the finding page's "also seen on". The first
    ``MAX_CONTACTS_SHOWN`` sightings here (``contact_count`` counts them all)."""
    if not platforms:
        return []
    here = list(
        session.exec(
            select(Sighting)
            .where(col(Sighting.platform).in_(platforms))
            .order_by(col(Sighting.id))
            .limit(MAX_CONTACTS_SHOWN)
        )
    )
    labels = {label for p in platforms if (label := name_key(p)) is not None}
    namesakes = list(  # merchants named like this platform (the desk behind the ads)
        session.exec(
            select(Sighting)
            .where(Sighting.kind == "merchant", col(Sighting.match_key).in_(labels))
            .order_by(col(Sighting.id))
            .limit(MAX_OTHER_SIGHTINGS)
        )
    ) if labels else []  # fmt: skip
    if not here and not namesakes:
        return []
    keys = {(s.kind, s.match_key) for s in here}
    elsewhere = [s for s in namesakes if s.platform not in platforms]
    listed = {s.id for s in elsewhere}
    elsewhere += [
        s
        for s in session.exec(
            select(Sighting)
            .where(col(Sighting.match_key).in_({k for _, k in keys}), col(Sighting.platform).not_in(platforms))
            .order_by(col(Sighting.id))
            .limit(MAX_OTHER_SIGHTINGS)
        )
        if (s.kind, s.match_key) in keys and s.id not in listed
    ]
    findings = _findings(session, {s.platform for s in elsewhere})
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for s in [*here, *namesakes]:
        out.setdefault(
            (s.kind, s.match_key),
            {"kind": s.kind, "value": s.value, "seen": [], "others": [], "named_like": s.match_key in labels},
        )
    for s in here:
        entry = out[(s.kind, s.match_key)]
        entry["seen"].append({"platform": s.platform, "url": s.url, "source": s.source, "capture_id": s.capture_id,
                              "detail": s.detail})  # fmt: skip
    for s in elsewhere:
        out[(s.kind, s.match_key)]["others"].append(_place(s, findings))
    return sorted(out.values(), key=lambda e: (-len(e["others"]), e["kind"], e["value"]))


def contact_count(session: Session, platforms: list[str]) -> int:
    """How many contacts (kind and match key) were seen on these platforms."""
    if not platforms:
        return 0
    seen = select(Sighting.kind, Sighting.match_key).where(col(Sighting.platform).in_(platforms)).distinct()
    return session.exec(select(func.count()).select_from(seen.subquery())).one()


def _when(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)
