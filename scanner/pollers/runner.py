"""One poll run: fetch everything, then store everything in one transaction, or fail cleanly.

``run_poll(config, target)`` opens a `Run` (kind "poll"), calls the adapter for every fiat x asset
of the target, runs detection on every JSON response captured, and only when all of that succeeded
writes, in ONE transaction, the snapshots, their ads, the page analyses and the refreshed finding.
A record the adapter cannot read is left out and named (`scanner.pollers.base.PollContext.records`):
the run is "degraded", its error summary lists them. Any other error (HTTP refusal, HTML instead of
JSON, malformed JSON, changed schema, no record readable, empty answer, a bug) closes the run as
"failed" with an error summary naming the adapter, the request and the problem;
the previous snapshot stays the latest and nothing half-written remains. The raw responses are
evidence already (they were recorded as they arrived). The storing transaction is retried through a
database outage for a bounded time (`scanner.store.db.retrying`); when the database stays away the
run is closed ``failed`` if it can still be, and otherwise `StoreUnavailable` reaches the CLI (one
line, exit 1) and the next run's start closes this one as ``interrupted``.

The platform a poll speaks for is the target's ``platform`` (``binance.com``), not the API host.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from scanner.config import Config, ConfigError, PollerTarget
from scanner.evidence.warc import EvidenceWriteError
from scanner.observation import Observation, ObservationWriter, Rules, rules_for
from scanner.pollers import load_adapter
from scanner.pollers.base import Ad, Market, PollContext
from scanner.pollers.rails import RailMap, rails_for
from scanner.pollers.session import Fetched, HttpClient, PollError, recorded_client
from scanner.pollers.storage import figures, write_snapshot
from scanner.runs import finish_run, start_run
from scanner.store.db import StoreUnavailable, error_line, open_store, retrying, session_scope

log = logging.getLogger(__name__)


@dataclass
class FiatPoll:
    """What one adapter call returned for one fiat and asset."""

    fiat: str
    asset: str
    ads: list[Ad] = field(default_factory=list)
    markets: list[Market] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # records left out, each with its problem
    snapshot_id: int | None = None


@dataclass
class PollOutcome:
    target: PollerTarget
    run_id: int | None = None
    ok: bool = False
    error: str = ""
    polls: list[FiatPoll] = field(default_factory=list)
    responses: int = 0
    verdict: str | None = None
    signals: list[dict[str, Any]] = field(default_factory=list)
    finding_id: int | None = None
    seconds: float = 0.0
    http_seconds: float = 0.0
    # wall time per stage: fetch (HTTP, waits, parsing, evidence), detect, store
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ads(self) -> list[Ad]:
        return [ad for poll in self.polls for ad in poll.ads]

    @property
    def rejected(self) -> list[str]:
        return [problem for poll in self.polls for problem in poll.rejected]

    @property
    def markets(self) -> list[str]:
        return sorted({m.symbol for poll in self.polls for m in poll.markets})

    def summary(self) -> dict[str, Any]:
        """The ``scanner poll --json`` object."""
        ads = self.ads
        totals = figures(ads)
        rails: Counter[str] = Counter(rail for ad in ads for rail in ad.payment_methods)
        fiats = sorted({p.fiat for p in self.polls}) or self.target.fiats
        data: dict[str, Any] = {
            "adapter": self.target.adapter,
            "platform": self.target.platform,
            "fiat": ",".join(fiats),
            "ads": totals.ads,
            "merchants": totals.merchants,
            "payment_methods": dict(sorted(rails.items(), key=lambda kv: (-kv[1], kv[0]))),
            "median_price": totals.median_price,
            "verdict": self.verdict,
            "signals": self.signals,
        }
        if self.markets:
            data["markets"] = self.markets
        data.update(
            ok=self.ok,
            error=self.error or None,
            rejected=len(self.rejected),
            run_id=self.run_id,
            suspicious_prices=sum(ad.suspicious_price for ad in ads),
            available_fiat=totals.available_fiat,
        )
        return data


def run_poll(
    config: Config,
    target: PollerTarget,
    *,
    trigger: str = "cli",
    store: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> PollOutcome:
    """Poll one target; with ``store=False`` nothing is written anywhere (no run, evidence or rows)."""
    started = time.perf_counter()
    adapter = _adapter(target)
    rails = rails_for(config)
    vantage = config.vantage(target.vantage)  # a ConfigError (exit 2) before any run is opened
    engine = open_store(config) if store else None
    outcome = PollOutcome(target=target)
    if engine is not None:
        outcome.run_id = start_run(engine, "poll", target.name, trigger)
    client: HttpClient | None = None
    try:
        with recorded_client(config, engine, outcome.run_id, vantage=vantage, sleep=sleep) as client:
            clock = time.perf_counter()
            fetched = _fetch(config, target, adapter, client, rails, outcome)
            outcome.stage_seconds["fetch"], clock = time.perf_counter() - clock, time.perf_counter()
        rules = rules_for(config)
        observations = _observe(rules, target, fetched)
        _judge(rules, target, outcome, observations)
        outcome.stage_seconds["detect"], clock = time.perf_counter() - clock, time.perf_counter()
        if engine is not None:
            writer = ObservationWriter(engine, rules, outcome.run_id)
            retrying(
                lambda: _store(writer, target, rails, outcome, observations),
                what=f"storing the {target.name} poll",
            )
        outcome.stage_seconds["store"] = time.perf_counter() - clock
        outcome.ok = True
    except (PollError, EvidenceWriteError) as exc:  # evidence not written: the poll failed, one line says why
        outcome.error = f"{target.adapter}: {exc}"
    except StoreUnavailable as exc:
        log.error("poll could not store its results", exc_info=exc, extra={"run_id": outcome.run_id})
        outcome.error = f"{target.adapter}: {exc}"
    except ConfigError as exc:
        outcome.error = f"{target.adapter}: {exc}"
        _finish(engine, outcome, client)
        raise
    except KeyboardInterrupt:
        outcome.error = f"{target.adapter}: interrupted"
        _finish(engine, outcome, client, status="interrupted")
        raise
    except Exception as exc:  # a bug must still close the run, not leave it "running"
        log.exception("poll crashed", extra={"adapter": target.adapter, "run_id": outcome.run_id})
        if isinstance(exc, DBAPIError):  # e.g. recording evidence while the database is down
            outcome.error = f"{target.adapter}: database error: {error_line(exc)}"
        else:
            outcome.error = f"{target.adapter}: {target.base_url}: unexpected {type(exc).__name__}: {exc}"
    if client is not None:
        outcome.http_seconds = client.stats.http_seconds
    outcome.seconds = time.perf_counter() - started
    _finish(engine, outcome, client)
    return outcome


def _adapter(target: PollerTarget) -> Any:
    try:
        return load_adapter(target.adapter)
    except KeyError as exc:
        raise ConfigError(f"targets.yaml: pollers[{target.name}].adapter: {exc.args[0]}") from None


def _fetch(
    config: Config,
    target: PollerTarget,
    adapter: Any,
    client: HttpClient,
    rails: RailMap,
    outcome: PollOutcome,
) -> list[Fetched]:
    fetched: list[Fetched] = []
    assets = target.assets if adapter.KIND == "p2p" else [""]
    for fiat in target.fiats:
        for asset in assets:
            ctx = PollContext(
                adapter=target.adapter,
                base_url=str(target.base_url),
                platform=target.platform,
                fiat=fiat,
                asset=asset,
                settings=config.settings,
                client=client,
                rails=rails,
            )
            poll = FiatPoll(fiat, asset)
            try:
                for record in adapter.poll(ctx):
                    (poll.ads if isinstance(record, Ad) else poll.markets).append(record)
            finally:
                fetched.extend(ctx.fetched)
                outcome.responses = len(fetched)
            if ctx.rejected and not ctx.read:
                last = ctx.fetched[-1]
                raise last.fail(
                    f"no {asset}/{fiat} record could be read ({len(ctx.rejected)}): {ctx.rejected[0]}"
                )
            if adapter.KIND == "p2p" and not poll.ads:
                last = ctx.fetched[-1] if ctx.fetched else None
                raise PollError(
                    f"no {asset}/{fiat} ads on either side (empty pages); keeping the last snapshot",
                    method=last.method if last else None,
                    url=last.url if last else str(target.base_url),
                )
            poll.truncated = ctx.truncated
            poll.rejected = ctx.rejected
            outcome.polls.append(poll)
    return fetched


def _observe(rules: Rules, target: PollerTarget, fetched: list[Fetched]) -> list[Observation]:
    """Detection on every response body; each speaks for the target's platform."""
    return [
        rules.observe(
            r.url, r.content_type, r.body, capture_id=r.capture_id, platform=target.platform, vantage=r.vantage
        )
        for r in fetched
    ]


