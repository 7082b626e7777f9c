"""Text the investigated people wrote, shown to officers as text: nothing in it drives a terminal."""

from __future__ import annotations

from scanner.printable import visible


def test_urdu_and_persian_words_spelt_with_joiners_are_shown_as_written() -> None:
    for word in ("بٹ کوائن", "می\u200cخواهم", "ٹیکس\u200cفری", "👩\u200d💻"):
        assert visible(word) == word


def test_terminal_controls_and_bidi_overrides_are_written_out() -> None:
    assert visible("Desk \x1b[2J\u202eevil\nnext") == "Desk \\x1b[2J\\u202eevil\\x0anext"
    assert visible("a\u2066b\u200bc") == "a\\u2066b\\u200bc"  # isolates and zero-width spaces too
