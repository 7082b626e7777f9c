"""One name check for everything that becomes a platform, an alias or a feed entry (scanner.names)."""

from __future__ import annotations

import pytest

from scanner.config import Config, ConfigError
from scanner.detection import platform_key
from scanner.names import InvalidName, dns_name
from scanner.names import platform_key as checked_key

HOSTILE_HOSTS = [
    "=1+2.evil-exchange.test",
    '=hyperlink("evil",b1).evil-exchange.test',
    "evil-exchange.test\n",  # `$` matched before this newline
    "x\n.evil-exchange.test",
    "a b.evil-exchange.test",
    "tab\t.evil-exchange.test",
    "quote'.evil-exchange.test",
    "@cmd.evil-exchange.test",
    "zero\u200bwidth.test",
    "-lead.test",
    "trail-.test",
    "a..test",
    "xn--zz.test",  # not valid punycode
    "a" * 64 + ".test",
    ".".join(["a" * 60] * 5) + ".test",  # over 253 characters
    "localhost",
    "10.0.0.1",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_hostile_or_malformed_names_are_refused_with_a_reason(host):
    with pytest.raises(InvalidName) as refused:
        dns_name(host)
    assert repr(host) in str(refused.value)


def test_valid_names_come_back_in_ascii_lower_case():
    assert dns_name("Rupee-Exchange.TEST.") == "rupee-exchange.test"
    assert dns_name("bücher.example") == "xn--bcher-kva.example"
    assert dns_name("xn--bcher-kva.example") == "xn--bcher-kva.example"
    assert dns_name("p2p.sub_domain.example.com.pk") == "p2p.sub_domain.example.com.pk"


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://play.google.com/store/apps/details?id==1+2", "play.google.com"),
        ('https://play.google.com/store/apps/details?id=pk.app",cmd', "play.google.com"),
        ("https://play.google.com/store/apps/details?id=pk.rupee.app", "play.google.com/store/apps/details?id=pk.rupee.app"),
        ("https://t.me/=HYPERLINK(1)", "t.me"),
        ("https://t.me/s/rupeexchange", "t.me/rupeexchange"),
        ("https://t.me/+AbCdEfGh12", "t.me/+AbCdEfGh12"),
        ("https://www.youtube.com/@RupeeX", "youtube.com/@rupeex"),
        ("https://www.tiktok.com/@-1+2", "tiktok.com"),
    ],
)
def test_app_ids_and_channel_names_follow_their_own_rules(url, key):
    assert platform_key(url) == key


def test_platform_keys_are_checked_before_they_are_stored():
    assert checked_key("evil-exchange.test") == "evil-exchange.test"
    assert checked_key("203.0.113.7") == "203.0.113.7"
    assert checked_key("t.me/rupeexchange") == "t.me/rupeexchange"
    for key in ("=1+2.evil-exchange.test", "play.google.com/store/apps/details?id==1+2", "evil.test/path", "t.me/=x"):
        with pytest.raises(InvalidName):
            checked_key(key)


def test_a_poller_platform_that_is_not_a_name_is_a_config_error(tmp_path):
    (tmp_path / "targets.yaml").write_text(
        "pollers:\n  - name: p\n    adapter: binance_p2p\n    base_url: https://p2p.example.test/\n"
        "    platform: '=1+2.example.test'\n"
    )
    with pytest.raises(ConfigError) as error:
        Config(tmp_path, env={"SCANNER_DATA_DIR": str(tmp_path / "data")}).targets  # noqa: B018
    assert "targets.yaml" in str(error.value) and "pollers[0].platform" in str(error.value)
    assert "'='" in str(error.value)
