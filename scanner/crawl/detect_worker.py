"""Detection and storing in a worker process (`concurrent.futures`), results awaited as Deferreds.

Detection is CPU-bound Python, and so is storing its results (ORM rows for analyses, signals,
findings). Run in the crawl process (or in a thread, which competes for the GIL) they stop the
reactor from sending the next requests while they work. One worker process on another core does
both, and the reactor only waits on futures.

The crawl side (`DetectionWorker`) starts the worker when the spider opens (loading the rules takes a
second or two), gathers documents into batches (``batch`` of them, ``batch_bytes`` of bodies, or
whatever arrived within ``flush_seconds``) and submits each batch to a one-process pool. The worker detects
every document of the batch, stores the batch in one transaction (`ObservationWriter`), re-judges
findings at intervals, and returns the verdicts only once the batch is committed: a document whose
Deferred fails was not stored, and the crawl process detects and stores it itself (the worker died:
`WorkerGone`; or storing failed). `finish` stores nothing more, re-judges the touched platforms and
returns the finding ids judged flagged and clear. One worker: it is the single writer of analyses,
so mirror grouping sees every document in order (a one-process pool runs its tasks in order).

The pool starts its process with ``spawn``: forking the crawl process would copy the reactor, its
threads and open connections. When the crawl process is killed the worker finds it gone (its
parent changed) and exits within a second; a batch it was storing then is rolled back (or was
committed), and a resumed crawl replays its captures and stores what is missing. Platforms stored
but not re-judged (killed, database gone) stay marked stale in the store, and the crawl process or
the next run re-judges them.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import resource
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, NamedTuple

from twisted.internet import defer

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from twisted.internet.interfaces import IDelayedCall

    from scanner.observation import ObservationWriter, Rules


class WorkerGone(RuntimeError):
    """The worker exited; documents it had not acknowledged are detected and stored by the crawl."""


class Page(NamedTuple):
    url: str
    content_type: str
    body: bytes
    capture_id: int | None
    replayed: bool
    vantage: str | None = None


# ---------------------------------------------------------------- in the worker process

_rules: Rules | None = None
_engine: Engine | None = None
_interval = 0.0
_store: ObservationWriter | None = None
_stored = 0
_profile: Any = None


def _start(parent: int, config_dir: str, interval: float) -> None:
    """Pool initializer: the rules and the database the worker uses, for the life of the process.
    ``parent`` is the crawl process (passed, not read here: it may already be gone while this process
    starts)."""
    global _rules, _engine, _interval, _profile
    from scanner.config import Config
    from scanner.observation import rules_for
    from scanner.store.db import make_engine

    if os.environ.get("PKSCAN_WORKER_PROFILE"):  # bench/crawl.py --profile
        import cProfile

        _profile = cProfile.Profile()
        _profile.enable()
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()
    from scanner.logs import setup_logging

    setup_logging()  # the crawl's structured log on the shared stderr, not bare warnings on the console
    config = Config(config_dir)
    # The crawl process opens (and upgrades) the store: nothing is written before its first batch.
    _rules, _engine, _interval = rules_for(config), make_engine(config.database_url), interval
    # The compiled rules and the libraries stay for the life of the process: full collections need
    # not walk them again and again (see scanner.crawl.heap).
    gc.collect()
    gc.freeze()


def _exit_with_parent(parent: int) -> None:
    """A killed crawl process cannot shut the pool down: its worker notices and ends too (a batch
    being stored is rolled back; the resumed crawl replays it)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _ready() -> None:
    """Nothing: submitted when the pool is made, so that the worker starts loading at once."""


def _writer(run_id: int | None) -> ObservationWriter:
    """The writer of the run, made with its first batch (the run is opened after the worker starts)."""
    global _store
    from scanner.observation import ObservationWriter

    if _store is None:
        assert _rules is not None and _engine is not None
        _store = ObservationWriter(_engine, _rules, run_id, interval=_interval)
    return _store


