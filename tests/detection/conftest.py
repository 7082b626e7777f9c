"""Fixtures for the detection tests: the real lexicons, a test register and the labelled corpus."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.config import Register, parse_model, read_yaml
from scanner.detection import Analysis, Document, Lexicons, analyze, load_lexicons

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CORPUS = HERE / "corpus"
LEXICON_DIR = REPO / "config" / "lexicons"
REGISTER_FILE = HERE / "register.yaml"

CONTENT_TYPES = {".html": "text/html", ".json": "application/json", ".txt": "text/plain"}


@lru_cache(maxsize=1)
def load_labels() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((CORPUS / "labels.yaml").read_text(encoding="utf-8"))["documents"]


def corpus_document(name: str, url: str | None = None) -> Document:
    path = CORPUS / name
    label = load_labels().get(name, {})
    return Document(url or label.get("url", f"https://corpus.test/{name}"), CONTENT_TYPES[path.suffix], path.read_bytes())


def analyze_text(url: str, text: str, lexicons: Lexicons, register: Register) -> Analysis:
    """`analyze` of a written plain-text document served from ``url``."""
    return analyze(Document(url, "text/plain", text.encode()), lexicons, register)


def analyze_json(url: str, data: object, lexicons: Lexicons, register: Register) -> Analysis:
    """`analyze` of a JSON document served from ``url`` (an app's locale file, an API response)."""
    body = json.dumps(data, ensure_ascii=False).encode()
    return analyze(Document(url, "application/json", body), lexicons, register)


def context_cues(result: Analysis) -> set[str]:
    """The context cues (news, education, wallet, ...) detection found against a crypto service."""
    return {s.value for s in result.signals if s.kind == "non_service_context"}


@pytest.fixture(scope="session")
def lexicons() -> Lexicons:
    return load_lexicons(LEXICON_DIR)


@pytest.fixture(scope="session")
def register() -> Register:
    return parse_model(Register, read_yaml(REGISTER_FILE), REGISTER_FILE)


@pytest.fixture(scope="session")
def labels() -> dict[str, dict[str, Any]]:
    return load_labels()
