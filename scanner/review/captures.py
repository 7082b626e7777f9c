"""Reading a captured page back from its WARC record, and showing it as text with snippets marked.

Officers look at what the scanner saw without our origin ever rendering the captured HTML: the text
view is plain text split into segments (the template escapes every one and wraps the snippet hits
in <mark>), and the raw view is served separately under a sandbox CSP.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from re import _casefix  # type: ignore[attr-defined]  # Python 3.11+

import ahocorasick_rs

from scanner.detection.document import decode_body
from scanner.evidence.decoding import DecodedTooLarge, decoded_blocks
from scanner.markup import parseable
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
        raise CaptureUnavailable(
            f"capture {capture.id}: cannot read {capture.warc_file} ({exc.strerror})"
        ) from None
    if len(chunk) != capture.warc_length:
        raise CaptureUnavailable(
            f"capture {capture.id}: {capture.warc_file} is shorter than the recorded range"
        )
    return chunk


# What `capture_body` inflates at most when not told (config's http.max_response_bytes default).
DEFAULT_MAX_BODY = 10 * 1024 * 1024


def capture_body(data_dir: Path, capture: Capture, limit: int = DEFAULT_MAX_BODY) -> bytes:
    """The decoded response body of ``capture`` (transfer and content encodings undone); for a page
    rendered in Chromium (a RENDER capture) the rendered DOM of its ``conversion`` record.

    At most ``limit`` bytes (give ``http.max_response_bytes``, what the scanner itself decodes):
    a site can answer with a gzip bomb, recorded as received (evidence first), whose 10 MB inflate to
    gigabytes; it is refused (`CaptureUnavailable`) rather than inflated into the server's memory.
    """
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
            try:
                # Decoded a block at a time against the limit (warcio inflated brotli a whole input block
                # at once: 1.6 KB of it held 1 GiB before any limit applied).
                return b"".join(decoded_blocks(record.raw_stream, record.http_headers, limit))
            except DecodedTooLarge as exc:  # the body, or a stack of codings in all
                raise CaptureUnavailable(
                    f"capture {capture.id}: {exc} (max_response_bytes); the raw record is in the WARC"
                ) from None
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        raise CaptureUnavailable(f"capture {capture.id}: WARC record unreadable ({exc})") from None
    raise CaptureUnavailable(
        f"capture {capture.id}: response record {capture.record_id} not found in its range"
    )


def body_text(body: bytes, content_type: str) -> str:
    """Readable text of a captured body: HTML reduced to its visible text, other types decoded.

    Decoded exactly as detection decoded it (`decode_body`): the snippets officers are shown are
    found in this text, and a page whose charset lies reads here as the scanner read it.
    """
    text, _ = decode_body(body, content_type)
    if "html" in (content_type or "").lower() or text.lstrip()[:15].lower().startswith(
        ("<!doctype", "<html")
    ):
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(parseable(text), "lxml")
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


class _Folding(dict[int, str]):
    """``str.translate`` table: a character as ``re.IGNORECASE`` compares it (its simple lower case,
    the least of the characters re counts as its other cases, "ſ" as "s"), whitespace as a space.
    Filled as characters are met: one table per text, so a page of many scripts holds no memory."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char.isspace():
            folded = " "
        else:
            lower = _sre.unicode_tolower(code)
            folded = chr(min((lower, *_casefix._EXTRA_CASES.get(lower, ()))))
        self[code] = folded
        return folded


_SPACE_RUNS = re.compile(" {2,}")


def _words(needle: str) -> list[str]:
    return needle.replace("…", " ").replace("...", " ").split()


def highlight(text: str, needles: Iterable[str]) -> list[Segment]:
    """Split ``text`` into plain and marked segments; needles match case- and whitespace-insensitively.

    The leftmost needle, the longest there, then on after it: what one IGNORECASE regex of the
    needles' words joined by ``\\s+`` finds, longest first. That regex tried every needle at every
    position, each reading as far as the text agreed with it: a page of "a a a …" and signals whose
    snippets are "a a a … JazzCash" took minutes to show. One automaton over the folded text instead
    (whitespace runs read as one space, as ``\\s+`` reads them).
    """
    folding = _Folding()
    keys = {" ".join(words).translate(folding) for words in map(_words, needles) if words}
    if not keys:
        return [Segment(text, False)] if text else []
    folded = text.translate(folding)
    # Where a run of whitespace was collapsed: (position in the collapsed text, in the text).
    moved: list[tuple[int, int]] = [(0, 0)]
    if "  " in folded:
        parts, done, removed = [], 0, 0
        for run in _SPACE_RUNS.finditer(folded):
            parts.append(folded[done : run.start() + 1])
            done = run.end()
            removed += run.end() - run.start() - 1
            moved.append((done - removed, done))
        parts.append(folded[done:])
        folded = "".join(parts)
    starts = [at for at, _ in moved]

    def original(at: int) -> int:
        collapsed, place = moved[bisect.bisect_right(starts, at) - 1]
        return place + at - collapsed

    automaton = ahocorasick_rs.AhoCorasick(
        sorted(keys),
        matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
        implementation=ahocorasick_rs.Implementation.ContiguousNFA,  # built in half the time of a DFA
    )
    segments: list[Segment] = []
    position = 0
    for _, start, end in automaton.find_matches_as_indexes(folded):
        start, end = original(start), original(end - 1) + 1  # a match starts and ends with a word
        if start > position:
            segments.append(Segment(text[position:start], False))
        segments.append(Segment(text[start:end], True))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:], False))
    return segments
