"""Lexicon loading: validation errors name file and key; rules are data; regexes stay linear."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from scanner.config import Config, ConfigError, Register
from scanner.detection import Document, analyze, load_lexicons
from scanner.detection.lexicon import check_linear

from .conftest import LEXICON_DIR, REPO


@pytest.fixture
def lexdir(tmp_path: Path) -> Path:
    target = tmp_path / "lexicons"
    shutil.copytree(LEXICON_DIR, target)
    return target


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_demo_config_inherits_the_lexicons() -> None:
    demo = Config(REPO / "config" / "demo", env={})
    assert demo.lexicon_dir.resolve() == LEXICON_DIR.resolve()
    assert load_lexicons(demo.lexicon_dir).rails.wallets


def test_bad_variant_names_file_and_key(lexdir: Path) -> None:
    _edit(lexdir / "rails.yaml", lambda d: d["wallets"][2].__setitem__("variants", ["U Paisa", "  "]))
    with pytest.raises(ConfigError) as err:
        load_lexicons(lexdir)
    message = str(err.value)
    assert "rails.yaml: wallets[2].variants: empty spelling" in message


def test_unknown_key_is_rejected(lexdir: Path) -> None:
    _edit(lexdir / "crypto.yaml", lambda d: d.__setitem__("colour", "blue"))
    with pytest.raises(ConfigError, match=r"crypto\.yaml: colour: unknown key"):
        load_lexicons(lexdir)


def test_wrong_type_and_missing_key(lexdir: Path) -> None:
    _edit(lexdir / "scoring.yaml", lambda d: d["crypto"].__setitem__("threshold", "high"))
    with pytest.raises(ConfigError, match=r"scoring\.yaml: crypto\.threshold: "):
        load_lexicons(lexdir)
    shutil.copy(LEXICON_DIR / "scoring.yaml", lexdir / "scoring.yaml")
    _edit(lexdir / "pakistan.yaml", lambda d: d.pop("script"))
    with pytest.raises(ConfigError, match=r"pakistan\.yaml: script: required key is missing"):
        load_lexicons(lexdir)


def test_unknown_signal_kind(lexdir: Path) -> None:
    _edit(lexdir / "pakistan.yaml", lambda d: d["patterns"][0].__setitem__("kind", "vibes"))
    with pytest.raises(ConfigError, match=r"pakistan\.yaml: patterns\[0\]\.kind: "):
        load_lexicons(lexdir)


def test_catastrophic_regex_is_a_config_error(lexdir: Path) -> None:
    _edit(lexdir / "pakistan.yaml", lambda d: d["patterns"][1].__setitem__("pattern", r"(a+)+$"))
    with pytest.raises(
        ConfigError, match=r"pakistan\.yaml: patterns\[1\]\.pattern: nested unbounded repetition"
    ):
        load_lexicons(lexdir)


def test_a_rule_quadratic_in_a_run_is_a_config_error(lexdir: Path) -> None:
    """An amount rule as one might write it: tried at every digit of a page of "1111…", each try read
    the run to its end (3.6 s for 20,000 digits, 53 s for 80,000, hours for a megabyte)."""
    _edit(lexdir / "pakistan.yaml", lambda d: d["patterns"][1].__setitem__("pattern", r"\d[\d,]*\s?PKR"))
    with pytest.raises(
        ConfigError, match=r"pakistan\.yaml: patterns\[1\]\.pattern: an unbounded repeat that"
    ):
        load_lexicons(lexdir)


def test_invalid_regex_and_yaml(lexdir: Path) -> None:
    _edit(lexdir / "context.yaml", lambda d: d["patterns"][0].__setitem__("pattern", "(unclosed"))
    with pytest.raises(ConfigError, match=r"context\.yaml: patterns\[0\]\.pattern: invalid regex"):
        load_lexicons(lexdir)
    (lexdir / "context.yaml").write_text("categories: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"context\.yaml: line \d+, column \d+: invalid YAML"):
        load_lexicons(lexdir)


def test_missing_file_and_directory(lexdir: Path, tmp_path: Path) -> None:
    (lexdir / "rails.yaml").unlink()
    with pytest.raises(ConfigError, match=r"rails\.yaml: file not found"):
        load_lexicons(lexdir)
    with pytest.raises(ConfigError, match="lexicon directory not found"):
        load_lexicons(tmp_path / "nowhere")


def test_new_wallet_brand_is_a_yaml_change(lexdir: Path, register: Register) -> None:
    page = (
        b"<p>Buy USDT with ZarPay wallet. P2P trading, zero fees. Deposit via ZarPay and start trading.</p>"
    )
    doc = lambda: Document("https://zarpay-coins.test/", "text/html", page)  # noqa: E731
    before = analyze(doc(), load_lexicons(lexdir), register)
    assert "ZarPay" not in {s.value for s in before.signals}
    _edit(
        lexdir / "rails.yaml",
        lambda d: d["wallets"].append({"name": "ZarPay", "variants": ["Zar Pay"], "weight": 1.2}),
    )
    after = analyze(doc(), load_lexicons(lexdir), register)
    assert "ZarPay" in {s.value for s in after.signals if s.kind == "payment_rail"}
    assert after.verdict == "flag"


@pytest.mark.parametrize("pattern", [r"(a+)+", r"(?:\s*x)*", r"(a|aa)+b+(c*)*", r"(\w+\s?)+$", r"(a)\1"])
def test_check_linear_rejects(pattern: str) -> None:
    with pytest.raises(ValueError):
        check_linear(pattern)


# Each try is linear, but tried at every start of a run each reads the run to its end: quadratic.
@pytest.mark.parametrize(
    "pattern",
    [
        r"\d+x",  # "1111…"
        r"\s+[|:-]\s+",  # a title padded with spaces
        r"\b(?:[a-z0-9]{1,9}\.)+[a-z]{2,}\b",  # "a.a.a.a…"
        r"\d(?=\d*x)",  # a look-ahead reads its run at every start, whatever follows
        r"a[^x]*y",  # the first character is one the repeat reads too
        r"(?:ab)+c",
        r"\d+\b",  # \b can fail ("1111a")
        r"(?i)K[a-z]*x",  # "k" under IGNORECASE
        r"(?m)^\s*x",  # every line start of a run of newlines
    ],
)
def test_check_linear_rejects_repeats_read_from_every_start(pattern: str) -> None:
    with pytest.raises(ValueError, match="from every start"):
        check_linear(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"PKR\s?\d[\d,]{0,15}",
        r"(?:,\d{2,3})+",
        r"\bPK\s?\d{2}(?:\s?\d{4}){4}\b",
        r"KR\s*\d+x",  # a start inside the run never gets past "K"
        r"x[^x]*y",
        r"<[^<>]*>",
        r"K[a-z]*x",
        r"a|\d+",  # a try that reaches the repeat succeeds; the scan goes on after the match
        r"[P\d](?:(?<=P)KR\s?\d+(?![\d,]*/)|\s?PKR)",
        r"^\s*<",  # only the start of the text gets past ^
        r"(?<!\s)\s++[|:-]\s++",  # only the first space of a run gets past the look-behind
        r"charset\s*+=\s*+[\"']?\s*+(\w+)",  # possessive: nothing to share back
        r"x\d*-\d*b",
    ],
)
def test_check_linear_accepts(pattern: str) -> None:
    check_linear(pattern)


# One try backtracks through every way two repeats can share a run: quadratic in the run.
@pytest.mark.parametrize("pattern", [r"charset\s*=\s*[\"']?\s*(\w+)", r"a\d+-?\d+b", r"x\s*\s*y"])
def test_check_linear_rejects_adjacent_repeats_of_a_common_character(pattern: str) -> None:
    with pytest.raises(ValueError, match="one after the other"):
        check_linear(pattern)


def test_every_compiled_lexicon_regex_is_linear(lexicons) -> None:  # type: ignore[no-untyped-def]
    """The rules as compiled with their flags, and the vocabulary and pair regexes built from terms."""
    compiled = [r.regex for r in (*lexicons.rules, *lexicons.url_rules)]
    compiled += [lexicons.vocab_lower, lexicons.vocab_ci, lexicons.vocab_cs, lexicons.pair_regex]
    for regex in compiled:
        check_linear(regex.pattern, regex.flags & re.IGNORECASE)


def test_adversarial_text_is_linear(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # Near-misses for every rule family: long digit runs, separators, almost-pairs, almost-IBANs.
    unit = (
        "PKR 1,2,3,4,5,6,7,8,9 Rs. 0000000 +92 3 PK12 ABCD 1234 1234 BTCPK USDT/ PKRPKR easy-paisa- جاز ٹٹٹ "
    )
    small = (unit * 2000).encode()
    big = (unit * 8000).encode()
    t0 = time.process_time()  # CPU time: other load on the machine must not fail the test
    analyze(Document("https://adv.test/", "text/plain", small), lexicons, register)
    t1 = time.process_time()
    analyze(Document("https://adv.test/", "text/plain", big), lexicons, register)
    t2 = time.process_time()
    assert (t2 - t1) < 8 * (t1 - t0) + 0.5, "4x the input must not cost much more than 4x the time"
    assert (t2 - t1) < 5.0


def test_fitted_kind_weights_are_data(lexdir: Path, register: Register) -> None:
    """scoring.yaml's per-kind multipliers decide a judgement and show in its explanation."""
    page = b"<p>Buy USDT with JazzCash. P2P trading, zero fees.</p>"
    doc = lambda: Document("https://khokhar-otc.test/", "text/html", page)  # noqa: E731
    _edit(lexdir / "scoring.yaml", lambda d: d["pakistan"]["weights"].update(payment_rail=2.0))
    before = analyze(doc(), load_lexicons(lexdir), register)
    assert before.targets_pakistan and before.verdict == "flag"
    _edit(lexdir / "scoring.yaml", lambda d: d["pakistan"]["weights"].update(payment_rail=0.5))
    after = analyze(doc(), load_lexicons(lexdir), register)
    assert not after.targets_pakistan and after.verdict == "clear"
    assert any(
        "payment_rail 'JazzCash' (weight 0.45 = 0.9 x 0.5)" in r
        for r in after.explanation["targets_pakistan"]
    )
    _edit(lexdir / "scoring.yaml", lambda d: d["pakistan"]["weights"].update(payment_rail=-1))
    with pytest.raises(ConfigError, match=r"scoring.yaml: pakistan.weights.payment_rail"):
        load_lexicons(lexdir)
