"""Text the investigated people wrote, shown to officers as text: nothing in it drives a terminal."""

from __future__ import annotations

from scanner.printable import storable, visible


def test_urdu_and_persian_words_spelt_with_joiners_are_shown_as_written() -> None:
    for word in ("بٹ کوائن", "می\u200cخواهم", "ٹیکس\u200cفری", "👩\u200d💻"):
        assert visible(word) == word


def test_terminal_controls_and_bidi_overrides_are_written_out() -> None:
    assert visible("Desk \x1b[2J\u202eevil\nnext") == "Desk \\x1b[2J\\u202eevil\\x0anext"
    assert visible("a\u2066b\u200bc") == "a\\u2066b\\u200bc"  # isolates and zero-width spaces too


def test_storable_text_replaces_nul_and_lone_surrogates_one_for_one() -> None:
    assert storable("Rupee\x00X\ud800\udc00!") == "Rupee\ufffdX\ufffd\ufffd!"
    for text in ("plain", "بٹ کوائن 👩\u200d💻", "a\x1bb"):  # other text, controls included, as it is
        assert storable(text) is text
