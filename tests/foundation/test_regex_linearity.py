"""Regexes our code runs over what the investigated people wrote stay linear in it.

Each of these is tried at every position of hostile text (``search``, ``finditer``, ``sub``,
``split``): pages, titles, headers, script text, P2P API fields, warning-list cells, captured text.
`check_linear` refuses the shapes that cost super-linear time there, such as a repeat that a try from
every start of a run reads to its end (a title's separators took 20 s for a run of 64,000 spaces).
Patterns used only with ``match``/``fullmatch`` (one start) or driven by `scanner.textscan` are not
listed; nor are two with a back-reference, which `check_linear` refuses outright: the poller's
error excerpt (`scanner.pollers.session._TAG`, read over at most 8 KB: at most ~0.05 s) and inline
state assignments (`scanner.detection.document._STATE_ASSIGNMENT`: its only unbounded repeats are
whitespace after a literal; measured linear).
"""

from __future__ import annotations

import importlib
import re

import pytest

from scanner.detection.linearity import check_linear
from scanner.settings import PKSCAN_EVIDENCE_PATHS

SCANNED = [
    "scanner.discovery.leads:_DIGITS",
    "scanner.discovery.googleplay:_URDU",
    "scanner.discovery.telegram:_MENTION",
    "scanner.discovery.warning_list:_SITES.starts",
    "scanner.review.captures:_SPACE_RUNS",
    "scanner.pollers.rails:_NON_ALNUM",
    "scanner.detection.register:_NON_ALNUM",
    "scanner.detection.document:_META_CHARSET",
    "scanner.detection.document:_CT_CHARSET",
    "scanner.detection.document:_WS",
    "scanner.detection.document:_XML_DECL",
    "scanner.detection.document:_NEXT_PUSH",
    "scanner.detection.document:_JS_ESCAPE",
    "scanner.detection.signals:_WS",
    "scanner.detection.signals:_TOKEN",
    "scanner.detection.signals:_ASCII_RUNS",
    "scanner.detection.identity:_TITLE_SEPARATORS",
    "scanner.detection.identity:_HOSTLIKE_DOT",
    "scanner.detection.identity:_HOST_NAMES.starts",
    "scanner.detection.multipattern:FOLD_RISK",
    "scanner.detection.lexicon:_SEP_RE",
]


@pytest.mark.parametrize("where", SCANNED)
def test_a_regex_tried_at_every_position_of_hostile_text_is_linear(where: str) -> None:
    module, _, path = where.partition(":")
    regex = importlib.import_module(module)
    for name in path.split("."):
        regex = getattr(regex, name)
    check_linear(regex.pattern, regex.flags & (re.IGNORECASE | re.MULTILINE))


def test_the_evidence_paths_a_crawl_boosts_are_linear_in_a_url() -> None:
    # scanner.crawl.priority joins them into one alternation searched in every request's URL.
    check_linear("|".join(f"(?:{p})" for p in PKSCAN_EVIDENCE_PATHS), re.IGNORECASE)
