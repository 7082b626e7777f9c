"""HTML for the catalogue's platforms: pages, robots.txt, sitemaps, and the hosted stores/channels."""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

import jinja2
from markupsafe import escape

from scanner.world.catalogue import (
    _load,
    group4,
    host_index,
    pair_price,
    pk_iban,
    rng,
    site_ads,
)


def _template_source(name: str) -> str:
    # Read through importlib.resources so templates also load from a zipped egg (scrapyd).
    return resources.files("scanner.world").joinpath("templates", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        autoescape=True,
        trim_blocks=False,
        undefined=jinja2.ChainableUndefined,
    )


COUNTRIES = [
    "Afghanistan",
    "Albania",
    "Algeria",
    "Andorra",
    "Angola",
    "Argentina",
    "Armenia",
    "Australia",
    "Austria",
    "Azerbaijan",
    "Bahamas",
    "Bahrain",
    "Bangladesh",
    "Barbados",
    "Belgium",
    "Belize",
    "Benin",
    "Bhutan",
    "Bolivia",
    "Bosnia and Herzegovina",
    "Botswana",
    "Brazil",
    "Brunei",
    "Bulgaria",
    "Burkina Faso",
    "Cambodia",
    "Cameroon",
    "Canada",
    "Chile",
    "Colombia",
    "Costa Rica",
    "Croatia",
    "Cyprus",
    "Czechia",
    "Denmark",
    "Dominican Republic",
    "Ecuador",
    "Egypt",
    "El Salvador",
    "Estonia",
    "Ethiopia",
    "Fiji",
    "Finland",
    "France",
    "Gabon",
    "Georgia",
    "Germany",
    "Ghana",
    "Greece",
    "Guatemala",
    "Honduras",
    "Hong Kong",
    "Hungary",
    "Iceland",
    "India",
    "Indonesia",
    "Ireland",
    "Israel",
    "Italy",
    "Jamaica",
    "Japan",
    "Jordan",
    "Kazakhstan",
    "Kenya",
    "Kuwait",
    "Kyrgyzstan",
    "Latvia",
    "Lebanon",
    "Lithuania",
    "Luxembourg",
    "Madagascar",
    "Malaysia",
    "Maldives",
    "Malta",
    "Mauritius",
    "Mexico",
    "Moldova",
    "Monaco",
    "Mongolia",
    "Montenegro",
    "Morocco",
    "Mozambique",
    "Namibia",
    "Nepal",
    "Netherlands",
    "New Zealand",
    "Nigeria",
    "North Macedonia",
    "Norway",
    "Oman",
    "Pakistan",
    "Panama",
    "Paraguay",
    "Peru",
    "Philippines",
    "Poland",
    "Portugal",
    "Qatar",
    "Romania",
    "Rwanda",
    "Saudi Arabia",
    "Senegal",
    "Serbia",
    "Singapore",
    "Slovakia",
    "Slovenia",
    "South Africa",
    "South Korea",
    "Spain",
    "Sri Lanka",
    "Sweden",
    "Switzerland",
    "Taiwan",
    "Tanzania",
    "Thailand",
    "Tunisia",
    "Turkey",
    "Uganda",
    "Ukraine",
    "United Arab Emirates",
    "United Kingdom",
    "Uruguay",
    "Uzbekistan",
    "Vietnam",
    "Zambia",
    "Zimbabwe",
]

_FEES = {
    "JazzCash": ("Free", "1.0% (min Rs 20)"),
    "Easypaisa": ("Free", "1.0% (min Rs 20)"),
    "Raast": ("Free", "Rs 50"),
    "IBFT": ("Free", "Rs 100"),
    "Bank transfer": ("Free", "Rs 150"),
}


def _page_nav(platform: dict[str, Any]) -> list[dict[str, str]]:
    return [{"path": p["path"], "title": p["title"]} for p in platform["pages"] if p.get("nav", True)]


def find_page(platform: dict[str, Any], path: str) -> dict[str, Any] | None:
    for page in platform["pages"]:
        if page["path"] == path or (path != "/" and page["path"].rstrip("/") == path.rstrip("/")):
            return page
    return None


def _markets(platform: dict[str, Any]) -> list[dict[str, Any]]:
    r = rng("markets", platform["id"])
    rows = []
    for pair in platform["pairs"]:
        base, quote = pair.split("/")
        price = pair_price(pair)
        rows.append(
            {
                "pair": pair,
                "symbol": f"{base}_{quote}",
                "base": base,
                "quote": quote,
                "price": f"{price:,.2f}",
                "change": f"{r.uniform(-4, 4):+.2f}",
                "volume": f"{r.uniform(10, 5000):,.2f}",
            }
        )
    return rows


