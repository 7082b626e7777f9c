"""Detection and the officers' text view read a captured page with the same characters.

Before: detection decoded the body (HTTP header, then <meta>) and lxml decoded it a second time from
the page's own <meta charset>, so a page whose <meta> contradicts its header was read as mojibake
(its Urdu vocabulary never matched); the officers' view decoded it a third way (BeautifulSoup's
guess), so the snippets shown next to a capture were not in the text beside them.
"""

from __future__ import annotations

import time

import pytest

from scanner.config import Config
from scanner.detection import Document, analyze
from scanner.detection.rules import lexicons_for
from scanner.review.captures import body_text

# Arabic-script Urdu as a Windows-1256 page would spell it (ي for ی: the code page has no U+06CC).
URDU = "USDT خريد بٹ کوائن روپے ميں. Easypaisa"


@pytest.fixture(scope="module")
def lexicons():  # type: ignore[no-untyped-def]
    return lexicons_for(Config())


@pytest.mark.parametrize(
    ("meta", "header"),
    [
        ("iso-8859-1", "text/html; charset=windows-1256"),  # the <meta> lies, the header is right
        ("utf-8", "text/html; charset=windows-1256"),
        ("windows-1256", "text/html"),  # only the <meta> says it
    ],
)
def test_a_page_whose_meta_charset_disagrees_is_read_once_the_same_way(lexicons, meta: str, header: str) -> None:
    body = f'<html><head><meta charset="{meta}"></head><body><p>{URDU}</p></body></html>'.encode("cp1256")

    analysis = analyze(Document("http://desk.test/", header, body), lexicons, None)
    officers_see = body_text(body, header)

    assert "بٹ کوائن" in {s.value for s in analysis.signals}  # the Urdu term, not mojibake
    assert URDU in officers_see
    for signal in analysis.signals:
        assert signal.snippet.strip() in officers_see, signal.kind


def test_a_page_without_any_charset_reads_as_utf8_in_both(lexicons) -> None:
    body = f"<html><body><p>{URDU.replace('ي', 'ی')} JazzCash</p></body></html>".encode()
    analysis = analyze(Document("http://desk.test/", "text/html", body), lexicons, None)
    officers_see = body_text(body, "text/html")
    assert {"JazzCash", "Easypaisa"} <= {s.value for s in analysis.signals}
    for signal in analysis.signals:
        assert signal.snippet.strip() in officers_see, signal.kind


def test_a_meta_charset_behind_a_run_of_whitespace_is_read_in_linear_time(lexicons) -> None:
    """A "charset=" followed by whitespace and no name was read by backtracking repeats: time quadratic
    in the run (0.15 s for a page head of 4,000 spaces, on every page a site serves so). The <meta
    charset> after it is still the one the page is read with."""
    timings = []
    for spaces in (800, 3_200):
        head = '<meta name="x" content="charset=' + " " * spaces + '"><meta charset="windows-1256">'
        body = f"<html><head>{head}</head><body><p>{URDU}</p></body></html>".encode("cp1256")
        started = time.process_time()  # CPU time: other load on the machine must not fail the test
        for _ in range(50):
            analysis = analyze(Document("http://desk.test/", "text/html", body), lexicons, None)
        timings.append(time.process_time() - started)
        assert any(s.kind == "urdu_crypto_term" for s in analysis.signals)
    assert timings[1] < 8 * timings[0] + 0.5, f"4x the run must cost about 4x the time: {timings}"


@pytest.mark.parametrize(
    ("label", "where"),
    [("cp037", "header"), ("cp500", "meta"), ("undefined", "header"), ("punycode", "meta"), ("zlib", "header")],
)
def test_a_charset_label_browsers_ignore_is_ignored(lexicons, label: str, where: str) -> None:
    """Python has codecs no browser knows. A page naming EBCDIC (cp037, cp500) was read as noise and
    cleared, though every browser shows it as UTF-8; "undefined" and "punycode" made detection raise."""
    page = f"<html><head></head><body><p>{URDU.replace('ي', 'ی')} JazzCash</p></body></html>"
    header = f"text/html; charset={label}" if where == "header" else "text/html"
    if where == "meta":
        page = page.replace("<head>", f'<head><meta charset="{label}">')
    body = page.encode()
    analysis = analyze(Document("http://desk.test/", header, body), lexicons, None)
    assert {"JazzCash", "Easypaisa"} <= {s.value for s in analysis.signals}
    assert "JazzCash" in body_text(body, header)


def test_a_label_browsers_know_and_python_does_not_is_read_with_the_standard_encoding(lexicons) -> None:
    """x-cp1256 is the WHATWG label of windows-1256; Python has no codec of that name (was ignored)."""
    body = f"<html><body><p>{URDU}</p></body></html>".encode("cp1256")
    analysis = analyze(Document("http://desk.test/", "text/html; charset=x-cp1256", body), lexicons, None)
    assert "بٹ کوائن" in {s.value for s in analysis.signals}
