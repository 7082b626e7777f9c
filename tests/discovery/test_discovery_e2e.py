"""End to end: the sources alone find platforms no config names; the discovery crawl judges them.

Real subprocesses (`scanner discover --all`, `scanner crawl discovery`, `scanner findings list`,
`scanner candidates`) against the simulated web, as the scheduler and the demo run them.
"""

from __future__ import annotations

import json
from pathlib import Path

from scanner.world import ground_truth
from tests.crawl.conftest import crawl_env, make_config, scanner

FOUND_BY = {  # the unconfigured platform each kind of source must find, and through which response
    "pkrx.test": ("coingecko", "http://api.coingecko.test/api/v3/exchanges/pkrx/tickers?page=1"),
    "usdtpak.test": ("crtsh", "http://crt.sh.test/?q=%25usdt%25&output=json"),
    "bazaarcoin.test": (
        "itunes-pk",
        "http://itunes.apple.test/search?term=usdt+pkr&country=pk&entity=software&limit=200",
    ),
    "karachiotc.test": ("telegram", "http://t.me/s/karachi_usdt_deals"),
    # a Play app a channel linked to: its developer's website
    "chaip2p.test": (
        "googleplay-pk",
        "http://play.google.com/store/apps/details?id=pk.chaip2p.app&hl=en&gl=PK",
    ),
    "mehranex.test": ("finreg-alerts", "http://warnings.finreg.test/alerts.csv"),
}
LOOKALIKES = ("pakcoinnews.test", "lahorebits.test", "rupeerates.test")


def test_sources_find_unconfigured_platforms_and_the_crawl_flags_those_serving_pakistan(
    tmp_path: Path, world
):
    config_dir = make_config(tmp_path / "config")
    env = crawl_env(world, config_dir, tmp_path / "data")
    truth = ground_truth()
    for key in (*FOUND_BY, *LOOKALIKES):
        assert not truth[key]["configured"], key  # in no targets.yaml entry

    # as the demo and the scheduler run them: the site crawl first (its pages link to channels and
    # apps, more than the sources' budgets could read, oldest first), then every source
    crawled_sites = scanner(env, "crawl", "site", timeout=300)
    assert crawled_sites.returncode == 0, crawled_sites.stdout + crawled_sites.stderr
    discovered = scanner(env, "discover", "--all", "--json")
    assert discovered.returncode == 0, discovered.stderr
    new = {line["source"]: set(line["new"]) for line in map(json.loads, discovered.stdout.splitlines())}
    for key, (source, _) in FOUND_BY.items():
        assert key in new[source], (key, new)

    crawled = scanner(env, "crawl", "discovery", timeout=300)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr

    listed = scanner(env, "findings", "list", "--json")
    findings = {row["platform"]: row for row in map(json.loads, listed.stdout.splitlines())}
    for key, (source, where) in FOUND_BY.items():
        finding = findings[key]
        assert finding["verdict"] == "flag", (key, finding["score"])
        # how it was discovered: the source, the response that named it (a capture) and why
        assert finding["discovered"]["source"] == source
        assert finding["discovered"]["found_on_url"] == where
        assert finding["discovered"]["capture_id"] and finding["discovered"]["reason"]
    for key in LOOKALIKES:
        assert findings[key]["verdict"] == "clear", (key, findings[key]["score"])
        assert findings[key]["discovered"] is not None

    frontier = scanner(env, "candidates", "--json")
    rows = {row["key"]: row for row in map(json.loads, frontier.stdout.splitlines())}
    for key in (*FOUND_BY, *LOOKALIKES):
        assert rows[key]["crawled"] and rows[key]["finding_id"] == findings[key]["id"], key
    # a certificate name with no site behind it stays uncrawled, its attempt counted
    assert not rows["bitpk.test"]["crawled"] and rows["bitpk.test"]["attempts"] == 1
    # a name several sources gave ranks by all of them
    assert rows["pakcoinnews.test"]["sources"] == ["crtsh", "itunes-pk", "telegram"]
    runs = scanner(env, "runs", "--json")
    kinds = [(run["kind"], run["status"]) for run in map(json.loads, runs.stdout.splitlines())]
    assert kinds.count(("discover", "ok")) == 7 and ("crawl", "ok") in kinds
    assert rows["pkrx.test"]["sources"] == ["coingecko", "coinpaprika"]  # two directories list its PKR
    # the desk number a channel gave is the number on the site the crawl reached: one contact, two platforms
    phone = rows["phone:+923009998877"]
    assert {p["platform"]: p["source"] for p in phone["seen_on"]} == {
        "t.me/karachi_usdt_deals": "telegram",
        "karachiotc.test": "crawl-links",
    }
    assert phone["seen_on"][1]["finding_id"] == findings["karachiotc.test"]["id"]
