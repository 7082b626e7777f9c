"""One discovery run: read a whole source, then store its candidates in one transaction, or fail cleanly.

``run_discovery(config, target)`` opens a `Run` (kind "discover"), lets the adapter yield leads
within the request budget, drops leads for platforms the configuration already names, and only when
the whole source was read writes every lead in ONE transaction through
`scanner.findings.store.record_candidate` (new platforms become candidates; known candidates count a
sighting). Any error (a refused request, HTML instead of JSON, a renamed field, a 429 that outlasts
the retries) closes the run ``failed`` naming the source, the request and the problem, and stores no
candidate; the responses received are evidence already.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from scanner.config import Config, ConfigError, SourceTarget
from scanner.discovery import load_adapter
from scanner.discovery.base import Lead, SourceContext
from scanner.evidence.warc import EvidenceWriteError
from scanner.pollers.session import HttpClient, PollError, recorded_client
from scanner.runs import finish_run, start_run
from scanner.store.db import StoreUnavailable, open_store, retrying, session_scope

log = logging.getLogger(__name__)


@dataclass
class DiscoveryOutcome:
    target: SourceTarget
    run_id: int | None = None
    ok: bool = False
    error: str = ""
    leads: list[Lead] = field(default_factory=list)
    responses: int = 0
    new: list[str] = field(default_factory=list)  # platform keys that became candidates
    configured: int = 0  # leads for platforms the configuration names
    known: int = 0  # leads for platforms already known (candidates count a sighting)
    contacts: int = 0  # WhatsApp numbers named (stored as contacts of the page that named them)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The ``scanner discover --json`` object."""
        return {
            "source": self.target.name,
            "adapter": self.target.adapter,
            "ok": self.ok,
            "error": self.error or None,
            "run_id": self.run_id,
            "responses": self.responses,
            "leads": len(self.leads),
            "new": self.new,
            "known": self.known,
            "configured": self.configured,
            "contacts": self.contacts,
            "notes": self.notes,
        }


def configured_keys(config: Config) -> set[str]:
    """Platforms the configuration already watches: a source naming them finds nothing new."""
    from scanner.detection import platform_key

    targets = config.targets
    keys = {platform_key(str(seed)) for site in targets.sites for seed in site.seeds}
    keys |= {platform_key(domain) for site in targets.sites for domain in site.allowed_domains}
    keys |= {poller.platform for poller in targets.pollers}
    return keys


