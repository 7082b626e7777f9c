"""The platform catalogue (package data) and everything derived from it: ground truth, IBANs, ads."""

from __future__ import annotations

import copy
import hashlib
import random
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from scanner.world.geo import GEO_HOST
from scanner.world.geo import NOTE as GEO_NOTE

# Hosts that are not platforms of the catalogue but that the world serves (kind, verdict, note).
EXTRA_HOSTS: dict[str, tuple[str, str, str]] = {
    "t.me": ("hosted", "clear", "Telegram channels of the platforms (Urdu / Roman-Urdu descriptions)"),
    "play.google.com": ("hosted", "clear", "Google Play listings (gl=PK, hl=ur)"),
    "apps.apple.com": ("hosted", "clear", "App Store listings (/pk/ storefront)"),
    "badhost.test": (
        "misbehaving",
        "clear",
        "slow, 20 MB, redirect loop, 500, wrong charset, truncated gzip",
    ),
    "sprawl.test": ("benchmark", "clear", "large generated site, /page/<i>"),
}

# Exchange API hosts: host -> (platform registrable domain, verdict, note). Binance holds only an NOC
# (not a licence), so its simulated P2P desk with PKR ads is still expected to be flagged.
API_HOSTS: dict[str, tuple[str, str, str]] = {
    "p2p.binance.test": ("binance.test", "flag", "Binance P2P adv/search (PKR ads; NOC is not a licence)"),
    "www.okx.test": ("okx.test", "flag", "OKX P2P tradingOrders/books (PKR ads)"),
    "api2.bybit.test": ("bybit.test", "flag", "Bybit P2P item/online + payment list (PKR ads)"),
    "api.indus-spot.test": (
        "indus-spot.test",
        "flag",
        "exchangeInfo / tickers / ccxt markets with PKR pairs",
    ),
    "api.globex.test": ("globex.test", "clear", "exchangeInfo / tickers / ccxt markets without PKR"),
}

WORLD_HOST = "world.test"


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    text = resources.files("scanner.world").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for platform in data["platforms"]:
        platform.setdefault("mirrors", [])
        platform.setdefault("configured", True)
        platform.setdefault("links", [])
        platform.setdefault("rails", [])
        platform.setdefault("pairs", [])
        platform.setdefault("contact", {})
        platform.setdefault("apps", {})
        platform.setdefault("dir", "ltr")
        platform.setdefault("robots_disallow", [])
        platform.setdefault("alternates", {})
        if platform["kind"] in ("unlicensed", "licensed") or (
            platform["kind"] == "lookalike" and platform["pairs"]
        ):
            _add_standard_pages(platform)
    return data


# Every exchange front end has these; pages a platform's catalogue entry leaves out are generated
# from its data so that the catalogue only spells out what makes the platform distinctive.
_STANDARD_TITLES = {
    "en": {
        "markets": "Markets",
        "fees": "Fees",
        "contact": "Contact",
        "app": "Download the app",
        "about": "About us",
    },
    "ur": {
        "markets": "مارکیٹس",
        "fees": "فیس",
        "contact": "رابطہ کریں",
        "app": "ایپ ڈاؤن لوڈ کریں",
        "about": "ہمارے بارے میں",
    },
}


def _add_standard_pages(platform: dict[str, Any]) -> None:
    titles = _STANDARD_TITLES.get(platform["lang"], _STANDARD_TITLES["en"])
    have = {page["path"] for page in platform["pages"]}
    wanted = [
        ("/markets", "markets", bool(platform["pairs"])),
        ("/fees", "fees", True),
        ("/app", "app", bool(platform["apps"])),
        ("/contact", "contact", True),
        ("/about", "text", True),
    ]
    for path, kind, applies in wanted:
        if applies and path not in have:
            page: dict[str, Any] = {"path": path, "type": kind, "title": titles[path.strip("/")]}
            if path == "/about":
                page["body"] = [platform.get("tagline", "")]
            platform["pages"].append(page)


def catalogue() -> list[dict[str, Any]]:
    """The platforms of the catalogue (a deep copy: callers may mutate it freely)."""
    return copy.deepcopy(_load()["platforms"])


@lru_cache(maxsize=1)
def host_index() -> dict[str, dict[str, Any]]:
    """host (canonical or mirror) -> platform record (shared, read-only)."""
    index: dict[str, dict[str, Any]] = {}
    for platform in _load()["platforms"]:
        for host in platform["hosts"] + platform["mirrors"]:
            index[host] = platform
    return index


