"""Names that reach officers and banks: DNS names, app-store ids, channel names, platform keys.

Every host name, app id and channel name pkscan stores or publishes came from a page the
investigated people wrote, so each is checked here, once, before it becomes a platform, an alias
or a feed entry. A name that fails raises `InvalidName` saying what is wrong, e.g.
``'=1+2.evil.test': label '=1+2' has a character not allowed in a host name ('=')``.

DNS names are returned in their ASCII (IDNA 2008, UTS #46 mapped) lower-case form. Patterns are
applied with ``fullmatch`` (never ``$``, which matches before a trailing newline).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

import idna


class InvalidName(ValueError):
    """A name that must not become a platform, an alias or a feed entry; the message says why."""


MAX_NAME = 253
MAX_LABEL = 63
# Letters, digits and hyphens (not at either end); underscores are tolerated (DNS allows them and
# they are inert in every feed format).
_ASCII_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_ASCII_LABEL_CHAR = re.compile(r"[a-z0-9_-]")
# Google Play package name: at least two segments, each a letter then letters, digits or '_'.
_ANDROID_PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+")
MAX_ANDROID_PACKAGE = 255
_APPLE_APP_ID = re.compile(r"id[0-9]{1,15}")
# t.me/<username> (5-32 letters, digits, '_'), t.me/+<invite hash> and joinchat hashes.
_TELEGRAM = re.compile(r"[a-z0-9_]{3,32}|\+?[A-Za-z0-9_-]{8,64}")
# A page or account on another hosting site (facebook.com/page.name, youtube.com/@handle, wa.me/92300...).
_HOSTED_SEGMENT = re.compile(r"@?[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9_])?")
_TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me"})
HOSTING_SITES = frozenset(
    {
        "t.me", "telegram.me", "facebook.com", "instagram.com", "x.com", "youtube.com", "tiktok.com",
        "wa.me", "linktr.ee", "play.google.com", "apps.apple.com",
    }
)  # fmt: skip


def _describe(char: str) -> str:
    if char.isprintable() and not char.isspace():
        return repr(char)
    return f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}"


def _bad_character(text: str) -> str | None:
    """The first character no host name may hold, however it is encoded: controls, spaces, and
    the punctuation that CSV formulas, quoting, URLs and zone files give meaning to."""
    for char in text:
        if unicodedata.category(char)[0] in "CZ" or char in "=+@'\"()<>[]{}\\/|;:,!?#%&*$^`~":
            return _describe(char)
    return None


def _label_ascii(label: str, name: str) -> str:
    if not label:
        raise InvalidName(f"{name!r}: empty label")
    if label.isascii():
        ascii_label = label.lower()
        if ascii_label.startswith("xn--"):
            try:
                idna.ulabel(ascii_label)
            except idna.IDNAError as exc:
                raise InvalidName(f"{name!r}: label {label!r} is not valid punycode ({exc})") from None
    else:
        try:
            ascii_label = idna.alabel(idna.uts46_remap(label, std3_rules=True, transitional=False)).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise InvalidName(f"{name!r}: label {label!r} is not a valid internationalised label ({exc})") from None
    if len(ascii_label) > MAX_LABEL:
        raise InvalidName(f"{name!r}: label {label!r} is longer than {MAX_LABEL} characters")
    if not _ASCII_LABEL.fullmatch(ascii_label):
        bad = next((c for c in ascii_label if not _ASCII_LABEL_CHAR.fullmatch(c)), None)
        if bad is not None:
            raise InvalidName(f"{name!r}: label {label!r} has a character not allowed in a host name ({_describe(bad)})")
        raise InvalidName(f"{name!r}: label {label!r} starts or ends with a hyphen")
    return ascii_label


def dns_name(value: str) -> str:
    """The ASCII (IDNA) lower-case form of a host name with at least two labels, or `InvalidName`.

    Refused: control characters and spaces anywhere (also a trailing newline), ``=``, quotes,
    parentheses and other punctuation, empty or over-long labels, labels starting or ending with
    a hyphen, bad punycode, names longer than 253 characters, IP addresses and all-numeric
    top-level labels.
    """
    if not isinstance(value, str) or not value:
        raise InvalidName(f"{value!r}: empty host name")
    bad = _bad_character(value)
    if bad is not None:
        raise InvalidName(f"{value!r}: has a character not allowed in a host name ({bad})")
    name = value[:-1] if value.endswith(".") else value
    labels = [_label_ascii(label, value) for label in name.split(".")]
    if len(labels) < 2:
        raise InvalidName(f"{value!r}: a single label is not a public host name")
    if labels[-1].isdigit():
        raise InvalidName(f"{value!r}: an IP address or numeric top-level label is not a host name")
    ascii_name = ".".join(labels)
    if len(ascii_name) > MAX_NAME:
        raise InvalidName(f"{value!r}: longer than {MAX_NAME} characters")
    return ascii_name


def dns_name_or_none(value: str) -> str | None:
    try:
        return dns_name(value)
    except InvalidName:
        return None


def ip_literal(value: str) -> str | None:
    """The canonical form of an IPv4 or IPv6 address (brackets allowed), else None."""
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        return None


def android_package(value: str) -> str:
    """A Google Play application id (``pk.rupee.app``), or `InvalidName`."""
    if len(value) > MAX_ANDROID_PACKAGE or not _ANDROID_PACKAGE.fullmatch(value):
        raise InvalidName(
            f"{value!r}: not a Google Play app id (dot-separated segments of letters, digits and '_', "
            "each starting with a letter)"
        )
    return value


def apple_app_id(value: str) -> str:
    """An App Store id (``id123456789``), or `InvalidName`."""
    if not _APPLE_APP_ID.fullmatch(value):
        raise InvalidName(f"{value!r}: not an App Store id ('id' and digits)")
    return value


def channel_name(host: str, value: str) -> str:
    """The channel, page or account name of a hosting site's URL path, or `InvalidName`."""
    pattern = _TELEGRAM if host in _TELEGRAM_HOSTS else _HOSTED_SEGMENT
    if not pattern.fullmatch(value):
        raise InvalidName(f"{value!r}: not a valid {host} channel or account name")
    return value


_APP_KEY_PREFIXES = (
    ("play.google.com/store/apps/details?id=", android_package),
    ("apps.apple.com/app/", apple_app_id),
)


def platform_key(key: str) -> str:
    """Check a platform key (`scanner.detection.platform_key`'s result) before it is stored.

    Valid: a DNS name, an IP address, or a hosting site plus a valid app id or channel name.
    """
    if "/" not in key:
        if ip_literal(key) is not None:
            return key
        dns_name(key)
        return key
    for prefix, check in _APP_KEY_PREFIXES:
        if key.startswith(prefix):
            check(key[len(prefix):])
            return key
    host, _, rest = key.partition("/")
    if host not in HOSTING_SITES:
        raise InvalidName(f"{key!r}: a platform key with a path must be on a known hosting site")
    channel_name(host, rest)
    return key
