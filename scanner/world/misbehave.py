"""badhost.test (every way a web server goes wrong) and sprawl.test (a large site for benchmarks)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import parse_qs

from scanner.world.response import Response, html, not_found

BIG_PAGE_BYTES = 20 * 1024 * 1024
_URDU = "کرپٹو کرنسی کی ٹریڈنگ کریں اور جاز کیش سے رقم جمع کروائیں۔ بٹ کوائن خریدیں اور روزانہ منافع کمائیں۔"

BADHOST_PATHS = {
    "/slow": "sleeps ?delay=S seconds (default: the world's slow_seconds) before answering",
    "/big": "a 20 MB HTML page (streamed, Content-Length set)",
    "/loop/a": "redirect loop /loop/a -> /loop/b -> /loop/a",
    "/error500": "HTTP 500",
    "/flaky": "HTTP 503 with Retry-After: 1",
    "/charset/cp1256": "declares utf-8, body bytes are cp1256 Urdu",
    "/charset/latin1": "declares iso-8859-1, body bytes are utf-8 Urdu",
    "/gzip-truncated": "Content-Encoding: gzip, stream cut in half (Content-Length of the full stream)",
    "/gzip-corrupt": "Content-Encoding: gzip, garbage after a valid header",
    "/gone": "a dead link: HTTP 404",
}

# Pages for the renderer (scanner.render), not linked from the index so that ordinary crawls of
# badhost.test do not spend a render budget on them. Both are JavaScript shells (rendered in auto mode).
RENDER_PATHS = {
    "/js/forever": "a JavaScript shell whose script never yields (rendering ends at the time budget)",
    "/js/internal": "a JavaScript shell whose script reaches for ?port=P on loopback, the metadata "
    "address, a decimal-spelled 127.0.0.1 and file:///etc/passwd, and writes what it got into the page",
    "/js/download": "a JavaScript shell whose script navigates to /js/app.apk, an attachment",
}
_SHELL = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
    '<body><div id="root"></div><script>{script}</script></body></html>'
)
_REACH_SCRIPT = """
var root = document.getElementById("root"), seen = [];
function note(what, how) { seen.push(what + ": " + how); root.textContent = seen.sort().join("; "); }
var targets = [["loopback", "http://127.0.0.1:PORT/secret"], ["metadata", "http://169.254.169.254/latest/meta-data/"],
               ["decimal", "http://2130706433:PORT/secret"], ["file", "file:///etc/passwd"]];
