"""Pure parts of the shared machinery: Retry-After, content decoding, market symbols."""

from __future__ import annotations

import gzip
from datetime import timedelta
from email.utils import format_datetime

import pytest

from scanner.net.http import decode_body as _decode
from scanner.net.retry_after import retry_after_seconds
from scanner.pollers.markets import _split_symbol
from scanner.store.models import utcnow


def test_retry_after_in_seconds_or_as_an_http_date():
    assert retry_after_seconds("1") == 1.0
    assert retry_after_seconds(" 2.5 ") == 2.5
    later = format_datetime(utcnow() + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(later) or 0) <= 30
    assert retry_after_seconds(format_datetime(utcnow() - timedelta(hours=1), usegmt=True)) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_decoding_refuses_bombs_and_keeps_unknown_encodings_as_they_are():
    body = b'{"a": 1}' * 1000
    assert _decode(gzip.compress(body), "gzip", 10_000) == body
    with pytest.raises(ValueError, match="decoded body larger than 100 bytes"):
        _decode(gzip.compress(body), "gzip", 100)
    # As browsers and the crawl: a body in a coding nobody knows is read as it is (tests/hostile/test_content_codings.py).
    assert _decode(body, "x-unknown", 10_000) == body


def test_market_symbols_split_on_separators_or_the_fiat_suffix():
    assert _split_symbol("BTC/PKR", "PKR") == ("BTC", "PKR")
    assert _split_symbol("USDT_PKR", "PKR") == ("USDT", "PKR")
    assert _split_symbol("ETHPKR", "PKR") == ("ETH", "PKR")
    assert _split_symbol("BTCUSDT", "PKR") == ("BTCUSDT", "")
