"""The HTTP server: one ThreadingHTTPServer, dispatching on the request's host name.

Clients use it as a plain HTTP proxy, so the request line carries an absolute URI
(``GET http://rupee-exchange.test/p2p HTTP/1.1``); direct requests fall back to the Host header.
"""

from __future__ import annotations

import sys
import threading
import time
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scanner.world import apis, geo, misbehave, render, sources
from scanner.world.catalogue import WORLD_HOST, ground_truth, host_index
from scanner.world.exit import PK_EXIT_ADDRESS
from scanner.world.handler import QuietHandler
from scanner.world.response import Response, html, jsonr, not_found, text

MAX_BODY = 1024 * 1024


class WorldHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Crawlers open many connections at once; the default backlog of 5 drops them.
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], slow_seconds: float, sprawl_pages: int) -> None:
        super().__init__(address, WorldHandler)
        self.slow_seconds = slow_seconds
        self.sprawl_pages = sprawl_pages
        self.faults = apis.FaultState(slow_seconds)
        self.request_count = 0
        self._count_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up on the slow or oversized pages hang up mid-response: expected, not a fault.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def count(self) -> None:
        with self._count_lock:
            self.request_count += 1


def world_index() -> str:
    truth = ground_truth()
    rows = "".join(
        f'<tr><td><a href="http://{h}/">{h}</a></td><td>{t["kind"]}</td><td>{t["verdict"]}</td>'
        f"<td>{t['mirror_of'] or ''}</td><td>{t['note']}</td></tr>"
        for h, t in sorted(truth.items())
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>pkscan simulated web</title></head><body>"
        "<h1>pkscan simulated web</h1><p><a href='/__world/ground-truth'>ground truth (JSON)</a></p>"
        f"<table><tr><th>host</th><th>kind</th><th>verdict</th><th>mirror of</th><th>why</th></tr>{rows}</table>"
        "</body></html>"
    )


def dispatch(
    server: WorldHTTPServer, method: str, host: str, path: str, query: str, headers: Any, body: bytes,
    country: str | None = None,
) -> Response:  # fmt: skip
    """``country``: where the visitor is (``PK`` through the simulated Pakistani exit, else None)."""
    if path == "/__world/ground-truth":
        return jsonr(ground_truth())
    if path == "/__world/reset":
        server.faults.reset()
        return jsonr({"reset": True})
    if host == WORLD_HOST:
        return html(world_index()) if path in ("/", "") else not_found(host, path)
    if host in apis.API_HOSTS:
        return apis.handle(host, method, path, query, headers, body, server.faults)
    if sources.serves(host, path):
        return sources.handle(host, path, query, headers, server.faults)  # discovery sources
    if path == "/robots.txt":
        return text(render.robots_txt(host))
    if host == geo.GEO_HOST:
        return geo.handle(path, country)
    if host == "badhost.test":
        return misbehave.badhost(path, query, server.slow_seconds)
    if host == "sprawl.test":
        return misbehave.sprawl(path, server.sprawl_pages)
    if host in ("t.me", "play.google.com", "apps.apple.com"):
        page = render.render_hosted(host, path, query)
        return html(page) if page is not None else not_found(host, path)
    if host in host_index():
        if path == "/sitemap.xml":
            return Response(
                body=render.sitemap_xml(host, render.site_paths(host)).encode(),
                content_type="application/xml",
            )
        if render.is_script_shell(host):
            if path == "/static/app.js":
                return text(render.SCRIPT_APP, content_type="text/javascript")
            if path == "/api/view":
                view = render.script_view(host, (parse_qs(query).get("path") or ["/"])[0])
                return jsonr(view) if view is not None else not_found(host, path)
        if path.startswith("/static/"):
            return text(
                "/* simulated asset */",
                content_type="text/css" if path.endswith(".css") else "text/javascript",
            )
        page = render.render_page(host, path)
        return html(page) if page is not None else not_found(host, path)
    return html(
        f"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><p>Unknown host {host} in the simulated "
        "web.</p></body></html>",
        status=502,
    )


class WorldHandler(QuietHandler):
    server: WorldHTTPServer
    server_version = "pkscan-world/0.1"

    def _target(self) -> tuple[str, str, str]:
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            host = parts.hostname or ""
            path, query = parts.path or "/", parts.query
        else:
            host = (
                (self.headers.get("Host") or "").rsplit(":", 1)[0]
                if not (self.headers.get("Host") or "").startswith("[")
                else ""
            )
            parts = urlsplit(self.path)
            path, query = parts.path or "/", parts.query
        return host.lower().rstrip("."), path, query

    def _handle(self) -> None:
        self.server.count()
        host, path, query = self._target()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(jsonr({"error": "request body too large"}, status=413))
            return
        body = self.rfile.read(length) if length else b""
        # Only the simulated Pakistani exit's source address counts as a visitor from Pakistan.
        country = "PK" if self.client_address[0] == PK_EXIT_ADDRESS else None
        try:
            response = dispatch(self.server, self.command, host, path, query, self.headers, body, country)
        except Exception as exc:  # a bug in the world must not look like a network failure
            response = jsonr({"error": "world internal error", "detail": repr(exc)}, status=500)
        self._send(response)

    def _send(self, response: Response) -> None:
        if response.delay:
            time.sleep(response.delay)
        body = response.body
        if isinstance(body, bytes):
            chunks: Any = [body]
            sent_length = len(body)
        else:
            chunks = body
            sent_length = None
        declared = response.length if response.length is not None else sent_length
        close = response.close or (
            declared is not None and sent_length is not None and declared > sent_length
        )
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if declared is not None:
            self.send_header("Content-Length", str(declared))
        if close or declared is None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = _handle

    def do_CONNECT(self) -> None:  # noqa: N802 - http.server naming
        self.server.count()
        message = (
            "The pkscan simulated web serves plain http:// only; CONNECT (https through a proxy) is "
            "not supported. Use http:// URLs."
        )
        self._send(
            Response(
                status=HTTPStatus.METHOD_NOT_ALLOWED,
                body=message.encode(),
                content_type="text/plain; charset=utf-8",
                headers={"Allow": "GET, POST, HEAD"},
                close=True,
            )
        )
