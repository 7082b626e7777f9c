"""Render benchmark: crawling the simulated web's JavaScript-only exchange (khybercoin.test) with
rendering (``render: always``: every page through headless Chromium) against the same crawl with
``render: never``, in the same run.

Run: ``.venv/bin/python bench/render.py [--repeat 2]``. Each crawl is a ``scanner crawl site --target
khyber-coin`` subprocess (start-up included) with its own data dir, against one simulated web served
from this process. Prints seconds per crawl, pages, rendered pages, seconds per rendered page and the
ratio rendered/plain. Needs Debian's Chromium (/usr/bin/chromium); without it the bench says so and
exits 0. Tests never time anything; this is where rendering's cost is measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SCANNER = str(Path(sys.executable).with_name("scanner"))


def _config(directory: Path, mode: str) -> Path:
    demo = REPO / "config" / "demo"
    directory.mkdir(parents=True)
    settings = yaml.safe_load((demo / "settings.yaml").read_text())
    settings["inherit"] = str(REPO / "config")
    settings.pop("data_dir", None)
    (directory / "settings.yaml").write_text(yaml.safe_dump(settings))
    targets = yaml.safe_load((demo / "targets.yaml").read_text())
    targets["sites"] = [dict(s, render=mode) for s in targets["sites"] if s["name"] == "khyber-coin"]
    (directory / "targets.yaml").write_text(yaml.safe_dump(targets))
    for name in ("licensed.yaml", "schedules.yaml"):
        shutil.copy(demo / name, directory / name)
    return directory


def crawl(proxy: str, base: Path, mode: str) -> tuple[float, int, int]:
    """(seconds, pages captured, pages rendered) of one crawl."""
    from sqlmodel import Session, select

    from scanner.store.db import make_engine
    from scanner.store.models import Capture

    data = base / f"data-{mode}"
    env = {k: v for k, v in os.environ.items() if k not in ("SCANNER_DATABASE_URL", "REDIS_URL")}
    env.update(SCANNER_CONFIG_DIR=str(_config(base / f"config-{mode}", mode)), SCANNER_DATA_DIR=str(data),
               HTTP_PROXY=proxy, http_proxy=proxy, SCANNER_RUN_TRIGGER="bench")  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run([SCANNER, "crawl", "site", "--target", "khyber-coin"], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"crawl ({mode}) failed: {result.stderr[-2000:]}")
    engine = make_engine(f"sqlite:///{data / 'pkscan.sqlite3'}")
    with Session(engine) as session:
        methods = list(session.exec(select(Capture.method)))
    engine.dispose()
    return seconds, sum(m != "RENDER" for m in methods), sum(m == "RENDER" for m in methods)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="crawls of each kind (median reported)")
    args = parser.parse_args()
    if not os.access("/usr/bin/chromium", os.X_OK):
        print("render bench: skipped, no Chromium at /usr/bin/chromium (apt-get install chromium)")
        return
    from scanner.world import start_world

    runs: dict[str, list[tuple[float, int, int]]] = {"never": [], "always": []}
    with start_world() as world, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for mode in runs:
                runs[mode].append(crawl(world.proxy_url, Path(tmp) / f"{mode}-{i}", mode))
    plain, rendered = (statistics.median(r[0] for r in runs[m]) for m in ("never", "always"))
    pages, renders = runs["always"][0][1], runs["always"][0][2]
    print(f"render bench (khybercoin.test, median of {args.repeat}):")
    print(f"  render: never   {plain:6.2f} s  ({runs['never'][0][1]} exchanges captured)")
    print(
        f"  render: always  {rendered:6.2f} s  ({pages} exchanges captured incl. sub-requests, {renders} pages rendered)"
    )
    if renders:
        print(
            f"  {max(rendered - plain, 0) / renders:.2f} s more per rendered page; ratio rendered/plain {rendered / plain:.2f}x"
        )


if __name__ == "__main__":
    main()
