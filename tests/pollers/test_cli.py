"""`scanner poll` as an operator runs it: a subprocess with the demo config, through HTTP_PROXY."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.world import World

from .conftest import DEMO, REPO_ROOT

SCANNER = [sys.executable, "-m", "scanner.cli.main"]


@pytest.fixture
def env(tmp_path: Path, world: World) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "https_proxy")}
    env.update(SCANNER_CONFIG_DIR=str(DEMO), SCANNER_DATA_DIR=str(tmp_path / "data"),
               HTTP_PROXY=world.proxy_url, http_proxy=world.proxy_url)
    env.pop("SCANNER_DATABASE_URL", None)
    return env


def scanner(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SCANNER, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_poll_json_contract(env):
    result = scanner(env, "poll", "binance-p2p", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert {"adapter", "platform", "fiat", "ads", "merchants", "payment_methods", "median_price", "verdict",
            "signals"} <= set(data)
    assert data["adapter"] == "binance_p2p" and data["platform"] == "binance.test" and data["fiat"] == "PKR"
    assert data["ads"] == 90  # both sides, after pagination
    assert data["payment_methods"]["Easypaisa"] > 0 and "EasypaisaPK" not in data["payment_methods"]
    assert 270 < data["median_price"] < 310
    # Binance holds only an NOC: its PKR desk is flagged, with the ads and rails as signals.
    assert data["verdict"] == "flag"
    kinds = {s["kind"] for s in data["signals"]}
    assert {"payment_rail", "pkr_market"} <= kinds


@pytest.mark.slow
def test_poll_adapter_name_with_base_url_and_failure_exit_code(env):
    ok = scanner(env, "poll", "okx_p2p", "--base-url", "http://www.okx.test", "--json", "--no-store")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ads"] == 64
    assert not (Path(env["SCANNER_DATA_DIR"]) / "pkscan.sqlite3").exists()  # --no-store wrote nothing

    failed = scanner(env, "poll", "bybit-p2p", "--base-url", "http://api2.bybit.test/__fault/geo403@cli")
    assert failed.returncode == 1
    assert "bybit_p2p" in failed.stderr and "api2.bybit.test/__fault/geo403@cli" in failed.stderr
    assert "403" in failed.stderr

    unknown = scanner(env, "poll", "kraken_p2p")
    assert unknown.returncode == 2 and "unknown poller 'kraken_p2p'" in unknown.stderr
    no_url = scanner(env, "poll", "markets", "--base-url", "not a url")
    assert no_url.returncode == 2 and "--base-url" in no_url.stderr
