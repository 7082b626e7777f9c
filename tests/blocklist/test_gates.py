"""Publication gates: a change that fails one is held (banks see nothing) until an admin releases it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from blocklist import gates, holds, keys
from blocklist.publish import ReleaseError, current_version, release
from scanner.config import Config, ConfigError
from scanner.store.db import open_store, session_scope
from scanner.store.models import AuditEvent, BlocklistEntry, Capture, PublicationHold, User
from tests.conftest import REPO_ROOT

from .conftest import Seeder


def gate_config(tmp_path: Path, database_url: str, gates_yaml: str | None = None) -> Config:
    config_dir = tmp_path / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "settings.yaml").write_text("feed:\n  requests_per_minute: 1000\n")
    (config_dir / "licensed.yaml").write_text(
        "platforms:\n  - {name: Licensed Exchange, domains: [licensed-exchange.test], status: licensed}\n"
    )
    if gates_yaml is not None:
        (config_dir / "gates.yaml").write_text(gates_yaml)
    env = {"SCANNER_DATA_DIR": str(tmp_path / "data"), "SCANNER_DATABASE_URL": database_url}
    return Config(config_dir, env=env)


def add_users(engine) -> None:
    with session_scope(engine) as session:
        session.add(User(username="amina", password_hash="x", role="officer"))
        session.add(User(username="root", password_hash="x", role="admin"))


def listed(engine) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(BlocklistEntry.value).where(BlocklistEntry.removed_at.is_(None))).all()
    return sorted(rows)


def damage_capture(engine, config: Config, platform_key: str) -> None:
    """Flip one stored byte of the platform's capture: its WARC record no longer verifies."""
    with Session(engine) as session:
        capture = session.exec(select(Capture).where(Capture.url == f"https://{platform_key}/")).one()
    path = config.data_dir / capture.warc_file
    data = bytearray(path.read_bytes())
    data[capture.warc_offset + capture.warc_length // 2] ^= 0xFF
    path.write_bytes(bytes(data))


SHARE = "change:\n  max_share: 0.2\n  min_count: 2\n"


def _valid_name(seed: Seeder, engine, config) -> None:
    seed.platform("bad-alias.test", domains=("=1+2.bad-alias.test",))


def _never_block(seed: Seeder, engine, config) -> None:
    seed.platform("pay.jazzcash.com.pk")


def _register(seed: Seeder, engine, config) -> None:
    seed.platform("app.licensed-exchange.test")  # under a domain of the licensed register


def _no_capture(seed: Seeder, engine, config) -> None:
    seed.platform("no-evidence.test", capture=False)


def _damaged_capture(seed: Seeder, engine, config) -> None:
    seed.platform("damaged.test")
    damage_capture(engine, config, "damaged.test")


def _share(seed: Seeder, engine, config) -> None:
    for n in range(3):  # 3 adds to 4 listed: more than 20% and more than 2
        seed.platform(f"wave{n}.test")


GATE_CASES = {
    "valid-name": (_valid_name, "'=1+2.bad-alias.test'"),
    "never-block": (_never_block, "pay.jazzcash.com.pk"),
    "never-block-register": (_register, "as licensed-exchange.test"),
    "verified-capture": (_no_capture, "no-evidence.test"),
    "verified-capture-damaged": (_damaged_capture, "damaged.test"),
    "change-share": (_share, "3 adds of 4 listed entries (75%)"),
}


@pytest.mark.parametrize("case", list(GATE_CASES))
def test_each_gate_holds_the_version_until_an_admin_releases_it(tmp_path, database_url, case):
    config = gate_config(tmp_path, database_url, SHARE)
    engine = open_store(config)
    add_users(engine)
    seed = Seeder(engine, config)
    for n in range(4):
        seed.platform(f"listed{n}.test")
    assert seed.sync() == 1  # a first publication of 4 is not held by the share gate (min_count 2)
    before = listed(engine)

    make, shown = GATE_CASES[case]
    make(seed, engine, config)
    assert seed.sync() is None and seed.sync() is None
    gate = case.removesuffix("-register").removesuffix("-damaged")
    with Session(engine) as session:
        held = holds.open_hold(session)
        assert held is not None and current_version(session) == 1
        assert [f["gate"] for f in held.failures] == [gate]
        assert shown in "\n".join(holds.describe(held))
        # audited once, though sync ran twice
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == holds.HELD_ACTION)).all()) == 1
    assert listed(engine) == before  # banks see nothing of a held change

    with session_scope(engine) as session, pytest.raises(ReleaseError, match="'amina' is not an admin"):
        release(session, config, "amina", "looks fine to me")
    with session_scope(engine) as session, pytest.raises(ReleaseError, match="a reason is required"):
        release(session, config, "root", "  ")
    with session_scope(engine) as session:
        publication = release(session, config, "root", "checked by hand, INC-42", held.id)
        assert publication.version == 2
    with Session(engine) as session:
        closed = session.get(PublicationHold, held.id)
        event = session.exec(select(AuditEvent).where(AuditEvent.action == holds.RELEASED_ACTION)).one()
    assert (closed.status, closed.released_by, closed.version) == ("released", "root", 2)
    assert event.actor == "root" and event.subject == f"publication-hold:{held.id}"
    assert event.detail["reason"] == "checked by hand, INC-42" and event.detail["gates"] == [gate]
    if gate == "valid-name":
        assert "=1+2.bad-alias.test" not in listed(engine)  # a release never publishes an invalid name
        seed.platform("later.test")
        assert seed.sync() == 3  # the acknowledged refusal holds nothing more
    else:
        assert len(listed(engine)) > len(before)
        assert seed.sync() is None  # nothing pending, nothing held
    with Session(engine) as session:
        assert holds.open_hold(session) is None


