"""Every log record of the test session, kept, and scanned at its end for the secrets the suite
made: sign-in and OAuth tokens (they travel in query strings), API keys, webhook secrets, bearer
credentials and the key passphrase. A leak fails the run (see ``pytest_sessionfinish`` in
conftest.py). Under pytest-xdist each worker scans its own records and hands the controller a
``LogScan``, which judges them all together."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SHAPES", "Leak", "LogScan", "SuiteLog", "find_secrets"]

#: Secrets by their shape (a redacted one reads ``[redacted]`` where the secret was).
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("API key", re.compile(r"\bmc_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")),
    ("webhook secret", re.compile(r"\bwhsec_[A-Za-z0-9+/]{43}=")),
    ("token in a URL", re.compile(r"(?i)[?&;](?:token|code|access_token|refresh_token|client_secret|code_verifier)=[A-Za-z0-9_~.%-]{16,}")),
    ("bearer credential", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}")),
)


@dataclass(frozen=True)
class Leak:
    kind: str
    line: str


def find_secrets(lines: Iterable[str], literals: Iterable[str] = ()) -> list[Leak]:
    """The lines that hold a secret of a known shape, or one of ``literals`` (passwords)."""
    words = [w for w in literals if w]
    leaks = []
    for line in lines:
        for kind, shape in SHAPES:
            if shape.search(line):
                leaks.append(Leak(kind, line))
        leaks += [Leak("password or passphrase", line) for word in words if word in line]
    return leaks


class SuiteLog(logging.Handler):
    """Keeps every record that reaches the root logger, as its handlers would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.by_logger: dict[str, int] = {}
        self._exceptions = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: keep what it holds
            text = f"{record.msg} {record.args}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exceptions.formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        self.lines.append(f"{record.name} {record.levelname}: {text}")
        self.by_logger[record.name] = self.by_logger.get(record.name, 0) + 1


@dataclass
class LogScan:
    """What one or more test processes' logs held: records by logger, and the leaks found (each
    line cut to 300 characters). Plain data, so an xdist worker can send it to the controller."""

    by_logger: dict[str, int] = field(default_factory=dict)
    leaks: list[Leak] = field(default_factory=list)

    @classmethod
    def of(cls, log: SuiteLog, literals: Iterable[str] = ()) -> LogScan:
        leaks = [Leak(leak.kind, leak.line[:300]) for leak in find_secrets(log.lines, literals)]
        return cls(dict(log.by_logger), leaks)

    @property
    def records(self) -> int:
        return sum(self.by_logger.values())

    def add(self, other: LogScan) -> None:
        for name, count in other.by_logger.items():
            self.by_logger[name] = self.by_logger.get(name, 0) + count
        self.leaks += other.leaks

    def to_wire(self) -> dict[str, Any]:
        return {"by_logger": self.by_logger, "leaks": [[leak.kind, leak.line] for leak in self.leaks]}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> LogScan:
        return cls(dict(wire["by_logger"]), [Leak(kind, line) for kind, line in wire["leaks"]])
