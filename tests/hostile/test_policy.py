"""The egress policy on its own: every spelling of an internal address, names, proxies, redirects."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest

from scanner.config import ConfigError, EgressSettings, parse_model
from scanner.net.egress import EgressPolicy, EgressRefused, parse_ipv4_literal
from scanner.net.retry_after import retry_after_seconds

POLICY = EgressPolicy(static_hosts={"rebind.evil.test": ("93.184.215.14", "127.0.0.1"), "ok.evil.test": ("93.184.215.14",)},
                      resolver=lambda name: ["10.0.0.7"])  # fmt: skip

REFUSED = {
    "file:///etc/passwd": "scheme",
    "ftp://example.com/x": "scheme",
    "data:text/html,<b>x</b>": "scheme",
    "gopher://example.com/": "scheme",
    "s3://bucket/key": "scheme",
    "http://127.0.0.1:8000/": "loopback",
    "http://127.1/": "loopback",
    "http://2130706433/": "loopback",
    "http://0x7f.1/": "loopback",
    "http://0x7f000001/": "loopback",
    "http://0177.0.0.1/": "loopback",
    "http://127.0.0.1./": "loopback",
    "http://[::1]/": "loopback",
    "http://[::ffff:127.0.0.1]/": "loopback",
    "http://[::ffff:7f00:1]/": "loopback",
    "http://localhost:9/": "loopback",
    "http://LOCALHOST./": "loopback",
    "http://admin.localhost/": "loopback",
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://[fe80::1%25eth0]/": "link-local",
    "http://10.1.2.3/": "private",
    "http://172.16.0.1/": "private",
    "http://192.168.1.1/": "private",
    "http://0xc0.0xa8.1.1/": "private",
    "http://[fd00::1]/": "private",
    "http://[2002:c0a8:101::]/": "private",  # 6to4 of 192.168.1.1
    "http://[64:ff9b::a00:1]/": "private",  # NAT64 of 10.0.0.1
    "http://100.64.0.1/": "shared",
    "http://224.0.0.1/": "multicast",
    "http://[ff02::1]/": "multicast",
    "http://0.0.0.0/": "unspecified",
    "http://0/": "unspecified",
    "http://[::]/": "unspecified",
    "http://240.0.0.1/": "reserved",
    "http://255.255.255.255/": "reserved",
    "http://198.18.0.1/": "reserved",
    "http://1.2.3.4.5/": "malformed",
    "http://999.1/": "malformed",
    "http:///nohost": "malformed",
    # Characters the URL standard forbids in a host (a browser fetches none of these).
    "http://a\x1bMb.rupee-exchange.test/": "malformed",
    "http://a b.rupee-exchange.test/": "malformed",
    "http://a|b.rupee-exchange.test/": "malformed",
    "http://%41.rupee-exchange.test/": "malformed",
}


@pytest.mark.parametrize("url", sorted(REFUSED))
def test_internal_and_non_web_urls_are_refused_with_their_reason(url: str) -> None:
    with pytest.raises(EgressRefused) as refused:
        POLICY.check_url(url)
    assert refused.value.reason == REFUSED[url]
    assert url in str(refused.value)


@pytest.mark.parametrize("url", ["http://93.184.215.14/", "https://rupee-exchange.test/x?y=1", "http://8.8.8.8:8080/",
                                 "http://[2606:4700::1111]/", "HTTPS://Example.COM./",
                                 "http://پاکستان.pk/", "http://a_b.rupee-exchange.test/"])  # fmt: skip
def test_public_urls_pass(url: str) -> None:
    assert POLICY.check_url(url).scheme in ("http", "https")


def test_ipv4_spellings_decode_as_a_resolver_reads_them() -> None:
    assert parse_ipv4_literal("127.1") == ipaddress.IPv4Address("127.0.0.1")
    assert parse_ipv4_literal("10.0x10.1") == ipaddress.IPv4Address("10.16.0.1")
    assert parse_ipv4_literal("3232235777") == ipaddress.IPv4Address("192.168.1.1")
    assert parse_ipv4_literal("rupee-exchange.test") is None
    assert parse_ipv4_literal("1x.test") is None


def test_every_resolved_address_is_checked() -> None:
    assert POLICY.resolve("ok.evil.test") == ["93.184.215.14"]
    with pytest.raises(
        EgressRefused, match=r"'rebind.evil.test' resolves to loopback address 127.0.0.1"
    ) as refused:
        POLICY.resolve("rebind.evil.test", "http://rebind.evil.test/")
    assert refused.value.reason == "loopback"
    with pytest.raises(EgressRefused, match="private address 10.0.0.7"):
        POLICY.resolve("anything.test")  # the injected resolver answers 10.0.0.7
    with pytest.raises(EgressRefused, match="loopback"):
        POLICY.resolve("localhost")


def test_lab_network_and_proxy_are_configuration() -> None:
    settings = parse_model(EgressSettings, {"allow_networks": ["10.20.0.0/16"], "proxy_networks": ["127.0.0.1/32"],
                                            "static_hosts": {"Lab.Test.": ["10.20.1.5"]}}, source=__import__("pathlib").Path("settings.yaml"))  # fmt: skip
    policy = EgressPolicy.from_settings(settings)
    assert policy.check_url("http://10.20.3.4/").ip == ipaddress.IPv4Address("10.20.3.4")
    assert policy.resolve("lab.test") == ["10.20.1.5"]
    with pytest.raises(EgressRefused):
        policy.check_url("http://10.21.0.1/")
    # The proxy may be on 127.0.0.1; a target URL naming 127.0.0.1 may not.
    policy.check_proxy("http://127.0.0.1:8899")
    policy.check_proxy("127.0.0.1:8899")
    with pytest.raises(EgressRefused):
        policy.check_url("http://127.0.0.1:8899/")
    with pytest.raises(EgressRefused, match="proxy_networks"):
        EgressPolicy().check_proxy("http://127.0.0.1:8899")


def test_bad_egress_config_names_the_key() -> None:
    from pathlib import Path

    with pytest.raises(ConfigError, match=r"settings.yaml: allow_networks\[0\]"):
        parse_model(EgressSettings, {"allow_networks": ["10.20.0.1/16"]}, Path("settings.yaml"))


def test_cross_host_redirects_refused_for_api_pollers_only() -> None:
    POLICY.check_redirect("http://api.x.test/a", "http://cdn.x.test/b", cross_host=True)
    POLICY.check_redirect("http://api.x.test/a", "http://API.x.test/b", cross_host=False)
    with pytest.raises(EgressRefused) as refused:
        POLICY.check_redirect("http://api.x.test/a", "http://cdn.x.test/b", cross_host=False)
    assert refused.value.reason == "cross-host-redirect"
    with pytest.raises(EgressRefused, match="loopback"):
        POLICY.check_redirect("http://api.x.test/a", "http://127.0.0.1/", cross_host=True)


def test_retry_after_both_forms() -> None:
    now = datetime(2026, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds(b"1.5", now) == 1.5
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:30 GMT", now) == 30.0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds("nan", now) is None
    assert retry_after_seconds(None, now) is None
