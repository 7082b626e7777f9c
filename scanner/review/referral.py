"""Referral packet: what an enforcement referral needs, from one confirmed finding, in one zip.

Contents:
  referral.html        one printable page: the platform and its domains, the judgements, the
                       officers' decisions (who, when, why), the screenshots of its rendered pages,
                       the signals grouped by kind and value with the captures they came from, and
                       every capture's URL, time and hashes
  screenshots/         the PNG screenshot of each rendered capture (checked against the chain)
  referral.pdf         the same page printed by headless Chromium (when a Chromium binary is
                       configured or found; otherwise print referral.html from any browser)
  evidence-bundle.zip  the finding's evidence bundle (`scanner.review.bundle`), verifiable offline
  SHA256SUMS           the digests of the three files above (``sha256sum -c SHA256SUMS``)

The page is rendered from the bundle's own manifest, so the packet cannot say anything the
verifiable evidence does not. Everything on it came from the web we crawl and is escaped
(autoescape; no script, and a CSP that forbids loading anything), so the page is inert in any
browser and in the Chromium that prints it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import Session

from scanner.config import Config
from scanner.evidence.verify import read_screenshot
from scanner.filemodes import private_dir, private_file
from scanner.printable import page_value
from scanner.review.bundle import (
    MANIFEST_NAME,
    build_bundle,
    finding_captures,
    read_member,
    sha256_file,
    verify_bundle,
)
from scanner.store.models import Finding

HTML_NAME = "referral.html"
PDF_NAME = "referral.pdf"
BUNDLE_NAME = "evidence-bundle.zip"
SUMS_NAME = "SHA256SUMS"
MAX_SUMS = 1 << 20  # SHA256SUMS lists three files
REFERABLE_STATUSES = ("published", "pending-approval")  # confirmed by an officer
PRINT_TIMEOUT_SECONDS = 90
MAX_SCREENSHOTS = 8  # on the page (all of them are files in the packet)
# The page's tables, bounded so that Chromium prints it within PRINT_TIMEOUT_SECONDS whatever the site
# made of its evidence (its pages over every run, their URLs' length, its signals' values): 4,000
# captures of 2,000-character URLs were 8.9 MB of HTML that did not print in 90 s. The bundle's
# manifest.json lists everything.
MAX_CAPTURE_ROWS = 500  # those the signal rows cite (up to half), then the newest
MAX_SIGNAL_ROWS = 300  # the strongest
MAX_URL_SHOWN = 300  # characters of a URL
_BROWSERS = ("chromium", "chromium-browser", "google-chrome")

_templates = Environment(
    loader=PackageLoader("scanner.review", "templates"),
    autoescape=select_autoescape(default=True),
    finalize=page_value,  # bidi controls and invisible characters written out
)


def shortened(url: str) -> str:
    """A URL cut at `MAX_URL_SHOWN` characters, saying how long it is."""
    if len(url) <= MAX_URL_SHOWN:
        return url
    return f"{url[:MAX_URL_SHOWN]}… ({len(url)} characters; whole in manifest.json)"


_templates.filters["shortened"] = shortened


class ReferralError(Exception):
    """The packet cannot be made; str() says why."""


def chromium_binary(config: Config) -> str | None:
    """The configured browser for printing, else the first Chromium on PATH, else None."""
    configured = config.settings.review.referral_browser
    if configured:
        if not Path(configured).is_file():
            raise ReferralError(f"review.referral_browser: {configured} is not a file")
        return configured
    return next((found for name in _BROWSERS if (found := shutil.which(name))), None)


def grouped_signals(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Signals by kind and value, strongest first, each with the captures it was seen in."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    captures: defaultdict[tuple[str, str], set[int]] = defaultdict(set)
    for signal in manifest["signals"]:
        key = (signal["kind"], signal["value"])
        group = groups.setdefault(key, {"kind": key[0], "value": key[1], "weight": signal["weight"],
                                        "snippet": signal["snippet"], "count": 0})  # fmt: skip
        group["count"] += 1
        group["weight"] = max(group["weight"], signal["weight"])
        if signal["capture_id"] is not None:
            captures[key].add(signal["capture_id"])
    for key, group in groups.items():
        group["captures"] = sorted(captures[key])
    return sorted(groups.values(), key=lambda g: (-g["weight"], g["kind"], g["value"]))


@dataclass(frozen=True)
class Screenshot:
    capture_id: int
    url: str
    fetched_at: str
    sha256: str
    png: bytes

    @property
    def name(self) -> str:
        return f"screenshots/capture-{self.capture_id}.png"

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def screenshots(session: Session, config: Config, finding: Finding) -> list[Screenshot]:
    """The screenshots of the finding's rendered captures, each verified against the hash chain."""
    shots = []
    for capture in finding_captures(session, finding):
        if not capture.screenshot_sha256:
            continue
        try:
            png = read_screenshot(config.data_dir, capture)
        except (OSError, ValueError) as exc:
            raise ReferralError(f"capture {capture.id}: its screenshot cannot be used: {exc}") from None
        if png is not None:
            shots.append(Screenshot(capture.id or 0, capture.url, capture.fetched_at.isoformat(),
                                    capture.screenshot_sha256, png))  # fmt: skip
    return shots


