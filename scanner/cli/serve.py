"""`scanner serve`: the review UI, bank feeds, TAXII and metrics in one uvicorn process."""

from __future__ import annotations

import typer

from scanner.cli._common import config, console


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port.", min=0, max=65535),
    proxy_headers: bool = typer.Option(
        False, "--proxy-headers", help="Trust X-Forwarded-* from a local TLS proxy (cookies become Secure)."
    ),
) -> None:
    """Serve the review UI (/review/), /healthz and, when installed, /feed/v1/, /taxii2/ and /metrics."""
    import uvicorn

    from scanner.web import create_app

    app = create_app(config(ctx))
    console.print(f"serving on http://{host}:{port}/review/ (bank feeds under /feed/v1/ and /taxii2/, /metrics)")
    uvicorn.run(app, host=host, port=port, proxy_headers=proxy_headers, log_config=None, access_log=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