def _deposit(platform: dict[str, Any]) -> dict[str, Any] | None:
    spec = platform.get("deposit")
    if not spec:
        return None
    banks = [{**b, "iban": group4(pk_iban(b["code"], b["account"]))} for b in spec.get("banks", [])]
    return {"raast_id": spec.get("raast_id"), "banks": banks}


def _context(platform: dict[str, Any], page: dict[str, Any], host: str) -> dict[str, Any]:
    base_url = f"http://{host}"
    site_name = platform["name"]
    body = page.get("body", [])
    description = platform.get("tagline", "")
    ld = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": site_name,
        "alternateName": platform.get("latin_name"),
        "url": base_url + "/",
        "email": platform["contact"].get("email"),
    }
    if platform["contact"].get("phone"):
        ld["telephone"] = platform["contact"]["phone"]
    if platform["contact"].get("offices"):
        ld["address"] = [
            {"@type": "PostalAddress", "addressLocality": o["city"], "streetAddress": o["address"]}
            for o in platform["contact"]["offices"]
        ]
    ctx: dict[str, Any] = {
        "platform_id": platform["id"],
        "site_name": site_name,
        "title": page["title"],
        "path": page["path"],
        "page_type": page["type"],
        "page_kind": platform["kind"],
        "body": body,
        "lang": page.get("lang", platform["lang"]),
        "dir": page.get("dir", platform["dir"]),
        "locale": platform.get("locale", "en_US"),
        "description": description,
        "tagline": description,
        "url": base_url + page["path"],
        "canonical": f"http://{platform['hosts'][0]}{page['path']}",
        "base_url": base_url,
        "alternates": platform["alternates"],
        "nav": _page_nav(platform),
        "links": platform["links"],
        "telegram": platform.get("telegram"),
        "apps": platform["apps"],
        "contact": platform["contact"],
        "rails": platform["rails"],
        "disclaimer": platform.get("disclaimer"),
        "ld_json": json.dumps(ld, ensure_ascii=False).replace("</", "<\\/"),
    }
    if page["type"] == "markets":
        ctx["markets"] = _markets(platform)
        ctx["markets_json"] = json.dumps({"markets": ctx["markets"]}, ensure_ascii=False)
    if page["type"] == "p2p":
        spec = platform["p2p"]
        side = page.get("side", "BUY")
        ctx.update(p2p_fiat=spec["fiat"], p2p_side=side, ads=site_ads(platform["id"], spec, side))
    if page["type"] == "deposit":
        ctx["deposit"] = _deposit(platform)
    if page["type"] == "fees":
        ctx["fees"] = [
            {
                "rail": rail,
                "deposit": _FEES.get(rail, ("Free", "0.5%"))[0],
                "withdraw": _FEES.get(rail, ("Free", "0.5%"))[1],
            }
            for rail in platform["rails"] or ["Crypto"]
        ]
    if page["type"] == "countries":
        ctx["countries"] = [(c[:2].upper(), c) for c in COUNTRIES]
    if page["type"] == "articles":
        ctx["articles"] = [
            {"path": p["path"], "title": p["title"], "summary": (p.get("body") or [""])[0]}
            for p in platform["pages"]
            if p["type"] == "text"
        ]
    if page["type"] == "directory":
        ctx["listings"] = platform.get("listings", [])
    return ctx


def render_page(host: str, path: str) -> str | None:
    platform = host_index().get(host)
    if platform is None:
        return None
    if path in ("/sitemap", "/sitemap/"):
        page = {
            "path": "/sitemap",
            "type": "text",
            "title": "Sitemap",
            "body": [
                f'<a href="{p["path"]}">{escape(p["title"])}</a>'
                for p in platform["pages"]
                if p.get("nav", True)
            ],
        }
    else:
        page = find_page(platform, path)
        if page is None:
            return None
    ctx = _context(platform, page, host)
    if platform.get("shell") == "nextjs":
        return _render_nextjs(platform, page, ctx)
    if platform.get("shell") == "script":
        return env().get_template("script.html.j2").render(ctx)
    return env().get_template("page.html.j2").render(ctx)


def is_script_shell(host: str) -> bool:
    platform = host_index().get(host)
    return platform is not None and platform.get("shell") == "script"


def script_view(host: str, path: str) -> dict[str, str] | None:
    """What a ``shell: script`` site's app fetches (``/api/view?path=``): the whole page, base64 of
    its UTF-8, so that neither the shell nor any response a crawler reads as text shows the content."""
    platform = host_index().get(host)
    page = find_page(platform, path) if platform is not None else None
    if page is None:
        return None
    full = env().get_template("page.html.j2").render(_context(platform, page, host))
    return {"path": page["path"], "html": base64.b64encode(full.encode("utf-8")).decode("ascii")}


