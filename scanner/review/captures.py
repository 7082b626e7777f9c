"""Reading a captured page back from its WARC record, and showing it as text with snippets marked.

Officers look at what the scanner saw without our origin ever rendering the captured HTML: the text
view is plain text split into segments (the template escapes every one and wraps the snippet hits
in <mark>), and the raw view is served separately under a sandbox CSP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scanner.detection.document import decode_body
from scanner.store.models import Capture

MAX_TEXT_CHARS = 400_000


class CaptureUnavailable(Exception):
    """The capture's WARC record cannot be read (file missing, range wrong)."""


def read_record_bytes(data_dir: Path, capture: Capture) -> bytes:
    path = Path(data_dir) / capture.warc_file
    try:
        with path.open("rb") as handle:
            handle.seek(capture.warc_offset)
            chunk = handle.read(capture.warc_length)
    except OSError as exc:
        raise CaptureUnavailable(f"capture {capture.id}: cannot read {capture.warc_file} ({exc.strerror})") from None
    if len(chunk) != capture.warc_length:
        raise CaptureUnavailable(f"capture {capture.id}: {capture.warc_file} is shorter than the recorded range")
    return chunk


def capture_body(data_dir: Path, capture: Capture) -> bytes:
    """The decoded response body of ``capture`` (transfer and content encodings undone); for a page
    rendered in Chromium (a RENDER capture) the rendered DOM of its ``conversion`` record."""
    import io

    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    chunk = read_record_bytes(data_dir, capture)
    try:
        for record in ArchiveIterator(io.BytesIO(chunk)):
            if record.rec_type not in ("response", "conversion"):
                continue
            record_id = record.rec_headers.get_header("WARC-Record-ID")
            if capture.record_id and record_id != capture.record_id:
                continue
            return record.content_stream().read()
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        raise CaptureUnavailable(f"capture {capture.id}: WARC record unreadable ({exc})") from None
    raise CaptureUnavailable(f"capture {capture.id}: response record {capture.record_id} not found in its range")


def body_text(body: bytes, content_type: str) -> str:
    """Readable text of a captured body: HTML reduced to its visible text, other types decoded.

    Decoded exactly as detection decoded it (`decode_body`): the snippets officers are shown are
    found in this text, and a page whose charset lies reads here as the scanner read it.
    """
    text, _ = decode_body(body, content_type)
    if "html" in (content_type or "").lower() or text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(text, "lxml")
        # Script and style text is not what a visitor reads; it is still in the raw view and the WARC.
        for tag in soup(["script", "style", "noscript", "template"]):
            tag.decompose()
        text = soup.get_text("\n")
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)[:MAX_TEXT_CHARS]


@dataclass(frozen=True)
class Segment:
    text: str
    mark: bool


def _pattern(needle: str) -> str | None:
    words = needle.replace("…", " ").replace("...", " ").split()
    if not words:
        return None
    return r"\s+".join(re.escape(w) for w in words)


def highlight(text: str, needles: Iterable[str]) -> list[Segment]:
    """Split ``text`` into plain and marked segments; needles match case- and whitespace-insensitively."""
    patterns = sorted({p for p in (_pattern(n) for n in needles) if p}, key=len, reverse=True)
    if not patterns:
        return [Segment(text, False)] if text else []
    regex = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    segments: list[Segment] = []
    position = 0
    for match in regex.finditer(text):
        if match.start() == match.end():
            continue
        if match.start() > position:
            segments.append(Segment(text[position : match.start()], False))
        segments.append(Segment(match.group(0), True))
        position = match.end()
    if position < len(text):
        segments.append(Segment(text[position:], False))
    return segments
