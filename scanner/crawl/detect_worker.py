"""Detection and storing in a worker process (`concurrent.futures`), results awaited as asyncio futures.

Detection is CPU-bound Python, and so is storing its results (ORM rows for analyses, signals,
findings). Run in the crawl process (or in a thread, which competes for the GIL) they stop the
reactor from sending the next requests while they work. One worker process on another core does
both, and the reactor only waits on futures.

The crawl side (`DetectionWorker`) starts the worker as soon as the crawl has its configuration
(`scanner.crawl.context`: loading the rules takes a second or two), or takes the one `scanner crawl`
started before it built the crawler (`WorkerPool.start`), and gathers documents into batches (``batch`` of them, ``batch_bytes`` of bodies, or
whatever arrived within ``flush_seconds``, or as soon as none came for ``quiet_seconds``) and submits each batch to a one-process pool. The worker detects
every document of the batch, stores the batch in one transaction (`ObservationWriter`), re-judges
findings at intervals, and returns the verdicts only once the batch is committed: a document whose
future fails was not stored, and the crawl process detects and stores it itself (the worker died:
`WorkerGone`; or storing failed). `finish` stores nothing more, re-judges the touched platforms and
returns the finding ids judged flagged and clear. One worker: it is the single writer of analyses,
so mirror grouping sees every document in order (a one-process pool runs its tasks in order).

The pool starts its process with ``spawn``: forking the crawl process would copy the reactor, its
threads and open connections. When the crawl process is killed the worker finds it gone (its
parent changed) and exits within a second; a batch it was storing then is rolled back (or was
committed), and a resumed crawl replays its captures and stores what is missing. Platforms stored
but not re-judged (killed, database gone) stay marked stale in the store, and the crawl process or
the next run re-judges them.

What runs in the worker is `scanner.crawl.worker_process` (which imports no Twisted or Scrapy).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scanner.crawl.worker_process import Page, detect_and_store, finish, ready, start

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall


class WorkerGone(RuntimeError):
    """The worker exited; documents it had not acknowledged are detected and stored by the crawl."""


@dataclass(frozen=True)
class WorkerPool:
    """The worker process for the configuration in ``config_dir``, loading as soon as it is started."""

    config_dir: str
    executor: ProcessPoolExecutor

    @classmethod
    def start(cls, config_dir: str) -> WorkerPool:
        """Start the worker now (a pool starts its process with its first task). Loading takes ~2 s
        (imports, the rules); pages fetched meanwhile wait in the scraper, and once it is full (~160
        pages of the bench's site) the crawl stops fetching: 0.5-0.8 s of a 2,000-page crawl of ~5 s.
        `scanner crawl` starts it before it imports Scrapy and builds the crawler, so both load at once."""
        executor = ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"), initializer=start,
            initargs=(os.getpid(), config_dir),
        )  # fmt: skip
        executor.submit(ready)
        return cls(config_dir, executor)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class DetectionWorker:
    """The worker process; `submit` returns a future completing with the verdict once stored."""

    def __init__(
        self,
        config_dir: str,
        *,
        batch: int,
        batch_bytes: int,
        interval: float,
        flush_seconds: float,
        quiet_seconds: float = 0.0,
        started: WorkerPool | None = None,
    ):
        self.batch = batch
        self.batch_bytes = batch_bytes  # a batch goes when it holds this many body bytes, however few pages
        self.flush_seconds = flush_seconds
        # A partial batch also goes once no page came for this long (0: only after flush_seconds). At
        # the end of a crawl its last pages waited up to flush_seconds (1 s) for a batch that would
        # not fill, and the crawl with them: ~0.9 s of a 2,000-page bench crawl of ~5 s, whenever
        # the pages before them had not filled whole batches. While pages come faster, batches fill as before.
        self.quiet_seconds = quiet_seconds
        self.first_at = self.last_at = 0.0  # when the waiting batch's first and last pages came
        self.interval = interval
        # The run's id: set by the crawl once it has opened the run, before the first page is submitted.
        self.run_id: int | None = None
        if started is None or started.config_dir != config_dir:
            if started is not None:
                started.shutdown()
            started = WorkerPool.start(config_dir)
        self.pool = started.executor
        self.waiting: list[tuple[Page, asyncio.Future[str]]] = []
        self.waiting_bytes = 0
        self.flush_call: IDelayedCall | None = None

    def submit(
        self,
        url: str,
        content_type: str,
        body: bytes,
        capture_id: int | None,
        replayed: bool,
        vantage: str | None = None,
    ) -> asyncio.Future[str]:
        """Queue a document; call from the event loop's thread (the reactor's, in a crawl). The future
        (of that loop: each page awaits one, without a Deferred to wrap) completes once it is stored."""
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.last_at = time.monotonic()
        if not self.waiting:
            self.first_at = self.last_at
        self.waiting.append((Page(url, content_type, body, capture_id, replayed, vantage), answer))
        self.waiting_bytes += len(body)
        if len(self.waiting) >= self.batch or self.waiting_bytes >= self.batch_bytes:
            self._send()
        elif self.flush_call is None:
            self._flush_at(self._due())
        return answer

    def _due(self) -> float:
        """When the waiting partial batch goes (monotonic clock)."""
        due = self.first_at + self.flush_seconds
        return min(due, self.last_at + self.quiet_seconds) if self.quiet_seconds > 0 else due

    def _flush_at(self, due: float) -> None:
        from twisted.internet import reactor

        wait = max(due - time.monotonic(), 0.0)
        self.flush_call = reactor.callLater(wait, self._flush_if_due)  # type: ignore[attr-defined]

    def _flush_if_due(self) -> None:
        """The timer: send the partial batch, unless pages came meanwhile (then wait for the next due time)."""
        self.flush_call = None
        due = self._due()
        if self.waiting and time.monotonic() < due:
            self._flush_at(due)
        else:
            self._send()

    def _send(self) -> None:
        if self.flush_call is not None and self.flush_call.active():
            self.flush_call.cancel()
        self.flush_call = None
        batch, self.waiting, self.waiting_bytes = self.waiting, [], 0
        if not batch:
            return
        answers = [answer for _, answer in batch]
        pages = [page for page, _ in batch]
        done = self._when_done(self._submit(detect_and_store, pages, self.run_id, self.interval))
        done.add_done_callback(lambda finished: self._settle(answers, finished))

    @staticmethod
    def _settle(answers: list[asyncio.Future[str]], finished: asyncio.Future[Any]) -> None:
        error = finished.exception()
        if error is not None:
            for answer in answers:
                if not answer.done():  # done: cancelled, the page was abandoned (shutdown)
                    answer.set_exception(error)
            return
        results: list[tuple[str | None, str | None]] = finished.result()
        for answer, (verdict, failure) in zip(answers, results, strict=True):
            if answer.done():
                continue
            if failure is None:
                answer.set_result(verdict)  # type: ignore[arg-type]
            else:
                answer.set_exception(RuntimeError(failure))

    def _submit(self, fn: Any, *args: Any) -> Future[Any]:
        try:
            return self.pool.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError) as exc:  # broken, or shut down
            gone: Future[Any] = Future()
            gone.set_exception(exc)
            return gone

    @staticmethod
    def _when_done(future: Future[Any]) -> asyncio.Future[Any]:
        """The future's outcome in the event loop's thread (a dead worker: WorkerGone)."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def settle(finished: asyncio.Future[Any]) -> None:
            if done.done():
                return
            error = finished.exception()
            if isinstance(error, BrokenProcessPool):
                error = WorkerGone(f"the detection worker process ended abruptly ({error})")
            if error is None:
                done.set_result(finished.result())
            else:
                done.set_exception(error)

        asyncio.wrap_future(future).add_done_callback(settle)
        return done

    async def finish(self) -> Any:
        """Store the rest, re-judge findings; returns the summary (raises if the worker is gone)."""
        self._send()
        try:
            return await self._when_done(self._submit(finish))
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)
