"""Is detection's output the same with other code? analyze()'s whole output, compared document by document.

A speed change to `scanner.detection` must not change what it finds: this dumps ``analyze().to_json()``
(signals with snippets and locators, weights, judgements and their reasons, score, verdict, content
digest) of every document below, once with the code of another checkout, once with this one, and
compares them:

- every document of bench/realworld/ (all parts: the frozen ones are only run, never scored here);
- the unit-test corpus, and its platform aggregate;
- the bench's pages (bench/detect.py: typical and 1 MB pages, the adversarial page, deep and
  attribute-heavy HTML, a P2P API response parsed whole and one streamed in windows);
- bench/hostile.py's hostile HTML, JSON and state-blob shapes at a small size;
- ``--random N`` documents (HTML, text and JSON) built from rule and vocabulary pieces, markup and
  awkward characters (case-changing letters such as "İ", non-breaking spaces), from a fixed seed.

Run: ``.venv/bin/python bench/detect_identity.py --against DIR [--random 3000]`` where DIR holds the
other code (for example ``git worktree add /tmp/before main`` or ``git archive``); the documents and
lexicons are always this checkout's. Exit status 1 when any document differs. ``dump OUT --code DIR``
writes one side alone (JSON, one key per document).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

# Pieces the random documents are built from: signals of every kind, their near-misses, and
# characters that change length when lower-cased or are whitespace only to Unicode.
_WORDS = [
    "Buy USDT", "buy usdt with JazzCash", "JazzCash", "Easypaisa", "easy paisa", "PKR 5,000", "5000 PKR",
    "BTC/PKR", "btc_pkr", "USDT-PKR", "Rs", "Rs. 1,200/-", "₨ 500", "+92 300 1234567", "0300-1234567",
    "(021) 3456 7890", "+92-42-111-222-333", "کرپٹو", "ٹریڈنگ", "خرید", "فروخت", "روپے", "پاکستان", "محترم",
    "پیارے صارفین", "Pakistan", "Karachi", "Lahore", "P2P trading", "order book", "futures", "margin",
    "withdraw", "deposit", "https://", "wa.me/923001234567", "apps.apple.com/pk/app/x",
    "play.google.com/store/apps/details?id=x&gl=PK", "fiat: PKR", "fiatUnit", "priceCurrency",
    "currency_code: PKR", "PK36 SCBL 0000 0011 2345 6702", "35202-1234567-1", "CNIC", "NADRA", "SECP",
    "PVARA licensed", "news", "By John Smith", "@type: NewsArticle", "USDT buy 289 / sell 292",
    "1 usdt = 290 PKR", "Binance", "KuCoin", "OKX", "HTX", "ht", "eth", "method", "ı", "ſ", "İ", "é",
    "\u00a0", "\u2003", "  ", "\n", "\t", " ", "-", "_", "/", ":", "2", "29", "92", "03", "0", "081", "the",
    "trade", "markets", "crypto", "bitcoin", "tether", "usdc", "Dear Binance users", "in PKR", "with PKR",
]  # fmt: skip
_MARKUP = [
    "<p>", "</p>", "<div title='", "'>", "</div>", "<a href='/ur/x?fiat=PKR'>", "</a>",
    "<meta property='og:locale' content='ur_PK'>", "<meta name='description' content='buy USDT in PKR'>",
    "<html lang='ur'>", "<span lang='ur-PK'>", "</span>", "<script type='application/json'>{\"fiat\":\"PKR\",\"asset\":\"USDT\"}</script>",
    "<script>window.__INITIAL_STATE__ = {\"a\": \"JazzCash USDT\"};</script>", "<script>var a = 'PKR';</script>",
    "<style>.pkr{}</style>", "<button value='Buy USDT'>", "</button>", "<input placeholder='Enter PKR amount'>",
    "<li>", "</li>", "<!-- c -->", "&amp;", "&nbsp;", "<br>", "<td>", "</td>", "<tr>", "<img alt='JazzCash'>",
    "<iframe src='https://wa.me/923001234567'></iframe>", "<svg><text>PKR</text></svg>", "<?pi x?>",
]  # fmt: skip
_URLS = [
    "https://x.test/",
    "https://www.binance.com/ur/p2p",
    "https://help.kucoin.com/hc/article",
    "",
    "https://news.test/blog/x",
]


def random_documents(n: int, seed: int) -> Iterator[tuple[str, str, str, bytes]]:
    """(key, url, content type, body) of ``n`` random documents."""
    rng = random.Random(seed)
    for i in range(n):
        kind = rng.choice(["html", "html", "text", "json"])
        if kind == "json":
            keys = ["fiat", "asset", "price", "advNo", "tradeMethods", "nickName", "x/y~z", "fiatUnit"]
            values: list[Any] = [*_WORDS, 1, 2.5, True, None, ["a", {"b": rng.choice(_WORDS)}]]
            rows = [
                {rng.choice(keys): rng.choice(values) for _ in range(rng.randint(1, 6))}
                for _ in range(rng.randint(0, 20))
            ]
            body = json.dumps({"data": rows}, ensure_ascii=rng.random() < 0.5).encode()
            content_type = "application/json"
        else:
            pool = _WORDS + (_MARKUP if kind == "html" else [])
            pieces = (rng.choice(pool) + rng.choice(["", " ", "\n"]) for _ in range(rng.randint(1, 400)))
            body = "".join(pieces).encode("utf-8", errors="surrogatepass")
            content_type = "text/html" if kind == "html" else rng.choice(["text/plain", ""])
        yield f"random/{i}", rng.choice(_URLS), content_type, body


def bench_documents() -> Iterator[tuple[str, str, str, bytes]]:
    """The pages bench/detect.py times, and bench/hostile.py's hostile shapes at a small size."""
    import detect
    import hostile

    html = "text/html"
    for i in range(40):
        yield f"typical/{i}", "https://bench.test/", html, detect.typical_page(i)
    yield "big", "https://bench.test/", html, detect.big_page(1_000_000, 0)
    yield "adversarial", "https://adv.test/", "text/plain", detect.adversarial(1_000_000)
    yield "adversarial-html", "https://adv.test/", html, b"<p>" + detect.adversarial(300_000) + b"</p>"
    yield "deep", "https://adv.test/", html, b"<div title='Rs 1,2,3 PKR'>" * 2000 + b"x" + b"</div>" * 2000
    link = b"<a href='/ur/x?fiat=PKR' alt='+92 3' title='USDT/PK'>PKR</a>"
    yield "attributes", "https://adv.test/", html, link * 6000
    ads = [
        {
            "adv": {
                "advNo": str(10**19 + i),
                "asset": "USDT",
                "fiatUnit": "PKR",
                "price": f"{290 + i % 7}.10",
                "tradeMethods": [
                    {
                        "identifier": "EasypaisaPK" if i % 3 else "JazzCash",
                        "tradeMethodName": "Easypaisa-PK Only",
                    }
                ],
            },
            "advertiser": {"nickName": f"user{i}"},
        }
        for i in range(45000)
    ]
    streamed = json.dumps({"data": ads}).encode()  # above MAX_JSON_BYTES: read in windows
    yield "p2p-streamed", "https://api.test/", "application/json", streamed
    whole = streamed[: len(streamed) // 2].rsplit(b",{", 1)[0] + b"]}"
    yield "p2p-whole", "https://api.test/", "application/json", whole
    for name, (content_type, make) in hostile.DOCUMENTS.items():
        yield f"hostile/{name}", "https://hostile.test/", content_type, make(300)


def dump(code: Path, random_count: int, seed: int) -> dict[str, Any]:
    """analyze()'s output of every document, with `scanner` imported from ``code``."""
    sys.path.insert(0, str(code))
    import scanner.detection  # the other checkout's, before the bench modules put this one first

    sys.path.insert(1, str(BENCH))
    import realworld_data as rd

    from scanner.detection import Document, aggregate, analyze, load_lexicons

    if Path(scanner.detection.__file__).resolve().parents[2] != code.resolve():
        raise SystemExit(f"scanner imported from {scanner.detection.__file__}, not from {code}")
    lexicons = load_lexicons(REPO / "config" / "lexicons")
    register, unit_register = rd.load_register(), rd.load_register(rd.UNIT_REGISTER)
    out: dict[str, Any] = {}
    for part in rd.PARTS:
        for doc in rd.load_part(part):
            out[f"{part}/{doc.id}"] = analyze(doc.document(), lexicons, register).to_json()
    unit = []
    for doc in rd.load_unit_corpus():
        unit.append(analyze(doc.document(), lexicons, unit_register))
        out[f"unit/{doc.id}"] = unit[-1].to_json()
    out["unit/aggregate"] = aggregate("unit.test", unit, lexicons, unit_register).to_json()
    generated: list[Callable[[], Iterator[tuple[str, str, str, bytes]]]] = [
        bench_documents,
        lambda: random_documents(random_count, seed),
    ]
    for documents in generated:
        for key, url, content_type, body in documents():
            out[key] = analyze(Document(url, content_type, body), lexicons, unit_register).to_json()
    return out


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Keys whose output differs (or that only one side has)."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="the other checkout: compare its output with this one's")
    parser.add_argument("--random", type=int, default=3000, help="how many random documents (default 3000)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--dump", type=Path, help="write one side's output to this file (with --code)")
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout whose scanner --dump runs")
    options = parser.parse_args()
    if options.dump:
        result = dump(options.code, options.random, options.seed)
        options.dump.write_text(json.dumps(result, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        return 0
    if options.against is None:
        parser.error("give --against DIR (or --dump FILE)")
    sides = []
    for code, name in ((options.against, "before"), (REPO, "after")):
        path = Path(f"/tmp/detect_identity_{name}_{code.resolve().name}.json")
        args = [
            "--dump",
            str(path),
            "--code",
            str(code),
            "--random",
            str(options.random),
            "--seed",
            str(options.seed),
        ]
        subprocess.run([sys.executable, __file__, *args], check=True)
        sides.append(json.loads(path.read_text(encoding="utf-8")))
    differ = compare(*sides)
    signals = sum(len(v.get("signals", ())) for v in sides[1].values())
    print(
        f"{len(sides[1])} documents ({signals} signals) compared, {options.against} against {REPO}: "
        + (f"{len(differ)} differ: {', '.join(differ[:20])}" if differ else "identical")
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
