"""A hostile web on loopback: pages and APIs that link and redirect to local files and internal
addresses, a canary standing in for an internal service, and a server that sends one byte a second.

Addresses: the hostile web listens on 127.0.0.2 and is reached by name (``www.hostile.test``,
``api.hostile.test``) through ``egress.static_hosts``, with ``egress.allow_networks: [127.0.0.2/32]``
as a lab network would be allowed. The canary listens on 127.0.0.1 (and on ::1 when the machine has
IPv6 loopback), which nothing allows; ``rebind.hostile.test`` is a name that "resolves" to it. No
proxy: the fetchers connect themselves, so a hole in the policy would reach the canary.
"""

from __future__ import annotations

import gzip
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine

from scanner.store.db import make_engine, upgrade
from tests.conftest import REPO_ROOT

SCANNER = str(Path(sys.executable).with_name("scanner"))
CORPUS = REPO_ROOT / "tests" / "detection" / "corpus"
HOSTILE_IP = "127.0.0.2"
TIMEOUT = 3.0  # the test config's timeout_seconds: the total deadline of one response


MISBEHAVING = {"/endless": "_endless", "/bomb": "_bomb", "/loop/a": "_loop", "/loop/b": "_loop",
               "/charset": "_charset", "/fake-json": "_fake_json", "/reset": "_reset", "/error500": "_error500",
               "/attribute": "_attribute", "/clear": "_clear", "/head/folded": "_head_folded",
               "/head/many": "_head_many", "/head/long-line": "_head_long_line",
               "/head/bad-name": "_head_bad_name", "/head/status-huge": "_status_huge",
               "/head/status-negative": "_status_negative", "/head/150": "_head_150",
               "/interim/hints": "_interim_hints", "/interim/flood": "_interim_flood"}  # fmt: skip



