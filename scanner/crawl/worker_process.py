"""The detection worker process's side of `scanner.crawl.detect_worker`: the pool's initializer and tasks.

Apart from the crawl side so that the worker imports neither Twisted nor Scrapy: it loads only
detection, the store and the configuration.
"""

from __future__ import annotations

import gc
import os
import resource
import threading
import time
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from scanner.observation import ObservationWriter, Rules


class Page(NamedTuple):
    url: str
    content_type: str
    body: bytes
    capture_id: int | None
    replayed: bool
    vantage: str | None = None


_rules: Rules | None = None
_engine: Engine | None = None
_store: ObservationWriter | None = None
_stored = 0
_profile: Any = None


def start(parent: int, config_dir: str) -> None:
    """Pool initializer: the rules and the database the worker uses, for the life of the process.
    ``parent`` is the crawl process (passed, not read here: it may already be gone while this process
    starts)."""
    global _rules, _engine, _profile
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
    _rules, _engine = rules_for(config), make_engine(config.database_url)
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


def ready() -> None:
    """Nothing: submitted when the pool is made, so that the worker starts loading at once."""


def _writer(run_id: int | None, interval: float) -> ObservationWriter:
    """The writer of the run, made with its first batch (the run is opened after the worker starts,
    which may be before the crawl has its settings)."""
    global _store
    from scanner.observation import ObservationWriter

    if _store is None:
        assert _rules is not None and _engine is not None
        _store = ObservationWriter(_engine, _rules, run_id, interval=interval)
    return _store


def detect_and_store(
    pages: list[Page], run_id: int | None, interval: float
) -> list[tuple[str | None, str | None]]:
    """(verdict, None) per page once the batch is committed, or (None, why) for a page not stored;
    ``interval``: seconds between re-judgings of the findings touched."""
    global _stored
    from scanner.store.db import StoreUnavailable

    store = _writer(run_id, interval)
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


def finish() -> dict[str, Any]:
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
