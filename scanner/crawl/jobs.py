"""Crawl jobs: one job directory (Scrapy JOBDIR) and one run name per spider and target.

A job is ``<spider>-<target>`` (``site-rupee-exchange``, ``site-all``, ``discovery-all``) with its
directory under ``<data_dir>/jobs/``. Resume after a crash works on our own records rather than on
Scrapy's queue files alone, because a SIGKILL leaves those half-written (queuelib writes its
index at close): when the previous runs of the job ended ``interrupted``, ``degraded`` or ``failed``
(killed, database lost, analyses missing), the captures they committed
are *replayed* from their WARC records instead of being fetched again (see
`scanner.crawl.capture`; only captures fetched within ``crawl.replay_max_hours``), and the crawl restarts from its seeds, reaching where it stopped without
new requests to the sites and without duplicate evidence. Scrapy's own queue state is kept only
after a clean pause (Ctrl-C, SIGTERM), and dropped otherwise so that a finished job does not make the
next crawl skip every URL it has seen. Kept state is read through before Scrapy opens it
(`unreadable_queue`): files cut short, entries that are no JSON request (an older version's pickles,
anything else), priorities that are no integers, a ``requests.seen`` too large, cut short or not of
signed fingerprints (`scanner.crawl.dupefilter`). Then the state is moved aside (kept, for a look) into
``unreadable-<time>/``, the crawl starts again from its seeds replaying what the paused run captured,
and the run's error summary says which file was unreadable and why.

One process at a time per job: `prepare` takes an exclusive ``flock`` on ``pkscan-job.lock`` in the
job directory and holds it until the process exits. The kernel makes that atomic (two crawls started
in the same instant cannot both get it) and releases it when the holder dies, even by SIGKILL.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scanner import runs
from scanner.crawl.dupefilter import seen_problem
from scanner.store.models import Run

STATE_FILE = "pkscan-job.json"
LOCK_FILE = "pkscan-job.lock"
log = logging.getLogger(__name__)
_held_locks: dict[str, int] = {}  # job directory -> lock fd, open until the process exits
SCRAPY_STATE = ("requests.queue", "requests.seen", "spider.state")
# Runs whose work the next crawl of the job completes by replaying what they captured.
UNFINISHED = ("interrupted", "degraded", "failed")


class JobBusy(RuntimeError):
    """Another live process is running the same job."""


@dataclass
class JobPlan:
    name: str  # directory name: site-rupee-exchange
    run_name: str  # Run.name: the target (as the scheduler names it), else the spider
    directory: Path
    resumed_runs: list[int] = field(default_factory=list)  # unfinished runs whose captures are replayed
    kept_scrapy_state: bool = False
    unreadable_state: str | None = None  # why the paused run's queue was not resumed, and where it is kept


def job_name(spider_name: str, target: str | None) -> str:
    return f"{spider_name}-{target or 'all'}"


def run_name(spider_name: str, target: str | None) -> str:
    return target or spider_name


def _read_state(directory: Path) -> dict[str, object]:
    try:
        return json.loads((directory / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def write_state(directory: Path, state: str, run_id: int | None) -> None:
    tmp = directory / (STATE_FILE + ".tmp")
    tmp.write_text(
        json.dumps({"state": state, "run_id": run_id, "pid": os.getpid(), "host": socket.gethostname()})
    )
    os.replace(tmp, directory / STATE_FILE)


def _lock(plan: JobPlan) -> None:
    """Hold the job's lock for the rest of this process, or raise JobBusy naming the holder."""
    key = str(plan.directory.resolve())
    if key in _held_locks:
        return
    fd = os.open(plan.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        raise JobBusy(f"crawl job {plan.name} is already running ({holder})") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
    _held_locks[key] = fd


_SIZE = struct.Struct(">L")  # queuelib's FifoDiskQueue: each entry is its length, then its bytes


def _fifo_problem(queue: Path) -> str | None:
    """What makes queuelib's FIFO directory ``queue`` unreadable as this crawl's entries, else None."""
    info_path = queue / "info.json"
    try:
        info = json.loads(info_path.read_text())
        (tnum, tcnt, offset), (hnum, hcnt) = info["tail"], info["head"]
        chunksize, size = info["chunksize"], info["size"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{info_path}: not a queue's state ({type(exc).__name__}: {exc})"
    numbers = (tnum, tcnt, offset, hnum, hcnt, chunksize, size)
    if not all(type(n) is int and n >= 0 for n in numbers) or chunksize == 0:
        return f"{info_path}: not a queue's state (positions are no counts)"
    read = 0
    while [tnum, tcnt] < [hnum, hcnt]:
        chunk = queue / f"q{tnum:05d}"
        try:
            with chunk.open("rb") as f:
                f.seek(offset)
                while [tnum, tcnt] < [hnum, hcnt] and tcnt < chunksize:
                    head = f.read(_SIZE.size)
                    entry = f.read(_SIZE.unpack(head)[0]) if len(head) == _SIZE.size else b""
                    if len(head) < _SIZE.size or len(entry) < _SIZE.unpack(head)[0]:
                        return f"{chunk}: cut short in request {read + 1} (byte {offset})"
                    try:
                        d = json.loads(entry)
                    except (ValueError, RecursionError):
                        d = None
                    if not isinstance(d, dict) or not isinstance(d.get("url"), str):
                        return f"{chunk}: request {read + 1} (byte {offset}) is not a request in JSON"
                    read, tcnt, offset = read + 1, tcnt + 1, offset + _SIZE.size + len(entry)
        except OSError as exc:
            return f"{chunk}: {exc.strerror or exc}"
        if tcnt == chunksize:
            tnum, tcnt, offset = tnum + 1, 0, 0
    if read != size:
        return f"{info_path}: says {size} requests, its files hold {read}"
    return None


def _priorities(state: object) -> bool:
    """Scrapy's ``active.json``: priorities (a list) or, per download slot, priorities (a dict)."""
    if isinstance(state, dict):
        return all(isinstance(slot, str) and _priorities(p) for slot, p in state.items())
    # Each names a directory beside it: "../../elsewhere" would open (and create) one anywhere.
    return isinstance(state, list) and all(type(p) is int for p in state)


def unreadable_queue(directory: Path) -> str | None:
    """Why the Scrapy queue kept in job ``directory`` cannot be resumed (naming the file), else None:
    its queue files, then its duplicate filter's ``requests.seen`` (`scanner.crawl.dupefilter`)."""
    queues = directory / "requests.queue"
    active = queues / "active.json"
    if not active.exists():
        return None
    try:
        state = json.loads(active.read_text())
    except (OSError, ValueError) as exc:
        return f"{active}: not a list of priorities ({type(exc).__name__}: {exc})"
    if not _priorities(state) or isinstance(state, dict) and not all(state.values()):
        return f"{active}: not a list of priorities"
    for info in sorted(queues.rglob("info.json")):
        if problem := _fifo_problem(info.parent):
            return problem
    return seen_problem(directory)


def _set_aside(plan: JobPlan, problem: str) -> None:
    """Move the unreadable Scrapy state out of the crawl's way, kept for a look, and say so."""
    aside = plan.directory / time.strftime("unreadable-%Y%m%dT%H%M%SZ", time.gmtime())
    aside.mkdir(exist_ok=True)
    for name in SCRAPY_STATE:
        if (plan.directory / name).exists():
            os.replace(plan.directory / name, aside / name)
    plan.kept_scrapy_state = False
    plan.unreadable_state = f"{problem}; kept in {aside}"
    log.error("crawl job %s: the paused crawl's queue is unreadable: %s", plan.name, plan.unreadable_state)


def prepare(engine: Engine, data_dir: Path, spider_name: str, target: str | None) -> JobPlan:
    """Decide how this crawl starts: fresh, resuming a crash, or continuing a clean pause."""
    plan = JobPlan(
        name=job_name(spider_name, target),
        run_name=run_name(spider_name, target),
        directory=Path(data_dir) / "jobs" / job_name(spider_name, target),
    )
    plan.directory.mkdir(parents=True, exist_ok=True)
    _lock(plan)
    runs.close_orphaned_runs(engine)
    with Session(engine) as session:
        previous = session.exec(
            select(Run.id, Run.status)
            .where(Run.job_dir == str(plan.directory))
            .order_by(col(Run.id).desc())
            .limit(50)
        ).all()
    for run_id, status in previous:
        if status not in UNFINISHED:
            break
        plan.resumed_runs.append(run_id)
    state = _read_state(plan.directory).get("state")
    plan.kept_scrapy_state = state == "paused" and bool(plan.resumed_runs)
    if plan.kept_scrapy_state and (problem := unreadable_queue(plan.directory)):
        _set_aside(plan, problem)
    if not plan.kept_scrapy_state:
        for name in SCRAPY_STATE:
            path = plan.directory / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    return plan
