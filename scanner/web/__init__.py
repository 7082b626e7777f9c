"""The review web service (FastAPI): `create_app(config)`."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy, so CLI commands importing scanner.web.security do not pay for FastAPI at start-up.
    if name == "create_app":
        from scanner.web.app import create_app

        return create_app
    raise AttributeError(name)