def test_a_bank_polling_since_gets_the_released_change_in_order(engine, config, seed, server):
    add_users(engine)
    seed.platform("alpha.test")
    assert seed.sync() == 1
    with Session(engine) as session:
        _, raw = keys.create(session, "Meezan Bank")
        session.commit()
    base, auth = server(), {"Authorization": f"Bearer {raw}"}
    seed.platform("secp.gov.pk")  # on the shipped never-block list
    seed.platform("beta.test")
    assert seed.sync() is None
    held = httpx.get(f"{base}/feed/v1/blocklist.json", params={"since": 1}, headers=auth).json()
    assert held["version"] == 1 and held["entries"] == []
    with session_scope(engine) as session:
        release(session, config, "root", "SECP asked us to list its phishing copy test")
    delta = httpx.get(f"{base}/feed/v1/blocklist.json", params={"since": 1}, headers=auth).json()
    assert delta["version"] == 2 and sorted(e["value"] for e in delta["entries"]) == ["beta.test", "secp.gov.pk"]


def test_a_release_must_match_the_change_the_admin_reviewed(engine, config, seed):
    add_users(engine)
    seed.platform("alpha.test")
    seed.sync()
    seed.platform("hbl.com")
    seed.sync()
    with Session(engine) as session:
        first = holds.open_hold(session)
    seed.platform("www.google.com")  # the held change grows a new never-block entry
    seed.sync()
    with session_scope(engine) as session, pytest.raises(ReleaseError, match=f"hold {first.id} is no longer"):
        release(session, config, "root", "reviewed", first.id)
    with Session(engine) as session:
        second = holds.open_hold(session)
        assert session.get(PublicationHold, first.id).status == "superseded"
    assert "www.google.com" in "\n".join(holds.describe(second)) and current_version_of(engine) == 1


def current_version_of(engine) -> int:
    with Session(engine) as session:
        return current_version(session)


def test_a_hold_goes_away_when_the_change_passes_again(engine, config, seed):
    seed.platform("alpha.test")
    seed.sync()
    _, finding = seed.platform("nayapay.com")
    assert seed.sync() is None
    seed.set_status(finding, "revoked", "revoke", "wallet, not an exchange")
    seed.platform("beta.test")
    assert seed.sync() == 2
    with Session(engine) as session:
        assert holds.open_hold(session) is None
        assert [h.status for h in holds.recent(session)] == ["superseded"]
    assert listed(engine) == ["alpha.test", "beta.test"]


