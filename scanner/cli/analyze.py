"""`scanner analyze`: run detection on URLs or local files and print the verdicts. Nothing is stored."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Annotated

import requests
import typer
from rich.console import Console
from rich.table import Table

from scanner.config import Config, ConfigError, HttpSettings, get_config
from scanner.detection import Analysis, Document, analyze, load_lexicons

console = Console()


class FetchError(Exception):
    pass


def fetch(url: str, http: HttpSettings) -> Document:
    """GET a URL with the project's HTTP settings; proxies come from the environment (requests default)."""
    headers = {"User-Agent": http.user_agent, "Accept": "text/html,application/json;q=0.9,*/*;q=0.5"}
    session = requests.Session()  # trust_env stays on: HTTP(S)_PROXY / NO_PROXY apply as usual
    session.max_redirects = http.max_redirects
    try:
        with session.get(url, headers=headers, timeout=http.timeout_seconds, stream=True,
                         allow_redirects=True) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > http.max_response_bytes:
                    raise FetchError(f"response larger than max_response_bytes ({http.max_response_bytes})")
                chunks.append(chunk)
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code}")
            return Document(response.url or url, response.headers.get("Content-Type", ""), b"".join(chunks))
    except requests.RequestException as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from None
    finally:
        session.close()


def _content_type_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return "text/html"
    if suffix == ".json":
        return "application/json"
    if suffix in (".txt", ".text", ".md"):
        return "text/plain"
    return mimetypes.guess_type(path.name)[0] or ""


def load_target(target: str, url: str | None, http: HttpSettings) -> Document:
    if target.startswith(("http://", "https://")):
        return fetch(target, http)
    path = Path(target)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"cannot read {target}: {exc.strerror or exc}") from None
    return Document(url or path.resolve().as_uri(), _content_type_for(path), body)


def _table(rows: list[tuple[str, Analysis | str]]) -> Table:
    table = Table(title="pkscan analyze", show_lines=False)
    for column in ("target", "verdict", "score", "crypto", "Pakistan", "licensed", "platform", "top signals"):
        table.add_column(column, overflow="fold")
    for target, result in rows:
        if isinstance(result, str):
            table.add_row(target, "[red]error[/red]", "", "", "", "", "", result[:120])
            continue
        top = sorted(result.signals, key=lambda s: (-s.weight, s.kind, s.value))[:5]
        colour = "red" if result.verdict == "flag" else "green"
        table.add_row(
            target,
            f"[{colour}]{result.verdict}[/{colour}]",
            f"{result.score:.3f}",
            "yes" if result.crypto_service else "no",
            "yes" if result.targets_pakistan else "no",
            ("yes" if result.licensed else "no") + (f" ({result.licence_status})" if result.licence_status else ""),
            result.platform,
            "; ".join(f"{s.kind}: {s.value}" for s in top),
        )
    return table


def analyze_command(
    targets: Annotated[list[str], typer.Argument(help="URLs (http/https) or local files (HTML, JSON, text).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per target per line.")] = False,
    register_path: Annotated[
        Path | None, typer.Option("--register", help="Licensed register YAML to use instead of config/licensed.yaml.")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Source URL of a single local file (sets its platform).")
    ] = None,
) -> None:
    """Run detection on TARGETs and print verdicts with their signals. Nothing is stored.

    Exit code 1 if any target could not be fetched or parsed, 2 on bad configuration.
    """
    if url is not None and len(targets) != 1:
        raise typer.BadParameter("--url needs exactly one TARGET", param_hint="--url")
    cfg: Config = get_config()
    http = cfg.settings.http
    register = cfg.register_from(register_path) if register_path is not None else cfg.register
    lexicons = load_lexicons(cfg.lexicon_dir)
    failed = 0
    rows: list[tuple[str, Analysis | str]] = []
    for target in targets:
        try:
            doc = load_target(target, url, http)
            result: Analysis | str = analyze(doc, lexicons, register)
        except FetchError as exc:
            result = str(exc)
        except Exception as exc:  # noqa: BLE001 - one bad target must not stop the rest
            result = f"cannot analyse: {type(exc).__name__}: {exc}"
        if isinstance(result, str):
            failed += 1
        if as_json:
            if isinstance(result, str):
                print(json.dumps({"source": target, "error": result}, ensure_ascii=False), flush=True)
            else:
                print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        else:
            rows.append((target, result))
    if not as_json:
        console.print(_table(rows))
        for target, result in rows:
            if isinstance(result, str):
                console.print(f"[red]error[/red] {target}: {result}", highlight=False)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze_command)


__all__ = ["ConfigError", "analyze_command", "fetch", "register"]
