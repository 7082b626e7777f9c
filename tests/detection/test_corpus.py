"""Per-document verdicts, judgements and key signals on the labelled corpus."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scanner.config import Register
from scanner.detection import Lexicons, analyze

from .conftest import CORPUS, corpus_document, load_labels

LABELS = load_labels()
CONTRACT_KEYS = ["source", "verdict", "score", "crypto_service", "targets_pakistan", "licensed", "platform", "signals"]


def test_corpus_is_complete() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.suffix in (".html", ".json", ".txt")}
    assert files == set(LABELS), "every corpus file has a label and every label a file"
    assert len(files) >= 50
    assert sum(1 for v in LABELS.values() if v["verdict"] == "flag") >= 20
    assert sum(1 for v in LABELS.values() if v["verdict"] == "clear") >= 25


@pytest.mark.parametrize("name", sorted(LABELS))
def test_document(name: str, lexicons: Lexicons, register: Register) -> None:
    label: dict[str, Any] = LABELS[name]
    result = analyze(corpus_document(name), lexicons, register)
    why = json.dumps(result.explanation, ensure_ascii=False, indent=1)
    assert result.verdict == label["verdict"], why
    assert result.crypto_service == label["crypto_service"], why
    assert result.targets_pakistan == label["targets_pakistan"], why
    assert result.licensed == label.get("licensed", False), why
    if "licence_status" in label:
        assert result.licence_status == label["licence_status"]
    kinds = {s.kind for s in result.signals}
    assert set(label.get("kinds", [])) <= kinds, why
    assert not set(label.get("absent", [])) & kinds, why
    rails = {s.value for s in result.signals if s.kind == "payment_rail"}
    assert set(label.get("rails", [])) <= rails
    for signal in result.signals:
        assert signal.snippet and len(signal.snippet) <= 200
        assert signal.locator
        assert signal.weight > 0
    assert 0.0 <= result.score <= 1.0
    assert set(result.explanation) >= {"crypto_service", "targets_pakistan", "licensed", "verdict"}


@pytest.mark.parametrize("name", sorted(LABELS))
def test_to_json_contract_and_determinism(name: str, lexicons: Lexicons, register: Register) -> None:
    first = analyze(corpus_document(name), lexicons, register).to_json()
    second = analyze(corpus_document(name), lexicons, register).to_json()
    assert first == second
    assert list(first)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert first["verdict"] in ("flag", "clear")
    for signal in first["signals"]:
        assert list(signal)[:5] == ["kind", "value", "snippet", "locator", "weight"]
    json.dumps(first)  # serialisable


def test_flags_outrank_clears(lexicons: Lexicons, register: Register) -> None:
    scores = {n: analyze(corpus_document(n), lexicons, register) for n in LABELS}
    flagged = [a.score for a in scores.values() if a.verdict == "flag"]
    licensed = [a.score for a in scores.values() if a.licensed]
    assert min(flagged) > 0.2
    assert max(licensed) < min(flagged)


def test_precision_recall(lexicons: Lexicons, register: Register) -> None:
    tp = fp = fn = 0
    for name, label in LABELS.items():
        got = analyze(corpus_document(name), lexicons, register).verdict == "flag"
        want = label["verdict"] == "flag"
        tp += got and want
        fp += got and not want
        fn += want and not got
    assert tp / (tp + fp) == 1.0
    assert tp / (tp + fn) == 1.0


def test_explanations_name_deciding_signals(lexicons: Lexicons, register: Register) -> None:
    result = analyze(corpus_document("p04_markets_pkr.html"), lexicons, register)
    crypto = "\n".join(result.explanation["crypto_service"])
    assert "trading_pair 'BTC/PKR'" in crypto
    pakistan = "\n".join(result.explanation["targets_pakistan"])
    assert "pkr_market 'BTC/PKR'" in pakistan
    news = analyze(corpus_document("n01_crypto_news_en.html"), lexicons, register)
    assert any(r.startswith("against: non_service_context") for r in news.explanation["crypto_service"])
    noc = analyze(corpus_document("p16_noc_holder_binance.html"), lexicons, register)
    assert "an NOC is not a licence" in " ".join(noc.explanation["licensed"])
    claim = analyze(corpus_document("p15_regulatory_claim.html"), lexicons, register)
    assert "register does not confirm a licence" in " ".join(claim.explanation["licensed"])
