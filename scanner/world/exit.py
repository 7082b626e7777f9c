"""A simulated Pakistani exit: an HTTP forward proxy on loopback that reaches the simulated web from
its own source address, so the world sees its visitors as coming from Pakistan.

Real deployments name a proxy in Pakistan as a vantage point (`scanner.net.vantage`); the demo and
the tests name this one. It takes absolute-form requests (``GET http://chenab-exchange.test/ HTTP/1.1``,
what requests and Scrapy send to a proxy), forwards each to the world's proxy port from
``PK_EXIT_ADDRESS`` (127.0.0.5: on Linux all of 127/8 is this machine), and relays the answer. The
world trusts that source address only (`scanner.world.server`): a geo-gated site shows PKR, JazzCash
and Urdu to visitors coming from it and US dollars to everyone else, as geo-gated exchanges do.

With ``credentials=("user", "password")`` it answers 407 unless ``Proxy-Authorization`` carries them,
like a commercial exit; ``authorised`` counts the requests that did. CONNECT is refused (405): the
simulated web is plain http.
"""

from __future__ import annotations

import base64
import http.client
import threading
from http.server import ThreadingHTTPServer

from scanner.world.handler import QuietHandler

# The source address the simulated web takes for a visitor in Pakistan.
PK_EXIT_ADDRESS = "127.0.0.5"
_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "proxy-connection", "te",
    "trailer", "transfer-encoding", "upgrade", "content-length",
}  # fmt: skip


class ExitServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], upstream: tuple[str, int], *, source: str = PK_EXIT_ADDRESS,
        credentials: tuple[str, str] | None = None, timeout: float = 60.0,
    ) -> None:  # fmt: skip
        super().__init__(address, ExitHandler)
        self.upstream = upstream
        self.source = source
        self.timeout = timeout
        self.expected_auth = (
            "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
            if credentials
            else None
        )
        self.requests = 0
        self.authorised = 0
        self._lock = threading.Lock()

    def count(self, authorised: bool) -> None:
        with self._lock:
            self.requests += 1
            self.authorised += authorised


class ExitHandler(QuietHandler):
    server: ExitServer
    server_version = "pkscan-world-pk-exit/0.1"

    def _reply(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        body = message.encode()
        self.send_response(status)
        for name, value in {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        expected = self.server.expected_auth
        authorised = expected is not None and self.headers.get("Proxy-Authorization") == expected
        self.server.count(authorised)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if expected is not None and not authorised:
            self._reply(407, "proxy authentication required", {"Proxy-Authenticate": 'Basic realm="pk-exit"'})
            return
        if not self.path.startswith("http://"):
            self._reply(400, "an HTTP proxy: send absolute-form requests (http://host/path)")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        host, port = self.server.upstream
        upstream = http.client.HTTPConnection(
            host, port, timeout=self.server.timeout, source_address=(self.server.source, 0)
        )
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            self._reply(502, f"pk exit: upstream failed ({type(exc).__name__})")
            return
        finally:
            upstream.close()
        self.send_response_only(answer.status, answer.reason)  # Server and Date are the site's
        for name, value in answer.getheaders():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = _handle

    def do_CONNECT(self) -> None:  # noqa: N802 - http.server naming
        self.server.count(False)
        self._reply(405, "the simulated Pakistani exit proxies plain http:// only")
        self.close_connection = True


class PakistanExit:
    """A running exit proxy; ``url`` is what a vantage point's ``proxy`` names."""

    def __init__(self, server: ExitServer, thread: threading.Thread, credentials: tuple[str, str] | None):
        self.server = server
        self.thread = thread
        self.host: str = server.server_address[0]  # type: ignore[assignment]
        self.port: int = server.server_address[1]
        self.credentials = credentials

    @property
    def url(self) -> str:
        user = f"{self.credentials[0]}:{self.credentials[1]}@" if self.credentials else ""
        return f"http://{user}{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> PakistanExit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_exit(
    upstream: tuple[str, int], *, host: str = "127.0.0.1", port: int = 0, source: str = PK_EXIT_ADDRESS,
    credentials: tuple[str, str] | None = None,
) -> PakistanExit:  # fmt: skip
    """Start an exit proxy in a background thread in front of the world at ``upstream``."""
    server = ExitServer((host, port), upstream, source=source, credentials=credentials)
    thread = threading.Thread(
        target=server.serve_forever, name=f"pk-exit:{server.server_address[1]}", daemon=True
    )
    thread.start()
    return PakistanExit(server, thread, credentials)
