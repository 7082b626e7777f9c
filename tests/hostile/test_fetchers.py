"""Pollers, `scanner reverify` and `scanner analyze` against the hostile web: one egress client,
so the same refusals, the same total deadline, and the hostile exchange kept as evidence."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from scanner.config import Config
from scanner.net.egress import EgressPolicy, EgressRefused
from scanner.net.head import head_too_large, line_too_long, too_many_fields
from scanner.net.http import EgressClient, FetchError
from scanner.pollers import ADAPTERS
from scanner.pollers.runner import run_poll
from scanner.store.db import open_store
from scanner.store.models import Capture, Finding, Run
from tests.ops.conftest import seed_confirmed

from .conftest import CORPUS, SCANNER, TIMEOUT, Canary, Hostile, Mismatched, Silent, hostile_env, write_config

FLAGGED_PAGE = (CORPUS / "p01_en_exchange_jazzcash.html").read_text(encoding="utf-8")


@pytest.fixture
def setup(tmp_path: Path, hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> tuple[Config, dict[str, str]]:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    targets = {"pollers": [{"name": name.replace("_", "-"), "adapter": name, "platform": "hostile.test",
                            "base_url": hostile.url("/api/", host="api.hostile.test")} for name in ADAPTERS]}  # fmt: skip
    config_dir = write_config(tmp_path / "config", targets)
    env = hostile_env(config_dir, tmp_path / "data")
    return Config(env=env), env


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_every_poller_refuses_a_redirect_to_an_internal_service(
    adapter: str, setup: tuple[Config, dict[str, str]], hostile: Hostile, canary: Canary
) -> None:
    config, _ = setup
    before = len(canary.hits)
    target = config.targets.poller(adapter)
    outcome = run_poll(config, target, trigger="test", sleep=lambda _s: None)
    assert not outcome.ok
    assert "egress refused" in outcome.error and "loopback address 127.0.0.1" in outcome.error
    # Cross-host redirects are refused for API pollers even within the policy (www.hostile.test is allowed).
    elsewhere = target.model_copy(update={"base_url": hostile.url("/crosshost/", host="api.hostile.test")})
    crossed = run_poll(config, elsewhere, trigger="test", sleep=lambda _s: None)
    assert "redirect from" in crossed.error and "another host" in crossed.error
    # A name resolving to the internal service is refused at connect time.
    rebind = target.model_copy(update={"base_url": f"http://rebind.hostile.test:{canary.port}/"})
    rebound = run_poll(config, rebind, trigger="test", sleep=lambda _s: None)
    assert "'rebind.hostile.test' resolves to loopback address 127.0.0.1" in rebound.error
    assert canary.hits[before:] == []

    engine = open_store(config)
    with Session(engine) as session:
        captures = list(session.exec(select(Capture)))
        runs = list(session.exec(select(Run)))
    # The hostile API's redirects are evidence; nothing from the canary is.
    assert {c.status for c in captures} == {302}
    assert all("api.hostile.test" in c.url for c in captures)
    assert [r.status for r in runs] == ["failed"] * 3
    assert all("egress refused" in r.error_summary for r in runs)


def test_poll_of_a_slowloris_api_ends_at_the_deadline(setup: tuple[Config, dict[str, str]], hostile: Hostile) -> None:
    config, _ = setup
    target = config.targets.poller("markets").model_copy(update={"base_url": hostile.url("/slow/")})
    before = len(hostile.slow_started)
    outcome = run_poll(config, target, trigger="test", sleep=lambda _s: None)
    assert not outcome.ok and f"no complete response within {TIMEOUT:g} s" in outcome.error
    assert len(hostile.slow_started) == before + 1, "retries: 0 in this config; one attempt"


def test_reverify_refuses_internal_pages_and_ends_slow_ones(
    setup: tuple[Config, dict[str, str]], hostile: Hostile, canary: Canary
) -> None:
    config, env = setup
    before = len(canary.hits)
    engine = open_store(config)
    pages = {hostile.url("/go/loopback"): FLAGGED_PAGE, f"http://127.0.0.1:{canary.port}/": FLAGGED_PAGE,
             f"http://rebind.hostile.test:{canary.port}/": FLAGGED_PAGE, "file:///etc/passwd": FLAGGED_PAGE,
             hostile.url("/slow"): FLAGGED_PAGE}  # fmt: skip
    finding_id = seed_confirmed(engine, "hostile.test", pages)
    result = subprocess.run([SCANNER, "reverify", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert canary.hits[before:] == []
    [outcome] = [json.loads(line) for line in result.stdout.splitlines()]
    assert outcome["result"] == "offline"
    errors = {page["url"]: page["error"] for page in outcome["pages"]}
    assert "loopback address 127.0.0.1" in errors[hostile.url("/go/loopback")]
    assert "egress refused" in errors[f"http://127.0.0.1:{canary.port}/"]
    assert "resolves to loopback" in errors[f"http://rebind.hostile.test:{canary.port}/"]
    assert "scheme 'file'" in errors["file:///etc/passwd"]
    assert f"no complete response within {TIMEOUT:g} s" in errors[hostile.url("/slow")]
    with Session(engine) as session:
        captures = list(session.exec(select(Capture)))
        run = session.exec(select(Run).where(Run.kind == "reverify")).one()
        finding = session.get(Finding, finding_id)
    assert [(c.url, c.status) for c in captures] == [(hostile.url("/go/loopback"), 302)], "the redirect is evidence"
    assert run.stats["egress_refused"] == {"loopback": 3, "scheme": 1}
    assert "egress refused: file:///etc/passwd" in run.error_summary
    assert finding is not None and finding.needs_review and "platform offline" in finding.review_note


def test_analyze_answers_every_hostile_target_within_its_deadline(
    setup: tuple[Config, dict[str, str]], hostile: Hostile, canary: Canary, tmp_path: Path
) -> None:
    _, env = setup
    before = len(canary.hits)
    page = tmp_path / "page.html"
    page.write_text(FLAGGED_PAGE, encoding="utf-8")
    targets = [str(page), hostile.url("/"), hostile.url("/slow"), hostile.url("/go/loopback"),
               f"http://0x7f.1:{canary.port}/", f"http://rebind.hostile.test:{canary.port}/", "/bin/ls"]  # fmt: skip
    result = subprocess.run([SCANNER, "analyze", "--json", *targets], env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]
    lines = {line["source"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert lines[page.resolve().as_uri()]["verdict"] == "flag" and lines[hostile.url("/")]["verdict"] == "flag"
    assert f"no complete response within {TIMEOUT:g} s" in lines[hostile.url("/slow")]["error"]
    assert "loopback address 127.0.0.1" in lines[hostile.url("/go/loopback")]["error"]
    assert "egress refused" in lines[f"http://0x7f.1:{canary.port}/"]["error"]
    assert "resolves to loopback" in lines[f"http://rebind.hostile.test:{canary.port}/"]["error"]
    assert "/bin/ls: ELF executable, not HTML, JSON or text" in lines["/bin/ls"]["error"]
    assert canary.hits[before:] == []


def test_analyze_answers_a_mix_of_misbehaving_servers_and_judges_the_ordinary_pages(
    setup: tuple[Config, dict[str, str]], hostile: Hostile
) -> None:
    _, env = setup
    misbehaving = ["/slow", "/endless", "/bomb", "/loop/a", "/charset", "/fake-json", "/reset", "/error500",
                   "/attribute"]  # fmt: skip
    targets = [hostile.url("/"), *(hostile.url(p) for p in misbehaving), hostile.url("/clear")]
    result = subprocess.run([SCANNER, "analyze", "--json", *targets], env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]
    lines = {line["source"].removeprefix(hostile.url("")): line for line in map(json.loads, result.stdout.splitlines())}
    assert set(lines) == {"/", "/clear", *misbehaving}, "every target is answered"
    errors = {source: line.get("error", "") for source, line in lines.items()}
    assert f"no complete response within {TIMEOUT:g} s" in errors["/slow"]
    assert "response larger than" in errors["/endless"] and "max_response_bytes" in errors["/endless"]
    assert "decoded body larger than" in errors["/bomb"]
    assert "redirects (max_redirects)" in errors["/loop/a"]
    assert "no response" in errors["/reset"]
    assert errors["/error500"] == "HTTP 500"
    # Odd but readable pages are judged, not refused.
    for readable in ("/charset", "/fake-json", "/attribute"):
        assert not errors[readable] and lines[readable]["verdict"] in ("flag", "clear")
    # And the ordinary pages next to them get their right verdicts.
    assert lines["/"]["verdict"] == "flag" and lines["/clear"]["verdict"] == "clear"


def test_behind_a_proxy_ip_literals_and_localhost_are_still_refused(
    setup: tuple[Config, dict[str, str]], hostile: Hostile, canary: Canary, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = setup
    before = len(canary.hits)
    # The canary poses as the proxy: an internal proxy must be configured (proxy_networks) ...
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{canary.port}")
    with EgressClient(config.settings) as client, pytest.raises(EgressRefused, match="proxy at loopback address"):
        client.fetch("GET", hostile.url("/"))
    # ... and once it is, the proxy resolves names, but IP literals and localhost are refused before it is asked.
    egress = config.settings.egress.model_copy(update={"proxy_networks": [ipaddress.ip_network("127.0.0.1/32")]})
    with EgressClient(config.settings, policy=EgressPolicy.from_settings(egress)) as client:
        for url in (f"http://2130706433:{canary.port}/", f"http://localhost:{canary.port}/", "http://169.254.169.254/"):
            with pytest.raises(EgressRefused):
                client.fetch("GET", url)
    assert canary.hits[before:] == []


def test_the_pollers_client_reads_response_heads_as_the_crawl_does(
    setup: tuple[Config, dict[str, str]], hostile: Hostile
) -> None:
    """One limit for both (scanner.net.head): http.client's own 100 fields failed a poll of an API
    sending 150 headers (a retried "no response") while the crawl took it."""
    config, _ = setup
    with EgressClient(config.settings, api=True) as client:
        exchange = client.fetch("GET", hostile.url("/head/150"))
        assert exchange.status == 200 and len(exchange.headers) > 150
        for path, reason in (("/head/many", too_many_fields()), ("/head/long-line", line_too_long()),
                             ("/head/folded", head_too_large())):  # fmt: skip
            with pytest.raises(FetchError) as raised:
                client.fetch("GET", hostile.url(path))
            assert (raised.value.problem, raised.value.retryable) == (reason, False), path


def test_a_tls_handshake_that_never_completes_ends_at_the_deadline(
    setup: tuple[Config, dict[str, str]], silent: Silent
) -> None:
    """The total deadline covers the handshake too (the watchdog shuts the socket down), not only
    the answer after it."""
    config, _ = setup
    with EgressClient(config.settings, api=True) as client, pytest.raises(FetchError) as raised:
        client.fetch("GET", f"https://www.hostile.test:{silent.port}/")
    assert raised.value.problem == f"no complete response within {TIMEOUT:g} s (timeout_seconds)"


def test_a_certificate_for_another_name_is_refused_with_its_reason(
    setup: tuple[Config, dict[str, str]], mismatched: Mismatched
) -> None:
    """The pollers' client verifies certificates (requests' default): an API answering with a
    certificate for another name is no answer, and the error says why."""
    config, _ = setup
    with EgressClient(config.settings, api=True) as client, pytest.raises(FetchError) as raised:
        client.fetch("GET", mismatched.url("/"))
    assert "CERTIFICATE_VERIFY_FAILED" in raised.value.problem
