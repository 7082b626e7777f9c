"""What an adapter works with: the poll context, the normalised records and strict field access.

An adapter module (one per API) defines ``KIND`` ("p2p" or "markets") and ``poll(ctx) -> Iterator``
yielding `Ad` or `Market` records built with ``ctx.ad(...)`` / ``ctx.market(...)``. It knows the URL,
the request and the response shape; everything else (HTTP, pagination, rails, evidence, storage) is
shared. Fields are read through `Fields`, which fails the poll with a message naming the field when
the exchange changed its schema: a crash beats a silently wrong snapshot.

One record the adapter cannot read (a field of the wrong type, a number that is not finite or is out
of range, an item that is not an object) is left out by `PollContext.records` with its problem named,
and the rest are kept; the run is then ``degraded`` and says how many and why. A poll whose every
record is unreadable, or whose envelope is (status code, totals, the list itself), still fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from scanner.config import Settings
from scanner.pollers.rails import RailMap
from scanner.pollers.session import Fetched, HttpClient, PollError

Side = Literal["buy", "sell"]
# The USDT/PKR plausibility band applies to USD stablecoins only.
USD_STABLECOINS = frozenset({"USDT", "USDC", "FDUSD", "DAI", "TUSD"})
# Counts (orders, totals) are stored as 32-bit integers (PostgreSQL's INTEGER; SQLite's is wider):
# "monthOrderCount": 1e300 failed the whole poll's transaction, on PostgreSQL from 2**31 on.
MAX_COUNT = 2**31 - 1
# Larger than any price, amount or quantity an exchange lists; 1e200 is finite, but a price times a
# quantity of it (an ad's volume) is not: "Infinity" in a snapshot's JSON, which PostgreSQL refused
# (the poll failed there alone) and no bank's JSON parser must be handed in rails.json.
MAX_NUMBER = 1e18
T = TypeVar("T")


class SchemaError(PollError):
    """The response parsed but does not have the shape the adapter knows (renamed or missing fields)."""


@dataclass
class Ad:
    """One P2P advertisement, normalised. ``side`` is the advertiser's: a "sell" ad sells the asset."""

    ad_id: str
    side: Side
    asset: str
    fiat: str
    price: float
    min_amount: float | None
    max_amount: float | None
    available: float | None  # in asset units
    raw_payment_methods: list[str]
    payment_methods: list[str]  # canonical rails
    merchant_id: str
    merchant_name: str
    completion_rate: float | None  # 0..1
    order_count: int | None
    suspicious_price: bool = False
    capture_id: int | None = None

    @property
    def available_fiat(self) -> float:
        return (self.available or 0.0) * self.price


@dataclass(frozen=True)
class Market:
    """A spot market quoted in the polled fiat, e.g. BTC/PKR."""

    symbol: str
    base: str
    quote: str
    capture_id: int | None = None


