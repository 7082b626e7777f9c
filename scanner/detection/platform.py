"""Platform keys: which platform a URL belongs to.

A platform is normally its registrable domain (``p2p.example.com.pk`` -> ``example.com.pk``). On
hosting sites where one host carries many operators (Telegram, app stores, social networks) the key
is the host plus the channel, page or app id, e.g. ``t.me/rupeexchange`` or
``play.google.com/store/apps/details?id=pk.rupee.app``.

tldextract runs on its bundled public-suffix snapshot only: detection must never touch the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

import tldextract

from scanner.names import InvalidName, android_package, channel_name, dns_name_or_none

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

# Host (after dropping www./m./mobile.) -> canonical host used in the key.
_HOSTED = {
    "t.me": "t.me",
    "telegram.me": "telegram.me",
    "telegram.dog": "t.me",
    "facebook.com": "facebook.com",
    "fb.com": "facebook.com",
    "instagram.com": "instagram.com",
    "x.com": "x.com",
    "twitter.com": "x.com",
    "youtube.com": "youtube.com",
    "tiktok.com": "tiktok.com",
    "wa.me": "wa.me",
    "linktr.ee": "linktr.ee",
}
# Path segments that are site sections, not a channel/page name.
_SECTION_WORDS = {"s", "joinchat", "share", "channel", "c", "user", "pages", "groups", "profile.php", "watch"}
_IP_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$|^\[?[0-9a-f:]+\]?$", re.IGNORECASE)


def _host_and_url(url: str) -> tuple[str, str, str]:
    text = url.strip()
    if "://" not in text:
        text = "http://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return "", "", ""
    if not host.isascii():
        # The ASCII (IDNA) form, as the crawl's URLs and the feeds carry it: "bіnance.com" with a
        # Cyrillic "і" is xn--bnance-... to officers and banks, never a look-alike of binance.com,
        # and a full-width "ｂｉｎａｎｃｅ.com" is the binance.com it resolves to.
        host = dns_name_or_none(host) or host
    return host, parts.path or "", parts.query or ""


def _strip_prefix(host: str) -> str:
    for prefix in ("www.", "m.", "mobile.", "web."):
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix):]
    return host


def _hosted_key(host: str, path: str, query: str) -> str | None:
    bare = _strip_prefix(host)
    if bare == "play.google.com":
        app = parse_qs(query).get("id", [""])[0].strip()
        if app and _valid(android_package, app):
            return f"play.google.com/store/apps/details?id={app}"
        return "play.google.com"  # no app named, or a name no app can have (`?id==1+2`)
    if bare == "apps.apple.com":
        # /pk/app/rupee-exchange/id123456 -> the app id identifies it across storefronts
        match = re.search(r"/app/(?:[^/]+/)?(id\d+)", path)
        return f"apps.apple.com/app/{match.group(1)}" if match else "apps.apple.com"
    canonical = _HOSTED.get(bare)
    if canonical is None:
        return None
    segments = [s for s in path.split("/") if s]
    if not (canonical == "youtube.com" and segments and segments[0].startswith("@")):
        while segments and segments[0].lower() in _SECTION_WORDS:
            segments = segments[1:]
    if not segments:
        return canonical
    name = segments[0]
    if not name.startswith("+") or canonical == "tiktok.com":  # case matters in t.me/+invitehash
        name = name.lower()
    if not _valid(lambda value: channel_name(canonical, value), name):
        return canonical  # not a channel or account name: the bare hosting site, which is never listed
    return f"{canonical}/{name}"


def _valid(check: Callable[[str], str], value: str) -> bool:
    try:
        check(value)
    except InvalidName:
        return False
    return True


@lru_cache(maxsize=4096)
def platform_key(url: str) -> str:
    """The platform a URL belongs to: registrable domain, or host + channel/app on hosting sites."""
    host, path, query = _host_and_url(url)
    if not host:
        return url.strip().lower()
    hosted = _hosted_key(host, path, query)
    if hosted is not None:
        return hosted
    if _IP_RE.match(host) or "." not in host:
        return host
    parts = _EXTRACT(host)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    # Not under a public suffix (.test, .internal, .local): the last two labels are the site.
    labels = host.split(".")
    return ".".join(labels[-2:])


def host_of(url: str) -> str:
    return _host_and_url(url)[0]
