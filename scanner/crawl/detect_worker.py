"""Detection and storing in a separate process, fed through pipes the Twisted reactor watches.

Detection is CPU-bound Python, and so is storing its results (ORM rows for analyses, signals,
findings). Run in the crawl process (or in a thread, which competes for the GIL) they stop the
reactor from sending the next requests while they work, so downloads and the rest take turns
instead of overlapping. The worker uses another core and leaves the crawl's reactor free. No
threads are involved on our side: the reactor reads the worker's stdout like any socket.

The worker detects each document, stores it with `scanner.crawl.storing.AnalysisStore` (a batch
per transaction, at least every ``flush_seconds``), re-judges findings at intervals, and
acknowledges a document only once its batch is committed: a document not acknowledged is not
stored, and the crawl process detects and stores it itself (worker died, or storing failed). At
``FINISH`` it stores the rest, re-judges the touched platforms and replies with the finding ids
judged flagged and clear (or an error if that failed). At end of input without ``FINISH`` (the crawl
process was killed) it exits at once: its uncommitted batch was in flight, and a resumed crawl
stores it from the replayed captures. Platforms it stored but could not re-judge (killed, database
gone) stay marked stale in the store, and the crawl process or the next run re-judges them.

Frames on both pipes: 8-byte big-endian length, then a pickle. Requests ``(job, url, content_type,
body, capture_id, replayed)`` or ``(FINISH,)``; replies ``(job, verdict | None, error | None)``
and ``(FINISH, summary, None)``. Pickles only ever travel between this process and the worker it
started. One worker: it is the single writer of analyses, so mirror grouping sees every document.

    python -m scanner.crawl.detect_worker CONFIG_DIR RUN_ID|- BATCH REFRESH_SECONDS FLUSH_SECONDS
"""

from __future__ import annotations

import itertools
import os
import pickle
import select
import sys
import time
from typing import Any

from twisted.internet import defer, protocol

HEADER = 8
FINISH = -1


def _frame(obj: Any) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(HEADER, "big") + data


class WorkerGone(RuntimeError):
    """The worker exited; documents it had not acknowledged are detected and stored by the crawl."""


