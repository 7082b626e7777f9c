"""The crawl's disk queue (``SCHEDULER_DISK_QUEUE``, ``SCHEDULER_START_DISK_QUEUE``): JSON entries, checked when read.

A job directory keeps pending requests on disk so a paused crawl resumes (`scanner.crawl.jobs`).
Scrapy's disk queues store pickles and unpickle whatever the files hold when the crawl resumes: a job
directory written by someone else (a restored backup, a copied data dir, another account) ran code in
the crawler, and a file cut short by a crash stopped the crawl with an ``UnpicklingError``. Here each
entry is `scanner.crawl.queue_entry`'s JSON in queuelib's FIFO files, read back as a plain GET request
within the spider's scope (its ``rescope``; the egress middleware checks every request as before, and
counts refusals per host in the run's summary). An entry that fails is refused:
logged with its URL, counted in the run's error summary (``crawl job queue: Nx entry refused: …``) and
kept, with the reason, in ``requests.deadletter.jsonl`` in the job directory; the crawl goes on with
the next one. Files that cannot be read as such entries at all are found before Scrapy opens them
(`scanner.crawl.jobs.unreadable_queue`).

To store a request Scrapy names its callback and errback by scanning every member of the spider
(``inspect.getmembers``, twice per request; ~2% of a crawl process's time). The names are the same
for every request, so they are found once per function and remembered.

The files matter only after a clean pause: a crawl that was killed restarts from its seeds and
replays its captures (`scanner.crawl.jobs`), whatever its queue files hold. So each queue holds the
requests pushed while nothing of it is on disk as they are, in memory, up to ``MEMORY_REQUESTS`` for
the whole crawl (~1.6 KB each), and writes them ahead of its file entries when it is closed (the
pause). Only what comes beyond that budget is written as it comes, and read back as above. Encoding,
writing, reading and checking each entry had cost ~0.2 ms of the reactor a request (~6% of a full
crawl process's time, `bench/crawl.py` profiled); a request held in memory never left the process.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from queuelib.queue import FifoDiskQueue
from scrapy.http.request import _find_method

from scanner.crawl.queue_entry import EntryRefused, admit, decode, described, encode
from scanner.printable import visible

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

DEAD_LETTER_FILE = "requests.deadletter.jsonl"
FAILURE_KEY = "pkscan/failure/crawl job queue/entry refused: "
# Requests the queues of one crawl hold in memory at once (~1.6 KB each, ~16 MB at most); beyond it
# they go to the files as they come. A 10,000-page crawl stays below it: at 3,000 its last ~7,000
# requests (the queue peaks at ~7,400 pending in the bench's crawl) each went through the files, at
# ~0.2-0.5 ms of the reactor a request, a cost a 2,000-page crawl never paid (one reason the
# pages/s ratio fell from 2,000 to 10,000 pages).
MEMORY_REQUESTS = 10_000
_held: WeakKeyDictionary[Crawler, list[int]] = WeakKeyDictionary()  # crawler -> [requests held]


class JsonFifoDiskQueue(FifoDiskQueue):  # type: ignore[misc]
    """queuelib's FIFO files of `scanner.crawl.queue_entry` entries (one queue per priority), behind
    the requests it holds in memory (all of which came before any entry in its files)."""

    def __init__(self, crawler: Crawler, key: str):
        self.crawler = crawler
        self.spider = crawler.spider
        self.dead_letters = Path(crawler.settings.get("JOBDIR") or Path(key).parent) / DEAD_LETTER_FILE
        self._names: dict[Any, Any] = {}
        self._memory: deque[Request] = deque()
        self._budget = _held.setdefault(crawler, [0])  # shared by the crawl's queues
        Path(key).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(key)

    def __len__(self) -> int:
        return len(self._memory) + super().__len__()

    @classmethod
    def from_crawler(cls, crawler: Crawler, key: str, *args: Any, **kwargs: Any) -> JsonFifoDiskQueue:
        return cls(crawler, key)

    def _name(self, method: Any) -> Any:
        """The spider's attribute name for a bound method of the spider, found by Scrapy's own lookup
        once per function (anything else as it is: Scrapy raises for a callable it cannot name)."""
        function = getattr(method, "__func__", None)
        if function is None or getattr(method, "__self__", None) is not self.spider:
            return method
        if function not in self._names:
            self._names[function] = _find_method(self.spider, method)
        return self._names[function]

    def push(self, request: Request) -> None:  # type: ignore[override]
        # In memory only while the files hold nothing: what is in memory always comes first.
        if not super().__len__() and self._budget[0] < MEMORY_REQUESTS:
            self._memory.append(request)
            self._budget[0] += 1
            return
        super().push(self._entry(request))

    def _entry(self, request: Request) -> bytes:
        callback, errback = request.callback, request.errback
        # Scrapy stores a callback given by name as it is: hand it the names, then put the methods back.
        request.callback, request.errback = self._name(callback), self._name(errback)  # type: ignore[assignment]
        try:
            return encode(request, self.spider)
        finally:
            request.callback, request.errback = callback, errback

    def pop(self) -> Request | None:  # type: ignore[override]
        if self._memory:
            self._budget[0] -= 1
            return self._memory.popleft()
        while (entry := super().pop()) is not None:
            try:
                request = decode(entry, self.spider)
                admit(request, self.spider, None)
                return request
            except EntryRefused as refused:
                self._refused(str(refused), entry)
        return None

    def peek(self) -> Request | None:  # type: ignore[override]
        if self._memory:
            return self._memory[0]
        entry = super().peek()
        try:
            return decode(entry, self.spider) if entry else None
        except EntryRefused:
            return None  # refused (and kept) when popped

    def close(self) -> None:
        """Write what is held in memory ahead of the files' entries, then close them (queuelib writes
        its index here). Encoded as `push` encodes, so a resumed crawl reads them back checked."""
        if self._memory:
            entries = [self._entry(request) for request in self._memory]
            self._budget[0] -= len(self._memory)
            self._memory.clear()
            while (entry := super().pop()) is not None:
                entries.append(entry)
            self.clear()
            for entry in entries:
                super().push(entry)
        super().close()

    def _refused(self, reason: str, entry: bytes) -> None:
        what = described(entry)
        self.crawler.stats.inc_value(f"{FAILURE_KEY}{reason}")
        record = {"reason": reason, "at": time.time(), "what": what, "queue": self.path,
                  "entry": base64.b64encode(entry).decode("ascii")}  # fmt: skip
        with self.dead_letters.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        log.warning(
            "crawl job queue entry refused (%s): %s; kept in %s", visible(reason), what, self.dead_letters
        )
