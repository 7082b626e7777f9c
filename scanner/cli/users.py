"""`scanner users add|list|disable`: review workspace accounts (passwords hashed with Argon2id)."""

from __future__ import annotations

import getpass
import sys

import typer
from rich.table import Table
from sqlmodel import Session, col, select

from scanner.cli._common import console, err_console, store
from scanner.printable import visible
from scanner.review import audit
from scanner.store.db import session_scope
from scanner.store.models import User
from scanner.web.security.roles import ROLES

users_app = typer.Typer(help="Review workspace accounts (officers and admins).", no_args_is_help=True)


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _fail(message: str) -> None:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@users_app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Username."),
    role: str = typer.Option(..., "--role", help="officer or admin."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
) -> None:
    """Create an account. Without --password-stdin the password is asked for twice."""
    from scanner.web.security.passwords import hash_password

    name = name.strip()
    if role not in ROLES:
        _fail(f"--role: {role!r} is not a role (expected officer or admin)")
    # A name is shown in every audit trail and decision list: "bob\u200b" would pass for bob there (the
    # two-person rule's second officer), "\u202e" or ESC would reorder or rewrite what is shown.
    if not name or len(name) > 128 or any(c.isspace() for c in name) or not name.isprintable():
        _fail(f"username {visible(name)!r}: 1-128 printable characters, no spaces, control or format characters")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not sys.stdin.isatty():
        _fail("no terminal to ask for the password: pipe it in with --password-stdin")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        _fail(str(exc))
    with session_scope(store(ctx)) as session:
        if session.exec(select(User).where(User.username == name)).first() is not None:
            _fail(f"user {name!r} already exists")
        session.add(User(username=name, password_hash=password_hash, role=role))
        audit.record(session, _operator(), "user.add", f"user:{name}", role=role)
    console.print(f"user [bold]{name}[/bold] ({role}) created", highlight=False)


@users_app.command("list")
def list_users(ctx: typer.Context) -> None:
    """List accounts."""
    with Session(store(ctx)) as session:
        users = session.exec(select(User).order_by(col(User.username))).all()
    table = Table("username", "role", "created", "enabled")
    for user in users:
        table.add_row(user.username, user.role, user.created_at.strftime("%Y-%m-%d %H:%M"), "no" if user.disabled else "yes")
    console.print(table)


@users_app.command("disable")
def disable(ctx: typer.Context, name: str = typer.Argument(..., help="Username.")) -> None:
    """Disable an account (it can no longer log in or decide; its past decisions stay)."""
    with session_scope(store(ctx)) as session:
        user = session.exec(select(User).where(User.username == name)).first()
        if user is None:
            _fail(f"unknown user {name!r}")
            return
        user.disabled = True
        session.add(user)
        audit.record(session, _operator(), "user.disable", f"user:{name}")
    console.print(f"user [bold]{name}[/bold] disabled", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
