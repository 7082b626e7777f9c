"""An element with tens of thousands of attributes: libxml2 reads them in time quadratic in their number
(8 s for 80,000, tens of minutes for a 10 MB page), so every parse of a fetched page caps them first."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from scrapy.http import HtmlResponse, Request

from scanner.config import Config
from scanner.crawl.attribute_cap import AttributeCapMiddleware
from scanner.markup import MAX_ATTRIBUTES, cap_attributes
from scanner.observation import rules_for

SHAPES = {
    "quoted": ('a{0}="x"', " "),
    "bare": ("a{0}", " "),
    "no space between": ('a{0}="x"', ""),
    "'>' in quoted values": ('a{0}=">"', " "),
    "unquoted on new lines": ("a{0}=v{0}", "\n"),
    "junk tokens between": ('a{0} "junk b{0}=">"', " "),
}


def _bomb(attributes: int, shape: str) -> str:
    each, between = SHAPES[shape]
    crowd = between.join(each.format(i) for i in range(attributes))
    return f"<html><body><div {crowd}>Buy USDT with JazzCash</div><p>Deposit in PKR via Easypaisa</p></body></html>"


def _most_attributes(markup: str) -> int:
    root = etree.fromstring(markup, etree.HTMLParser())
    return max(len(element.attrib) for element in root.iter() if isinstance(element.tag, str))


@pytest.mark.parametrize("shape", SHAPES)
def test_a_crowded_element_keeps_its_first_attributes_and_the_page_goes_on(shape: str) -> None:
    capped = cap_attributes(_bomb(20_000, shape))
    assert _most_attributes(capped) <= MAX_ATTRIBUTES + 1
    text = etree.fromstring(capped, etree.HTMLParser()).xpath("string(//body)")
    assert "Buy USDT with JazzCash" in text and "Deposit in PKR via Easypaisa" in text
    assert cap_attributes(_bomb(20_000, shape).encode()) == capped.encode()


def test_pages_without_crowded_elements_are_returned_as_they_are() -> None:
    page = '<html><body><a href="/p2p" class="btn" data-x="1" title="Buy">P2P</a>' + "<p id=x>t</p>" * 2000
    assert cap_attributes(page) is page
    assert cap_attributes(page.encode()) == page.encode()


def test_detection_of_a_page_with_a_crowded_element_takes_linear_time() -> None:
    rules = rules_for(Config())
    timings = []
    for attributes in (20_000, 80_000):
        body = _bomb(attributes, "quoted").encode()
        started = time.process_time()  # CPU time: other load on the machine must not fail the test
        seen = rules.observe("https://crowded.test/", "text/html; charset=utf-8", body)
        timings.append(time.process_time() - started)
        values = {signal.value.lower() for signal in seen.analysis.signals}
        assert {"jazzcash", "easypaisa"} <= values  # the text after the crowded element is read
    assert timings[1] < 8 * timings[0] + 0.5, f"4x the attributes must cost about 4x the time: {timings}"


def test_the_crawl_parses_the_capped_page_and_keeps_its_capture() -> None:
    request = Request("https://crowded.test/", meta={"capture_id": 7})
    body = _bomb(20_000, "'>' in quoted values").encode()
    response = HtmlResponse(request.url, body=body, request=request, headers={"Content-Type": "text/html"})
    parsed = AttributeCapMiddleware().process_response(request, response)
    assert parsed.meta["capture_id"] == 7 and "pkscan-markup-prepared" in parsed.flags
    assert _most_attributes(parsed.text) <= MAX_ATTRIBUTES + 1
    assert "Deposit in PKR via Easypaisa" in parsed.xpath("string(//body)").get()
    plain = HtmlResponse(request.url, body=b"<html><body><p>t</p></body></html>", request=request)
    assert AttributeCapMiddleware().process_response(request, plain) is plain


_END_TAG_PIECES = ["</html>", "</HTML", "</HtMl ", "</html-x", "</htm", "</html:", "</html\u212a", "</html\u017f",
                   "<", "/", "h", "ml>", " ", "é", "\u212a", "</html/", "</html\u0131", "</ht", "</\u0148tml", "😀"]


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.sampled_from(_END_TAG_PIECES), max_size=10), as_bytes=st.booleans())
def test_html_end_tag_is_found_where_the_case_insensitive_regex_finds_it(pieces: list[str], as_bytes: bool) -> None:
    """The ``</html`` end tag `keep_after_html_end` looks for is the one re's case-insensitive search
    finds (its letters in any case, not followed by a name character; str and bytes)."""
    from scanner.markup import _HTML_END, _html_end

    markup: str | bytes = "".join(pieces)
    which = 0
    if as_bytes:
        markup, which = markup.encode(), 1  # type: ignore[union-attr]
    expected = _HTML_END[which].search(markup)  # type: ignore[arg-type]
    found = _html_end(markup, which)
    assert (found and found.span()) == (expected and expected.span())