targets.forEach(function (t) {
  fetch(t[1], {mode: "no-cors"}).then(function (r) { return r.text(); })
    .then(function (text) { note(t[0], "answered " + text.slice(0, 40)); }, function () { note(t[0], "blocked"); });
});
var img = new Image(); img.src = "http://127.0.0.1:PORT/pixel.png"; document.body.appendChild(img);
"""


def render_page(path: str, query: str) -> Response | None:
    """The RENDER_PATHS pages and /js/app.apk (None for another path)."""
    if path == "/js/forever":
        return html(_SHELL.format(title="Never finishes", script="for (;;) {}"))
    if path == "/js/download":
        return html(_SHELL.format(title="Get the app", script='location.href = "/js/app.apk";'))
    if path == "/js/app.apk":
        return Response(
            body=b"PK\x03\x04 simulated apk",
            content_type="application/vnd.android.package-archive",
            headers={"Content-Disposition": 'attachment; filename="app.apk"'},
        )
    if path == "/js/internal":
        port = str(int((parse_qs(query).get("port") or ["9"])[0] or 9))
        return html(_SHELL.format(title="Reaching inside", script=_REACH_SCRIPT.replace("PORT", port)))
    return None


def _page(title: str, body: str, charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html><html lang="ur"><head><meta charset="{charset}"><title>{title}</title></head>'
        f"<body><h1>{title}</h1>{body}</body></html>"
    )


def _big_body() -> Iterator[bytes]:
    head = b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Big page</title></head><body>"
    tail = b"</body></html>"
    chunk = (b"<p>" + b"crypto exchange padding text " * 34 + b"</p>\n")[:1024]
    remaining = BIG_PAGE_BYTES - len(head) - len(tail)
    yield head
    block = chunk * 64
    while remaining >= len(block):
        yield block
        remaining -= len(block)
    yield b"x" * remaining
    yield tail


def badhost(path: str, query: str, slow_seconds: float) -> Response:
    q = parse_qs(query)
    if path in ("/", ""):
        items = "".join(f'<li><a href="{p}">{p}</a> — {d}</li>' for p, d in BADHOST_PATHS.items())
        return html(_page("badhost.test — misbehaving server", f"<ul>{items}</ul>"))
    if path == "/slow":
        try:
            delay = float((q.get("delay") or [slow_seconds])[0])
        except ValueError:
            delay = slow_seconds
        return html(_page("Slow page", "<p>Finally.</p>"), delay=min(max(delay, 0.0), 120.0))
    if path == "/big":
        return Response(body=_big_body(), length=BIG_PAGE_BYTES)
    if path in ("/loop/a", "/loop/b"):
        target = "/loop/b" if path == "/loop/a" else "/loop/a"
        return Response(status=302, headers={"Location": f"http://badhost.test{target}"})
    if path == "/error500":
        return html(_page("Internal Server Error", "<p>Traceback hidden.</p>"), status=500)
    if path == "/flaky":
        return Response(status=503, body=b"busy", headers={"Retry-After": "1"}, content_type="text/plain")
    if path == "/charset/cp1256":
        body = _page("غلط انکوڈنگ", f"<p>{_URDU}</p>").encode("cp1256", errors="replace")
        return Response(body=body, content_type="text/html; charset=utf-8")
    if path == "/charset/latin1":
        body = _page("Wrong charset", f"<p>{_URDU}</p>", charset="iso-8859-1").encode("utf-8")
        return Response(body=body, content_type="text/html; charset=iso-8859-1")
    if path == "/gzip-truncated":
        full = gzip.compress(_page("Truncated gzip", f"<p>{_URDU}</p>" * 200).encode("utf-8"))
        return Response(
            body=full[: len(full) // 2], length=len(full), close=True, headers={"Content-Encoding": "gzip"}
        )
    if path == "/gzip-corrupt":
        full = gzip.compress(_page("Corrupt gzip", f"<p>{_URDU}</p>" * 50).encode("utf-8"))
        return Response(
            body=full[:10] + b"\xff\xfe\xfd\xfc not deflate at all" * 4, headers={"Content-Encoding": "gzip"}
        )
    if (page := render_page(path, query)) is not None:
        return page
    return not_found("badhost.test", path)


# ---------------------------------------------------------------- sprawl.test

_WORDS = (
    "market order spot price liquidity wallet deposit withdraw stablecoin ledger block chain token "
    "exchange volume trader custody settlement fee maker taker"
).split()


@lru_cache(maxsize=1)
def _paragraphs() -> tuple[str, ...]:
    # 64 fixed paragraphs, combined per page; generating a page costs a few string joins.
    out = []
    for i in range(64):
        words = [_WORDS[(i * 7 + j * 3) % len(_WORDS)] for j in range(150)]
        out.append("<p>" + " ".join(words).capitalize() + ".</p>")
    return tuple(out)


def sprawl_links(i: int, n: int) -> list[int]:
    """Page i links to page i+1 and five deterministic others."""
    links = [(i + 1) % n]
    for k in range(1, 6):
        links.append((i * 31 + k * 977 + k * k * 13) % n)
    return links


def sprawl(path: str, pages: int) -> Response:
    if path in ("/", ""):
        index = "".join(f'<li><a href="/page/{i}">Page {i}</a></li>' for i in range(min(pages, 50)))
        return html(_page("sprawl.test", f"<p>{pages} pages.</p><ul>{index}</ul>"))
    if path.startswith("/page/"):
        try:
            i = int(path[len("/page/") :])
        except ValueError:
            return not_found("sprawl.test", path)
        if not 0 <= i < pages:
            return not_found("sprawl.test", path)
        paras = _paragraphs()
        body = "".join(paras[(i + k) % 64] for k in range(12))
        links = "".join(f'<li><a href="/page/{j}">Page {j}</a></li>' for j in sprawl_links(i, pages))
        return html(
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Page {i} | sprawl.test</title>'
            f'<meta property="og:title" content="Page {i}"></head><body><nav><a href="/">Home</a></nav>'
            f'<h1>Page {i}</h1>{body}<ul class="related">{links}</ul></body></html>'
        )
    return not_found("sprawl.test", path)
