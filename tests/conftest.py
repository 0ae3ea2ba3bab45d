"""Shared fixtures: the vectors' key and loader, and a fixed clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from microcred.credentials import DocumentLoader, Ed25519KeyPair

VECTORS = Path(__file__).parent / "vectors"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def load_vector(path: str) -> Any:
    return json.loads((VECTORS / path).read_text("utf-8"))


def read_vector(path: str) -> str:
    return (VECTORS / path).read_text("utf-8")


@pytest.fixture
def loader() -> DocumentLoader:
    return DocumentLoader()


@pytest.fixture
def w3c_loader() -> DocumentLoader:
    """The loader the W3C vectors need: the W3C examples context they use is bundled."""
    assert DocumentLoader().knows(EXAMPLES_V2)
    return DocumentLoader()


@pytest.fixture
def vector_key() -> Ed25519KeyPair:
    """The OB 3.0 vectors' key (RFC 8032 TEST 1 seed: test-only)."""
    return Ed25519KeyPair.from_seed(bytes.fromhex(load_vector("ob3-eddsa-rdfc-2022/keyPair.json")["seedHex"]))


@pytest.fixture
def ob3_unsigned() -> dict[str, Any]:
    return load_vector("ob3-eddsa-rdfc-2022/unsigned.json")


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
