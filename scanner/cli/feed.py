"""Bank feed commands: `keys create|revoke|list`, `feed publish|held|release|verify`, `export`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from scanner.cli._common import config, console, err_console, store

keys_app = typer.Typer(help="Per-bank API keys for the blocklist feeds and TAXII.", no_args_is_help=True)
feed_app = typer.Typer(help="Blocklist publication and offline signature checks.", no_args_is_help=True)


@keys_app.command("create")
def keys_create(ctx: typer.Context, bank: Annotated[str, typer.Argument(help="bank name, e.g. 'Meezan Bank'")]) -> None:
    """Create an API key for BANK; the key is printed once and only its hash is stored."""
    from blocklist import keys
    from scanner.review import audit

    with Session(store(ctx), expire_on_commit=False) as session:
        try:
            row, raw = keys.create(session, bank)
        except keys.KeyAdminError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        audit.record(session, _actor(), "apikey.create", f"bank:{row.bank}", prefix=row.prefix)
        session.commit()
    err_console.print(f"API key for [bold]{row.bank}[/bold] (prefix {row.prefix}); store it now, it is not shown again:")
    print(raw)


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, target: Annotated[str, typer.Argument(help="a bank name (all its keys) or one key's prefix")]) -> None:
    """Revoke every active key of a bank, or the key with the given prefix."""
    from blocklist import keys
    from scanner.review import audit

    with Session(store(ctx), expire_on_commit=False) as session:
        try:
            rows = keys.revoke(session, target)
        except keys.KeyAdminError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        for row in rows:
            audit.record(session, _actor(), "apikey.revoke", f"bank:{row.bank}", prefix=row.prefix)
        session.commit()
    for row in rows:
        console.print(f"revoked {row.prefix} ({row.bank})")


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """Keys with bank, prefix, creation, last use and revocation (never the key itself)."""
    from rich.table import Table

    from blocklist import keys
    from blocklist.view import iso

    with Session(store(ctx)) as session:
        rows = keys.list_keys(session)
    table = Table("bank", "prefix", "created", "last used", "revoked")
    for row in rows:
        table.add_row(row.bank, row.prefix, iso(row.created_at), iso(row.last_used_at), iso(row.revoked_at))
    console.print(table)


@keys_app.command("deliveries")
def keys_deliveries(
    ctx: typer.Context,
    bank: Annotated[str | None, typer.Option("--bank", help="only this bank")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="newest N pulls")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object a line")] = False,
) -> None:
    """The delivery log: which bank pulled which artefact at which feed version, and the answer."""
    import json

    from rich.table import Table
    from sqlmodel import col, select

    from blocklist.view import iso
    from scanner.store.models import Delivery

    query = select(Delivery).order_by(col(Delivery.at).desc(), col(Delivery.id).desc()).limit(limit)
    if bank:
        query = query.where(Delivery.bank == bank)
    with Session(store(ctx)) as session:
        rows = list(session.exec(query))
    if as_json:
        for row in rows:
            typer.echo(json.dumps({"at": iso(row.at), "bank": row.bank, "artefact": row.artefact,
                                   "version": row.version, "since": row.since, "status": row.status_code}))
        return
    table = Table("at (UTC)", "bank", "artefact", "version", "since", "status", title="feed deliveries")
    for row in rows:
        table.add_row(iso(row.at), row.bank, row.artefact, str(row.version or ""),
                      "" if row.since is None else str(row.since), str(row.status_code))
    console.print(table)


@feed_app.command("publish")
def feed_publish(ctx: typer.Context) -> None:
    """Synchronise the blocklist with the published findings now."""
    from blocklist.publish import current_version, sync
    from scanner.store.db import session_scope

    cfg = config(ctx)
    with session_scope(store(ctx)) as session:
        publication = sync(session, cfg, note="scanner feed publish")
        version = current_version(session)
    if publication is None:
        _print_hold(ctx)
        console.print(f"no change published; the feed stays at version {version}")
    else:
        console.print(
            f"published version {publication.version}: {publication.adds} added, {publication.removals} removed"
        )


def _print_hold(ctx: typer.Context) -> bool:
    """Print the open hold, if any (what a failed publication gate stopped); True if there is one."""
    from blocklist import holds

    with Session(store(ctx)) as session:
        held = holds.open_hold(session)
    if held is None:
        return False
    console.print(
        f"[yellow]held[/yellow] (hold {held.id}, since {held.created_at:%Y-%m-%d %H:%M} UTC): "
        f"{held.adds} adds and {held.removals} removals stopped by a publication gate",
        highlight=False,
    )
    for line in holds.describe(held):
        console.print(line, markup=False, highlight=False)
    console.print(f"an admin releases it: scanner feed release --override --hold {held.id} --reason TEXT --by ADMIN")
    return True


@feed_app.command("held")
def feed_held(ctx: typer.Context) -> None:
    """Show the blocklist change a publication gate is holding, and why."""
    if not _print_hold(ctx):
        console.print("nothing is held")


@feed_app.command("release")
def feed_release(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help="the admin who takes responsibility")],
    reason: Annotated[str, typer.Option("--reason", help="why the gates may be overridden (audited)")],
    override: Annotated[bool, typer.Option("--override", help="confirm: publish despite the failed gates")] = False,
    hold: Annotated[int | None, typer.Option("--hold", help="the hold you reviewed (default: the open one)")] = None,
) -> None:
    """Publish the held blocklist change over its failed gates (admin only; the reason is audited)."""
    from blocklist.publish import ReleaseError, release
    from scanner.store.db import session_scope

    if not override:
        err_console.print("[red]error:[/red] add --override to publish despite the failed publication gates")
        raise typer.Exit(2)
    try:
        with session_scope(store(ctx)) as session:
            publication = release(session, config(ctx), by, reason, hold)
            version, adds, removals = publication.version, publication.adds, publication.removals
    except ReleaseError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"released: published version {version}: {adds} added, {removals} removed")


@feed_app.command("verify")
def feed_verify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="the downloaded artefact")],
    signature: Annotated[str, typer.Argument(help="the .sig file, or the base64 signature itself")],
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="PEM from /feed/v1/public-key (default: this install's key)")
    ] = None,
) -> None:
    """Check an artefact against its Ed25519 signature offline; exit 1 if it does not match."""
    from blocklist.sign import (
        KEY_FILE,
        PUBLIC_KEY_FILE,
        SigningError,
        load_public_key,
        load_signer,
        sha256,
        verify,
    )

    if not file.is_file():
        err_console.print(f"[red]error:[/red] {file}: file not found")
        raise typer.Exit(2)
    sig_path = Path(signature)
    sig = sig_path.read_text().strip() if sig_path.is_file() else signature
    try:
        if public_key is not None:
            if not public_key.is_file():
                err_console.print(f"[red]error:[/red] {public_key}: public key file not found")
                raise typer.Exit(2)
            key = load_public_key(public_key.read_bytes(), str(public_key))
        else:
            data_dir = config(ctx).data_dir
            pem_path = data_dir / PUBLIC_KEY_FILE
            if (data_dir / KEY_FILE).is_file():
                pem = pem_path.read_bytes() if pem_path.is_file() else load_signer(data_dir).public_key_pem
            else:
                err_console.print(
                    f"[red]error:[/red] no feed key in {data_dir}; pass --public-key (the PEM from /feed/v1/public-key)"
                )
                raise typer.Exit(2)
            key = load_public_key(pem, str(pem_path))
    except SigningError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    data = file.read_bytes()
    if verify(data, sig, key):
        console.print(f"OK {file} sha256={sha256(data)}")
        return
    err_console.print(f"[red]FAILED[/red] {file}: the signature does not match this file and public key")
    raise typer.Exit(1)


def export(
    ctx: typer.Context,
    format: Annotated[str, typer.Option("--format", "-f", help="csv|json|hosts|domains|rpz|stix|rails")],  # noqa: A002
    output: Annotated[Path, typer.Option("--output", "-o", help="artefact path; PATH.sig and PATH.sha256 beside it")],
    since: Annotated[int | None, typer.Option("--since", min=0, help="only changes after this version")] = None,
) -> None:
    """Write a feed artefact to a file with its detached signature and SHA-256."""
    from blocklist.artefacts import build, resolve
    from blocklist.sign import load_signer
    from blocklist.view import FeedError
    from scanner.review import audit

    cfg = config(ctx)
    try:
        fmt = resolve(format)
    except FeedError as exc:
        err_console.print(f"[red]error:[/red] --format: {exc}")
        raise typer.Exit(2) from None
    if output.is_dir():
        err_console.print(f"[red]error:[/red] --output: {output} is a directory")
        raise typer.Exit(2)
    engine = store(ctx)
    with Session(engine) as session:
        try:
            artefact = build(session, cfg, fmt, load_signer(cfg.data_dir), since)
        except FeedError as exc:
            err_console.print(f"[red]error:[/red] --since: {exc}")
            raise typer.Exit(2) from None
        audit.record(session, _actor(), "feed.export", fmt.artefact, version=artefact.version, since=since,
                     sha256=artefact.sha256, output=str(output))
        session.commit()
    output.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(output, artefact.body)
    _atomic_write(Path(f"{output}.sig"), (artefact.signature + "\n").encode())
    _atomic_write(Path(f"{output}.sha256"), f"{artefact.sha256}  {output.name}\n".encode())
    console.print(
        f"wrote {output} ({fmt.artefact}, version {artefact.version}"
        + (f", since {artefact.since}" if artefact.since is not None else "")
        + f", {len(artefact.body)} bytes, sha256 {artefact.sha256})"
    )


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _actor() -> str:
    return f"cli:{os.environ.get('USER') or os.environ.get('USERNAME') or 'unknown'}"


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(feed_app, name="feed")
    app.command("export")(export)