def _store(
    writer: ObservationWriter,
    target: PollerTarget,
    rails: RailMap,
    outcome: PollOutcome,
    seen: list[Observation],
) -> None:
    from scanner.discovery.leads import record_merchants
    from scanner.findings import ensure_platform

    with session_scope(writer.engine) as session:
        platform, _ = ensure_platform(session, target.platform)
        assert platform.id is not None
        for poll in outcome.polls:
            snapshot = write_snapshot(
                session,
                run_id=outcome.run_id,
                adapter=target.adapter,
                platform_id=platform.id,
                fiat=poll.fiat,
                asset=poll.asset,
                ads=poll.ads,
                markets=poll.markets,
                rails=rails,
            )
            poll.snapshot_id = snapshot.id
            # the merchants behind the ads: contacts that tie this platform to others (discovery.leads)
            record_merchants(session, target.platform, str(target.base_url), poll.ads)
        writer.add(session, seen)
        finding = writer.judge(session, platform.id)
        if finding is not None:
            session.flush()
            outcome.finding_id = finding.id
            # The platform's verdict over everything known about it (crawled pages too).
            outcome.verdict = finding.verdict


def _judge(rules: Rules, target: PollerTarget, outcome: PollOutcome, seen: list[Observation]) -> None:
    """Verdict and signals of this poll's responses alone (the stored finding may know more)."""
    from scanner.detection import aggregate

    result = aggregate(target.platform, [s.analysis for s in seen], rules.lexicons, rules.register)
    outcome.verdict = result.verdict
    outcome.signals = [
        {k: v for k, v in s.to_json().items() if k in ("kind", "value", "snippet", "locator", "weight")}
        for s in result.signals
    ]


