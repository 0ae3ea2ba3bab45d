"""Shared fixtures: the vectors' key and loader, and a fixed clock; and the session's log,
scanned for secrets when the session ends (every worker's, under pytest-xdist)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from microcred.credentials import DocumentLoader, Ed25519KeyPair

from .log_scan import LogScan, SuiteLog

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


#: Every record logged while the suite runs (the microcred loggers at DEBUG, the service's access
#: lines and uvicorn's access log of the live-server tests included).
SUITE_LOG = SuiteLog()
#: Passwords and passphrases the suite uses, which have no shape to find them by.
SUITE_PASSWORDS = ("test-passphrase-not-secret",)
#: A full run that kept fewer records than this kept none it should have.
_FEWEST_RECORDS = 20


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(SUITE_LOG)
    logging.getLogger("microcred").setLevel(logging.DEBUG)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Under pytest-xdist (on the controller): keep each finished worker's log scan, judged with
    the others when the session ends (a worker's own failing exit status never reaches the run's)."""
    wire = getattr(node, "workeroutput", {}).get("log_scan")
    if wire is not None:
        _WORKER_SCANS.append(LogScan.from_wire(wire))


#: The log scans of the finished xdist workers (empty without xdist).
_WORKER_SCANS: list[LogScan] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any log line of the whole suite holds a secret."""
    logging.getLogger().removeHandler(SUITE_LOG)
    scan = LogScan.of(SUITE_LOG, SUITE_PASSWORDS)
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller judges every worker's records together
        workeroutput["log_scan"] = scan.to_wire()
        return
    for worker in _WORKER_SCANS:
        scan.add(worker)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    problems = [f"{leak.kind}: {leak.line}" for leak in scan.leaks]
    access_lines = scan.by_logger.get("microcred.access", 0) + scan.by_logger.get("uvicorn.access", 0)
    if session.testscollected >= 300 and (scan.records < _FEWEST_RECORDS or not access_lines):
        problems.append(f"the log scan kept only {scan.records} records ({scan.by_logger}): is its handler still on the root logger?")
    if problems:
        if reporter is not None:
            reporter.write_line(f"log scan: {len(problems)} problem(s) in {scan.records} log records:", red=True)
            for problem in problems[:50]:
                reporter.write_line("  " + problem, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter is not None:
        reporter.write_line(f"log scan: no secret in {scan.records} log records")