def _gzip_stored(body: bytes) -> bytes:
    """gzip at level 0: stored blocks, ~100 bytes more a MiB, so layers of it cost nothing to send."""
    packer = zlib.compressobj(0, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(body) + packer.flush()


def coded(body: bytes, codings: str) -> bytes:
    """``body`` in the content codings of a Content-Encoding value (applied left to right)."""
    for coding in (c.strip() for c in codings.split(",")):
        if coding == "br":
            import brotli

            body = brotli.compress(body)
        elif coding == "zstd":
            from backports import zstd

            body = zstd.compress(body)
        elif coding == "gzip-stored":
            body = _gzip_stored(body)
        elif coding == "gzip":
            body = gzip.compress(body)
    return body


# Content-Encoding value -> how the flagged page is sent (``/coding/<name>``): codings the pollers'
# client does not ask for, stacked codings and a coding nobody knows (sent as it is), all of which
# browsers and the crawl read; and a page in 40 layers of stored gzip around 1 MiB of noise.
CODINGS = {"br": "br", "zstd": "zstd", "gzip-gzip": "gzip, gzip", "gzip-br": "gzip, br", "unknown": "x-pkscan"}
LAYERS = 40

# Bodies framed to hurt a client's parser, each sent until the client hangs up (``_framing``).
_CHUNKED = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
FRAMINGS = {
    "chunk-size-endless": (_CHUNKED, b"0" * 65536),  # a chunk-size line of zeros without end
    "chunk-extension-endless": (_CHUNKED + b"1;", b"e" * 65536),  # one chunk extension without end
    "chunk-extensions": (_CHUNKED, b"1;" + b"e" * 8000 + b"\r\na\r\n"),  # 8 KB of extension a byte of body
    "tiny-chunks": (_CHUNKED, b"1\r\na\r\n" * 4096),  # a body of one-byte chunks
    "trailers-endless": (_CHUNKED + b"2\r\nok\r\n0\r\n", b"X-Trailer: v\r\n" * 4096),
    "trailer-line-endless": (_CHUNKED + b"2\r\nok\r\n0\r\nX-Trailer: ", b"v" * 65536),
    "status-line-endless": (b"HTTP/1.1 200 ", b"O" * 65536),
    "lines-without-colon": (b"HTTP/1.1 200 OK\r\n", b"no colon here\r\n" * 4096),
    "tiny-chunks-ended": (_CHUNKED + b"1\r\na\r\n" * 40_000 + b"0\r\n\r\n", b""),  # then nothing more
    "length-beyond-cap": (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", b"a" * 65536),
}


def _gzip_bomb(size: int = 512 * 1024 * 1024) -> bytes:
    """Concatenated gzip members of zeros: about 0.5 MB on the wire, ``size`` bytes inflated."""
    member = gzip.compress(b"\0" * (1024 * 1024), compresslevel=9)
    return member * (size // (1024 * 1024))


BOMB = _gzip_bomb()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class _V6Server(_Server):
    address_family = socket.AF_INET6


@dataclass
class Canary:
    """An internal service: it must never see a request."""

    port: int
    hits: list[str] = field(default_factory=list)


def _canary_handler(canary: Canary) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            canary.hits.append(f"{self.command} {self.path} Host={self.headers.get('Host')}")
            body = b"CANARY-SECRET internal admin token"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _any  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _serve(server: ThreadingHTTPServer) -> ThreadingHTTPServer:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    v4 = _Server(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    c = Canary(port=v4.server_address[1])
    v4.RequestHandlerClass = _canary_handler(c)
    servers = [_serve(v4)]
    try:
        servers.append(_serve(_V6Server(("::1", c.port), _canary_handler(c))))
    except OSError:
        pass  # no IPv6 loopback here: [::1] links are refused all the same
    yield c
    for server in servers:
        server.shutdown()


@dataclass
class Hostile:
    port: int
    canary: Canary
    secret_files: list[Path]
    slow_started: list[float] = field(default_factory=list)
    cookie_bytes: list[int] = field(default_factory=list)  # the Cookie header's length on each /cookies/ page
    changing: list[bytes] = field(default_factory=list)  # /changing serves the last one (a site that changes)

    def url(self, path: str = "/", host: str = "www.hostile.test") -> str:
        return f"http://{host}:{self.port}{path}"


def hostile_links(hostile: Hostile) -> list[str]:
    cp = hostile.canary.port
    files = [f"file://{path}" for path in hostile.secret_files] + ["file:///etc/passwd", "file://localhost/etc/hostname"]
    addresses = [
        f"http://127.0.0.1:{cp}/literal", f"http://2130706433:{cp}/decimal", f"http://0x7f.1:{cp}/hex",
        f"http://0177.0.0.1:{cp}/octal", f"http://127.1:{cp}/short", f"http://localhost:{cp}/localhost",
        f"http://[::1]:{cp}/v6", f"http://[::ffff:127.0.0.1]:{cp}/mapped", f"http://rebind.hostile.test:{cp}/dns",
        "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://192.168.1.1/", "http://100.64.0.1/",
        f"ftp://127.0.0.1:{cp}/", f"https://127.0.0.1:{cp}/tls",
    ]  # fmt: skip
    return files + addresses + ["/go/loopback", "/go/file", "/go/rebind", "/go/metadata", "/slow"]


def _hostile_handler(hostile: Hostile) -> type[BaseHTTPRequestHandler]:
    page = (CORPUS / "p01_en_exchange_jazzcash.html").read_text(encoding="utf-8")
    cp = hostile.canary.port
    redirects = {
        "/go/loopback": f"http://127.0.0.1:{cp}/redirected",
        "/go/file": "file:///etc/passwd",
        "/go/rebind": f"http://rebind.hostile.test:{cp}/redirected",
        "/go/metadata": "http://169.254.169.254/latest/meta-data/iam/",
        "/go/invalid-v6": "http://[::1",  # no URL at all: Scrapy raised ValueError
        "/go/invalid-port": "http://www.hostile.test:99999/",
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            self._route()

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self._route()

        def _route(self) -> None:
            path = self.path.split("?", 1)[0]
            host = (self.headers.get("Host") or "").split(":")[0]
            if path == "/robots.txt":
                return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
            if path in redirects:
                return self._send(302, b"", headers={"Location": redirects[path]})
            if path.startswith("/slow"):
                return self._slowloris()
            if host == "api.hostile.test":
                # Every API call of every adapter is answered with a redirect: to the internal
                # service, or (under /crosshost/) to another host that the policy itself allows.
                location = hostile.url("/") if path.startswith("/crosshost/") else redirects["/go/loopback"]
                return self._send(302, b"", headers={"Location": location})
            if path in MISBEHAVING:
                return getattr(self, MISBEHAVING[path])()
            if path == "/refresh/header":  # browsers go on to the offer; Scrapy stayed on "nothing here"
                return self._send(200, b"<html><body>nothing here</body></html>",
                                  headers={"Refresh": "0; url=/clear?from=refresh-header"})  # fmt: skip
            if path == "/refresh/header-invalid":
                return self._send(200, b"<html><body>moved</body></html>", headers={"Refresh": "0;url=http://[::1"})
            if path == "/refresh/invalid":
                return self._send(200, b'<html><head><meta http-equiv="refresh" content="0;url=http://[::1">'
                                  b"</head><body>moved</body></html>")  # fmt: skip
            if path == "/after-html":  # the offer and a link after </html>: browsers show both
                head, _, rest = page.partition("<body>")
                body = f'{head}<body><p>hello</p></body></html>{rest}<a href="/clear?from=after-html">more</a>'
                return self._send(200, body.encode())
            if path == "/control-host":  # ESC M (cursor up a line) in a link's host name
                link = "http://a\x1bMb.hostile.test/"  # not resolvable: fails at once
                return self._send(200, f'<html><body><a href="{link}">x</a></body></html>'.encode())
            if path == "/deep":  # 3,000 nested elements (closed again) before the offer and a link
                head, _, rest = page.partition("<body>")
                nest = "<div>" * 3_000 + "</div>" * 3_000
                return self._send(200, f'{head}<body>{nest}{rest}<a href="/clear?from=deep">more</a>'.encode())
            if path == "/nul":  # text PostgreSQL cannot hold: NUL bytes, lone surrogates (JSON escapes)
                return self._nul()
            if path == "/changing" and hostile.changing:
                return self._send(200, hostile.changing[-1])
            if path.startswith("/coding/"):
                name = path.removeprefix("/coding/")
                if name == "layers":
                    body = page.encode() + b"<!-- %s -->" % os.urandom(1 << 20).hex().encode()[: 1 << 20]
                    for _ in range(LAYERS):
                        body = _gzip_stored(body)
                    return self._send(200, body, headers={"Content-Encoding": ", ".join(["gzip"] * LAYERS)})
                body = coded(page.encode(), CODINGS[name])
                return self._send(200, body, headers={"Content-Encoding": CODINGS[name]})
            if path.startswith("/framing/"):
                return self._framing(*FRAMINGS[path.removeprefix("/framing/")])
            if path.startswith("/charset/"):
                return self._charset_label(path.removeprefix("/charset/"))
            if path.startswith("/cookies/"):
                return self._cookies(int(path.removeprefix("/cookies/")))
            if path == "/":
                links = "".join(f'<a href="{link}">x</a>' for link in hostile_links(hostile))
                return self._send(200, page.replace("</body>", f"{links}</body>").encode())
            self._send(404, b"<html><body>not here</body></html>")

        def _endless(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"<p>buy crypto with JazzCash</p>" * 2000
            try:
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                self.close_connection = True

        def _bomb(self) -> None:
            self._send(200, BOMB, headers={"Content-Encoding": "gzip"})

        def _loop(self) -> None:
            other = "/loop/b" if self.path.startswith("/loop/a") else "/loop/a"
            self._send(302, b"", headers={"Location": other})

        def _charset(self) -> None:
            body = page.replace("<body>", "<body><p>کرپٹو کرنسی جاز کیش</p>").encode("cp1256", errors="replace")
            self._send(200, body, "text/html; charset=utf-8")

        def _fake_json(self) -> None:
            self._send(200, page.encode(), "application/json")

        def _reset(self) -> None:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True  # closed with a RST, before any answer

        def _error500(self) -> None:
            self._send(500, b"<html><body><h1>Internal Server Error</h1></body></html>")

        def _attribute(self) -> None:
            self._send(200, page.replace("<body>", f'<body><div data-x="{"a" * 5_000_000}">x</div>').encode())

        def _clear(self) -> None:
            self._send(200, (CORPUS / "n03_shop_jazzcash.html").read_bytes())

        # Response heads beyond what a browser accepts (Chromium: 256 KiB in all), and one header whose
        # name is not an HTTP token. send_header writes what it is given: "\r\n " folds a value.
        def _refused_head(self, headers: dict[str, str]) -> None:
            try:
                self._send(200, page.encode(), headers=headers)
            except OSError:
                self.close_connection = True  # the client hung up on the head: as it should

        def _head_folded(self) -> None:
            self._refused_head({"X-Folded": "a" + "\r\n " + "\r\n ".join(["b" * 10_000] * 30)})

        def _head_many(self) -> None:
            self._refused_head({f"X-Many-{i}": "v" for i in range(1_200)})

        def _head_150(self) -> None:  # more than http.client's 100, far fewer than the crawl's 1,000
            self._send(200, page.encode(), headers={f"X-Many-{i}": "v" for i in range(150)})

        def _head_long_line(self) -> None:
            self._refused_head({"X-Long": "a" * 20_000})

        def _head_bad_name(self) -> None:
            self._send(200, page.encode(), headers={"X-\xe9t\xe9": "v", "X-Ok": "a\x00b\x80\xff"})

        def _nul(self) -> None:
            """The flagged page with NUL bytes in its title, text, a link and a header, lone
            surrogates (which no UTF-8 can hold) escaped in its inline JSON and its references, and a
            canonical link to a host longer than any name (and than its column)."""
            body = (
                page.replace("<title>RupeeX", f'<link rel="canonical" href="https://{"a" * 600}.com/">'
                             "<title>Rupee\x00X &#xD800;")
                .replace("<h1>Buy", "<h1>Buy\x00 &#0;")
                .replace("</body>", '<a href="/clear?from=nul\x00">more</a>'
                         '<script>window.__STATE__ = {"brand": "Rupee\\ud800X\\u0000"};</script></body>')
            ).encode()  # fmt: skip
            self._send(200, body, "text/html; charset=utf-8\x00", headers={"X-Nul": "a\x00b"})

        def _charset_label(self, label: str) -> None:
            """The flagged page, in UTF-8, labelled with a charset browsers ignore ("zlib-header":
            in the Content-Type; "cp037-meta": in a <meta>), linking to /clear?from=<label>."""
            name, _, where = label.rpartition("-")
            body = page.replace("</body>", f'<a href="/clear?from={label}">more</a></body>')
            content_type = "text/html"
            if where == "header":
                content_type = f"text/html; charset={name}"
            else:
                body = body.replace("<head>", f'<head><meta charset="{name}">', 1)
            self._send(200, body.encode(), content_type)

        def _cookies(self, n: int) -> None:
            """300 new cookies on each page (a head of ~25 KB, within the crawl's limits), and a link
            to the next page. (180 of them make a 13 KB Cookie header: under the 16 KB line limit that
            this server, too, has once `scanner.net.http` has set http.client's.)"""
            hostile.cookie_bytes.append(len(self.headers.get("Cookie") or ""))
            body = f'<html><body>page {n} <a href="/cookies/{n + 1}">next</a></body></html>'.encode()
            self.send_response(200)
            for i in range(300):
                self.send_header("Set-Cookie", f"p{n}c{i}={'v' * 60}; Path=/")
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _raw_status(self, code: bytes) -> None:
            self.wfile.write(b"HTTP/1.1 " + code + b" Odd\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok")
            self.close_connection = True

        def _status_huge(self) -> None:
            self._raw_status(b"99999999999999999999")  # no database column holds it

        def _status_negative(self) -> None:
            self._raw_status(b"-5")

        def _interim_hints(self) -> None:
            """The flagged page after two interim responses (102 Processing, 103 Early Hints), which
            browsers and Twisted read past to the final one."""
            self.wfile.write(b"HTTP/1.1 102 Processing\r\n\r\n"
                             b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")  # fmt: skip
            self._send(200, page.encode())

        def _interim_flood(self) -> None:
            """Interim responses (100 Continue, 103 Early Hints) without end, until the client hangs up."""
            interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
            try:
                for _ in range(1_000_000):  # 62 MB at most
                    self.wfile.write(interim * 16)
            except OSError:
                pass
            self.close_connection = True

        def _framing(self, start: bytes, repeated: bytes) -> None:
            try:
                self.wfile.write(start)
                for _ in range(100_000 if repeated else 0):  # a few GB at most: the client hangs up first
                    self.wfile.write(repeated)
            except OSError:
                pass
            self.close_connection = True

        def _slowloris(self) -> None:
            hostile.slow_started.append(time.monotonic())
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(120):  # one byte a second, for two minutes at most
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(1.0)
            except OSError:
                pass
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def hostile(canary: Canary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    secrets = tmp_path_factory.mktemp("secrets")
    files = []
    for name in ("feed-ed25519.pem", "web-secret.key", "pkscan.sqlite3"):
        (secrets / name).write_text(f"SECRET-{name}-MUST-NOT-LEAK\n")
        files.append(secrets / name)
    server = _Server((HOSTILE_IP, 0), None)  # type: ignore[arg-type]
    h = Hostile(port=server.server_address[1], canary=canary, secret_files=files)
    server.RequestHandlerClass = _hostile_handler(h)
    _serve(server)
    yield h
    server.shutdown()


@dataclass
class Silent:
    """A server on the hostile address that accepts connections and never says a word: a TLS
    handshake to it never completes."""

    port: int
    held: list[socket.socket] = field(default_factory=list)


@pytest.fixture(scope="session")
def silent() -> Iterator[Silent]:
    listener = socket.create_server((HOSTILE_IP, 0))
    server = Silent(port=listener.getsockname()[1])

    def accept() -> None:
        while True:
            try:
                server.held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server
    listener.close()
    for connection in server.held:
        connection.close()


@dataclass
class Mismatched:
    """The hostile web over TLS with a self-signed certificate for another name (``other.test``)."""

    port: int

    def url(self, path: str = "/") -> str:
        return f"https://www.hostile.test:{self.port}{path}"


@pytest.fixture(scope="session")
def mismatched(hostile: Hostile, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mismatched]:
    import ssl

    directory = tmp_path_factory.mktemp("tls")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=other.test", "-addext", "subjectAltName=DNS:other.test", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _Server((HOSTILE_IP, 0), _hostile_handler(hostile))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _serve(server)
    yield Mismatched(port=server.server_address[1])
    server.shutdown()


def write_config(directory: Path, targets: dict | None = None, overrides: dict | None = None) -> Path:
    """Real-world defaults plus the lab exception for the hostile web (127.0.0.2) and its names, and
    ``overrides`` (top-level sections of settings.yaml) over them."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = {
        "inherit": str(REPO_ROOT / "config"),
        "http": {"timeout_seconds": TIMEOUT, "retries": 0, "obey_robots": True, "autothrottle": False,
                 "max_response_bytes": 6 * 1024 * 1024},
        "egress": {
            "allow_networks": [f"{HOSTILE_IP}/32"],
            "static_hosts": {"www.hostile.test": [HOSTILE_IP], "api.hostile.test": [HOSTILE_IP],
                             "rebind.hostile.test": ["127.0.0.1"]},
        },
        "p2p": {"requests_per_second": 50},
    } | (overrides or {})  # fmt: skip
    (directory / "settings.yaml").write_text(yaml.safe_dump(settings))
    (directory / "targets.yaml").write_text(yaml.safe_dump(targets or {}))
    (directory / "schedules.yaml").write_text('groups: {hourly: "15 * * * *", daily: "0 1 * * *"}\n')
    return directory


def hostile_env(config_dir: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k != "SCANNER_DATABASE_URL"}
    env.update(SCANNER_CONFIG_DIR=str(config_dir), SCANNER_DATA_DIR=str(data_dir), SCANNER_RUN_TRIGGER="test",
               REDIS_URL="")  # fmt: skip
    env.pop("REDIS_URL")
    return env


def crawl_site(
    hostile: Hostile,
    tmp_path: Path,
    paths: list[str],
    max_depth: int = 0,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    exit_code: int = 0,
    settings: dict | None = None,
) -> tuple[Engine, Path]:
    """`scanner crawl site` of the hostile web from ``paths`` (its exit status checked: ``exit_code``,
    3 for a degraded run): the store's engine (``database_url``, else a SQLite file in the data dir)
    and the data dir. ``extra_env``: more environment (``REDIS_URL``); ``settings``: sections of
    settings.yaml over the lab's."""
    seeds = [path if "://" in path else hostile.url(path) for path in paths]
    netloc = seeds[0].split("/")[2]
    targets = {"sites": [{"name": "hostile", "seeds": seeds, "max_depth": max_depth, "max_pages": 40,
                          "allowed_domains": ["hostile.test", netloc]}]}  # fmt: skip
    config_dir = write_config(tmp_path / "config", targets, settings)
    data_dir = tmp_path / "data"
    env = hostile_env(config_dir, data_dir)
    if database_url:
        env["SCANNER_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    result = subprocess.run([SCANNER, "crawl", "site"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == exit_code, result.stderr[-3000:]
    engine = make_engine(database_url or f"sqlite:///{data_dir / 'pkscan.sqlite3'}")
    upgrade(engine)
    return engine, data_dir
