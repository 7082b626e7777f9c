"""Pages read as browsers read them, by the crawl (their links followed; Scrapy's meta-refresh check
does not raise) and by detection (judged on their text): a page naming a charset browsers ignore,
one whose offer and links come after </html>, one that nests 3,000 elements before them (libxml2
dropped both)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from scanner.store.models import Capture, PageAnalysis, Run

from .conftest import Hostile, crawl_site

# Python codecs no browser knows: a bytes codec (Scrapy's response.text raised LookupError), EBCDIC
# (every byte decodes: the page read as noise) and a codec that always fails (detection raised).
LABELS = ("zlib-header", "cp037-meta", "cp500-header", "undefined-meta")


def test_pages_browsers_show_whole_are_judged_whole_and_their_links_followed(
    hostile: Hostile, tmp_path: Path
) -> None:
    paths = [f"/charset/{label}" for label in LABELS] + ["/after-html", "/deep"]
    engine, _ = crawl_site(hostile, tmp_path, paths, max_depth=1)
    seeds = [hostile.url(path) for path in paths]
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        captures = {c.id: c.url for c in session.exec(select(Capture))}
        verdicts = {
            captures[a.capture_id]: a.verdict for a in session.exec(select(PageAnalysis)) if a.capture_id
        }
    for label, seed in zip((*LABELS, "after-html", "deep"), seeds, strict=True):
        assert verdicts.get(seed) == "flag", (label, verdicts.get(seed), run.error_summary)
        assert hostile.url(f"/clear?from={label}") in captures.values(), label
    assert "LookupError" not in run.error_summary and "UnicodeError" not in run.error_summary
