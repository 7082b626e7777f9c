"""Each adapter against recorded real responses (tests/discovery/recorded, see its README), served
from loopback: a field the real service renames fails here, naming the field, before production."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import Session, select

from scanner.config import Config, SourceTarget
from scanner.discovery.runner import DiscoveryOutcome, run_discovery
from scanner.store.db import open_store
from scanner.store.models import Candidate
from tests.pollers.conftest import Sleeps, make_config_dir

from .conftest import RECORDED


class Replay(ThreadingHTTPServer):
    """Answers each path with a recorded body; ``routes[path] = [(status, headers, body), ...]`` are
    answered in turn (the last one repeats)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self.requests: list[str] = []

    def serve(self, path: str, body: bytes, content_type: str = "application/json", status: int = 200,
              headers: dict[str, str] | None = None) -> None:  # fmt: skip
        self.routes.setdefault(path, []).append(
            (status, {"Content-Type": content_type, **(headers or {})}, body)
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Replay

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        path = self.path.split("?")[0]
        self.server.requests.append(self.path)
        answers = self.server.routes.get(path)
        status, headers, body = (
            answers.pop(0) if answers and len(answers) > 1 else (answers or [(404, {}, b"")])[0]
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def replay() -> Iterator[Replay]:
    server = Replay()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def recorded_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    directory = make_config_dir(tmp_path, egress={"allow_networks": ["127.0.0.1/32"]})
    # words that the recorded names hold, standing in for the crypto and Pakistan words
    words = {
        "crypto": ["kood", "iqif", "chat"],
        "pakistan": ["ari", "google", "pk"],
        "app_terms": ["finance"],
    }
    (directory / "discovery_words.yaml").write_text(yaml.safe_dump(words))
    return Config(directory, env={"SCANNER_DATA_DIR": str(tmp_path / "data")})


def _recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


@pytest.fixture
def run(recorded_config: Config, replay: Replay) -> Callable[..., DiscoveryOutcome]:
    def go(adapter: str, path: str = "", sleeps: Sleeps | None = None, **fields: Any) -> DiscoveryOutcome:
        target = SourceTarget.model_validate(
            {
                "name": f"rec-{adapter}".replace("_", "-"),
                "adapter": adapter,
                "base_url": replay.base + path,
                **fields,
            }
        )
        return run_discovery(
            recorded_config, target, trigger="test", sleep=sleeps if sleeps is not None else Sleeps()
        )

    return go


def _stored(config: Config) -> list[str]:
    with Session(open_store(config)) as session:
        return sorted(c.key for c in session.exec(select(Candidate)))


def test_coingecko_reads_the_recorded_exchanges_and_tickers(run, replay, recorded_config):
    replay.serve("/api/v3/exchanges", _recorded("coingecko_exchanges.json"))
    tickers = json.loads(_recorded("coingecko_tickers_binance.json"))
    replay.serve("/api/v3/exchanges/binance/tickers", json.dumps(tickers).encode())
    replay.serve(
        "/api/v3/exchanges/bybit_spot/tickers", json.dumps({"name": "Bybit", "tickers": []}).encode()
    )
    outcome = run("coingecko", "/api/v3")
    assert outcome.ok, outcome.error
    assert outcome.leads == []  # USDT targets only
    # the same recorded ticker, quoted in PKR: the exchange's url is the lead
    tickers["tickers"][0]["target"] = "PKR"
    replay.routes["/api/v3/exchanges/binance/tickers"] = [
        (200, {"Content-Type": "application/json"}, json.dumps(tickers).encode())
    ]
    outcome = run("coingecko", "/api/v3")
    assert outcome.ok and [lead.url for lead in outcome.leads] == ["https://www.binance.com/"]
    assert "BTC/PKR" in outcome.leads[0].reason and outcome.new == ["binance.com"]


def test_coingecko_renamed_ticker_field_names_the_field(run, replay, recorded_config):
    replay.serve("/api/v3/exchanges", _recorded("coingecko_exchanges.json"))
    renamed = _recorded("coingecko_tickers_binance.json").replace(b'"target":', b'"quote":')
    replay.serve("/api/v3/exchanges/binance/tickers", renamed)
    outcome = run("coingecko", "/api/v3")
    assert not outcome.ok
    assert "response.tickers[0]: missing field 'target'" in outcome.error
    assert _stored(recorded_config) == []


def test_coingecko_exchange_without_url_field_fails_before_any_lead(run, replay, recorded_config):
    exchanges = json.loads(_recorded("coingecko_exchanges.json"))
    del exchanges[1]["url"]
    replay.serve("/api/v3/exchanges", json.dumps(exchanges).encode())
    outcome = run("coingecko", "/api/v3")
    assert not outcome.ok and "response[1]: missing field 'url'" in outcome.error


def test_crtsh_reads_recorded_rows_strips_wildcards_and_dedupes(run, replay, recorded_config):
    replay.serve("/", _recorded("crtsh.json"))
    outcome = run("crtsh", "/", queries=["%kood%"])
    assert outcome.ok, outcome.error
    assert [lead.url for lead in outcome.leads] == ["http://koodari.dev/"]  # *.koodari.dev, gpt4. folded in
    assert "valid from 2023-11-01" in outcome.leads[0].reason  # the earliest certificate
    assert _stored(recorded_config) == ["koodari.dev"]
    renamed = _recorded("crtsh.json").replace(b'"name_value"', b'"names"')
    replay.routes["/"] = [(200, {"Content-Type": "application/json"}, renamed)]
    broken = run("crtsh", "/", queries=["%kood%"])
    assert not broken.ok and "missing field 'name_value'" in broken.error


def test_itunes_reads_recorded_results_as_apple_sends_them(run, replay, recorded_config):
    replay.serve("/search", _recorded("itunes_search.json"), content_type="text/javascript; charset=utf-8")
    outcome = run("itunes", "/", queries=["finance"])
    assert outcome.ok, outcome.error
    # both apps hold a "crypto" test word (iqif, chat); the seller's site is the lead
    assert sorted(lead.url for lead in outcome.leads) == [
        "http://www.iqif.info/",
        "https://workspace.google.com/products/chat/",
    ]
    assert any("'Google Chat' (com.google.Dynamite) by Google LLC" in lead.reason for lead in outcome.leads)
    assert "country=pk" in replay.requests[0] and "entity=software" in replay.requests[0]
    renamed = _recorded("itunes_search.json").replace(b'"trackViewUrl"', b'"trackUrl"')
    replay.routes["/search"] = [(200, {"Content-Type": "text/javascript"}, renamed)]
    broken = run("itunes", "/", queries=["finance"])
    assert not broken.ok and "missing field 'trackViewUrl'" in broken.error


def test_telegram_reads_the_recorded_preview_markup(run, replay, recorded_config):
    replay.serve("/s/telegram", _recorded("telegram_preview.html"), content_type="text/html; charset=utf-8")
    outcome = run("telegram", "/", queries=["telegram"], max_requests=1)
    assert outcome.ok, outcome.error
    urls = sorted(lead.url for lead in outcome.leads)
    # message links (example.com, u.habr.com) and channels named in messages (@durov); the budget of
    # one request keeps the run from reading @durov's channel
    assert urls == [f"{replay.base}/durov", "https://example.com", "https://u.habr.com/OVsYg"]
    assert all("'Telegram News', 9.87M subscribers" in lead.reason for lead in outcome.leads)
    assert outcome.notes == ["stopped at max_requests=1"]
    changed = _recorded("telegram_preview.html").replace(
        b"tgme_channel_info_header_title", b"tgme_header_title"
    )
    replay.routes["/s/telegram"] = [(200, {"Content-Type": "text/html"}, changed)]
    broken = run("telegram", "/", queries=["telegram"])
    assert not broken.ok and "tgme_channel_info_header_title" in broken.error


def test_a_recorded_rate_limit_is_honoured_through_the_shared_client(run, replay, recorded_config):
    replay.serve("/", b'{"error": "rate limited"}', status=429, headers={"Retry-After": "2"})
    replay.serve("/", _recorded("crtsh.json"))
    sleeps = Sleeps()
    outcome = run("crtsh", "/", sleeps=sleeps, queries=["%kood%"])
    assert outcome.ok, outcome.error
    assert 2.0 in sleeps and len(replay.requests) == 2


def test_coinpaprika_reads_the_recorded_exchange_list(run, replay, recorded_config):
    exchanges = json.loads(_recorded("coinpaprika_exchanges.json"))
    replay.serve("/v1/exchanges", json.dumps(exchanges).encode())
    assert run("coinpaprika", "/v1").leads == []  # USD only
    exchanges[0]["fiats"].append({"name": "Pakistani Rupee", "symbol": "PKR"})
    replay.routes["/v1/exchanges"] = [
        (200, {"Content-Type": "application/json"}, json.dumps(exchanges).encode())
    ]
    outcome = run("coinpaprika", "/v1")
    assert outcome.ok and [lead.url for lead in outcome.leads] == ["https://www.binance.com/"]
    assert "CoinPaprika lists Binance with fiat PKR" in outcome.leads[0].reason
    renamed = _recorded("coinpaprika_exchanges.json").replace(b'"links"', b'"urls"')
    replay.routes["/v1/exchanges"] = [(200, {"Content-Type": "application/json"}, renamed)]
    broken = run("coinpaprika", "/v1")
    assert not broken.ok and "response[0]: missing field 'links'" in broken.error


def test_googleplay_reads_the_recorded_detail_page(run, replay, recorded_config):
    from scanner.findings import ensure_platform

    with Session(open_store(recorded_config)) as session:
        ensure_platform(session, "play.google.com/store/apps/details?id=com.mojang.minecraftpe")
        session.commit()
    page = _recorded("googleplay_details.html")
    replay.serve("/store/apps/details", page, content_type="text/html; charset=utf-8")
    outcome = run("googleplay", "/")
    assert outcome.ok, outcome.error
    # the developer's website from the page's JSON-LD, the install figure from its "Downloads" block
    assert [lead.url for lead in outcome.leads] == ["http://help.mojang.com"]
    assert (
        "'Minecraft' (com.mojang.minecraftpe, by Mojang, 50M+ downloads, game_arcade)"
        in outcome.leads[0].reason
    )
    assert [r.split("?")[1] for r in replay.requests] == [
        "id=com.mojang.minecraftpe&hl=en&gl=PK", "id=com.mojang.minecraftpe&hl=ur&gl=PK",
    ]  # fmt: skip
    renamed = page.replace(b'"author":', b'"publisher":')
    replay.routes["/store/apps/details"] = [(200, {"Content-Type": "text/html"}, renamed)]
    broken = run("googleplay", "/")
    assert not broken.ok and "missing field 'author'" in broken.error
    empty = page.split(b'<script type="application/ld+json"')[0] + b"</head><body></body></html>"
    replay.routes["/store/apps/details"] = [(200, {"Content-Type": "text/html"}, empty)]
    broken = run("googleplay", "/")
    assert not broken.ok and "no JSON-LD SoftwareApplication block" in broken.error
    replay.routes["/store/apps/details"] = [
        (429, {"Content-Type": "text/html", "Retry-After": "3"}, b"<html>Too Many Requests</html>"),
        (200, {"Content-Type": "text/html"}, page),
    ]
    sleeps = Sleeps()
    assert run("googleplay", "/", sleeps=sleeps).ok and 3.0 in sleeps


BNM = "/financial-consumer-alert-list"


def test_warning_list_reads_the_recorded_bnm_alert_list(run, replay, recorded_config):
    page = _recorded("bnm_alert_list.html")
    replay.serve(BNM, page, content_type="text/html;charset=UTF-8")
    outcome = run("warning_list", BNM)
    assert outcome.ok, outcome.error
    # every address in the Website cells, however the list writes them (bullets, commas, spaces,
    # "Website:" labels, no scheme), once per platform; channels are leads, group invites and a bare
    # facebook.com/profile.php?id=… are not platforms, an empty cell names none
    assert sorted(outcome.new) == [
        "al-lhsan.com", "berjayaforex.com", "dollarsmarkets.my", "facebook.com/pollywood-pte-ltd-2747462042880450",
        "facebook.com/pollywoodhq", "madinahmining.com", "polly.academy", "pollywood.asia",
        "quantumcapitalprogram.com", "raisefx.com", "secure.preferredtrusts",  # as listed; a crawl finds no site
        "t.me/https_investklmly", "t.me/invest_klm", "t.me/lnvest_kl_malaysla", "t.me/madinahmining",
    ]  # fmt: skip
    assert "1 links to a hosting site without a page or channel of it dropped" in outcome.notes
    opai = next(lead for lead in outcome.leads if "dollarsmarkets" in lead.url)
    assert opai.reason == f"'Opai FX' is on the warning list at {replay.base}{BNM} (row 3)"
    assert "Invest KL Malaysia (Not related to InvestKL)" in outcome.leads[0].reason


def test_warning_list_a_renamed_column_an_empty_page_and_a_rate_limit(run, replay, recorded_config):
    page = _recorded("bnm_alert_list.html")
    replay.serve(BNM, page.replace(b"<th>Website</th>", b"<th>Links</th>"), content_type="text/html")
    broken = run("warning_list", BNM)
    assert not broken.ok and "no website (website/url/web/domain) column" in broken.error
    assert "'name of unauthorised entities/individual', 'links'" in broken.error
    assert _stored(recorded_config) == []
    # the list with its header and no entries yet: nothing to lead to, not an error
    header_only = page.split(b"<tbody>")[0] + b"<tbody></tbody></table></p></div></body></html>"
    replay.routes[BNM] = [(200, {"Content-Type": "text/html"}, header_only)]
    empty = run("warning_list", BNM)
    assert empty.ok and empty.leads == []
    # a page without the table (a bot check, a redesign) fails, naming what is missing
    replay.routes[BNM] = [
        (200, {"Content-Type": "text/html"}, b"<html><body><h1>Just a moment...</h1></body></html>")
    ]
    challenged = run("warning_list", BNM)
    assert not challenged.ok and "no table with a name or website header" in challenged.error
    replay.routes[BNM] = [
        (429, {"Content-Type": "text/html", "Retry-After": "4"}, b"<html>Too Many Requests</html>"),
        (200, {"Content-Type": "text/html"}, page),
    ]
    sleeps = Sleeps()
    limited = run("warning_list", BNM, sleeps=sleeps)
    assert limited.ok and 4.0 in sleeps and len(limited.new) == 15


def test_googleplay_a_developer_link_that_is_no_website_is_noted_not_led_to(run, replay, recorded_config):
    from scanner.findings import ensure_platform

    with Session(open_store(recorded_config)) as session:
        ensure_platform(session, "play.google.com/store/apps/details?id=com.mojang.minecraftpe")
        session.commit()
    page = _recorded("googleplay_details.html").replace(
        b'"url":"http://help.mojang.com"', b'"url":"javascript:alert(1)"'
    )
    replay.serve("/store/apps/details", page, content_type="text/html; charset=utf-8")
    outcome = run("googleplay", "/")
    assert outcome.ok and outcome.leads == []
    assert outcome.notes == ["com.mojang.minecraftpe: no developer website on the listing"]


def test_warning_list_cells_are_read_in_linear_time(run, replay, recorded_config):
    """A cell of "a.a.a.a…" (the publisher's text, however it got there) took time quadratic in its
    length: 1.8 s for 16 KB, hours for a megabyte. The websites beside it are still found."""
    timings = []
    for labels in (8_000, 32_000):
        cell = "a." * labels + " https://scam-fx.com, mirror: scam-fx.net"
        alerts = f'Name,Website\nScam FX,"{cell}"\n'.encode()
        replay.routes["/alerts.csv"] = [(200, {"Content-Type": "text/csv"}, alerts)]
        started = time.process_time()  # CPU time: other load on the machine must not fail the test
        outcome = run("warning_list", "/alerts.csv")
        timings.append(time.process_time() - started)
        assert outcome.ok, outcome.error
        assert {lead.url for lead in outcome.leads} == {"https://scam-fx.com", "https://scam-fx.net"}
    assert timings[1] < 8 * timings[0] + 0.5, f"4x the cell must cost about 4x the time: {timings}"


def test_a_warning_list_cell_longer_than_pythons_csv_field_limit(run, replay, recorded_config):
    """Python's csv refuses a field over 128 KB: one such cell failed the whole list ("unexpected
    Error: field larger than field limit"), and every row after it was lost."""
    cell = "see " * 50_000 + "https://long-fx.com"
    alerts = f'Name,Website\nLong FX,"{cell}"\nShort FX,short-fx.com\n'.encode()
    replay.routes["/alerts.csv"] = [(200, {"Content-Type": "text/csv"}, alerts)]
    outcome = run("warning_list", "/alerts.csv")
    assert outcome.ok, outcome.error
    assert {lead.url for lead in outcome.leads} == {"https://long-fx.com", "https://short-fx.com"}
