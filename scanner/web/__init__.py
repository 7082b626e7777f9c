"""The review web service (FastAPI): `create_app(config)`."""

from scanner.web.app import create_app

__all__ = ["create_app"]
