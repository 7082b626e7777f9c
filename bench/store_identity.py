"""Storing identity check: the same observations stored by two versions of the code give the same database.

The crawl's detection worker stores pages a batch at a time (`scanner.observation.ObservationWriter`).
A change that makes storing cheaper must not change what is stored. This script replays one fixed,
seeded sequence of observations through ``ObservationWriter.store``/``refresh`` into a new database
and dumps every table as JSON; run it from two trees (the old code and the new) and compare:

    (cd OLD && .venv/bin/python NEW/bench/store_identity.py --out /tmp/old.json)
    .venv/bin/python bench/store_identity.py --out /tmp/new.json --compare /tmp/old.json

The sequence: every page of the simulated web's exchange and mirror sites (`scanner.world`, rendered
in-process, so no crawl order or network is involved) and ``--sprawl`` pages of sprawl.test,
interleaved by a seeded shuffle, each with a Capture row; then the same pages again (unchanged:
``last_seen`` moves), some replayed as a resumed crawl would, some changed (superseding), some seen
through another vantage point, and repeats inside one batch. Batches have seeded sizes; findings are
re-judged between batches and at the end. The clock of `scanner.findings.store` is a counter, so the
stored times are comparable; other timestamps (run, event and stale marks) are left out of the dump.
``--database-url`` stores into that (empty) database instead of a new SQLite file. It prints the CPU
time ``ObservationWriter.store`` took a page (detection left out): steadier than a crawl's figures
on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path.cwd()  # the tree under test is the one run from (its scanner package is imported)
sys.path.insert(0, str(REPO))

# Time columns whose values the stored pages decide (with the counter clock); other times are wall clock.
KEPT_TIMES = {
    ("pageanalysis", "first_seen"), ("pageanalysis", "last_seen"), ("signal", "seen_at"),
    ("finding", "first_seen"), ("finding", "last_seen"),
}  # fmt: skip


def pages(sprawl: int, demo: bool = True) -> list[tuple[str, bytes]]:
    """(url, body) of every demo site page (``demo``) and ``sprawl`` sprawl.test pages."""
    from scanner.world import misbehave, render
    from scanner.world.catalogue import host_index

    out = []
    for host in sorted(host_index()) if demo else []:
        for path in render.site_paths(host):
            page = render.render_page(host, path)
            if page is not None:
                out.append((f"http://{host}{path}", page.encode()))
    for i in range(sprawl):
        out.append((f"http://sprawl.test/page/{i}", misbehave.sprawl(f"/page/{i}", max(sprawl, 2)).body))
    return out


def sequence(sprawl: int, seed: int, demo: bool = True) -> list[list[dict[str, Any]]]:
    """The batches to store, each a list of page dicts (url, body, vantage, replayed, capture: index)."""
    rng = random.Random(seed)
    base = pages(sprawl, demo)
    rng.shuffle(base)
    seen: list[dict[str, Any]] = []
    for url, body in base:  # first pass: everything, a few through the Pakistani vantage point too
        seen.append({"url": url, "body": body, "vantage": None, "replayed": False})
        if rng.random() < 0.05:
            seen.append({"url": url, "body": body, "vantage": "pk", "replayed": False})
    again = []
    for index, page in enumerate(list(seen)):
        roll = rng.random()
        if roll < 0.15:  # unchanged: last_seen moves
            again.append({**page, "replayed": False})
        elif roll < 0.25:  # a resumed crawl replays the capture already stored
            again.append({**page, "replayed": True, "capture_of": index})
        elif roll < 0.32:  # changed content: the old analysis is superseded
            again.append({**page, "body": _changed(page["body"], f"changed {index}")})
    rng.shuffle(again)
    pages_all = seen + again
    batches: list[list[dict[str, Any]]] = []
    at = 0
    while at < len(pages_all):
        size = rng.choice((1, 3, 8, 20, 20, 32, 50))
        batch = pages_all[at : at + size]
        if batch and rng.random() < 0.2:  # the same URL twice in one batch, the second changed
            batch = [*batch, {**batch[0], "body": _changed(batch[0]["body"], "twice"), "replayed": False}]
        batches.append(batch)
        at += size
    return batches


def _changed(body: bytes, words: str) -> bytes:
    """``body`` with one more paragraph (text after ``</html>`` would not change what detection reads)."""
    return body.replace(b"</body>", f"<p>{words}</p></body>".encode(), 1)


def _capture_row(number: int, url: str, vantage: str | None) -> dict[str, Any]:
    return {
        "seq": number, "url": url, "final_url": url, "status": 200, "content_type": "text/html",
        "fetched_at": datetime(2026, 1, 1, tzinfo=UTC), "warc_file": "x.warc.gz", "warc_offset": number,
        "warc_length": 1, "record_id": f"<urn:uuid:{number}>", "body_sha256": "0" * 64,
        "vantage": vantage, "prev_chain_hash": f"{number - 1:064d}", "chain_hash": f"{number:064d}",
    }  # fmt: skip


def store(database_url: str, sprawl: int, seed: int, demo: bool = True) -> float:
    """Store the sequence; returns the CPU milliseconds ``ObservationWriter.store`` took a page."""
    from sqlalchemy import insert

    import scanner.findings.store as findings_store
    from scanner.config import Config
    from scanner.observation import ObservationWriter, rules_for
    from scanner.store.db import make_engine, session_scope, upgrade
    from scanner.store.models import Capture, Run

    clock = {"now": datetime(2026, 1, 1, tzinfo=UTC)}

    def tick() -> datetime:
        clock["now"] += timedelta(seconds=1)
        return clock["now"]

    findings_store.utcnow = tick  # type: ignore[assignment]  # stored page times comparable between runs
    engine = make_engine(database_url)
    upgrade(engine)
    rules = rules_for(Config(str(REPO / "config" / "demo")))
    with session_scope(engine) as session:
        run = Run(kind="crawl", name="identity")
        session.add(run)
        session.flush()
        run_id = run.id
    writer = ObservationWriter(engine, rules, run_id)
    captures: list[int] = []
    rng = random.Random(seed + 1)
    spent = {"store": 0.0, "pages": 0}
    for batch in sequence(sprawl, seed, demo):
        observations = []
        for page in batch:
            if page.get("replayed"):
                capture_id = captures[page["capture_of"]]
            else:
                with session_scope(engine) as session:
                    row = _capture_row(len(captures) + 1, page["url"], page["vantage"])
                    capture_id = session.execute(
                        insert(Capture).values(row).returning(Capture.id)  # type: ignore[arg-type]
                    ).scalar_one()
                captures.append(capture_id)
            observations.append(
                rules.observe(
                    page["url"],
                    "text/html; charset=utf-8",
                    page["body"],
                    capture_id=capture_id,
                    replayed=bool(page.get("replayed")),
                    vantage=page["vantage"],
                )  # fmt: skip
            )
        started = time.process_time()
        writer.store(observations)
        spent["store"] += time.process_time() - started
        spent["pages"] += len(observations)
        if rng.random() < 0.1:
            writer.refresh()
    writer.refresh()
    return 1000 * spent["store"] / max(spent["pages"], 1)


def dump(database_url: str) -> dict[str, list[dict[str, Any]]]:
    from sqlalchemy import DateTime, MetaData, select

    from scanner.store.db import make_engine

    engine = make_engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for name, table in sorted(meta.tables.items()):
            if name == "alembic_version":
                continue
            keep = [
                c for c in table.columns
                if not isinstance(c.type, DateTime) or (name, c.name) in KEPT_TIMES
            ]  # fmt: skip
            order = [c for c in table.primary_key.columns] or keep
            rows = connection.execute(select(*keep).order_by(*order)).mappings()
            out[name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, sort_keys=True, default=str))
    return value


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    problems = []
    for table in sorted(set(old) | set(new)):
        a, b = old.get(table, []), new.get(table, [])
        if len(a) != len(b):
            problems.append(f"{table}: {len(a)} rows before, {len(b)} now")
        for x, y in zip(a, b, strict=False):
            if x != y:
                diff = {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)}
                problems.append(f"{table}: row {x.get('id')} differs: {str(diff)[:400]}")
                break
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="write the dump (JSON) here")
    parser.add_argument("--compare", help="a dump to compare with; exit 1 if they differ")
    parser.add_argument("--sprawl", type=int, default=400)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--no-demo", action="store_true", help="sprawl.test only (one platform, as bench/crawl.py)"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pkscan-identity-") as tmp:
        url = options.database_url or f"sqlite:///{tmp}/identity.sqlite3"
        per_page = store(url, options.sprawl, options.seed, not options.no_demo)
        tables = dump(url)
    Path(options.out).write_text(json.dumps(tables, sort_keys=True, default=str))
    print(", ".join(f"{name} {len(rows)}" for name, rows in tables.items() if rows))
    print(f"storing               {per_page:.3f} ms CPU a page (ObservationWriter.store, batches as above)")
    if options.compare:
        problems = compare(json.loads(Path(options.compare).read_text()), tables)
        print("\n".join(problems) if problems else "identical")
        sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
