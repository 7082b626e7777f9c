"""Discovery sources: public services that name platforms nobody configured.

One small module per service knows its URL(s) and response shape and yields `base.Lead` records
(a URL, the response that named it, why it is interesting); the shared machinery does the rest:

- `scanner.pollers.session.HttpClient`: the egress policy, deadlines, size caps, retries on 429/5xx
  honouring ``Retry-After``, and evidence (WARC + hash chain) for every response;
- `runner.run_discovery`: one `Run` (kind "discover"); the request budget (``max_requests``); leads
  for configured targets dropped; every lead of the run stored in ONE transaction as a `Candidate`
  (``source``, ``reason``, the capture that named it) only after the whole source was read, so a
  renamed field or a refused request stores nothing half;
- the ``discovery`` spider then crawls the frontier (uncrawled candidates, most-seen first) within
  its budgets, and detection judges them like any other page.

Adapters: ``coingecko`` (exchanges with a PKR ticker), ``coinpaprika`` (exchanges listing PKR), ``crtsh`` (certificate names combining crypto
and Pakistan words), ``itunes`` (PK storefront app searches), ``googleplay`` (developers of Play apps crawled pages linked), ``telegram`` (t.me/s channel previews,
following channels named in messages), ``warning_list`` (regulators' warning lists, CSV or HTML).
Adding one: write ``scanner/discovery/<name>.py`` with ``discover(ctx)``, add it to `ADAPTERS`, and a
``sources:`` entry in ``config/targets.yaml``.
"""

from __future__ import annotations

from types import ModuleType

from scanner.registry import load

ADAPTERS: dict[str, str] = {
    "coingecko": "scanner.discovery.coingecko",
    "coinpaprika": "scanner.discovery.coinpaprika",
    "crtsh": "scanner.discovery.crtsh",
    "googleplay": "scanner.discovery.googleplay",
    "itunes": "scanner.discovery.itunes",
    "telegram": "scanner.discovery.telegram",
    "warning_list": "scanner.discovery.warning_list",
}


def load_adapter(name: str) -> ModuleType:
    """The adapter module for ``name``; KeyError names the known adapters."""
    return load(ADAPTERS, name, "source adapter")