class _WorkerProtocol(protocol.ProcessProtocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.pending: dict[int, defer.Deferred[Any]] = {}
        self.alive = True
        self.stderr_tail = b""

    def outReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
        self.buffer += data
        while len(self.buffer) >= HEADER:
            size = int.from_bytes(self.buffer[:HEADER], "big")
            if len(self.buffer) < HEADER + size:
                return
            job, result, error = pickle.loads(bytes(self.buffer[HEADER : HEADER + size]))  # noqa: S301
            del self.buffer[: HEADER + size]
            waiting = self.pending.pop(job, None)
            if waiting is not None:
                if error is None:
                    waiting.callback(result)
                else:
                    waiting.errback(RuntimeError(error))

    def errReceived(self, data: bytes) -> None:  # noqa: N802
        self.stderr_tail = (self.stderr_tail + data)[-4000:]

    def processEnded(self, reason: Any) -> None:  # noqa: N802
        self.alive = False
        pending, self.pending = self.pending, {}
        for waiting in pending.values():
            waiting.errback(WorkerGone(self.stderr_tail.decode("utf-8", "replace")[-500:]))


class DetectionWorker:
    """The worker process; `submit` returns a Deferred firing with the verdict once stored."""

    def __init__(self, config_dir: str, run_id: int | None, *, batch: int, interval: float, flush_seconds: float):
        from twisted.internet import reactor

        self.jobs = itertools.count()
        self.worker = _WorkerProtocol()
        argv = [sys.executable, "-m", "scanner.crawl.detect_worker", config_dir,
                "-" if run_id is None else str(run_id), str(batch), str(interval), str(flush_seconds)]  # fmt: skip
        reactor.spawnProcess(self.worker, sys.executable, argv, env=dict(os.environ), path=os.getcwd())

    def submit(
        self, url: str, content_type: str, body: bytes, capture_id: int | None, replayed: bool
    ) -> defer.Deferred[Any]:
        if not self.worker.alive:
            return defer.fail(WorkerGone("the detection worker is not running"))
        job = next(self.jobs)
        waiting: defer.Deferred[Any] = defer.Deferred()
        self.worker.pending[job] = waiting
        self.worker.transport.write(_frame((job, url, content_type, body, capture_id, replayed)))
        return waiting

    def finish(self) -> defer.Deferred[Any]:
        """Store the rest, re-judge findings; fires with the summary (or fails if the worker is gone)."""
        if not self.worker.alive:
            return defer.fail(WorkerGone("the detection worker is not running"))
        waiting: defer.Deferred[Any] = defer.Deferred()
        self.worker.pending[FINISH] = waiting
        self.worker.transport.write(_frame((FINISH,)))
        self.worker.transport.closeStdin()
        return waiting


class _FrameReader:
    """Frames from a pipe, with a timeout so the worker can store its batch when the input pauses."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = bytearray()
        self.eof = False

    def next(self, timeout: float | None) -> Any:
        """The next frame; None on timeout; raises EOFError at end of input."""
        while True:
            if len(self.buffer) >= HEADER:
                size = int.from_bytes(self.buffer[:HEADER], "big")
                if len(self.buffer) >= HEADER + size:
                    frame = pickle.loads(bytes(self.buffer[HEADER : HEADER + size]))  # noqa: S301 - our parent
                    del self.buffer[: HEADER + size]
                    return frame
            if self.eof:
                raise EOFError
            if timeout is not None and not select.select([self.fd], [], [], max(timeout, 0))[0]:
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                self.eof = True
            self.buffer += chunk


def main(config_dir: str, run_id: int | None, batch: int, interval: float, flush_seconds: float) -> None:
    from scanner.config import Config
    from scanner.crawl.storing import AnalysisStore, Pending, detect
    from scanner.detection.rules import lexicons_for
    from scanner.store.db import StoreUnavailable, make_engine

    config = Config(config_dir)
    lexicons, register = lexicons_for(config), config.register
    # The crawl process opened (and upgraded) the store already.
    store = AnalysisStore(make_engine(config.database_url), lexicons, register, run_id, interval=interval)
    reader, sink = _FrameReader(sys.stdin.buffer.fileno()), sys.stdout.buffer
    jobs: list[tuple[int, str]] = []  # (job, verdict) detected, acknowledged once their batch is committed
    documents: list[Pending] = []
    stored = 0

    def flush() -> None:
        nonlocal jobs, documents, stored
        done, batch_docs, jobs, documents = jobs, documents, [], []
        error = None
        try:
            stored += store.store(batch_docs) if batch_docs else 0
        except Exception as exc:  # noqa: BLE001 - reported back: the parent stores these documents itself
            error = f"storing failed: {type(exc).__name__}: {exc}"
        for job, verdict in done:
            sink.write(_frame((job, None if error else verdict, error)))
        sink.flush()

    def refresh() -> str | None:
        try:
            store.refresh()
        except StoreUnavailable as exc:  # the platforms stay marked stale: re-judged later
            return str(exc)
        return None

    deadline = None
    while True:
        timeout = None if deadline is None else deadline - time.monotonic()
        try:
            frame = reader.next(timeout)
        except EOFError:
            return  # the crawl process is gone without saying finish: what is not committed is in flight
        if frame is None or (deadline is not None and time.monotonic() >= deadline):
            flush()
            deadline = None
            if store.refresh_due():
                refresh()
            if frame is None:
                continue
        if frame[0] == FINISH:
            flush()
            if (error := refresh()) is not None:
                sink.write(_frame((FINISH, None, f"re-judging findings failed: {error}")))
                sink.flush()
                return
            summary = {"flagged": sorted(store.flagged), "unflagged": sorted(store.unflagged),
                       "stored": stored, "refreshes": store.refreshes, "cpu_seconds": round(time.process_time(), 2)}  # fmt: skip
            sink.write(_frame((FINISH, summary, None)))
            sink.flush()
            return
        job, url, content_type, body, capture_id, replayed = frame
        try:
            analysis, identity = detect(url, content_type, body, lexicons, register)
        except Exception as exc:  # noqa: BLE001 - reported back, the parent decides
            sink.write(_frame((job, None, f"{type(exc).__name__}: {exc}")))
            sink.flush()
            continue
        documents.append(Pending(analysis, identity, capture_id, replayed))
        jobs.append((job, analysis.verdict))
        if len(documents) >= batch:
            flush()
            deadline = None
            if store.refresh_due():
                refresh()
        elif deadline is None:
            deadline = time.monotonic() + flush_seconds


if __name__ == "__main__":
    if profile_to := os.environ.get("PKSCAN_WORKER_PROFILE"):  # bench/crawl.py --profile
        import cProfile

        cProfile.run("main(sys.argv[1], None if sys.argv[2] == '-' else int(sys.argv[2]), int(sys.argv[3]), "
                     "float(sys.argv[4]), float(sys.argv[5]))", profile_to)  # fmt: skip
        sys.exit(0)
    main(sys.argv[1], int(sys.argv[2]) if sys.argv[2] != "-" else None, int(sys.argv[3]), float(sys.argv[4]),
         float(sys.argv[5]))  # fmt: skip