def _finish(
    engine: Engine | None, outcome: PollOutcome, client: HttpClient | None, status: str | None = None
) -> None:
    if engine is None or outcome.run_id is None:
        return
    stats: dict[str, Any] = {
        "adapter": outcome.target.adapter,
        "platform": outcome.target.platform,
        "base_url": str(outcome.target.base_url),
        "responses": outcome.responses,
        "snapshots": [p.snapshot_id for p in outcome.polls if p.snapshot_id],
        "truncated": [t for p in outcome.polls for t in p.truncated],
        "rejected": len(outcome.rejected),
        "verdict": outcome.verdict,
        "stage_seconds": {k: round(v, 4) for k, v in outcome.stage_seconds.items()},
    }
    if client is not None:
        stats.update(
            requests=client.stats.requests,
            retries=client.stats.retries,
            http_seconds=round(client.stats.http_seconds, 4),
            waited_seconds=round(client.stats.waited_seconds, 4),
            statuses=client.stats.statuses,
        )
    ads = outcome.ads if outcome.ok else []
    rejected = outcome.rejected if outcome.ok else []
    finish_run(
        engine,
        outcome.run_id,
        status or ("failed" if not outcome.ok else "degraded" if rejected else "ok"),
        pages=outcome.responses,
        items=len(ads) + len(outcome.markets if outcome.ok else []),
        errors=len(rejected) if outcome.ok else 1,
        error_summary=outcome.error or rejected_summary(outcome.target.adapter, rejected),
        stats=stats,
    )


SHOWN_REJECTIONS = 10


def rejected_summary(adapter: str, rejected: list[str]) -> str:
    """``binance_p2p: 3 records left out: response.data[0].adv: field 'price' ...; ...`` ('' if none)."""
    if not rejected:
        return ""
    shown = "; ".join(rejected[:SHOWN_REJECTIONS])
    more = f"; and {len(rejected) - SHOWN_REJECTIONS} more" if len(rejected) > SHOWN_REJECTIONS else ""
    return f"{adapter}: {len(rejected)} records left out: {shown}{more}"
