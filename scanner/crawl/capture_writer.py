"""`CaptureWriter`: the crawl's evidence recorder, run in its own thread so the reactor never waits
on WARC writes, fsyncs or the chain's transaction."""

from __future__ import annotations

import asyncio
import queue
import threading
import time

from scanner.evidence import EvidenceRecorder
from scanner.evidence.exchange import HttpExchange, PageRendering
from scanner.store.models import Capture


def _settle(waiting: list[asyncio.Future[Capture]], captures: list[Capture]) -> None:
    for answer, capture in zip(waiting, captures, strict=True):
        if not answer.done():  # cancelled: the download was abandoned (the capture is recorded anyway)
            answer.set_result(capture)


def _fail(waiting: list[asyncio.Future[Capture]], exc: Exception) -> None:
    for answer in waiting:
        if not answer.done():
            answer.set_exception(exc)


class CaptureWriter:
    """Records exchanges with one `EvidenceRecorder` in one thread; `submit` returns an asyncio future
    (of the reactor's event loop) that completes with the Capture.

    The recorder is used by this thread only (it is not thread-safe). Batches: everything queued
    while the previous batch was being written (at most ``MAX_BATCH``) is written with one chain
    transaction. A batch that fails fails each of its exchanges (as a download error).
    Futures rather than Deferreds: each page awaits its capture, and a Deferred had to be made, then
    wrapped into a future by Scrapy (~10 µs a page in the reactor's thread, which is the crawl's
    bottleneck); the answers of a batch are settled with one wake-up of the event loop.
    """

    MAX_BATCH = 64

    def __init__(self, recorder: EvidenceRecorder):
        self.recorder = recorder
        self.queue: queue.SimpleQueue[tuple[HttpExchange | PageRendering, asyncio.Future[Capture]] | None] = (
            queue.SimpleQueue()
        )
        # CPU seconds this thread used (WARC records, digests, the chain's SQL), once it has stopped:
        # the run's ``pkscan/capture_thread_cpu_seconds``, part of the crawl process's CPU.
        self.cpu_seconds = 0.0
        self.thread = threading.Thread(target=self._run, name="pkscan-capture", daemon=True)
        self.thread.start()

    def submit(self, exchange: HttpExchange | PageRendering) -> asyncio.Future[Capture]:
        """Queue ``exchange``; call from the event loop's thread (the reactor's, in a crawl)."""
        waiting: asyncio.Future[Capture] = asyncio.get_running_loop().create_future()
        self.queue.put((exchange, waiting))
        return waiting

    def _run(self) -> None:
        try:
            self._write_batches()
        finally:
            self.cpu_seconds = time.thread_time()

    def _write_batches(self) -> None:
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
            loop = waiting[0].get_loop()
            try:
                captures = self.recorder.record_many([exchange for exchange, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to each waiting response
                loop.call_soon_threadsafe(_fail, waiting, exc)
            else:
                # One wake-up of the event loop per batch, not per exchange.
                loop.call_soon_threadsafe(_settle, waiting, captures)
            if stop:
                return

    def close(self) -> None:
        """Write what is queued, stop the thread, close the recorder."""
        self.queue.put(None)
        self.thread.join()
        self.recorder.close()