# The app of a ``shell: script`` site: fetch the view of this path, then build the page from it.
SCRIPT_APP = """(function () {
  fetch("/api/view?path=" + encodeURIComponent(location.pathname))
    .then(function (r) { return r.json(); })
    .then(function (view) {
      var bytes = Uint8Array.from(atob(view.html), function (c) { return c.charCodeAt(0); });
      var doc = new DOMParser().parseFromString(new TextDecoder().decode(bytes), "text/html");
      document.documentElement.lang = doc.documentElement.lang;
      document.documentElement.dir = doc.documentElement.dir;
      document.head.innerHTML = doc.head.innerHTML;
      document.body.innerHTML = doc.body.innerHTML;
    });
})();
"""


def _render_nextjs(platform: dict[str, Any], page: dict[str, Any], ctx: dict[str, Any]) -> str:
    # The visible HTML is an empty shell; everything a detector needs is in the JSON payload.
    props = {
        "title": page["title"],
        "tagline": ctx["tagline"],
        "paragraphs": ctx["body"],
        "paymentMethods": platform["rails"],
        "contact": platform["contact"],
        "telegram": f"http://t.me/{platform['telegram']}" if platform.get("telegram") else None,
        "nav": ctx["nav"],
    }
    if page["type"] == "markets":
        props["markets"] = ctx["markets"]
    build_id = "b" + rng("build", platform["id"]).getrandbits(40).to_bytes(5, "big").hex()
    next_data = {
        "props": {"pageProps": props, "__N_SSP": True},
        "page": page["path"],
        "query": {},
        "buildId": build_id,
        "isFallback": False,
        "gssp": True,
        "locale": "en-PK",
        "locales": ["en-PK", "ur-PK"],
        "defaultLocale": "en-PK",
        "scriptLoader": [],
    }
    payload = json.dumps(next_data, ensure_ascii=False).replace("</", "<\\/")
    return env().get_template("nextjs.html.j2").render({**ctx, "next_data": payload, "build_id": build_id})


def robots_txt(host: str) -> str:
    platform = host_index().get(host)
    lines = ["User-agent: *"]
    disallow = platform["robots_disallow"] if platform else []
    lines += [f"Disallow: {d}" for d in disallow] or ["Disallow:"]
    lines.append(f"Sitemap: http://{host}/sitemap.xml")
    return "\n".join(lines) + "\n"


