"""Inline state blobs: front-end state shipped in script text is read as JSON, with JSON pointers."""

from __future__ import annotations

import json
import time

from scanner.detection import Document, analyze
from scanner.detection.document import MAX_JSON_BYTES, state_blobs


def _page(script: str, attrs: str = "") -> bytes:
    return (
        "<!DOCTYPE html><html><head><title>Exchange</title></head><body><div id=\"app\"></div>"
        f"<script{attrs}>{script}</script></body></html>"
    ).encode()


def _locators(body: bytes, lexicons, register) -> dict[str, str]:  # type: ignore[no-untyped-def]
    result = analyze(Document("https://spa.example.test/", "text/html", body), lexicons, register)
    return {s.value: s.locator for s in result.signals}


REDUX = """
  window.dataLayer = window.dataLayer || [];
  window.__INITIAL_STATE__ = {"p2p":{"filters":{"asset":"USDT","fiat":"PKR"},"ads":[{"advNo":"11562847",
  "price":"289.70","tradeMethods":[{"identifier":"EasypaisaPK","tradeMethodName":"Easypaisa"}],
  "advertiser":{"nickName":"KhanTraders"}}]},"i18n":{"locale":"en"}};
  (function(){var s=document.createElement('script');s.src='/static/app.3f9c.js';document.body.appendChild(s);})();
"""


def test_redux_initial_state_is_read_with_pointers(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    locators = _locators(_page(REDUX), lexicons, register)
    assert locators["PKR fiat field"] == "/html/body/script[window.__INITIAL_STATE__]#/p2p/filters/fiat"
    assert locators["Easypaisa"] == "/html/body/script[window.__INITIAL_STATE__]#/p2p/ads/0/tradeMethods/0/identifier"


def test_same_state_in_plain_javascript_is_not_read(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """A local variable is not a state blob: its fields are not signals (the script text is not
    searched as text either, as before)."""
    locators = _locators(_page(REDUX.replace("window.__INITIAL_STATE__", "var initialState")), lexicons, register)
    assert "PKR fiat field" not in locators and "Easypaisa" not in locators


def test_nuxt_state_and_its_javascript_form(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    nuxt = ('window.__NUXT__={"layout":"default","data":[{"page":{"title":"Buy USDT with JazzCash",'
            '"quoteCurrency":"PKR"}}],"state":{"locale":"ur"},"serverRendered":true};')
    locators = _locators(_page(nuxt), lexicons, register)
    assert locators["JazzCash"] == "/html/body/script[window.__NUXT__]#/data/0/page/title"
    assert locators["PKR fiat field"] == "/html/body/script[window.__NUXT__]#/data/0/page/quoteCurrency"
    # Nuxt 2 minified form: a function call, not JSON; skipped without error
    iife = 'window.__NUXT__=(function(a,b){return {data:[{page:{title:"Buy USDT with JazzCash"}}]}}(null,"PKR"));'
    assert "JazzCash" not in _locators(_page(iife), lexicons, register)


def test_next_app_router_flight_pushes(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    flight = json.dumps('4:["$","main",null,{"children":["$","p",null,{"children":"Deposit via JazzCash and '
                        'get USDT in minutes"}]}]\n')
    scripts = (f"<script>(self.__next_f=self.__next_f||[]).push([0])</script>"
               f"<script>self.__next_f.push([1,{flight}])</script>")
    body = ("<html><body>" + scripts + "</body></html>").encode()
    locators = _locators(body, lexicons, register)
    assert locators["JazzCash"] == "/html/body/script[2][self.__next_f.push]#/1"


def test_json_parse_of_a_string_literal(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    state = {"market": {"symbol": "BTC_PKR", "quoteCurrency": "PKR"}, "pay": ["SadaPay"]}
    double = f"window.__PRELOADED_STATE__ = JSON.parse({json.dumps(json.dumps(state))});"
    locators = _locators(_page(double), lexicons, register)
    assert locators["PKR fiat field"] == "/html/body/script[window.__PRELOADED_STATE__]#/market/quoteCurrency"
    assert locators["SadaPay"] == "/html/body/script[window.__PRELOADED_STATE__]#/pay/0"
    single = "window['__APOLLO_STATE__'] = JSON.parse('{\"Ad:1\":{\"method\":\"Raast\",\"note\":\"it\\'s fast\"}}');"
    locators = _locators(_page(single, ' type="text/javascript"'), lexicons, register)
    assert locators["Raast"] == "/html/body/script[window.__APOLLO_STATE__]#/Ad:1/method"


def test_script_id_is_the_locator_prefix_and_other_types_are_not_read(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    script = 'window.__STATE__ = {"wallet":"NayaPay"};'
    locators = _locators(_page(script, ' id="state"'), lexicons, register)
    assert locators["NayaPay"] == '//script[@id="state"][window.__STATE__]#/wallet'
    assert "NayaPay" not in _locators(_page(script, ' type="text/template"'), lexicons, register)


def test_blobs_are_bounded_like_json_scripts() -> None:
    blob = 'window.__INITIAL_STATE__ = {"fiat": "PKR"};'
    assert list(state_blobs(blob)) == [("window.__INITIAL_STATE__", {"fiat": "PKR"})]
    assert list(state_blobs(blob, limit=len(blob) - 1)) == []
    assert len(blob) < MAX_JSON_BYTES
    deep = "window.__X__ = " + "[" * 100_000 + "]" * 100_000 + ";"
    assert list(state_blobs(deep)) == []  # too deep to parse: skipped, not raised
    broken = 'window.__X__ = {"a": 1,};  window.__Y__ = {"b": "Raast"};'
    assert list(state_blobs(broken)) == [("window.__Y__", {"b": "Raast"})]


def test_a_script_padded_with_assignments_is_read_in_linear_time(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """Every "window.a=[" that is no JSON failed to decode with an error that counts the lines before
    it: a script of them took time quadratic in its length (12 s for 800 KB, about 20 minutes for the
    8 MB a script may hold). The state behind them is still read, with its pointers."""
    timings = []
    for units in (20_000, 80_000):
        body = _page("window.a=[" * units + REDUX)
        started = time.process_time()  # CPU time: other load on the machine must not fail the test
        locators = _locators(body, lexicons, register)
        timings.append(time.process_time() - started)
        assert locators["PKR fiat field"] == "/html/body/script[window.__INITIAL_STATE__]#/p2p/filters/fiat"
    assert timings[1] < 8 * timings[0] + 0.5, f"4x the script must cost about 4x the time: {timings}"
