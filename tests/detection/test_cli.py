"""`scanner analyze`: files, --url, --register, URLs over HTTP, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scanner.cli.main import app

from .conftest import CORPUS, REGISTER_FILE, REPO

runner = CliRunner()


@pytest.fixture(autouse=True)
def real_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    # The real config, with the test server's loopback address allowed as a lab network would be.
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "settings.yaml").write_text(f"inherit: {REPO / 'config'}\negress: {{allow_networks: [127.0.0.1/32]}}\n")
    monkeypatch.setenv("SCANNER_CONFIG_DIR", str(config_dir))
    yield


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/big"):
            body = b"<p>" + b"x" * (11 * 1024 * 1024) + b"</p>"
        elif self.path.startswith("/missing"):
            self.send_response(404)
            self.end_headers()
            return
        else:
            body = (CORPUS / "p01_en_exchange_jazzcash.html").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_json_on_files() -> None:
    files = [str(CORPUS / "p04_markets_pkr.html"), str(CORPUS / "n03_shop_jazzcash.html"), str(CORPUS / "p09_binance_p2p_pkr.json")]
    result = runner.invoke(app, ["analyze", "--json", *files])
    assert result.exit_code == 0, result.output
    lines = _lines(result.stdout)
    assert [line["verdict"] for line in lines] == ["flag", "clear", "flag"]
    assert list(lines[0])[:8] == ["source", "verdict", "score", "crypto_service", "targets_pakistan", "licensed", "platform", "signals"]
    assert set(lines[0]["signals"][0]) >= {"kind", "value", "snippet", "locator", "weight"}


def test_url_option_sets_platform_and_register_replaces_default() -> None:
    target = str(CORPUS / "l01_licensed_exchange.html")
    default = runner.invoke(app, ["analyze", "--json", "--url", "https://www.qasim-digital.test/", target])
    assert _lines(default.stdout)[0]["verdict"] == "flag"  # not on config/licensed.yaml
    replaced = runner.invoke(
        app, ["analyze", "--json", "--register", str(REGISTER_FILE), "--url", "https://www.qasim-digital.test/", target]
    )
    line = _lines(replaced.stdout)[0]
    assert line["platform"] == "qasim-digital.test" and line["source"] == "https://www.qasim-digital.test/"
    assert line["verdict"] == "clear" and line["licensed"] is True


def test_url_needs_one_target() -> None:
    result = runner.invoke(app, ["analyze", "--url", "https://x.test/", "a.html", "b.html"])
    assert result.exit_code == 2


def test_fetch_url_unreachable_and_missing_file(server: str) -> None:
    result = runner.invoke(
        app, ["analyze", "--json", f"{server}/page", "http://127.0.0.1:9/unreachable", "no/such/file.html", f"{server}/missing"]
    )
    assert result.exit_code == 1
    lines = _lines(result.stdout)
    assert lines[0]["verdict"] == "flag" and lines[0]["platform"] == "127.0.0.1"
    assert [("error" in line) for line in lines] == [False, True, True, True]
    assert "HTTP 404" in lines[3]["error"]


def test_response_size_limit(server: str) -> None:
    result = runner.invoke(app, ["analyze", "--json", f"{server}/big"])
    assert result.exit_code == 1
    assert "max_response_bytes" in _lines(result.stdout)[0]["error"]


def test_table_output(server: str) -> None:
    result = runner.invoke(app, ["analyze", str(CORPUS / "p04_markets_pkr.html"), "http://127.0.0.1:9/"])
    assert result.exit_code == 1
    assert "flag" in result.stdout and "error" in result.stdout


def test_help() -> None:
    result = runner.invoke(app, ["analyze", "--help"])
    assert result.exit_code == 0
    for option in ("--json", "--register", "--url"):
        assert option in result.stdout


def test_bad_register_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "licensed.yaml"
    bad.write_text("platforms:\n  - name: X\n    domains: [x.test]\n    status: maybe\n", encoding="utf-8")
    scanner = Path(sys.executable).parent / "scanner"
    proc = subprocess.run(
        [str(scanner), "analyze", "--register", str(bad), str(CORPUS / "p01_en_exchange_jazzcash.html")],
        capture_output=True, text=True, cwd=REPO, timeout=60, env={"PATH": "/usr/bin:/bin", "SCANNER_CONFIG_DIR": str(REPO / "config")},
    )
    assert proc.returncode == 2
    assert "licensed.yaml: platforms[0].status" in proc.stderr.replace("\n", "")


def test_json_whose_keys_hold_lone_surrogates_and_nul_is_answered(tmp_path: Path) -> None:
    """A key's lone surrogate went into the signal's locator (a JSON pointer names the keys it
    passes): printing the line raised UnicodeEncodeError, a traceback instead of an answer."""
    document = tmp_path / "p2p.json"
    document.write_text('{"a\\ud800\\u0000b": "Buy USDT with JazzCash in Pakistan, PKR deposit, P2P exchange"}')
    result = subprocess.run([sys.executable, "-m", "scanner.cli.main", "analyze", "--json", str(document)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    (line,) = _lines(result.stdout)
    assert line["verdict"] == "flag"
    assert {signal["locator"] for signal in line["signals"]} == {"#/a\ufffd\ufffdb"}