def sitemap_xml(host: str, paths: list[str]) -> str:
    urls = "".join(f"<url><loc>http://{host}{p}</loc></url>" for p in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


def site_paths(host: str) -> list[str]:
    platform = host_index().get(host)
    return [p["path"] for p in platform["pages"]] if platform else []


# ---------------------------------------------------------------- t.me, Google Play, App Store


def _channel_text(platform: dict[str, Any]) -> list[str]:
    rails = " / ".join(platform["rails"][:3]) or "bank"
    if platform["lang"] == "ur":
        return [
            f"{platform['name']} کا آفیشل چینل۔ بٹ کوائن اور کرپٹو ٹریڈنگ کے روزانہ سگنلز۔",
            "جاز کیش اور ایزی پیسہ سے رقم جمع کروائیں اور منافع کمائیں۔",
        ]
    if platform["kind"] == "licensed":
        return [f"Official announcements of {platform['name']}, a licensed exchange."]
    return [
        f"{platform.get('latin_name') or platform['name']} official channel. Rozana signals, USDT khareedein best rate par.",
        f"{rails} se deposit karein — withdrawal foran. Join karein aur paisay kamayein!",
    ]


def _hosted_pages() -> dict[tuple[str, str], dict[str, Any]]:
    pages: dict[tuple[str, str], dict[str, Any]] = {}
    for p in _load()["platforms"]:
        name = p.get("latin_name") or p["name"]
        home = f"http://{p['hosts'][0]}/"
        if p.get("telegram"):
            pages[("t.me", p["telegram"])] = {
                "service": "Telegram",
                "title": name,
                "subtitle": f"{rng('tg', p['id']).randint(1200, 90000):,} subscribers",
                "body": _channel_text(p),
                "link": home,
                "lang": p["lang"],
            }
        store_text = [
            f"{name}: {p.get('tagline', '')}",
            "Deposit with " + ", ".join(p["rails"]) + "." if p["rails"] else "Crypto trading app.",
            "کرپٹو کرنسی خریدیں اور بیچیں۔" if p["lang"] == "ur" else "Available in Pakistan.",
        ]
        if p["apps"].get("play"):
            apps = p["apps"]
            pages[("play.google.com", apps["play"])] = {
                "service": "Google Play",
                "title": apps.get("play_title") or f"{name} – Buy Bitcoin & USDT",
                "subtitle": f"{apps.get('developer') or name + ' Ltd'} · {apps.get('category', 'Finance')}",
                "developer": apps.get("developer") or f"{name} Ltd",
                "category": apps.get("category", "Finance"),
                "installs": apps.get("installs")
                or rng("play", p["id"]).choice(["1K+", "10K+", "50K+", "100K+"]),
                "urdu": apps.get("play_ur", []),  # the hl=ur listing's own paragraphs
                "body": apps.get("play_text") or store_text,
                "link": home,
                "lang": "ur",
            }
        if p["apps"].get("apple"):
            apple = p["apps"]["apple"]
            pages[("apps.apple.com", f"/pk/app/{apple['slug']}/id{apple['id']}")] = {
                "service": "App Store",
                "title": f"{name}: Crypto Exchange",
                "subtitle": "Finance · Pakistan",
                "body": store_text,
                "link": home,
                "lang": "en",
            }
    return pages


@lru_cache(maxsize=1)
def hosted_index() -> dict[tuple[str, str], dict[str, Any]]:
    return _hosted_pages()


def render_hosted(host: str, path: str, query: str) -> str | None:
    if path in ("/", ""):
        links = "".join(f'<li><a href="{u}">{u}</a></li>' for u in hosted_links() if f"//{host}/" in u)
        return (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{host}</title></head><body>"
            f"<h1>{host}</h1><ul>{links}</ul></body></html>"
        )
    if host == "t.me":
        key = (host, path.strip("/").split("/")[0])
    elif host == "play.google.com":
        if path != "/store/apps/details":
            return None
        return play_page(query)
    elif host == "apps.apple.com":
        key = (host, path.rstrip("/"))
    else:
        return None
    data = hosted_index().get(key)
    if data is None:
        return None
    url = f"http://{host}{path}" + (f"?{query}" if query else "")
    return (
        env()
        .get_template("hosted.html.j2")
        .render({**data, "url": url, "description": " ".join(data["body"])})
    )


def play_page(query: str, fault: str | None = None) -> str | None:
    """A Google Play detail page (``?id=PACKAGE&hl=en|ur&gl=PK``) in the shape of the real one: the app
    as JSON-LD, title, developer, install figure, description and the developer's website. Faults:
    ``schema`` renames the JSON-LD ``author`` (``publisher``), ``empty`` drops the JSON-LD block."""
    q = parse_qs(query)
    package, hl = (q.get("id") or [""])[0], (q.get("hl") or ["en"])[0][:2].lower()
    data = hosted_index().get(("play.google.com", package))
    if data is None:
        return None
    body = [*data["body"], *(data["urdu"] if hl == "ur" else [])]
    url = f"http://play.google.com/store/apps/details?id={package}" + (
        f"&{query.split('&', 1)[1]}" if "&" in query else ""
    )
    app: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "SoftwareApplication", "name": data["title"],
        "url": f"https://play.google.com/store/apps/details?id={package}&hl={hl}&gl=PK",
        "description": " ".join(body), "operatingSystem": "ANDROID",
        "applicationCategory": data["category"].upper(), "contentRating": "Everyone",
        "author": {"@type": "Person", "name": data["developer"], "url": data["link"]},
        "offers": [{"@type": "Offer", "price": "0", "priceCurrency": "PKR", "availability": "https://schema.org/InStock"}],
    }  # fmt: skip
    if fault == "schema":
        app["publisher"] = app.pop("author")
    ld_json = "" if fault == "empty" else json.dumps(app, ensure_ascii=False)
    ld_json = ld_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (
        env()
        .get_template("play.html.j2")
        .render(
            {**data, "url": url, "hl": hl, "body": body, "description": " ".join(body), "ld_json": ld_json}
        )
    )


def hosted_pages() -> dict[str, str]:
    """Every hosted page URL (t.me, Play, App Store) -> canonical host of the platform it promotes.

    The hosts themselves are never flagged (ground truth "hosted", clear); these pages are evidence
    that count towards the platform they link to.
    """
    out = {}
    for url, data in zip(hosted_links(), hosted_index().values(), strict=True):
        out[url] = data["link"].split("/")[2]
    return out


def hosted_links() -> list[str]:
    """Every hosted page URL (for the world index and tests)."""
    out = []
    for host, key in hosted_index():
        if host == "t.me":
            out.append(f"http://t.me/{key}")
        elif host == "play.google.com":
            out.append(f"http://play.google.com/store/apps/details?id={key}&gl=PK&hl=ur")
        else:
            out.append(f"http://apps.apple.com{key}")
    return out