def ground_truth() -> dict[str, dict[str, Any]]:
    """host -> {verdict, kind, mirror_of, platform, name, configured, needs_render, note}.

    verdict is "flag" or "clear"; kind one of unlicensed, mirror, licensed, lookalike, directory,
    hosted, misbehaving, benchmark, api; mirror_of is the canonical host of the mirrored platform;
    configured is False for hosts reachable only through links (discovery must find them);
    needs_render is True for JavaScript-only sites whose content only a rendered page shows; vantage
    names the vantage point the verdict needs (``pk``: seen through the simulated Pakistani exit), else None.
    """
    truth: dict[str, dict[str, Any]] = {}
    for p in _load()["platforms"]:
        canonical = p["hosts"][0]
        base = {
            "platform": canonical,
            "name": p.get("latin_name") or p["name"],
            "configured": p["configured"],
            # Its content exists only once a browser ran its script (scanner.render must render it).
            "needs_render": p.get("shell") == "script",
        }
        for host in p["hosts"]:
            truth[host] = {
                "verdict": p["verdict"],
                "kind": p["kind"],
                "mirror_of": None,
                **base,
                "note": p["shows"],
            }
        for host in p["mirrors"]:
            truth[host] = {
                "verdict": p["verdict"],
                "kind": "mirror",
                "mirror_of": canonical,
                **base,
                "note": f"mirror of {canonical}",
            }
    for host, (platform, verdict, note) in API_HOSTS.items():
        truth[host] = {
            "verdict": verdict,
            "kind": "api",
            "mirror_of": None,
            "platform": platform,
            "name": platform.split(".")[0],
            "configured": True,
            "needs_render": False,
            "note": note,
        }
    # Geo-gated (scanner.world.geo): its verdict holds from the vantage point named, not from anywhere.
    truth[GEO_HOST] = {
        "verdict": "flag",
        "kind": "unlicensed",
        "mirror_of": None,
        "platform": GEO_HOST,
        "name": "ChenabX",
        "configured": True,
        "needs_render": False,
        "note": GEO_NOTE,
        "vantage": "pk",
    }
    for host, (kind, verdict, note) in EXTRA_HOSTS.items():
        truth[host] = {
            "verdict": verdict,
            "kind": kind,
            "mirror_of": None,
            "platform": host,
            "name": host,
            "configured": kind == "misbehaving",
            "needs_render": False,
            "note": note,
        }
    for entry in truth.values():
        entry.setdefault("vantage", None)
    return truth


# ---------------------------------------------------------------- IBAN


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + '00' as digits) mod 97."""
    rearranged = bban + country + "00"
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(digits) % 97:02d}"


def pk_iban(bank_code: str, account: str) -> str:
    """A Pakistani IBAN (24 chars) for a 4-letter bank code and a 16-digit account number."""
    if len(bank_code) != 4 or len(account) != 16 or not account.isdigit():
        raise ValueError("PK IBAN needs a 4-letter bank code and a 16-digit account number")
    bban = bank_code.upper() + account
    return "PK" + iban_check_digits("PK", bban) + bban


def iban_is_valid(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def group4(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


# ---------------------------------------------------------------- deterministic market data

_NICK_PARTS = [
    "Crypto",
    "Khan",
    "Trader",
    "USDT",
    "Lahori",
    "Karachi",
    "Fast",
    "Trusted",
    "Pak",
    "Desi",
    "Star",
    "Falcon",
    "Royal",
    "Apna",
    "Bismillah",
    "Quick",
    "Safe",
    "Eagle",
    "Sultan",
    "Noor",
]


def rng(*key: object) -> random.Random:
    """A random generator seeded from the key, so every run of the world serves the same data."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def nickname(r: random.Random) -> str:
    return f"{r.choice(_NICK_PARTS)}{r.choice(_NICK_PARTS)}{r.randint(1, 999)}"


BASE_PRICES = {"BTC": 98000.0, "ETH": 3400.0, "SOL": 180.0, "XRP": 2.3, "USDT": 1.0, "USDC": 1.0}
FIAT_PER_USD = {
    "PKR": 281.2,
    "INR": 88.4,
    "SAR": 3.75,
    "IRT": 92000.0,
    "USD": 1.0,
    "EUR": 0.92,
    "USDT": 1.0,
    "USDC": 1.0,
    "AED": 3.67,
}


def pair_price(pair: str) -> float:
    base, quote = pair.split("/")
    usd = BASE_PRICES.get(base, 1.0)
    premium = 1.018 if quote == "PKR" else 1.0
    return round(
        usd * FIAT_PER_USD.get(quote, 1.0) * premium, 2 if usd * FIAT_PER_USD.get(quote, 1.0) < 10 else 0
    )


def site_ads(platform_id: str, spec: dict[str, Any], side: str) -> list[dict[str, Any]]:
    """P2P ads shown on a platform's web P2P page."""
    r = rng("site", platform_id, side)
    lo, hi = spec["price"]
    ads = []
    for _ in range(spec["count"]):
        methods = sorted(r.sample(spec["rails"], k=r.randint(1, min(3, len(spec["rails"])))))
        minimum = r.choice([1000, 2000, 5000, 10000])
        ads.append(
            {
                "merchant": nickname(r),
                "orders": r.randint(40, 4000),
                "completion": round(r.uniform(0.9, 1.0) * 100, 1),
                "price": round(r.uniform(lo, hi), 2),
                "available": round(r.uniform(50, 5000), 2),
                "min": minimum,
                "max": minimum * r.choice([10, 20, 50, 100]),
                "methods": methods,
            }
        )
    ads.sort(key=lambda a: a["price"], reverse=(side == "SELL"))
    return ads
