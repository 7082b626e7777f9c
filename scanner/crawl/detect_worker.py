"""Detection in a separate process, fed through pipes the Twisted reactor watches.

Detection is CPU-bound Python. Run inline (or in a thread, which competes for the GIL) it stops the
reactor from sending the next requests while it works, so downloads and detection take turns
instead of overlapping. A worker process uses another core and leaves the crawl's reactor free.
No threads are involved on our side: the reactor reads the worker's stdout like any socket.

Frames on both pipes: 8-byte big-endian length, then a pickle. Requests ``(job, url, content_type,
body)``; replies ``(job, (analysis, identity) | None, error | None)``. Pickles only ever travel
between this process and the worker it started.

    python -m scanner.crawl.detect_worker CONFIG_DIR     (started by DetectionWorkers)
"""

from __future__ import annotations

import itertools
import os
import pickle
import sys
from typing import Any

from twisted.internet import defer, protocol

HEADER = 8


def _frame(obj: Any) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(HEADER, "big") + data


class WorkerGone(RuntimeError):
    """The detection worker exited; pending documents are detected inline instead."""


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


class DetectionWorkers:
    """A few worker processes; `submit` returns a Deferred firing with (analysis, identity)."""

    def __init__(self, count: int, config_dir: str):
        from twisted.internet import reactor

        self.jobs = itertools.count()
        self.workers: list[_WorkerProtocol] = []
        for _ in range(count):
            worker = _WorkerProtocol()
            argv = [sys.executable, "-m", "scanner.crawl.detect_worker", config_dir]
            reactor.spawnProcess(worker, sys.executable, argv, env=dict(os.environ), path=os.getcwd())
            self.workers.append(worker)
        self._next = itertools.cycle(range(count))

    def submit(self, url: str, content_type: str, body: bytes) -> defer.Deferred[Any]:
        for _ in range(len(self.workers)):
            worker = self.workers[next(self._next)]
            if worker.alive:
                break
        else:
            return defer.fail(WorkerGone("no detection worker running"))
        job = next(self.jobs)
        waiting: defer.Deferred[Any] = defer.Deferred()
        worker.pending[job] = waiting
        worker.transport.write(_frame((job, url, content_type, body)))
        return waiting

    def close(self) -> None:
        for worker in self.workers:
            if worker.alive:
                worker.transport.closeStdin()  # the worker exits at end of input


def _read_exact(stream: Any, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def main(config_dir: str) -> None:
    from scanner.config import Config
    from scanner.crawl.pipelines import detect
    from scanner.detection import load_lexicons

    config = Config(config_dir)
    lexicons, register = load_lexicons(config.lexicon_dir), config.register
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while (header := _read_exact(source, HEADER)) is not None:
        payload = _read_exact(source, int.from_bytes(header, "big"))
        if payload is None:
            break
        job, url, content_type, body = pickle.loads(payload)  # noqa: S301 - from our own parent process
        try:
            reply = (job, detect(url, content_type, body, lexicons, register), None)
        except Exception as exc:  # noqa: BLE001 - reported back, the parent decides
            reply = (job, None, f"{type(exc).__name__}: {exc}")
        sink.write(_frame(reply))
        sink.flush()


if __name__ == "__main__":
    main(sys.argv[1])
