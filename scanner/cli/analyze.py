"""`scanner analyze`: run detection on URLs or local files and print the verdicts. Nothing is stored.

URLs are fetched through the shared egress client (`scanner.net.http`): the egress policy, a total
deadline per response, the size and inflation caps. Binary targets (executables, images, archives,
anything with NUL bytes) are refused by content type and sniffing; local files are read up to
``http.max_response_bytes``, so memory stays bounded. A target that fails is one error line; the
others are still analysed and the command exits 1 at the end.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from scanner.cli._common import config, shown
from scanner.config import Config, ConfigError
from scanner.detection import Analysis, Document
from scanner.net.egress import EgressRefused
from scanner.net.http import EgressClient, FetchError
from scanner.observation import Rules, rules_for

console = Console()


class TargetError(Exception):
    """A target that cannot be analysed; str() says why (the caller names the target)."""


# Magic numbers of common binary formats, for a clear message ("ELF executable", not "binary").
_MAGIC = (
    (b"\x7fELF", "ELF executable"), (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"), (b"GIF8", "GIF image"), (b"\xff\xd8\xff", "JPEG image"), (b"PK\x03\x04", "zip archive"),
    (b"\x1f\x8b", "gzip file"), (b"SQLite format 3", "SQLite database"), (b"\xfe\xed\xfa", "Mach-O executable"),
)  # fmt: skip
_TEXT_TYPES = ("application/json", "application/xhtml+xml", "application/xml", "application/javascript")
_CONTROL = bytes(range(9)) + bytes(range(14, 32))


def binary_kind(content_type: str, body: bytes) -> str | None:
    """What a body is when it is not HTML, JSON or text (by content type, then by sniffing); else None."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media.startswith(("image/", "audio/", "video/", "font/")) or media in (
        "application/pdf",
        "application/zip",
    ):
        return f"content type {media}"
    head = body[:4096]
    textual = media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 text (its NUL bytes are not binary)
    if textual and b"\0" not in head:
        return None  # as declared; a misdeclared charset is detection's business, not a refusal
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"\0" in head or (head and sum(head.count(c) for c in _CONTROL) > len(head) // 10):
        return f"binary data{f' ({media})' if media else ''}"
    return None


def fetch(url: str, client: EgressClient, max_bytes: int) -> Document:
    """GET a URL through the shared egress client (policy, total deadline, size and inflation caps)."""
    try:
        exchange = client.fetch("GET", url)
        if exchange.status >= 400:
            raise TargetError(f"HTTP {exchange.status}")
        body = exchange.decoded(max_bytes)
    except (EgressRefused, FetchError) as exc:
        raise TargetError(str(exc)) from None
    kind = binary_kind(exchange.content_type, body)
    if kind is not None:
        raise TargetError(f"{exchange.url}: {kind}, not HTML, JSON or text")
    return Document(exchange.url, exchange.content_type, body)


def _content_type_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return "text/html"
    if suffix == ".json":
        return "application/json"
    if suffix in (".txt", ".text", ".md"):
        return "text/plain"
    return mimetypes.guess_type(path.name)[0] or ""


def read_file(target: str, url: str | None, max_bytes: int) -> Document:
    """A local file, read up to ``max_bytes`` (memory stays bounded whatever the file: a larger one,
    or an endless one such as /dev/zero, is an error like an oversized response)."""
    path = Path(target)
    try:
        with path.open("rb") as file:
            body = file.read(max_bytes + 1)
    except OSError as exc:
        raise TargetError(f"cannot read {target}: {exc.strerror or exc}") from None
    if len(body) > max_bytes:
        raise TargetError(
            f"{target}: larger than max_response_bytes ({max_bytes} bytes); analyse a part of it"
        )
    content_type = _content_type_for(path)
    kind = binary_kind(content_type, body)
    if kind is not None:
        raise TargetError(f"{target}: {kind}, not HTML, JSON or text")
    return Document(url or path.resolve().as_uri(), content_type, body)


def load_target(target: str, url: str | None, client: EgressClient, max_bytes: int) -> Document:
    if target.startswith(("http://", "https://")):
        return fetch(target, client, max_bytes)
    return read_file(target, url, max_bytes)


def _table(rows: list[tuple[str, Analysis | str]]) -> Table:
    table = Table(title="pkscan analyze", show_lines=False)
    for column in ("target", "verdict", "score", "crypto", "Pakistan", "licensed", "platform", "top signals"):
        table.add_column(column, overflow="fold")
    for target, result in rows:
        if isinstance(result, str):
            table.add_row(shown(target), "[red]error[/red]", "", "", "", "", "", shown(result[:120]))
            continue
        top = sorted(result.signals, key=lambda s: (-s.weight, s.kind, s.value))[:5]
        colour = "red" if result.verdict == "flag" else "green"
        table.add_row(
            shown(target),
            f"[{colour}]{result.verdict}[/{colour}]",
            f"{result.score:.3f}",
            "yes" if result.crypto_service else "no",
            "yes" if result.targets_pakistan else "no",
            ("yes" if result.licensed else "no")
            + (f" ({result.licence_status})" if result.licence_status else ""),
            shown(result.platform),
            shown("; ".join(f"{s.kind}: {s.value}" for s in top)),
        )
    return table


def analyze_command(
    ctx: typer.Context,
    targets: Annotated[
        list[str], typer.Argument(help="URLs (http/https) or local files (HTML, JSON, text).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per target per line.")] = False,
    register_path: Annotated[
        Path | None,
        typer.Option("--register", help="Licensed register YAML to use instead of config/licensed.yaml."),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Source URL of a single local file (sets its platform).")
    ] = None,
    vantage: Annotated[
        str | None,
        typer.Option(
            "--vantage", help="Fetch URLs through this vantage point of targets.yaml (e.g. a Pakistani exit)."
        ),
    ] = None,
) -> None:
    """Run detection on TARGETs and print verdicts with their signals. Nothing is stored.

    Exit code 1 if any target could not be fetched or parsed, 2 on bad configuration.
    """
    if url is not None and len(targets) != 1:
        raise typer.BadParameter("--url needs exactly one TARGET", param_hint="--url")
    cfg: Config = config(ctx, validate=False)
    max_bytes = cfg.settings.http.max_response_bytes
    client = EgressClient(
        cfg.settings, headers={"Accept": "text/html,application/json;q=0.9,*/*;q=0.5"}, vantage=cfg.vantage(vantage)
    )
    rules = rules_for(cfg)
    if register_path is not None:
        rules = Rules(rules.lexicons, cfg.register_from(register_path))
    failed = 0
    rows: list[tuple[str, Analysis | str]] = []
    for target in targets:
        try:
            doc = load_target(target, url, client, max_bytes)
            result: Analysis | str = rules.analyse(doc)
        except TargetError as exc:
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
    client.close()
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
