"""The spiders' link list (`scanner.crawl.links.link_urls`) is Scrapy's default LinkExtractor's, URL for
URL and in the same order, on every page of the simulated web, the real-world documents, the hostile
shapes and pages written to hit each step (base URLs, whitespace, encodings, schemes, extensions,
namespaces, bogus URLs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scrapy.http import HtmlResponse, TextResponse, XmlResponse
from scrapy.linkextractors import LinkExtractor

from bench.hostile import DOCUMENTS
from scanner.crawl.links import link_urls
from scanner.world import render
from scanner.world.catalogue import host_index
from scanner.world.misbehave import sprawl
from tests.conftest import REPO_ROOT

CRAFTED = [
    '<a href="/a">x</a><a href=" /b \n">y</a><a href="/a">again</a><area href="c.html"><a>no href</a>',
    '<html><head><base href="http://other.test/dir/"></head><body><a href="x">x</a><a href="/y">y</a></body></html>',
    '<base href="../up/"><a href="z">z</a>',
    '<a href="mailto:a@b.test">m</a><a href="javascript:void(0)">j</a><a href="ftp://f.test/x">f</a>'
    '<a href="file:///etc/passwd">p</a><a href="data:text/html,hi">d</a><a href="tel:+923001234567">t</a>',
    '<a href="/photo.JPG">i</a><a href="/doc.pdf?x=1">p</a><a href="/a.tar.gz">t</a><a href="/page.html">h</a>'
    '<a href="/x.jpg#frag">f</a><a href="/app.apk">apk</a><a href="/dir.zip/">dir</a>',
    '<a href="/ü?q=ﬁ&amp;r=%20#frag">u</a><a href="http://例え.テスト/パス">idn</a><a href="//proto.test/rel">pr</a>',
    '<a href="http://[::1">bad ipv6</a>',
    '<a href="http://a.test:99999/">bad port</a><a href="http://a.test:80/ok">ok</a>',
    '<a href="https://user:pa ss@host.test/p a th?q=a b">sp</a><a href="\t/tab\tbed\n">tab</a>',
    '<html xmlns="http://www.w3.org/1999/xhtml"><body><a href="/xhtml">x</a></body></html>',
    '<svg><a href="/svg-a">s</a><a xlink:href="/xlink">x</a></svg><map><area href="/area" shape="rect"></map>',
    '<A HREF="/upper">u</A><a href="">empty</a><a href="#">hash</a><a href="?q">query</a><a href=".">dot</a>',
    '<a href="\x00/nul">n</a><a href="/\u202eevil">bidi</a><a href="http://a.test/%zz">pct</a>',
]
ENCODINGS = ["utf-8", "cp1252", "cp1256", "shift_jis"]


def _documents() -> Iterator[tuple[str, bytes, str]]:
    for i, html in enumerate(CRAFTED):
        for encoding in ENCODINGS:
            yield f"crafted-{i}-{encoding}", html.encode(encoding, "xmlcharrefreplace"), encoding
    for i in (0, 1, 17, 2999):
        yield f"sprawl-{i}", sprawl(f"/page/{i}", 3000).body, "utf-8"
    for host in sorted(host_index()):
        for path in render.site_paths(host):
            page = render.render_page(host, path)
            if page is not None:
                yield f"world-{host}{path}", page.encode(), "utf-8"
    for path in sorted((REPO_ROOT / "bench" / "realworld" / "dev").iterdir()):
        if path.suffix in (".html", ".htm", ".txt", ".json", ".xml"):
            yield f"realworld-{path.name}", path.read_bytes(), "utf-8"
    for name, (_, make) in DOCUMENTS.items():
        yield f"hostile-{name}", make(50), "utf-8"


def _scrapy(response: TextResponse) -> list[str] | type[Exception]:
    try:
        return [link.url for link in LinkExtractor().extract_links(response)]
    except Exception as exc:  # noqa: BLE001 - the same exception is expected
        return type(exc)


def _ours(response: TextResponse) -> list[str] | type[Exception]:
    try:
        return link_urls(response)
    except Exception as exc:  # noqa: BLE001 - the same exception is expected
        return type(exc)


@pytest.mark.parametrize("kind", [HtmlResponse, XmlResponse, TextResponse])
def test_link_urls_are_scrapys(kind: type[TextResponse]) -> None:
    compared = 0
    for name, body, encoding in _documents():
        for url in ("http://site.test/dir/page?x=1", "https://site.test/"):
            response = kind(url=url, body=body, encoding=encoding)
            assert _ours(response) == _scrapy(response), f"{name} at {url} as {kind.__name__}"
            compared += 1
    assert compared > 1000  # the corpus really was read
