"""The operator's feed settings that go into feed files as they are (the publisher's name in comment
and header lines, the RPZ zone in $ORIGIN and SOA): one line each, or the configuration is refused."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import SCANNER


@pytest.mark.parametrize(
    ("key", "value", "artefact"),
    [
        ("publisher_name", "Regulator\n0.0.0.0 hbl.com.pk", "hosts"),
        ("publisher_name", "Regulator\u202e", "stix"),
        ("rpz_zone", "rpz.example.pk.\nhbl.com.pk CNAME .", "rpz"),
        ("rpz_zone", "rpz example", "rpz"),
    ],
)
def test_a_feed_setting_that_would_add_lines_to_a_feed_is_refused(
    tmp_path: Path, key: str, value: str, artefact: str
) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "settings.yaml").write_text(yaml.safe_dump({"feed": {key: value}}))
    env = {**os.environ, "SCANNER_CONFIG_DIR": str(config_dir), "SCANNER_DATA_DIR": str(tmp_path / "data")}
    env.pop("SCANNER_DATABASE_URL", None)
    output = tmp_path / "feed"
    result = subprocess.run([SCANNER, "export", "--format", artefact, "--output", str(output)], env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "settings.yaml" in result.stderr and f"feed.{key}" in result.stderr
    assert not output.exists()
