"""`scanner demo` (what `make demo` runs) end to end in a fresh data dir."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def test_demo_finds_publishes_and_verifies(tmp_path: Path, demo_env: dict[str, str]) -> None:
    demo_env["COLUMNS"] = "200"
    result = subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", "demo"],
        env=demo_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "all jobs finished" in out
    assert "officers confirmed and approved" in out
    assert "captures verified against their WARC records and the hash chain" in out
    # Unlicensed platforms are flagged and licensed ones are not, in the summary table.
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert "flag" in rows["rupee-exchange.test"] and "flag" in rows["binance.test"]
    assert "clear" in rows["pakdx.test"] and "licensed" in rows["pakdx.test"]
    assert "clear" in rows["lahoremobiles.test"]
    assert "(found by" in out  # the summary says which source found a platform no config names
    # Found through the discovery sources alone (in no targets.yaml entry), and flagged; look-alikes clear.
    listed = subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", "findings", "list", "--json"],
        env=demo_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    findings = {row["platform"]: row for row in map(json.loads, listed.stdout.splitlines())}
    for platform, source in (("pkrx.test", "coingecko"), ("usdtpak.test", "crtsh"), ("bazaarcoin.test", "itunes-pk"),
                             ("karachiotc.test", "telegram"), ("mehranex.test", "finreg-alerts")):  # fmt: skip
        assert findings[platform]["verdict"] == "flag" and findings[platform]["discovered"]["source"] == source
    assert findings["pakcoinnews.test"]["verdict"] == findings["lahorebits.test"]["verdict"] == "clear"

    data = Path(demo_env["SCANNER_DATA_DIR"])
    credentials = data / "demo-credentials.txt"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert "officer-a" in credentials.read_text()

    feed = json.loads((data / "feeds" / "blocklist.json").read_text())
    values = {entry["value"] for entry in feed["entries"]}
    assert values, "the demo published nothing"
    verify = subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", "feed", "verify", str(data / "feeds" / "blocklist.json"),
         str(data / "feeds" / "blocklist.json.sig")],
        env=demo_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
