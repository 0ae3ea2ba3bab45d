"""No secret in any log line: API keys, bearer tokens, webhook secrets, the tokens that travel in
query strings (a sign-in link's ``token``, OAuth ``code``...), and the operator's passwords and
passphrases are replaced with ``[redacted]`` in every record, the access log's included.

:class:`RedactSecrets` is a :class:`logging.Filter`; :func:`install_redaction` runs it on every
record the process creates (through the record factory, so it holds for every logger and every
handler, uvicorn's access log and handlers added later, such as a test's capture, alike).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "RedactSecrets", "install_redaction", "redact"]

REDACTED = "[redacted]"

_QUERY_SECRETS = (
    "token", "code", "access_token", "refresh_token", "id_token", "client_secret", "code_verifier",
    "password", "passphrase", "secret", "api_key", "key",
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # mc_<prefix>_<secret>: the prefix names the client and stays, to make the line useful.
    (re.compile(r"\b(mc_[0-9a-f]{16}_)[A-Za-z0-9_-]{20,}"), r"\1" + REDACTED),
    # A database URL's password: scheme://user:password@host
    (re.compile(r"(://[^:/\s@]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]{8,}"), "whsec_" + REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + REDACTED),
    (re.compile(r"(?i)([?&;](?:" + "|".join(_QUERY_SECRETS) + r")=)[^&#\s\"'<>]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(\"(?:client_secret|password|passphrase|secret|access_token|refresh_token|api_key)\"\s*:\s*\")[^\"]+"), r"\1" + REDACTED),
)
#: Every shape above holds one of these words: text with none (most lines) skips the patterns.
_MAYBE_SECRET = re.compile(r"(?i)mc_|://|whsec_|bearer|basic|=|secret|pass|token|api_key")
_EXCEPTIONS = logging.Formatter()


class RedactSecrets(logging.Filter):
    """Rewrites a record's message, arguments and traceback with the secrets redacted (and lets
    every record through). ``literals``: secrets of no known shape (a passphrase)."""

    def __init__(self, literals: Iterable[str] = ()) -> None:
        super().__init__()
        self.literals: set[str] = {s for s in literals if len(s) >= 4}

    def redact(self, text: str) -> str:
        for literal in self.literals:
            if literal in text:
                text = text.replace(literal, REDACTED)
        if not _MAYBE_SECRET.search(text):
            return text
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def _arg(self, value: Any) -> Any:
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        text = value if isinstance(value, str) else str(value)
        redacted = self.redact(text)
        return value if redacted == text else redacted

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._arg(a) for a in record.args)  # same length: uvicorn unpacks them
        elif isinstance(record.args, Mapping):
            record.args = {k: self._arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redact(_EXCEPTIONS.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_ACTIVE: RedactSecrets | None = None
_SHAPES_ONLY = RedactSecrets()


def redact(text: str) -> str:
    """``text`` with its secrets redacted: by the installed redaction (its literals included) or,
    before one is installed, by the secrets' shapes. For text that reaches a log line other than
    through a record's message (a JSON line's extra fields)."""
    return (_ACTIVE or _SHAPES_ONLY).redact(text)


def install_redaction(literals: Iterable[str] = ()) -> RedactSecrets:
    """Redact every record this process creates from now on (once per process; later calls add
    their ``literals``)."""
    global _ACTIVE
    if _ACTIVE is not None:
        _ACTIVE.literals.update(s for s in literals if len(s) >= 4)
        return _ACTIVE
    redactor = _ACTIVE = RedactSecrets(literals)
    make_record = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        redactor.filter(record)
        return record

    logging.setLogRecordFactory(redacted_record)
    return redactor
