"""`CaptureWriter`: the crawl's evidence recorder, run in its own thread so the reactor never waits
on WARC writes, fsyncs or the chain's transaction."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import Any

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

    The recorder is used by this thread only (it is not thread-safe). Batches: the thread writes each
    exchange's WARC records as it arrives and, once ``GATHER_ITEMS`` arrived or ``GATHER_SECONDS``
    passed since the first (or at once when more than that queued meanwhile, at most ``MAX_BATCH``),
    makes them durable with one sync and chains them with one transaction; only then do their
    futures complete. A batch that fails fails each of its exchanges (as a download error).
    Futures rather than Deferreds: each page awaits its capture, and a Deferred had to be made, then
    wrapped into a future by Scrapy (~10 µs a page in the reactor's thread, which is the crawl's
    bottleneck); the answers of a batch are settled with one wake-up of the event loop.
    """

    MAX_BATCH = 64
    # A batch costs ~0.4 ms of this thread's CPU whatever its size (its fdatasync, the chain's
    # transaction: lock, tip, insert, ids, commit). Taking only what queued up while the previous
    # batch was written made batches of ~6-7 pages in a crawl of the simulated web; the cost a page of
    # the sync and the chain alone is about halved by batches of 20 (~0.19 -> ~0.09 ms, measured
    # alone). In a 2,000-page bench crawl, waiting up to 40 ms made batches of ~12.6 and this thread's
    # CPU ~0.46-0.57 -> ~0.35 ms a page (20 ms: ~8.6 a batch). A response waits up to that much longer
    # before it is parsed (a crawl of real sites waits far longer on the network); the records are
    # written meanwhile, not after.
    GATHER_ITEMS = 16
    GATHER_SECONDS = 0.04

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
            if self._write_batch(first):
                return

    def _write_batch(self, first: tuple[HttpExchange | PageRendering, asyncio.Future[Capture]]) -> bool:
        """Record ``first`` and what arrives with it (see GATHER_SECONDS) as one batch: each item's WARC
        records are written as it comes, then one sync and one chain transaction. True: told to stop."""
        waiting: list[asyncio.Future[Capture]] = []
        rows: list[dict[str, Any]] = []
        loop, stop = first[1].get_loop(), False
        deadline = time.monotonic() + self.GATHER_SECONDS
        item = first
        try:
            while True:
                exchange, answer = item
                waiting.append(answer)
                rows.extend(self.recorder.write([exchange]))
                if len(waiting) >= self.MAX_BATCH:
                    break
                try:
                    if len(waiting) < self.GATHER_ITEMS and (wait := deadline - time.monotonic()) > 0:
                        more = self.queue.get(timeout=wait)
                    else:
                        more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                item = more
            captures = self.recorder.commit(rows)
        except Exception as exc:  # noqa: BLE001 - handed to each waiting response
            loop.call_soon_threadsafe(_fail, waiting, exc)
        else:
            # One wake-up of the event loop per batch, not per exchange.
            loop.call_soon_threadsafe(_settle, waiting, captures)
        return stop

    def close(self) -> None:
        """Write what is queued, stop the thread, close the recorder."""
        self.queue.put(None)
        self.thread.join()
        self.recorder.close()
