"""What sources wrote reaches an officer's terminal as text: control sequences are written out,
never sent to the terminal (rich passes ESC through: a channel title could clear the screen,
rewrite the rows above it or set the clipboard)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session
from typer.testing import CliRunner

from scanner.cli.main import app
from scanner.config import Config
from scanner.store.db import open_store
from scanner.store.models import Candidate

TITLE = "Rupee \x1b[2J\x1b[1A\x1b]52;c;ZXZpbA==\x07Desk [bold]x[/bold] \u202eevil\nline two"


def test_candidate_reasons_with_control_sequences_are_printed_as_text(tmp_path: Path) -> None:
    config = Config(env={"SCANNER_DATA_DIR": str(tmp_path / "data"), "SCANNER_CONFIG_DIR": "config"})
    engine = open_store(config)
    with Session(engine) as session:
        session.add(Candidate(key="rupeedesk.test", url="https://rupeedesk.test/", source="telegram",
                              found_on_url="https://t.me/s/rupeedesk", reason=f"channel title: {TITLE}"))  # fmt: skip
        session.commit()
    result = CliRunner().invoke(app, obj=config, args=["candidates"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    assert "\\x1b[2J" in result.output and "\\u202e" in result.output
    assert "[bold]x[/bold]" in result.output  # markup shown as typed, not applied
