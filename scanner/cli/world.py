"""`scanner world`: the simulated web alone, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer
from rich.table import Table

from scanner.cli._common import console, err_console


def register(app: typer.Typer) -> None:
    @app.command("world")
    def world(
        port: int = typer.Option(8899, "--port", "-p", help="port to listen on (0 picks a free one)"),
        host: str = typer.Option("127.0.0.1", "--host", help="address to bind"),
        slow_seconds: float = typer.Option(10.0, "--slow-seconds", help="delay of badhost.test/slow"),
        sprawl_pages: int = typer.Option(20_000, "--sprawl-pages", help="pages of sprawl.test"),
    ) -> None:
        """Serve the simulated web of fictional exchanges and APIs (use it as an HTTP proxy)."""
        from scanner.world import ground_truth, start_world

        try:
            running = start_world(host=host, port=port, slow_seconds=slow_seconds, sprawl_pages=sprawl_pages)
        except OSError as exc:
            err_console.print(f"[red]cannot listen on {host}:{port}:[/red] {exc.strerror or exc}")
            raise typer.Exit(2) from None

        table = Table(title="simulated web", show_lines=False)
        for column in ("host", "kind", "verdict", "mirror of", "configured"):
            table.add_column(column)
        for name, truth in sorted(ground_truth().items(), key=lambda kv: (kv[1]["kind"], kv[0])):
            colour = "red" if truth["verdict"] == "flag" else "green"
            table.add_row(
                name,
                truth["kind"],
                f"[{colour}]{truth['verdict']}[/{colour}]",
                truth["mirror_of"] or "",
                "yes"
                if truth["configured"]
                else ("no (discovery)" if truth["kind"] == "unlicensed" else "no"),
            )
        console.print(table)
        console.print(
            f"proxy: [bold]{running.proxy_url}[/bold]   e.g. "
            f"HTTP_PROXY={running.proxy_url} curl http://rupee-exchange.test/"
        )
        console.print(
            f"Pakistani exit (vantage point pk): [bold]{running.pk_exit_url}[/bold]   e.g. "
            f"PKSCAN_DEMO_PK_EXIT={running.pk_exit_url}"
        )
        console.print("index: http://world.test/ · ground truth: http://world.test/__world/ground-truth")

        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            running.stop()
            console.print("world stopped")
