"""The officers' text view of a capture marks the snippets of its signals, on any page in linear time."""

from __future__ import annotations

import time

from scanner.review.captures import highlight


def _marked(text: str, needles: list[str]) -> list[str]:
    return [segment.text for segment in highlight(text, needles) if segment.mark]


def test_snippets_are_marked_whatever_their_case_and_whitespace() -> None:
    text = "Fees: none. Deposit  PKR\nwith JAZZCASH instantly; PKR 500 minimum"
    # The longest snippet at the leftmost place wins; a shorter one is marked where it stands alone.
    assert _marked(text, ["PKR", "deposit pkr with JazzCash…"]) == ["Deposit  PKR\nwith JAZZCASH", "PKR"]
    assert _marked(text, ["Withdraw", "   "]) == []
    assert "".join(s.text for s in highlight(text, ["pkr"])) == text


def test_a_repetitive_page_with_many_snippets_is_marked_in_linear_time() -> None:
    """Every snippet was tried at every position of the text, each try reading as far as the text agreed
    with it: a page of "a a a …" whose signals' snippets are "a a a … JazzCash" took 6.9 s for 400,000
    characters and 24 snippets, minutes for the hundreds of signals a page may have. They are still marked."""
    timings = []
    for size in (1, 4):
        text = "a " * 50_000 * size + "a " * 99 + "JazzCash3 end"
        needles = ["a " * 99 + f"JazzCash{i}" for i in range(6 * size)]
        started = time.process_time()  # CPU time: other load on the machine must not fail the test
        marked = _marked(text, needles)
        timings.append(time.process_time() - started)
        assert marked == ["a " * 99 + "JazzCash3"]
    assert timings[1] < 8 * timings[0] + 0.5, (
        f"4x the page and its signals must cost about 4x the time: {timings}"
    )