def _detect_and_store(pages: list[Page], run_id: int | None) -> list[tuple[str | None, str | None]]:
    """(verdict, None) per page once the batch is committed, or (None, why) for a page not stored."""
    global _stored
    from scanner.store.db import StoreUnavailable

    store = _writer(run_id)
    results: list[tuple[str | None, str | None]] = []
    documents = []
    for page in pages:
        try:
            seen = store.rules.observe(
                page.url, page.content_type, page.body, capture_id=page.capture_id, replayed=page.replayed,
                vantage=page.vantage,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - reported back, the crawl process decides
            results.append((None, f"{type(exc).__name__}: {exc}"))
            continue
        documents.append(seen)
        results.append((seen.analysis.verdict, None))
    try:
        _stored += store.store(documents) if documents else 0
    except Exception as exc:  # noqa: BLE001 - reported back: the crawl process stores these documents itself
        error = f"storing failed: {type(exc).__name__}: {exc}"
        return [(None, why or error) for _, why in results]
    if store.refresh_due():
        try:
            store.refresh()
        except StoreUnavailable:
            pass  # the platforms stay marked stale: re-judged at the end or by the next run
    return results


def _finish() -> dict[str, Any]:
    """Re-judge what this worker stored; the summary the crawl's stats take."""
    flagged: list[int] = []
    unflagged: list[int] = []
    refreshes = 0
    if _store is not None:  # else no page came
        _store.refresh()  # StoreUnavailable reaches the crawl process: re-judging failed, the marks stay
        flagged, unflagged, refreshes = sorted(_store.flagged), sorted(_store.unflagged), _store.refreshes
    if _profile is not None:
        _profile.disable()
        _profile.dump_stats(os.environ["PKSCAN_WORKER_PROFILE"])
    return {"flagged": flagged, "unflagged": unflagged, "stored": _stored, "refreshes": refreshes,
            "cpu_seconds": round(time.process_time(), 2), "peak_rss_mb": peak_rss_mb()}  # fmt: skip


def peak_rss_mb() -> float:
    """This process's own peak resident memory. ``ru_maxrss`` is not: Linux carries the high-water
    mark over ``exec``, so a spawned worker reports at least what the crawl process held when it
    forked. ``VmHWM`` belongs to the worker's own address space."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)  # kB
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ---------------------------------------------------------------- in the crawl process


class DetectionWorker:
    """The worker process; `submit` returns a Deferred firing with the verdict once stored."""

    def __init__(
        self, config_dir: str, *, batch: int, batch_bytes: int, interval: float, flush_seconds: float
    ):
        self.batch = batch
        self.batch_bytes = batch_bytes  # a batch goes when it holds this many body bytes, however few pages
        self.flush_seconds = flush_seconds
        # The run's id: set by the crawl once it has opened the run, before the first page is submitted.
        self.run_id: int | None = None
        self.pool = ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
            initargs=(os.getpid(), config_dir, interval),
        )  # fmt: skip
        # Start it now (a pool starts its process with the first task): loading takes a second or two,
        # and the pages fetched meanwhile wait in the scraper, each with its response and parsed tree.
        self._submit(_ready)
        self.waiting: list[tuple[Page, defer.Deferred[str]]] = []
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
    ) -> defer.Deferred[str]:
        from twisted.internet import reactor

        answer: defer.Deferred[str] = defer.Deferred()
        self.waiting.append((Page(url, content_type, body, capture_id, replayed, vantage), answer))
        self.waiting_bytes += len(body)
        if len(self.waiting) >= self.batch or self.waiting_bytes >= self.batch_bytes:
            self._send()
        elif self.flush_call is None:
            self.flush_call = reactor.callLater(self.flush_seconds, self._send)  # type: ignore[attr-defined]
        return answer

    def _send(self) -> None:
        if self.flush_call is not None and self.flush_call.active():
            self.flush_call.cancel()
        self.flush_call = None
        batch, self.waiting, self.waiting_bytes = self.waiting, [], 0
        if not batch:
            return
        answers = [answer for _, answer in batch]
        self._when_done(
            self._submit(_detect_and_store, [page for page, _ in batch], self.run_id)
        ).addCallbacks(
            lambda results: self._settle(answers, results), lambda failure: self._fail(answers, failure)
        )

    @staticmethod
    def _settle(answers: list[defer.Deferred[str]], results: list[tuple[str | None, str | None]]) -> None:
        for answer, (verdict, error) in zip(answers, results, strict=True):
            if error is None:
                answer.callback(verdict)
            else:
                answer.errback(RuntimeError(error))

    @staticmethod
    def _fail(answers: list[defer.Deferred[str]], failure: Any) -> None:
        for answer in answers:
            answer.errback(failure)

    def _submit(self, fn: Any, *args: Any) -> Future[Any]:
        try:
            return self.pool.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError) as exc:  # broken, or shut down
            gone: Future[Any] = Future()
            gone.set_exception(exc)
            return gone

    @staticmethod
    def _when_done(future: Future[Any]) -> defer.Deferred[Any]:
        """A Deferred firing in the reactor thread with the future's result (a dead worker: WorkerGone)."""
        from twisted.internet import reactor

        done: defer.Deferred[Any] = defer.Deferred()

        def settle(finished: Future[Any]) -> None:
            error = finished.exception()
            if isinstance(error, BrokenProcessPool):
                error = WorkerGone(f"the detection worker process ended abruptly ({error})")
            if error is None:
                reactor.callFromThread(done.callback, finished.result())  # type: ignore[attr-defined]
            else:
                reactor.callFromThread(done.errback, error)  # type: ignore[attr-defined]

        future.add_done_callback(settle)
        return done

    def finish(self) -> defer.Deferred[Any]:
        """Store the rest, re-judge findings; fires with the summary (or fails if the worker is gone)."""
        self._send()
        summary = self._when_done(self._submit(_finish))

        def shut_down(result: Any) -> Any:
            self.pool.shutdown(wait=False, cancel_futures=True)
            return result

        return summary.addBoth(shut_down)
