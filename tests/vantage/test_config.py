"""Vantage points in targets.yaml: what an operator writes, and the messages a mistake gets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scanner.config import Config, ConfigError

SITE = {"name": "chenab", "seeds": ["http://chenab-exchange.test/"]}
PK = {"proxy": "http://user:hunter2@203.0.113.7:3128", "country": "PK"}


def load(tmp_path: Path, targets: dict, env: dict[str, str] | None = None) -> Config:
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(targets))
    config = Config(tmp_path, env=env or {})
    config.targets  # noqa: B018 - validated when loaded
    return config


def error(tmp_path: Path, targets: dict) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, targets)
    return str(raised.value)


def test_a_site_poller_source_and_the_discovery_crawl_name_vantage_points(tmp_path):
    config = load(tmp_path, {
        "vantage_points": {"pk-karachi": PK},
        "default_vantage": "pk-karachi",
        "sites": [{**SITE, "vantage": ["direct", "pk-karachi"]}, {**SITE, "name": "other"}],
        "pollers": [{"name": "p2p", "adapter": "binance_p2p", "base_url": "http://p2p.binance.test",
                     "platform": "binance.test", "vantage": "direct"}],
        "sources": [{"name": "cg", "adapter": "coingecko", "base_url": "http://api.coingecko.test/api/v3",
                     "vantage": "pk-karachi"}],
        "discovery": {"vantage": "direct"},
    })  # fmt: skip
    assert config.targets.sites[0].vantages == ["direct", "pk-karachi"]
    assert config.targets.sites[1].vantages == [None]  # the default
    vantage = config.vantage(None)
    assert (vantage.name, vantage.country, vantage.proxy) == ("pk-karachi", "PK", PK["proxy"])
    assert "hunter2" not in repr(vantage) and "hunter2" not in vantage.shown
    assert config.vantage("direct").direct


def test_an_unknown_vantage_point_is_named_with_the_known_ones(tmp_path):
    message = error(tmp_path, {"vantage_points": {"pk": PK}, "sites": [{**SITE, "vantage": "pk-lahore"}]})
    assert message.endswith(
        "targets.yaml: sites[0].vantage: unknown vantage point 'pk-lahore' (known: direct, pk; "
        "define it under vantage_points)"
    )
    message = error(tmp_path, {"default_vantage": "pk"})
    assert "targets.yaml: default_vantage: unknown vantage point 'pk' (known: direct;" in message


@pytest.mark.parametrize(
    ("proxy", "problem"),
    [
        ("socks5://user:hunter2@203.0.113.7:1080", "scheme 'socks5' is not supported"),
        ("http://user:hunter2@203.0.113.7", "no port"),
        ("http://user:hunter2@203.0.113.7:3128/path", "a proxy URL has no path or query"),
        ("http://user:hunter2@203.0.113.7:31x8", "malformed port or address"),
        ("pk-exit.example.net:3128", "is not supported"),
    ],
)
def test_a_malformed_proxy_url_is_refused_without_repeating_its_password(tmp_path, proxy, problem):
    message = error(tmp_path, {"vantage_points": {"pk": {"proxy": proxy, "country": "PK"}}})
    assert "targets.yaml: vantage_points.pk.proxy: " in message
    assert problem in message
    assert "hunter2" not in message


def test_other_mistakes_say_what_to_write(tmp_path):
    assert "sites[0]: proxy: name a vantage point instead (vantage: NAME)" in error(
        tmp_path, {"sites": [{**SITE, "proxy": "http://203.0.113.7:3128"}]}
    )
    assert "vantage_points.pk.country: 'PAK': give a two-letter ISO 3166 country code such as PK" in error(
        tmp_path, {"vantage_points": {"pk": {**PK, "country": "PAK"}}}
    )
    assert "give either proxy (the URL) or proxy_env" in error(
        tmp_path, {"vantage_points": {"pk": {"country": "PK"}}}
    )
    assert "'direct' is reserved" in error(tmp_path, {"vantage_points": {"direct": PK}})


def test_a_proxy_from_the_environment_is_read_when_used(tmp_path):
    targets = {"vantage_points": {"pk": {"proxy_env": "PK_EXIT_URL", "country": "PK"}}}
    config = load(tmp_path, targets, env={"PK_EXIT_URL": "http://u:hunter2@203.0.113.7:3128"})
    assert config.vantage("pk").proxy == "http://u:hunter2@203.0.113.7:3128"
    unset = load(tmp_path, targets)  # loads: the variable matters only to what fetches through it
    with pytest.raises(
        ConfigError, match="vantage_points.pk.proxy_env: environment variable PK_EXIT_URL is not set"
    ):
        unset.vantage("pk")
    wrong = load(tmp_path, targets, env={"PK_EXIT_URL": "ftp://u:hunter2@203.0.113.7"})
    with pytest.raises(ConfigError) as raised:
        wrong.vantage("pk")
    assert "PK_EXIT_URL" in str(raised.value) and "hunter2" not in str(raised.value)


def test_the_shipped_configs_validate():
    root = Path(__file__).resolve().parents[2] / "config"
    for directory in (root, root / "demo"):
        config = Config(directory, env={})
        config.validate_all()
    demo = Config(root / "demo", env={})
    assert demo.targets.site("chenab-exchange").vantages == ["direct", "pk"]
