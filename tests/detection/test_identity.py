"""Page identity (mirror grouping): host names are masked out of the text digest, on any input in linear time."""

from __future__ import annotations

import time

from lxml import etree

from scanner.detection import Document
from scanner.detection.identity import PageIdentity, page_identity


def _page(text: str, url: str = "https://rupeex.test/") -> Document:
    html = f"<html><head><title>Deposit | RupeeX</title></head><body><p>{text}</p></body></html>"
    return Document(url, "text/html; charset=utf-8", html.encode())


def _digest(text: str, url: str = "https://rupeex.test/") -> str:
    identity = page_identity(_page(text, url))
    assert identity is not None
    return identity.text_digest


def test_a_mirror_that_rewrote_its_host_names_has_the_same_text_digest() -> None:
    original = "Write to support@rupeex.com or visit www.rupeex.com. Deposits via JazzCash."
    mirror = "Write to support@rupeex-pk.net or visit www.rupeex-pk.net. Deposits via JazzCash."
    assert _digest(original) == _digest(mirror, "https://rupeex-pk.test/")
    assert _digest(original) != _digest("Write to support@rupeex.com. Deposits via Easypaisa.")
    # A full stop is not a host name: the words around it still count.
    assert _digest("Deposit now. Withdraw later.") != _digest("Deposit now. Withdraw never.")


def test_host_names_in_long_chains_of_labels_are_masked_in_linear_time() -> None:
    """A page can carry a megabyte of "a.a.a.a…": matching host names there label by label took time
    quadratic in the chain (3 s for 20 KB, 50 s for 80 KB, hours for 1 MB), in the detection worker that every
    crawled page goes through. Masked the same way: a chain that ends in a host name is one."""
    chain = "a." * 5_000
    assert _digest(chain + "rupeex.com") == _digest(chain + "rupeex-pk.net")
    assert _digest(chain + "a") != _digest(chain + "b")  # no top-level domain: nothing masked

    t0 = time.process_time()  # CPU time: other load on the machine must not fail the test
    page_identity(_page("x.aa." + "a." * 10_000 + " co-op." * 2_500))
    t1 = time.process_time()
    page_identity(_page("x.aa." + "a." * 40_000 + " co-op." * 10_000))
    t2 = time.process_time()
    assert (t2 - t1) < 8 * (t1 - t0) + 0.5, "4x the input must not cost much more than 4x the time"


def test_a_title_padded_with_whitespace_is_split_in_linear_time() -> None:
    """The brand is the last part of a separated title ("Deposit | RupeeX"). Splitting tried the
    separator at every space of a run of them, each try reading the run to its end: a title padded
    with 64,000 spaces took 20 s, a megabyte of them hours. The brand is still found behind the padding."""

    def brand(title: str) -> str:
        html = f'<html><head><meta charset="utf-8"><title>{title}</title></head><body><p>Deposit</p></body></html>'
        identity = page_identity(Document("https://rupeex.test/", "text/html; charset=utf-8", html.encode()))
        assert identity is not None
        return identity.brand

    timings = []
    for spaces in (16_000, 64_000):
        padding = "\u00a0 " * (spaces // 2)
        started = time.process_time()  # CPU time: other load on the machine must not fail the test
        assert brand(f"Deposit{padding}x |{padding}RupeeX") == "rupeex"
        timings.append(time.process_time() - started)
    assert timings[1] < 8 * timings[0] + 0.5, f"4x the title must cost about 4x the time: {timings}"


def test_identity_reads_the_page_as_detection_decoded_it() -> None:
    """A page whose charset only the HTTP header names: the brand officers see as the platform's name
    is the Urdu title, not its UTF-8 bytes read as Latin-1 (as when identity parsed the bytes itself)."""
    title = "روپی ایکس"
    html = f"<html><head><title>ڈپازٹ | {title}</title></head><body><p>جاز کیش سے ڈپازٹ</p></body></html>"
    identity = page_identity(Document("https://rupeex.test/", "text/html; charset=utf-8", html.encode()))
    assert identity is not None and identity.brand == title


def test_identity_leaves_detections_tree_as_it_was() -> None:
    """Scripts, styles, noscript and template content are not text a mirror shows; identity reads the
    tree detection parsed (once per page), whose signals locate elements by position in it."""
    html = (
        "<html><body><p>Buy USDT<script>var x = 'hidden';</script> with JazzCash<noscript><script>y()</script>"
        "no js</noscript> today<template><b>later</b></template></p><style>p {}</style></body></html>"
    )
    document = _page_document(html)
    tree = document.html_root()
    before = etree.tostring(tree)
    plain = _page_document("<html><body><p>Buy USDT with JazzCash today</p></body></html>")
    assert _identity(document).text_digest == _identity(plain).text_digest
    assert etree.tostring(tree) == before


def _page_document(html: str) -> Document:
    return Document("https://rupeex.test/", "text/html; charset=utf-8", html.encode())


def _identity(document: Document) -> PageIdentity:
    identity = page_identity(document)
    assert identity is not None
    return identity
