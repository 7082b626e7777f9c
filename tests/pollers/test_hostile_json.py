"""API answers a hostile exchange can send that Python's JSON parser does not raise JSONDecodeError
for: they fail the poll with a clear message (a PollError naming the URL), never an unexpected crash."""

from __future__ import annotations

import pytest

from scanner.pollers.session import Fetched, PollError


def _fetched(body: bytes) -> Fetched:
    return Fetched("GET", "http://api.test/p2p", 200, "OK", [("Content-Type", "application/json")], body)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON: nested too deep to parse"),
        (b'{"data": [{"price": ' + b"9" * 5_000 + b"}]}", "malformed JSON: Exceeds the limit"),
    ],
)
def test_json_the_parser_refuses_otherwise_fails_the_poll_clearly(body: bytes, problem: str) -> None:
    with pytest.raises(PollError) as raised:
        _fetched(body).json()
    assert problem in str(raised.value)
    assert "http://api.test/p2p" in str(raised.value)


def test_a_deep_but_parseable_answer_is_still_read() -> None:
    assert _fetched(b'{"data": ' + b"[" * 50 + b"1" + b"]" * 50 + b"}").json()["data"][0]


def test_answers_the_parser_takes_are_read_as_a_browser_reads_them_or_refused_by_field() -> None:
    """A byte-order mark is skipped and a duplicate key's last value wins (as JSON.parse does); NaN,
    Infinity and 1e999999 parse, and reading one as a number is refused with the field named."""
    from scanner.pollers.base import Fields, SchemaError

    assert _fetched(b'\xef\xbb\xbf{"data": 1}').json() == {"data": 1}
    assert _fetched(b'{"price": "1", "price": "2"}').json() == {"price": "2"}
    fetched = _fetched(b'{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e999999, "e": 7}')
    fields = Fields(fetched.json(), "response", fetched)
    for key in "abcd":
        with pytest.raises(SchemaError, match=f"response: field '{key}' is not a finite number"):
            fields.num(key)
    assert fields.int("e") == 7
    # A count PostgreSQL's INTEGER cannot hold, a number beyond any price or quantity: refused by field.
    fetched = _fetched(b'{"orders": 2147483648, "price": "1e19"}')
    fields = Fields(fetched.json(), "response", fetched)
    with pytest.raises(SchemaError, match="field 'orders' is out of range for a count"):
        fields.int("orders")
    with pytest.raises(SchemaError, match="field 'price' is out of range"):
        fields.num("price")