def run_discovery(
    config: Config,
    target: SourceTarget,
    *,
    trigger: str = "cli",
    store: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> DiscoveryOutcome:
    """Read one source; with ``store=False`` nothing is written anywhere (no run, evidence or rows)."""
    started = time.perf_counter()
    adapter = _adapter(target)
    vantage = config.vantage(target.vantage)  # a ConfigError (exit 2) before any run is opened
    engine = open_store(config) if store else None
    outcome = DiscoveryOutcome(target=target)
    if engine is not None:
        outcome.run_id = start_run(engine, "discover", target.name, trigger)
    client: HttpClient | None = None
    status: str | None = None
    try:
        with recorded_client(config, engine, outcome.run_id, vantage=vantage, sleep=sleep) as client:
            ctx = SourceContext(
                target=target, settings=config.settings, words=config.discovery_words, client=client,
                hosted=_hosted_platforms(engine) if engine is not None else [],
            )  # fmt: skip
            try:
                outcome.leads = list(adapter.discover(ctx))
            finally:
                outcome.responses = len(ctx.fetched)
                outcome.notes = ctx.notes
        if engine is not None:
            retrying(lambda: _store(engine, config, outcome), what=f"storing the {target.name} candidates")
        outcome.ok = True
    except (PollError, EvidenceWriteError, StoreUnavailable) as exc:
        outcome.error = f"{target.name}: {exc}"
    except KeyboardInterrupt:
        outcome.error = f"{target.name}: interrupted"
        status = "interrupted"
        raise
    except Exception as exc:  # a bug must still close the run, not leave it "running"
        log.exception("discovery crashed", extra={"source": target.name, "run_id": outcome.run_id})
        outcome.error = f"{target.name}: {target.base_url}: unexpected {type(exc).__name__}: {exc}"
    finally:
        outcome.seconds = time.perf_counter() - started
        _finish(engine, outcome, client, status)
    return outcome


def _adapter(target: SourceTarget) -> Any:
    try:
        return load_adapter(target.adapter)
    except KeyError as exc:
        raise ConfigError(f"targets.yaml: sources[{target.name}].adapter: {exc.args[0]}") from None


def _hosted_platforms(engine: Engine) -> list[str]:
    """Keys of the hosted platforms (channels, apps) known so far, newest first: a source whose
    request budget cannot read them all reads what the crawls and other sources linked last."""
    from sqlmodel import Session, col, select

    from scanner.store.models import Platform

    with Session(engine) as session:
        query = select(Platform.key).where(Platform.kind == "hosted").order_by(col(Platform.id).desc())
        return list(session.exec(query))


def _store(engine: Engine, config: Config, outcome: DiscoveryOutcome) -> None:
    from scanner.detection import platform_key
    from scanner.discovery.leads import is_whatsapp, phone_of, record_sighting
    from scanner.findings import record_candidate
    from scanner.names import HOSTING_SITES

    configured = configured_keys(config)
    outcome.new, outcome.known, outcome.configured, outcome.contacts = [], 0, 0, 0  # a retry counts afresh
    seen: set[str] = set()
    bare = 0
    with session_scope(engine) as session:
        for lead in outcome.leads:
            if is_whatsapp(lead.url):  # a number in a message: a contact of the channel, not a platform
                phone = phone_of(lead.url)
                if phone is not None:
                    record_sighting(
                        session, kind="phone", value=phone, platform=platform_key(lead.found_on_url),
                        url=lead.found_on_url, source=outcome.target.name, capture_id=lead.capture_id,
                    )  # fmt: skip
                    outcome.contacts += 1
                continue
            key = platform_key(lead.url)
            if key in HOSTING_SITES:  # facebook.com/profile.php?id=…: a hosting site, no page of it
                bare += 1
                continue
            if key in seen:
                continue  # one sighting per run, however many responses named it
            seen.add(key)
            if key in configured:
                outcome.configured += 1
                continue
            created = record_candidate(
                session, lead.url, lead.found_on_url, outcome.run_id,
                source=outcome.target.name, reason=lead.reason, capture_id=lead.capture_id,
            )  # fmt: skip
            if created:
                outcome.new.append(key)
            else:
                outcome.known += 1
    note = f"{bare} links to a hosting site without a page or channel of it dropped"
    if bare and note not in outcome.notes:  # a retried transaction says it once
        outcome.notes.append(note)


def _finish(
    engine: Engine | None, outcome: DiscoveryOutcome, client: HttpClient | None, status: str | None
) -> None:
    if engine is None or outcome.run_id is None:
        return
    stats: dict[str, Any] = {
        "source": outcome.target.name,
        "adapter": outcome.target.adapter,
        "base_url": str(outcome.target.base_url),
        "responses": outcome.responses,
        "leads": len(outcome.leads),
        "new": len(outcome.new),
        "known": outcome.known,
        "configured": outcome.configured,
        "contacts": outcome.contacts,
        "notes": outcome.notes,
    }
    if client is not None:
        stats.update(
            requests=client.stats.requests, retries=client.stats.retries,
            waited_seconds=round(client.stats.waited_seconds, 4), statuses=client.stats.statuses,
        )  # fmt: skip
    finish_run(
        engine, outcome.run_id, status or ("ok" if outcome.ok else "failed"),
        pages=outcome.responses, items=len(outcome.new) if outcome.ok else 0,
        errors=0 if outcome.ok else 1, error_summary=outcome.error, stats=stats,
    )  # fmt: skip