def shown_captures(manifest: dict[str, Any], signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The capture rows of the page: all of them, or `MAX_CAPTURE_ROWS` of them: those the shown signal
    rows cite (up to half; the strongest signals' first), then the newest; in the manifest's order."""
    captures = manifest["captures"]
    if len(captures) <= MAX_CAPTURE_ROWS:
        return captures
    position = {capture["id"]: i for i, capture in enumerate(captures)}
    kept: set[int] = set()
    for group in signals:
        for capture_id in group["captures"][:12]:  # as many as a signal row names
            if capture_id in position and len(kept) < MAX_CAPTURE_ROWS // 2:
                kept.add(position[capture_id])
    for i in range(len(captures) - 1, -1, -1):
        if len(kept) >= MAX_CAPTURE_ROWS:
            break
        kept.add(i)
    return [captures[i] for i in sorted(kept)]


def render_html(manifest: dict[str, Any], bundle_sha256: str, shots: list[Screenshot] | None = None) -> str:
    shots = shots or []
    groups = grouped_signals(manifest)
    signals = groups[:MAX_SIGNAL_ROWS]
    return _templates.get_template("referral.html").render(
        manifest=manifest, signals=signals, signal_total=len(groups), captures=shown_captures(manifest, signals),
        bundle_name=BUNDLE_NAME, bundle_sha256=bundle_sha256, screenshots=shots[:MAX_SCREENSHOTS],
        screenshot_count=len(shots),
    )  # fmt: skip


def print_pdf(browser: str, html: Path, pdf: Path) -> None:
    """Headless Chromium prints ``html`` to ``pdf``; raises ReferralError naming what went wrong."""
    with tempfile.TemporaryDirectory(prefix="pkscan-print-") as profile:
        command = [browser, "--headless", "--disable-gpu", "--no-first-run", "--no-pdf-header-footer",
                   f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", html.resolve().as_uri()]  # fmt: skip
        if os.geteuid() == 0:  # Chromium's sandbox refuses root; the page is ours, inert and escaped
            command.insert(1, "--no-sandbox")
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise ReferralError(
                f"printing the referral with {browser} took over {PRINT_TIMEOUT_SECONDS} s"
            ) from None
        except OSError as exc:
            raise ReferralError(f"cannot run {browser}: {exc.strerror or exc}") from None
    if result.returncode != 0 or not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF"):
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ReferralError(f"{browser} did not print the referral (exit {result.returncode}): {tail}")


def build_referral(session: Session, config: Config, finding_id: int, out_path: Path) -> Path:
    """Write the referral packet of a confirmed finding to ``out_path`` (a .zip), atomically."""
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise LookupError(f"finding {finding_id} not found")
    if finding.status not in REFERABLE_STATUSES:
        raise ReferralError(
            f"finding {finding_id} is {finding.status}: a referral is made from a confirmed finding "
            f"({' or '.join(REFERABLE_STATUSES)})"
        )
    browser = chromium_binary(config)
    out_path = Path(out_path)
    private_dir(out_path.parent)
    with tempfile.TemporaryDirectory(prefix="pkscan-referral-", dir=out_path.parent) as scratch:
        work = Path(scratch)
        bundle = build_bundle(session, config, finding_id, work / BUNDLE_NAME)
        with zipfile.ZipFile(bundle) as archive:
            manifest = json.loads(archive.read(MANIFEST_NAME))
        shots = screenshots(session, config, finding)
        files = {BUNDLE_NAME: bundle, HTML_NAME: work / HTML_NAME}
        for shot in shots:
            files[shot.name] = work / shot.name
            private_dir(files[shot.name].parent)
            files[shot.name].write_bytes(shot.png)
        files[HTML_NAME].write_text(render_html(manifest, sha256_file(bundle), shots), encoding="utf-8")
        if browser is not None:
            print_pdf(browser, files[HTML_NAME], work / PDF_NAME)
            files[PDF_NAME] = work / PDF_NAME
        sums = "".join(f"{sha256_file(path)}  {name}\n" for name, path in sorted(files.items()))
        packet = private_file(work / "packet.zip")
        with zipfile.ZipFile(packet, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, path in sorted(files.items()):
                archive.write(path, name, compress_type=zipfile.ZIP_STORED if name == BUNDLE_NAME else None)
            archive.writestr(SUMS_NAME, sums)
        packet.replace(out_path)
    return out_path


def is_referral(path: Path | str) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return BUNDLE_NAME in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _member_sha256(archive: zipfile.ZipFile, name: str) -> str:
    """A member's SHA-256, inflated a block at a time (a member may inflate to gigabytes: read whole,
    a forged packet's 1 MB of deflated zeros held 1 GiB)."""
    digest = hashlib.sha256()
    with archive.open(name) as member:
        while block := member.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify_referral(path: Path | str) -> list[str]:
    """Every problem found in a referral packet (digests, then the evidence bundle inside); [] if none."""
    try:
        return _verify_referral(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
        return [f"{Path(path).name}: not a readable zip file ({type(exc).__name__}: {exc})"]


def _verify_referral(path: Path | str) -> list[str]:
    problems: list[str] = []
    with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory(prefix="pkscan-verify-") as scratch:
        names = set(archive.namelist())
        if SUMS_NAME not in names:
            return [f"{SUMS_NAME} is missing: not a pkscan referral packet"]
        sums = read_member(archive, SUMS_NAME, MAX_SUMS)
        if sums is None:
            return [f"{SUMS_NAME}: larger than {MAX_SUMS} bytes once inflated: not a list pkscan writes"]
        listed: dict[str, str] = {}
        for line in sums.decode("utf-8", "replace").splitlines():
            digest, _, name = line.partition("  ")
            listed[name] = digest
        for name in sorted(names - {SUMS_NAME} - set(listed)):
            problems.append(f"{name}: in the packet but not in {SUMS_NAME}")
        for name, digest in sorted(listed.items()):
            if name not in names:
                problems.append(f"{name}: listed in {SUMS_NAME} but missing")
            elif _member_sha256(archive, name) != digest:
                problems.append(f"{name}: SHA-256 differs from {SUMS_NAME}")
        if BUNDLE_NAME in names:
            # Copied a block at a time; it inflates to the size its zip entry declares (zipfile reads no
            # further), which must fit where it is checked.
            needed, free = archive.getinfo(BUNDLE_NAME).file_size, shutil.disk_usage(scratch).free
            if needed > free:
                return [
                    *problems,
                    f"{BUNDLE_NAME}: inflates to {needed} bytes, more than the {free} free to check it",
                ]
            inner = Path(scratch) / BUNDLE_NAME
            with archive.open(BUNDLE_NAME) as member, inner.open("wb") as out:
                shutil.copyfileobj(member, out, 1 << 20)
            problems += [f"{BUNDLE_NAME}: {problem}" for problem in verify_bundle(inner)]
    return problems
