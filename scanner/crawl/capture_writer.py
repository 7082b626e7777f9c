"""`CaptureWriter`: the crawl's evidence recorder, run in its own thread so the reactor never waits
on WARC writes, fsyncs or the chain's transaction."""

from __future__ import annotations

import queue
import threading

from twisted.internet.defer import Deferred

from scanner.evidence import EvidenceRecorder
from scanner.evidence.exchange import HttpExchange, PageRendering
from scanner.store.models import Capture


def _settle(waiting: list[Deferred[Capture]], captures: list[Capture]) -> None:
    for answer, capture in zip(waiting, captures, strict=True):
        answer.callback(capture)


def _fail(waiting: list[Deferred[Capture]], exc: Exception) -> None:
    for answer in waiting:
        answer.errback(exc)


class CaptureWriter:
    """Records exchanges with one `EvidenceRecorder` in one thread; `submit` fires with the Capture.

    The recorder is used by this thread only (it is not thread-safe). Batches: everything queued
    while the previous batch was being written (at most ``MAX_BATCH``) is written with one chain
    transaction. A batch that fails fails each of its exchanges (as a download error).
    """

    MAX_BATCH = 64

    def __init__(self, recorder: EvidenceRecorder):
        self.recorder = recorder
        self.queue: queue.SimpleQueue[tuple[HttpExchange | PageRendering, Deferred[Capture]] | None] = (
            queue.SimpleQueue()
        )
        self.thread = threading.Thread(target=self._run, name="pkscan-capture", daemon=True)
        self.thread.start()

    def submit(self, exchange: HttpExchange | PageRendering) -> Deferred[Capture]:
        waiting: Deferred[Capture] = Deferred()
        self.queue.put((exchange, waiting))
        return waiting

    def _run(self) -> None:
        from twisted.internet import reactor

        while (first := self.queue.get()) is not None:
            batch, stop = [first], False
            while len(batch) < self.MAX_BATCH:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            waiting = [answer for _, answer in batch]
            try:
                captures = self.recorder.record_many([exchange for exchange, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to each waiting response
                reactor.callFromThread(_fail, waiting, exc)  # type: ignore[attr-defined]
            else:
                # One wake-up of the reactor per batch, not per exchange.
                reactor.callFromThread(_settle, waiting, captures)  # type: ignore[attr-defined]
            if stop:
                return

    def close(self) -> None:
        """Write what is queued, stop the thread, close the recorder."""
        self.queue.put(None)
        self.thread.join()
        self.recorder.close()
