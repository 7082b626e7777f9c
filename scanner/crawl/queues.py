"""The crawl's disk queue (``SCHEDULER_DISK_QUEUE``): requests in memory, on disk only after a pause.

A job directory keeps pending requests so that a paused crawl continues where it stopped
(`scanner.crawl.jobs`). Scrapy's pickle FIFO writes every request to disk as it is scheduled and
reads it back to fetch it: ~0.1 ms of the crawl process for every page. But that file is only ever
read after a clean pause: after a crash, queuelib's index (written at close) is stale, and
`scanner.crawl.jobs` drops the queue and replays the captures instead. So this queue holds its
requests in memory while the crawl runs and writes the ones still pending when the crawl closes, in
the form Scrapy itself writes (`Request.to_dict`, pickled), which the next crawl of the job reads.

A request Scrapy cannot write (a callback that is not a spider method, an unpicklable ``meta`` value)
is fetched as any other; if it is still pending at a pause it is dropped with a warning and counted
as ``scheduler/unserializable``, as Scrapy's own scheduler counts the ones its disk queue refuses.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.http.request import _find_method
from scrapy.squeues import PickleFifoDiskQueue
from scrapy.utils.request import request_from_dict

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

# Pickled as Scrapy's disk queues pickle: protocol 4 (Python >= 3.4 reads it).
PICKLE_PROTOCOL = 4


class PausableFifoQueue:
    """A FIFO of one priority's requests (Scrapy's scheduler keeps one per priority, each with a
    ``key`` path under ``<JOBDIR>/requests.queue/``), written to that path only by `close`."""

    def __init__(self, crawler: Crawler, key: str):
        self.crawler = crawler
        self.spider = crawler.spider
        self.path = Path(key)
        self.requests: deque[Request | dict[str, Any]] = deque()
        self._names: dict[Any, str] = {}
        if self.path.is_dir():  # a queue paused before this class: queuelib's directory format
            self._drain_queuelib_queue()
        elif self.path.exists():
            with self.path.open("rb") as kept:  # dicts: made Requests again as they are popped
                self.requests.extend(pickle.loads(entry) for entry in pickle.load(kept))
            self.path.unlink()  # pending in memory now; written again only if still pending at close

    @classmethod
    def from_crawler(cls, crawler: Crawler, key: str, *args: Any, **kwargs: Any) -> PausableFifoQueue:
        return cls(crawler, key)

    def push(self, request: Request) -> None:
        self.requests.append(request)

    def pop(self) -> Request | None:
        return self._request(self.requests.popleft()) if self.requests else None

    def peek(self) -> Request | None:
        if not self.requests:
            return None
        self.requests[0] = request = self._request(self.requests[0])
        return request

    def __len__(self) -> int:
        return len(self.requests)

    def close(self) -> None:
        """Write the pending requests to ``path`` (nothing, and no file, when none is pending)."""
        if not self.requests:
            return
        kept: list[bytes] = []
        for request in self.requests:
            try:
                entry = request if isinstance(request, dict) else self._to_dict(request)
                kept.append(pickle.dumps(entry, protocol=PICKLE_PROTOCOL))
            except (ValueError, pickle.PicklingError, AttributeError, TypeError) as exc:
                log.warning("pending request not kept at pause: %s (%s)", request, exc)
                if self.crawler.stats is not None:
                    self.crawler.stats.inc_value("scheduler/unserializable")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".tmp")
        with partial.open("wb") as file:
            pickle.dump(kept, file, protocol=PICKLE_PROTOCOL)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, self.path)

    def _request(self, item: Request | dict[str, Any]) -> Request:
        return request_from_dict(item, spider=self.spider) if isinstance(item, dict) else item

    def _to_dict(self, request: Request) -> dict[str, Any]:
        """``request.to_dict``, naming its callbacks by Scrapy's own lookup once per function (Scrapy
        scans every member of the spider for each request it writes)."""
        callback, errback = request.callback, request.errback
        request.callback, request.errback = self._name(callback), self._name(errback)  # type: ignore[assignment]
        try:
            return request.to_dict(spider=self.spider)
        finally:
            request.callback, request.errback = callback, errback

    def _name(self, method: Any) -> Any:
        function = getattr(method, "__func__", None)
        if function is None or getattr(method, "__self__", None) is not self.spider:
            return method  # Scrapy raises ValueError for a callable it cannot name
        if function not in self._names:
            self._names[function] = _find_method(self.spider, method)
        return self._names[function]

    def _drain_queuelib_queue(self) -> None:
        old = PickleFifoDiskQueue(self.crawler, str(self.path))
        while (request := old.pop()) is not None:
            self.requests.append(request)
        old.close()
        shutil.rmtree(self.path, ignore_errors=True)  # queuelib removes it itself once empty
