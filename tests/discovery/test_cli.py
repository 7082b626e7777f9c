"""`scanner discover` and `scanner candidates` as an operator uses them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.crawl.conftest import crawl_env, make_config, scanner


def test_discover_one_source_prints_what_it_found_and_bad_usage_exits_2(tmp_path: Path, world):
    env = crawl_env(world, make_config(tmp_path / "config"), tmp_path / "data")
    found = scanner(env, "discover", "finreg-alerts")
    assert found.returncode == 0, found.stderr
    assert (
        "finreg-alerts: 1 responses, 2 leads, 1 new candidates (mehranex.test), 0 known, 1 configured"
        in found.stdout
    )
    channel = scanner(env, "discover", "telegram")  # a WhatsApp number in a message is a contact
    assert channel.returncode == 0 and ", 1 contacts" in channel.stdout, channel.stdout + channel.stderr
    unknown = scanner(env, "discover", "nosuch")
    assert unknown.returncode == 2 and "unknown source 'nosuch'" in unknown.stderr
    both = scanner(env, "discover", "crtsh", "--all")
    assert both.returncode == 2 and "give one SOURCE or --all" in both.stderr
    listed = scanner(env, "candidates", "--json")
    row = json.loads(listed.stdout.splitlines()[0])
    assert (row["key"], row["source"], row["crawled"], row["finding_id"]) == (
        "mehranex.test",
        "finreg-alerts",
        False,
        None,
    )
    assert (
        row["found_on_url"] == "http://warnings.finreg.test/alerts.csv" and "Mehran Exchange" in row["reason"]
    )


def test_a_failed_source_exits_1_naming_source_and_problem(tmp_path: Path, world):
    env = crawl_env(world, make_config(tmp_path / "config"), tmp_path / "data")
    config_dir = tmp_path / "config"
    targets = (config_dir / "targets.yaml").read_text()
    (config_dir / "targets.yaml").write_text(
        targets.replace("http://crt.sh.test/", "http://crt.sh.test/__fault/schema/")
    )
    failed = scanner(env, "discover", "crtsh")
    assert failed.returncode == 1
    assert "discover failed: crtsh:" in failed.stderr and "missing field 'name_value'" in failed.stderr
    runs = [json.loads(line) for line in scanner(env, "runs", "--json").stdout.splitlines()]
    assert [(r["kind"], r["name"], r["status"]) for r in runs] == [("discover", "crtsh", "failed")]
