"""Feed bench: 100,000 blocklist entries in a temporary SQLite store.

Prints: publication sync time; generation time and size per format (full and `since`); requests/s
for 304s and full downloads of blocklist.csv from the feed on a real uvicorn server, and, in the
same run, of the same CSV bytes served as a static file (Starlette StaticFiles on uvicorn) — with
the ratio.

    .venv/bin/python bench/feed.py [--entries 100000] [--seconds 5] [--threads 8]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert
from sqlmodel import Session, col, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from blocklist import keys  # noqa: E402
from blocklist.artefacts import build  # noqa: E402
from blocklist.formats import FORMATS  # noqa: E402
from blocklist.publish import sync  # noqa: E402
from blocklist.sign import load_signer  # noqa: E402
from scanner.config import Config  # noqa: E402
from scanner.store.db import open_store  # noqa: E402
from scanner.store.models import Decision, Finding, Platform, PollSnapshot  # noqa: E402


def seed(engine, n: int) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(engine) as session:
        session.execute(
            insert(Platform),
            [{"id": i, "key": f"exchange-{i:06d}.test", "name": "", "kind": "domain", "candidate": False,
              "first_seen": t0} for i in range(1, n + 1)],
        )
        session.execute(
            insert(Finding),
            [{"id": i, "platform_id": i, "verdict": "flag", "score": 0.5 + (i % 50) / 100, "crypto_service": True,
              "targets_pakistan": True, "licensed": False, "status": "published", "needs_review": False,
              "review_note": "", "first_seen": t0, "last_seen": t0, "sightings": 1, "explanation": {}}
             for i in range(1, n + 1)],
        )
        session.execute(
            insert(Decision),
            [{"finding_id": i, "seq": 1, "action": "confirm", "reason": "offers PKR P2P via JazzCash; not on the PVARA register",
              "by_user": "officer", "at": t0 + timedelta(seconds=i)} for i in range(1, n + 1)],
        )
        session.execute(
            insert(PollSnapshot),
            [{"adapter": "binance", "platform_id": i, "fiat": "PKR", "asset": "USDT", "taken_at": t0, "ads": 3,
              "merchants": 2, "available_fiat": 1e6, "rails": {"JazzCash": {"ads": 2, "merchants": 1,
              "available_fiat": 5e5, "median_price": 281.0}}, "markets": []} for i in range(1, n + 1, 100)],
        )
        session.commit()


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"  {label:<44} {time.perf_counter() - start:8.2f} s")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server exited") from None
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"{url} did not come up")


def load(url: str, headers: dict[str, str], seconds: float, threads: int, expect: int) -> tuple[float, int]:
    """Requests/s with `threads` keep-alive clients for `seconds`; every response must be `expect`."""
    counts = [0] * threads
    sizes = [0] * threads
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    def worker(slot: int) -> None:
        with httpx.Client(headers=headers, timeout=60) as client:
            while time.perf_counter() < stop:
                response = client.get(url)
                if response.status_code != expect:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                    return
                counts[slot] += 1
                sizes[slot] = len(response.content)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    began = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise RuntimeError(f"{url}: {errors[0]}")
    return sum(counts) / (time.perf_counter() - began), max(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pkscan-feed-bench-") as tmp:
        root = Path(tmp)
        (root / "config").mkdir()
        (root / "config" / "settings.yaml").write_text("feed:\n  requests_per_minute: 100000000\n")
        # the bench's findings have no WARC captures; the other publication gates still run
        (root / "config" / "gates.yaml").write_text("verified_capture: false\n")
        env = dict(os.environ, SCANNER_CONFIG_DIR=str(root / "config"), SCANNER_DATA_DIR=str(root / "data"))
        env.pop("SCANNER_DATABASE_URL", None)
        config = Config(root / "config", env=env)
        engine = open_store(config)
        signer = load_signer(config.data_dir)

        print(f"feed bench: {opts.entries:,} entries, SQLite at {config.database_url}")
        timed("seed platforms, findings, decisions", lambda: seed(engine, opts.entries))

        def publish(note: str) -> None:
            with Session(engine) as session:
                sync(session, config, note=note)
                session.commit()

        timed(f"sync: first publication ({opts.entries:,} adds)", lambda: publish("bench"))
        with Session(engine) as session:
            for finding in session.exec(select(Finding).where(col(Finding.id) <= opts.entries // 100)):
                finding.status = "revoked"  # 1% of the findings
                session.add(finding)
            session.commit()
        timed("sync: 1% revoked (v2)", lambda: publish("bench revoke"))
        timed("sync: nothing changed", lambda: publish("noop"))

        print("generation (full; since=1 where the format supports it):")
        csv_full = b""
        with Session(engine) as session:
            for fmt in FORMATS.values():
                art = timed(f"{fmt.artefact} full", lambda fmt=fmt: build(session, config, fmt, signer))
                print(f"  {'':<44} {len(art.body) / 1e6:8.1f} MB")
                if fmt.name == "csv":
                    csv_full = art.body
                if fmt.incremental:
                    delta = timed(f"{fmt.artefact} since=1", lambda fmt=fmt: build(session, config, fmt, signer, 1))
                    print(f"  {'':<44} {len(delta.body) / 1e6:8.3f} MB")
            _, raw_key = keys.create(session, "Bench Bank")
            session.commit()

        static_dir = root / "static"
        static_dir.mkdir()
        (static_dir / "blocklist.csv").write_bytes(csv_full)
        feed_port, static_port = free_port(), free_port()
        python = sys.executable
        feed = start(
            [python, "-m", "uvicorn", "blocklist.web:create_app", "--factory", "--port", str(feed_port),
             "--log-level", "warning", "--no-access-log"],
            env, f"http://127.0.0.1:{feed_port}/feed/v1/public-key",
        )
        static_app = (
            "import sys, uvicorn; from starlette.applications import Starlette; "
            "from starlette.routing import Mount; from starlette.staticfiles import StaticFiles; "
            "app = Starlette(routes=[Mount('/', StaticFiles(directory=sys.argv[1]))]); "
            "uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[2]), log_level='warning', access_log=False)"
        )
        static = start([python, "-c", static_app, str(static_dir), str(static_port)], env,
                       f"http://127.0.0.1:{static_port}/blocklist.csv")
        try:
            auth = {"Authorization": f"Bearer {raw_key}"}
            feed_url = f"http://127.0.0.1:{feed_port}/feed/v1/blocklist.csv"
            static_url = f"http://127.0.0.1:{static_port}/blocklist.csv"
            first = timed("first feed request (build + cache)", lambda: httpx.get(feed_url, headers=auth, timeout=600))
            assert first.content == csv_full, "the feed serves other bytes than the export"
            static_etag = httpx.get(static_url).headers["etag"]
            print(f"serving blocklist.csv ({len(csv_full) / 1e6:.1f} MB), {opts.threads} clients, {opts.seconds:.0f} s each:")
            rows = [
                ("feed 304 (If-None-Match)", feed_url, {**auth, "If-None-Match": first.headers["etag"]}, 304),
                ("static 304 (If-None-Match)", static_url, {"If-None-Match": static_etag}, 304),
                ("feed full download", feed_url, auth, 200),
                ("static full download", static_url, {}, 200),
            ]
            rates = {}
            for label, url, headers, expect in rows:
                rate, _ = load(url, headers, opts.seconds, opts.threads, expect)
                rates[label] = rate
                print(f"  {label:<44} {rate:8.1f} req/s")
            print(f"  ratio feed/static, 304s:                     {rates['feed 304 (If-None-Match)'] / rates['static 304 (If-None-Match)']:8.2f}")
            print(f"  ratio feed/static, full downloads:           {rates['feed full download'] / rates['static full download']:8.2f}")
        finally:
            for proc in (feed, static):
                proc.terminate()
                proc.wait(10)


if __name__ == "__main__":
    main()
