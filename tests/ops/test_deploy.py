"""Deployment artefacts: the scrapyd egg carries the settings entry point and readable package data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"


@pytest.mark.slow
def test_scrapyd_deploy_builds_a_working_egg(tmp_path: Path) -> None:
    tool = shutil.which("scrapyd-deploy", path=str(Path(sys.executable).parent))
    assert tool, "scrapyd-deploy comes with the test extras (scrapyd-client)"
    project = tmp_path / "project"
    project.mkdir()
    for name in ("scanner", "spiders", "blocklist"):
        # the egg compiles detection's C extensions itself (setup.py), as a deploy from a clone does
        ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.c")
        shutil.copytree(REPO_ROOT / name, project / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "scrapy.cfg", "README.md"):
        shutil.copy(REPO_ROOT / name, project / name)
    egg = tmp_path / "pkscan.egg"
    build = subprocess.run(
        [tool, "--build-egg", str(egg)], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert build.returncode == 0, build.stderr
    with zipfile.ZipFile(egg) as archive:
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
        names = set(archive.namelist())
    assert "[scrapy]\nsettings = scanner.settings" in entry_points, "scrapyd finds the settings through this"
    assert "scanner/world/catalogue.yaml" in names and "scanner/store/migrations/env.py" in names

    # scrapyd runs the spiders from the zipped egg: code and package data must load from inside it.
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import importlib.resources as r, scanner.settings as s;"
        "assert s.__file__.startswith(sys.argv[1]), s.__file__;"
        "print(s.BOT_NAME, len(r.files('scanner.world').joinpath('catalogue.yaml').read_text()) > 0);"
        # a crawl opens the store, which runs the migrations: Alembic must find them inside the zip
        "import sqlalchemy, scanner.store.db as db; e = db.make_engine('sqlite:///' + sys.argv[2]);"
        "assert db.__file__.startswith(sys.argv[1]), db.__file__; db.upgrade(e);"
        "print('capture' in sqlalchemy.inspect(e).get_table_names());"
        # the spiders detect: the compiled extensions load from the egg too
        "import scanner.detection as d; assert d.__file__.startswith(sys.argv[1]), d.__file__;"
        "page = d.Document('https://x.test/', 'text/html', b'<p title=\"Buy USDT\">hello</p>');"
        "print(page.extract().parts == ['Buy USDT', 'hello'])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe, str(egg), str(tmp_path / "egg.sqlite3")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["pkscan", "True", "True", "True"]


def test_systemd_units_run_the_documented_commands() -> None:
    scheduler = (DEPLOY / "pkscan-scheduler.service").read_text()
    web = (DEPLOY / "pkscan-web.service").read_text()
    for unit, command in ((scheduler, "scanner schedule"), (web, "scanner serve")):
        assert f"ExecStart=/opt/pkscan/.venv/bin/{command}" in unit
        for line in (
            "User=pkscan",
            "EnvironmentFile=/etc/pkscan/pkscan.env",
            "Restart=on-failure",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/pkscan",
        ):
            assert line in unit.splitlines(), (command, line)
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile and "-c constraints.txt" in dockerfile
    assert "\nUSER pkscan\n" in dockerfile
