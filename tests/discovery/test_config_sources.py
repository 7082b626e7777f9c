"""The shipped configurations: the real one enables the real discovery sources with budgets and
Pakistani seeds; the demo one runs every source adapter against the simulated web."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scanner.config import Config, ConfigError
from scanner.discovery import ADAPTERS, load_adapter
from tests.conftest import REPO_ROOT


def test_the_real_config_loads_and_names_each_discovery_source() -> None:
    config = Config(REPO_ROOT / "config", env={})
    config.validate_all()  # schedules, budgets, URLs and adapter names, as at start-up
    sources = {source.name: source for source in config.targets.sources}
    assert set(sources) == {
        "coingecko", "coinpaprika", "crtsh", "itunes-pk", "telegram", "googleplay-pk", "bnm-alerts",
        "sc-malaysia-alerts",
    }  # fmt: skip
    enabled = [source for source in sources.values() if source.enabled]
    # every kind of source runs for real, each over https within a request budget
    assert {source.adapter for source in enabled} == set(ADAPTERS)
    for source in enabled:
        assert load_adapter(source.adapter).discover
        assert urlsplit(str(source.base_url)).scheme == "https", source.name
        assert source.max_requests >= 1 and source.schedule in config.schedules.groups
    assert sources["itunes-pk"].country == "pk" and sources["googleplay-pk"].country == "pk"
    assert sources["coingecko"].fiats == ["PKR"]
    # the list published as a script, not a table, is named but off until it has its own adapter
    assert not sources["sc-malaysia-alerts"].enabled
    discovery = config.targets.discovery
    seeds = [urlsplit(str(seed)).hostname or "" for seed in discovery.seeds]
    assert len(seeds) >= 3 and sum(host.endswith(".pk") for host in seeds) >= 3  # Pakistani news first
    assert discovery.enabled and discovery.frontier > 0


def test_the_demo_config_runs_every_source_adapter_against_the_simulated_web() -> None:
    config = Config(REPO_ROOT / "config" / "demo", env={})
    config.validate_all()
    enabled = [source for source in config.targets.sources if source.enabled]
    assert {source.adapter for source in enabled} == set(ADAPTERS)
    simulated = {"t.me", "play.google.com"}  # the simulated web answers these hosts through its proxy
    for source in enabled:
        host = urlsplit(str(source.base_url)).hostname or ""
        assert host.endswith(".test") or host in simulated, source.name


def test_an_unknown_source_adapter_fails_the_load_naming_file_key_and_the_known_ones(tmp_path: Path) -> None:
    directory = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", directory, ignore=shutil.ignore_patterns("demo"))
    targets = (directory / "targets.yaml").read_text(encoding="utf-8")
    (directory / "targets.yaml").write_text(
        targets.replace("adapter: googleplay", "adapter: google_play"), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as excinfo:
        Config(directory, env={}).validate_all()
    message = str(excinfo.value)
    assert "targets.yaml: sources[5].adapter" in message and "unknown source adapter 'google_play'" in message
    assert "googleplay" in message  # the known names
