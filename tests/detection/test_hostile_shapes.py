"""Hostile page shapes: what an exchange sends is analysed with the right result, in time linear in it.

Each test feeds a shape a site could send to slow the detection worker down (thousands of sibling
elements that each needed a walk of their siblings, scripts full of almost-JSON) at two sizes 4x
apart and checks the page is still judged as before and 4x the page costs about 4x the CPU time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from scanner.detection import Document, analyze
from scanner.detection.document import state_blobs


def _cpu(work: Callable[[], object]) -> float:
    started = time.process_time()  # CPU time: other load on the machine must not fail the test
    work()
    return time.process_time() - started


def _linear(make: Callable[[int], bytes], analyse: Callable[[bytes], object], n: int) -> None:
    small, big = make(n), make(4 * n)
    analyse(small)  # warm up (lexicon automatons are built on first use)
    timings = [_cpu(lambda: analyse(small)), _cpu(lambda: analyse(big))]
    assert timings[1] < 8 * timings[0] + 0.5, f"4x the page must cost about 4x the time: {timings}"


def _page(body: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>Exchange</title></head><body>{body}</body></html>".encode()


def test_thousands_of_sibling_elements_with_a_lang_attribute(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """Each lang attribute's locator was built at extraction, a walk of all its siblings each:
    12,000 <span lang="ur"> took 1.2 s, 48,000 about 20 s."""

    def make(n: int) -> bytes:
        return _page('<span lang="ur">Bitcoin</span>' * n + '<p lang="ur-PK">USDT</p>')

    def analyse(body: bytes) -> object:
        return analyze(Document("https://x.test/", "text/html", body), lexicons, register)

    result = analyze(Document("https://x.test/", "text/html", make(3)), lexicons, register)
    locale = {s.value: s.locator for s in result.signals if s.kind == "pk_locale"}
    assert locale == {"lang=ur": "/html/body/span[1]/@lang", "lang=ur-PK": "/html/body/p/@lang"}
    _linear(make, analyse, 12_000)


def test_thousands_of_scripts_without_an_id(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """A script without an id is located by its path, which was built for every script (a walk of
    its siblings each): 12,000 scripts took 0.6 s, 48,000 about 10 s."""

    def make(n: int) -> bytes:
        scripts = "<script>var a = 1;</script>" * n
        return _page(scripts + '<script>window.__STATE__ = {"p2p": {"fiat": "PKR"}};</script>')

    def analyse(body: bytes) -> object:
        return analyze(Document("https://x.test/", "text/html", body), lexicons, register)

    result = analyze(Document("https://x.test/", "text/html", make(2)), lexicons, register)
    assert {s.value: s.locator for s in result.signals}["PKR fiat field"] == (
        "/html/body/script[3][window.__STATE__]#/p2p/fiat"
    )
    _linear(make, analyse, 12_000)


def test_javascript_literals_before_a_state_blob_do_not_hide_it() -> None:
    """Thousands of JavaScript objects and arrays (unquoted keys, names) that fail to parse as JSON
    before the state blob do not hide it."""
    script = "window.cfg = {debug: false}; window.list = [x, y];\n" * 20_000
    script += 'window.__NUXT__ = {"data": [{"fiat": "PKR"}]};'
    assert list(state_blobs(script)) == [("window.__NUXT__", {"data": [{"fiat": "PKR"}]})]


def test_an_element_of_tens_of_thousands_of_attributes(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """Reading an element's attributes as (name, value) pairs looked each value up by its name, a
    walk of the attributes each: 40,000 attributes took 3.5 s besides the parse, 80,000 16 s. (The
    parse itself, libxml2's, is still quadratic in them: 0.35 s for 20,000, 8 s for 80,000.)"""
    from lxml import etree

    from scanner.detection.document import _PARSER

    def make(n: int) -> bytes:
        attrs = " ".join(f'data-x{i}="v"' for i in range(n))
        return _page(f'<div {attrs} title="Buy USDT with JazzCash">PKR</div>')

    def read_attributes(body: bytes) -> float:
        """CPU time of extraction beyond the parse."""
        parse = _cpu(lambda: etree.fromstring(body, _PARSER))
        return _cpu(lambda: Document("https://x.test/", "text/html", body).extract()) - parse

    result = analyze(Document("https://x.test/", "text/html", make(3)), lexicons, register)
    assert "/html/body/div/@title" in {s.locator for s in result.signals}
    small, big = make(10_000), make(40_000)
    read_attributes(small)
    timings = [read_attributes(small), read_attributes(big)]
    assert timings[1] < 8 * max(timings[0], 0.0) + 0.5, f"4x the attributes must cost about 4x: {timings}"


def test_an_offer_after_the_html_end_tag_is_read_as_a_browser_shows_it(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """libxml2 drops everything after </html>; browsers show it (the HTML standard parses it into the
    body). A page saying "hello" with its whole offer after </html> was cleared."""
    offer = (
        "<h1>Buy USDT with JazzCash and Easypaisa</h1><p>Trade crypto in Pakistan. Deposit PKR 5,000 from"
        " JazzCash, BTC/USDT spot, P2P in PKR.</p>"
    )
    inside = analyze(Document("https://x.test/", "text/html", _page(offer)), lexicons, register)
    for end in ("</body></html>", "</HTML >\n", "</html/>", "</body>\n</html>\n<!-- cached -->\n"):
        body = f"<html><head><title>x</title></head><body><p>hello</p>{end}{offer}".encode()
        after = analyze(Document("https://x.test/", "text/html", body), lexicons, register)
        assert after.verdict == inside.verdict == "flag", end
        assert {s.value for s in after.signals} == {s.value for s in inside.signals}, end


def test_an_offer_behind_thousands_of_nested_elements_is_read(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """libxml2 stops at a nesting depth of 2048 (256 without huge_tree) and drops the rest of the
    page; browsers show it. 3,000 <div> before the offer, closed again or not, made the page clear.
    The page is parsed again nested no deeper than a browser nests it, in time linear in it."""
    offer = "<h1>Buy USDT with JazzCash and Easypaisa</h1><p>Deposit PKR 5,000 from JazzCash, P2P in PKR.</p>"
    inside = analyze(Document("https://x.test/", "text/html", _page(offer)), lexicons, register)

    def open_only(n: int) -> bytes:
        return _page("<div>" * n + offer)

    def closed(n: int) -> bytes:
        return _page("<div>" * n + "</div>" * n + offer)

    def analyse(body: bytes) -> object:
        return analyze(Document("https://x.test/", "text/html", body), lexicons, register)

    for make in (open_only, closed):
        deep = analyze(Document("https://x.test/", "text/html", make(3_000)), lexicons, register)
        assert deep.verdict == inside.verdict == "flag", make.__name__
        assert {s.value for s in deep.signals} == {s.value for s in inside.signals}, make.__name__
        _linear(make, analyse, 5_000)