class Fields:
    """Typed, validated access to one JSON object; every failure names the object and the field."""

    def __init__(self, data: Any, where: str, fetched: Fetched):
        # Not an object: the error is raised when a field is read, so that the other items of a
        # list (`items`) are still read.
        self.data = data
        self.where = where
        self.fetched = fetched

    def fail(self, problem: str) -> SchemaError:
        return SchemaError(f"{self.where}: {problem}", method=self.fetched.method, url=self.fetched.url)

    def _get(self, key: str, optional: bool) -> Any:
        if not isinstance(self.data, dict):
            raise self.fail(f"expected an object, got {type(self.data).__name__}")
        if key not in self.data:
            if optional:
                return None
            known = ", ".join(sorted(self.data)[:12])
            raise self.fail(f"missing field {key!r} (schema changed? fields present: {known})")
        return self.data[key]

    def str(self, key: str, optional: bool = False) -> str | None:
        value = self._get(key, optional)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(f"field {key!r} should be a string, got {value!r:.60}")
        return str(value)

    def req_str(self, key: str) -> str:
        value = self.str(key)
        assert value is not None
        return value

    def num(self, key: str, optional: bool = False) -> float | None:
        """A number sent as a JSON number or a decimal string (exchanges do both)."""
        value = self._get(key, optional)
        if (value is None or value == "") and optional:
            return None
        if isinstance(value, bool):
            raise self.fail(f"field {key!r} should be a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.fail(f"field {key!r} should be a number, got {value!r:.60}") from None
        if not math.isfinite(number):
            raise self.fail(f"field {key!r} is not a finite number ({value!r})")
        if abs(number) > MAX_NUMBER:
            raise self.fail(f"field {key!r} is out of range ({value!r:.60})")
        return number

    def req_num(self, key: str) -> float:
        value = self.num(key)
        assert value is not None
        return value

    def int(self, key: str, optional: bool = False) -> int | None:
        """A count: a whole number from 0 to `MAX_COUNT`."""
        number = self.num(key, optional)
        if number is None:
            return None
        if not 0 <= number <= MAX_COUNT:
            raise self.fail(f"field {key!r} is out of range for a count ({self.data[key]!r:.60})")
        return int(number)

    def list(self, key: str, optional: bool = False) -> list[Any]:
        value = self._get(key, optional)
        if value is None and optional:
            return []
        if not isinstance(value, list):
            raise self.fail(f"field {key!r} should be a list, got {type(value).__name__}")
        return value

    def obj(self, key: str) -> Fields:
        return Fields(self._get(key, False), f"{self.where}.{key}", self.fetched)

    def items(self, key: str) -> Iterator[Fields]:
        for i, item in enumerate(self.list(key)):
            yield Fields(item, f"{self.where}.{key}[{i}]", self.fetched)

    def expect(self, key: str, *allowed: Any) -> Any:
        value = self._get(key, False)
        if value not in allowed:
            raise self.fail(f"field {key!r} is {value!r:.80}, expected {' or '.join(repr(a) for a in allowed)}")
        return value


@dataclass
class PollContext:
    """Everything one adapter call needs: where, what, and the shared machinery."""

    adapter: str
    base_url: str
    platform: str
    fiat: str
    asset: str
    settings: Settings
    client: HttpClient
    rails: RailMap
    fetched: list[Fetched] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # records left out, each with its problem
    read: int = 0  # records `records` built

    @property
    def capture_id(self) -> int | None:
        return self.fetched[-1].capture_id if self.fetched else None

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path if path else self.base_url

    def get(self, path: str, params: dict[str, Any] | None = None) -> Fetched:
        return self._keep(self.client.request("GET", self.url(path), params=params))

    def post(self, path: str, body: Any) -> Fetched:
        return self._keep(self.client.request("POST", self.url(path), json_body=body))

    def _keep(self, fetched: Fetched) -> Fetched:
        self.fetched.append(fetched)
        return fetched

    def envelope(self, fetched: Fetched) -> Fields:
        return Fields(fetched.json(), "response", fetched)

    def records(self, items: Iterable[Fields], build: Callable[[Fields], T]) -> Iterator[T]:
        """``build(item)`` for each item; an item it cannot read (`PollError`: a wrong type, a missing
        field, a bad number) is left out and its problem kept in `rejected`, the others are read."""
        for item in items:
            try:
                record = build(item)
            except PollError as exc:
                self.rejected.append(exc.problem)
                continue
            self.read += 1
            yield record

    def pages(self, fetch: Callable[[int], tuple[list[Any], int]], label: str) -> Iterator[Any]:
        """Items of pages 1, 2, ... until the reported total or ``settings.p2p.max_pages``.

        An empty page before the reported total is reached is an error (the API lost or hid ads),
        not the end of the list.
        """
        received = 0
        for page in range(1, self.settings.p2p.max_pages + 1):
            items, total = fetch(page)
            if total < 0:
                raise self.fetched[-1].fail(f"{label}: negative total {total}")
            if not items:
                if received < total:
                    raise self.fetched[-1].fail(
                        f"{label}: page {page} is empty but the API reported {total} items and only "
                        f"{received} arrived"
                    )
                return
            yield from items
            received += len(items)
            if received >= total:
                return
        self.truncated.append(f"{label}: stopped at max_pages={self.settings.p2p.max_pages}")

    def ad(
        self,
        *,
        ad_id: str,
        side: Side,
        price: float,
        min_amount: float | None,
        max_amount: float | None,
        available: float | None,
        payment_ids: list[str],
        merchant_id: str,
        merchant_name: str,
        completion_rate: float | None,
        order_count: int | None,
        asset: str | None = None,
        fiat: str | None = None,
    ) -> Ad:
        asset = (asset or self.asset).upper()
        fiat = (fiat or self.fiat).upper()
        if price <= 0:
            raise self.fetched[-1].fail(f"ad {ad_id}: price {price} is not positive")
        low, high = self.settings.p2p.price_band_pkr
        suspicious = fiat == "PKR" and asset in USD_STABLECOINS and not low <= price <= high
        return Ad(
            ad_id=ad_id,
            side=side,
            asset=asset,
            fiat=fiat,
            price=price,
            min_amount=min_amount,
            max_amount=max_amount,
            available=available,
            raw_payment_methods=payment_ids,
            payment_methods=self.rails.names(payment_ids),
            merchant_id=merchant_id,
            merchant_name=merchant_name,
            completion_rate=completion_rate,
            order_count=order_count,
            suspicious_price=suspicious,
            capture_id=self.capture_id,
        )

    def market(self, base: str, quote: str) -> Market:
        base, quote = base.upper(), quote.upper()
        return Market(f"{base}/{quote}", base, quote, self.capture_id)
