"""The crawl's disk queue (``SCHEDULER_DISK_QUEUE``): Scrapy's pickle FIFO, with callbacks named cheaply.

A job directory keeps pending requests on disk so an interrupted crawl resumes (`scanner.crawl.jobs`).
To store a request Scrapy names its callback and errback by scanning every member of the spider
(``inspect.getmembers``, twice per request; ~2% of a crawl process's time). The names are the same
for every request, so they are found once per function and remembered; what is written to disk, and
read back, is exactly what Scrapy writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.http.request import _find_method
from scrapy.squeues import PickleFifoDiskQueue

if TYPE_CHECKING:
    from scrapy import Request


class NamedCallbackPickleFifoDiskQueue(PickleFifoDiskQueue):  # type: ignore[misc,valid-type]
    def _name(self, method: Any) -> Any:
        """The spider's attribute name for a bound method of the spider, found by Scrapy's own lookup
        once per function (anything else as it is: Scrapy raises for a callable it cannot name)."""
        function = getattr(method, "__func__", None)
        if function is None or getattr(method, "__self__", None) is not self.spider:
            return method
        names = self.__dict__.setdefault("_names", {})
        if function not in names:
            names[function] = _find_method(self.spider, method)
        return names[function]

    def push(self, request: Request) -> None:
        callback, errback = request.callback, request.errback
        # Scrapy stores a callback given by name as it is: hand it the names, then put the methods back.
        request.callback, request.errback = self._name(callback), self._name(errback)  # type: ignore[assignment]
        try:
            super().push(request)
        finally:
            request.callback, request.errback = callback, errback
