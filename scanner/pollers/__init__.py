"""API pollers: exchange P2P desks and spot market lists, in the polled fiat (PKR by default).

One small module per API (``binance_p2p``, ``okx_p2p``, ``bybit_p2p``, ``markets``) knows the URL,
the request and the response shape and yields normalised records (`base.Ad`, `base.Market`); the
shared machinery does the rest:

- `session.HttpClient`: retries on 429/5xx honouring ``Retry-After``, rate limit, timeouts, size
  limit, proxies from the environment, and evidence (WARC + hash chain) for every response;
- `base.PollContext`: pagination to the reported total or ``settings.p2p.max_pages``, payment
  identifiers -> canonical rails (``config/lexicons/p2p_payment_methods.yaml``), suspicious prices;
- `runner.run_poll`: one run = one `Run` row (kind "poll"); snapshots, ads and findings are written
  in ONE transaction after the whole poll succeeded, so a failure keeps the last good snapshot;
- `storage.exposure`: ads, merchants, available PKR and median price per platform and rail over time.

Adding an API: write ``scanner/pollers/<name>.py`` with ``KIND`` and ``poll(ctx)``, add it to
`ADAPTERS`, and a ``pollers:`` entry in ``config/targets.yaml``.
"""

from __future__ import annotations

from types import ModuleType

from scanner.registry import load

ADAPTERS: dict[str, str] = {
    "binance_p2p": "scanner.pollers.binance_p2p",
    "okx_p2p": "scanner.pollers.okx_p2p",
    "bybit_p2p": "scanner.pollers.bybit_p2p",
    "markets": "scanner.pollers.markets",
}


def load_adapter(name: str) -> ModuleType:
    """The adapter module for ``name``; KeyError names the known adapters."""
    return load(ADAPTERS, name, "adapter")
