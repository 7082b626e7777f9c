"""Pollers, discovery sources and analyze through a vantage point: real subprocesses, the simulated
web and a Pakistani exit that wants credentials, all on loopback."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
from pathlib import Path

import yaml
from sqlmodel import Session, select

from scanner.store.models import Capture
from scanner.world import PakistanExit, World
from tests.crawl.conftest import WARCIO, crawl_env, engine_for, make_config, scanner
from tests.vantage.conftest import EXIT_PASSWORD, EXIT_USER


def with_vantage(config_dir: Path, points: dict, **where: str) -> None:
    """Add ``vantage_points`` to the test config, and ``vantage:`` to the named poller/source/site."""
    path = config_dir / "targets.yaml"
    targets = yaml.safe_load(path.read_text())
    targets["vantage_points"] = points
    for kind, name in where.items():
        for entry in targets[kind]:
            if entry["name"] == name:
                entry["vantage"] = next(iter(points))
    path.write_text(yaml.safe_dump(targets))


def only_the_vantage_proxy(world: World, config_dir: Path, data_dir: Path) -> dict[str, str]:
    """No HTTP_PROXY: the .test hosts are reachable through the vantage point's proxy only."""
    env = crawl_env(world, config_dir, data_dir)
    for name in ("HTTP_PROXY", "http_proxy", "PKSCAN_DEMO_PK_EXIT"):
        env.pop(name)
    return env


def warc_text(data_dir: Path) -> bytes:
    return b"".join(gzip.decompress(p.read_bytes()) for p in sorted((data_dir / "warc").glob("*.warc.gz")))


def assert_recorded_through_pk(data_dir: Path, env: dict[str, str]) -> list[Capture]:
    with Session(engine_for(data_dir)) as session:
        captures = list(session.exec(select(Capture)))
    assert captures and {c.vantage for c in captures} == {"pk"}
    assert all(c.remote_ip is None for c in captures)  # the peer was the proxy, not the site
    records = warc_text(data_dir)
    assert records.count(b"WARC-Pkscan-Vantage: pk\r\n") == 2 * len(captures)  # response and request
    assert b"WARC-Pkscan-Vantage-Country: PK\r\n" in records
    secret = base64.b64encode(f"{EXIT_USER}:{EXIT_PASSWORD}".encode())
    assert EXIT_PASSWORD.encode() not in records and secret not in records
    assert b"proxy-authorization" not in records.lower()
    verified = scanner(env, "evidence", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    for path in (data_dir / "warc").glob("*.warc.gz"):
        checked = subprocess.run([WARCIO, "check", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    return captures


def through_the_exit(tmp_path: Path, world: World, paid_exit: PakistanExit, **where: str) -> dict[str, str]:
    """A test config whose ``where`` (pollers=NAME, sources=NAME) fetch through the paid exit only."""
    config_dir = make_config(tmp_path / "config")
    with_vantage(config_dir, {"pk": {"proxy": paid_exit.url, "country": "PK"}}, **where)
    return only_the_vantage_proxy(world, config_dir, tmp_path / "data")


def test_a_poller_polls_through_its_vantage_point(tmp_path, world, paid_exit: PakistanExit):
    env = through_the_exit(tmp_path, world, paid_exit, pollers="binance-p2p")

    polled = scanner(env, "poll", "binance-p2p", "--json")

    assert polled.returncode == 0, polled.stdout + polled.stderr
    assert json.loads(polled.stdout)["ads"] > 0
    assert paid_exit.server.requests > 0 and paid_exit.server.authorised == paid_exit.server.requests
    assert_recorded_through_pk(tmp_path / "data", env)


def test_a_discovery_source_reads_through_its_vantage_point(tmp_path, world, paid_exit: PakistanExit):
    env = through_the_exit(tmp_path, world, paid_exit, sources="coingecko")

    discovered = scanner(env, "discover", "coingecko", "--json")

    assert discovered.returncode == 0, discovered.stdout + discovered.stderr
    assert "pkrx.test" in json.loads(discovered.stdout.splitlines()[0])["new"]
    assert paid_exit.server.authorised == paid_exit.server.requests > 0
    assert_recorded_through_pk(tmp_path / "data", env)


def test_a_vantage_proxy_outside_proxy_networks_is_refused_naming_it(tmp_path, world):
    # 127.0.0.9 is loopback and not in the demo's egress.proxy_networks (127.0.0.1/32 only)
    config_dir = make_config(tmp_path / "config")
    far = {"far": {"proxy": "http://user:hunter2@127.0.0.9:3128", "country": "PK"}}
    with_vantage(config_dir, far, pollers="binance-p2p", sites="chenab-exchange")
    env = crawl_env(world, config_dir, tmp_path / "data")

    polled = scanner(env, "poll", "binance-p2p")
    crawled = scanner(env, "crawl", "site", "--target", "chenab-exchange")

    output = polled.stdout + polled.stderr
    assert polled.returncode == 1, output
    assert (
        "vantage point 'far': proxy at loopback address 127.0.0.9 (allow it in settings.yaml egress: "
        "proxy_networks)" in " ".join(output.split())
    )
    assert "hunter2" not in output
    assert crawled.returncode == 1  # nothing could be fetched
    runs = [json.loads(line) for line in scanner(env, "runs", "--json").stdout.splitlines()]
    crawl = next(r for r in runs if r["kind"] == "crawl")
    assert "egress refused: loopback" in crawl["error_summary"]
    assert "hunter2" not in crawl["error_summary"] + crawled.stdout + crawled.stderr
    with Session(engine_for(tmp_path / "data")) as session:
        assert not session.exec(select(Capture)).first()  # nothing reached the network


def test_names_through_a_vantage_proxy_are_still_checked(tmp_path, world):
    config_dir = make_config(tmp_path / "config")
    with_vantage(config_dir, {"pk": {"proxy": world.pk_exit_url, "country": "PK"}})
    env = crawl_env(world, config_dir, tmp_path / "data")

    analyzed = scanner(
        env, "analyze", "--json", "--vantage", "pk", "http://localhost/", "http://2130706433/",
        "http://chenab-exchange.test/",
    )  # fmt: skip

    lines = [json.loads(line) for line in analyzed.stdout.splitlines()]
    assert analyzed.returncode == 1
    assert "is this machine" in lines[0]["error"] and "loopback address 127.0.0.1" in lines[1]["error"]
    assert lines[2]["verdict"] == "flag"  # seen from Pakistan: USDT/PKR, JazzCash, Urdu
    direct = scanner(env, "analyze", "--json", "http://chenab-exchange.test/")
    assert json.loads(direct.stdout)["verdict"] == "clear"  # the same page from elsewhere: US dollars