def test_the_shipped_never_block_list(tmp_path):
    shipped = Config(REPO_ROOT / "config", env={"SCANNER_DATA_DIR": str(tmp_path)})
    settings = gates.load_settings(shipped)
    protected = gates.protected_domains(shipped, settings)
    required = {"gov.pk", "secp.gov.pk", "sbp.org.pk", "jazzcash.com.pk", "easypaisa.com.pk", "hbl.com",
                "google.com", "t.me", "play.google.com", "apps.apple.com"}  # fmt: skip
    assert required <= protected
    # an NOC is not a licence: the register's NOC holders may be listed (licensed ones: the gate tests)
    assert not {"binance.com", "htx.com"} & protected
    # a config dir without gates.yaml (tests, an old deployment) gets the shipped list, never none
    bare = tmp_path / "bare"
    bare.mkdir()
    assert gates.load_settings(Config(bare, env={})) == settings


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("never_block:\n  domains: [gov.pk, 'https://sbp.org.pk/']\n", "never_block.domains: [1]: 'https://sbp.org.pk/'"),
        ("never_block:\n  domain: [gov.pk]\n", "never_block.domain: unknown key"),
        ("change:\n  max_share: 1.5\n", "change.max_share: Input should be less than or equal to 1"),
    ],
)
def test_a_bad_gates_config_names_file_and_key(tmp_path, text, message):
    config = gate_config(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", text)
    with pytest.raises(ConfigError) as error:
        gates.load_settings(config)
    assert "gates.yaml: " + message in str(error.value)


def test_cli_shows_the_hold_and_only_an_admin_releases_it(engine, config, seed, monkeypatch):
    from typer.testing import CliRunner

    from scanner.cli.main import app

    monkeypatch.setenv("SCANNER_CONFIG_DIR", str(config.dir))
    monkeypatch.setenv("SCANNER_DATA_DIR", str(config.data_dir))
    monkeypatch.delenv("SCANNER_DATABASE_URL", raising=False)

    def scanner(*args: str):
        return CliRunner().invoke(app, list(args))

    add_users(engine)
    seed.platform("alpha.test")
    seed.sync()
    seed.platform("easypaisa.com.pk")
    published = scanner("feed", "publish")
    assert published.exit_code == 0 and "no change published; the feed stays at version 1" in published.stdout
    assert "never-block" in published.stdout and "easypaisa.com.pk" in published.stdout
    assert "on the never-block list as easypaisa.com.pk" in scanner("feed", "held").stdout
    unconfirmed = scanner("feed", "release", "--by", "root", "--reason", "ok")
    assert unconfirmed.exit_code == 2 and "--override" in unconfirmed.stderr
    officer = scanner("feed", "release", "--override", "--by", "amina", "--reason", "ok")
    assert officer.exit_code == 1 and "'amina' is not an admin" in officer.stderr
    released = scanner("feed", "release", "--override", "--by", "root", "--reason", "wallet clone, see INC-7")
    assert released.exit_code == 0 and "released: published version 2: 1 added" in released.stdout
    assert scanner("feed", "held").stdout.strip() == "nothing is held"
    assert "easypaisa.com.pk" in listed(engine)


def test_review_ui_shows_the_hold_and_only_an_admin_releases_it(tmp_path, database_url):
    from scanner.web.app import create_app
    from tests.web.reviewkit import csrf_from, login, password_hash

    from .conftest import serve

    config = gate_config(tmp_path, database_url)
    engine = open_store(config)
    with session_scope(engine) as session:
        session.add(User(username="alice", password_hash=password_hash(), role="officer"))
        session.add(User(username="root", password_hash=password_hash(), role="admin"))
    seed = Seeder(engine, config)
    seed.platform("alpha.test")
    seed.sync()
    seed.platform("ghost.test", capture=False)
    seed.sync()
    with Session(engine) as session:
        hold_id = holds.open_hold(session).id
    server = serve(create_app(config))
    base = next(server)
    try:
        with httpx.Client(base_url=base, follow_redirects=False) as officer:
            csrf = login(officer, "alice")
            page = officer.get("/review/publication")
            assert page.status_code == 200 and "verified-capture" in page.text and "ghost.test" in page.text
            assert "Release and publish" not in page.text  # no form for an officer
            refused = officer.post("/review/publication/release", data={"hold_id": hold_id, "reason": "x", "csrf_token": csrf})
            assert refused.status_code == 403
        with httpx.Client(base_url=base, follow_redirects=False) as admin:
            csrf = login(admin, "root")
            page = admin.get("/review/publication")
            assert "Release and publish" in page.text
            no_csrf = admin.post("/review/publication/release", data={"hold_id": hold_id, "reason": "ok"})
            assert no_csrf.status_code == 403 and listed(engine) == ["alpha.test"]
            done = admin.post(
                "/review/publication/release",
                data={"hold_id": hold_id, "reason": "capture re-taken offline, INC-9", "csrf_token": csrf_from(page.text)},
            )
            assert done.status_code == 303 and done.headers["location"] == "/review/publication?released=2"
            after = admin.get(done.headers["location"]).text
            assert "Nothing is held." in after and "capture re-taken offline, INC-9" in after
    finally:
        next(server, None)
    assert listed(engine) == ["alpha.test", "ghost.test"]
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == holds.RELEASED_ACTION)).one()
    assert (event.actor, event.detail["reason"], event.detail["version"]) == ("root", "capture re-taken offline, INC-9", 2)
