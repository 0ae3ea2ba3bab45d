"""No secret in any log line: the redaction every record goes through, and the scanner that
checks the whole suite's log for leaks (tested here with planted ones)."""

from __future__ import annotations

import logging

import pytest

from microcred.auth.api_keys import new_api_key
from microcred.logs import RedactSecrets, install_redaction
from microcred.tokens import new_token
from microcred.webhooks.signing import new_secret

from .conftest import SUITE_LOG, SUITE_PASSWORDS
from .log_scan import find_secrets

PASSPHRASE = SUITE_PASSWORDS[0]


def _planted() -> list[str]:
    token, (key, _), secret = new_token(), new_api_key(), new_secret()
    return [
        f'127.0.0.1:5555 - "GET /learners/sign-in/confirm?token={token} HTTP/1.1" 200',
        f"POST /oauth/authorize?client_id=a&code={new_token()}&state=x",
        f"rejected key {key}",
        f"Authorization: Bearer {new_token()}",
        f"endpoint created with secret {secret}",
        f"could not open the keys with passphrase {PASSPHRASE}",
    ]


class TestTheScanner:
    def test_finds_each_kind_of_planted_secret(self) -> None:
        planted = _planted()
        leaks = find_secrets([*planted, "GET /learners/sign-in/confirm?token=[redacted]", "mc_0123456789abcdef_[redacted]"], SUITE_PASSWORDS)
        assert sorted({leak.kind for leak in leaks}) == ["API key", "bearer credential", "password or passphrase", "token in a URL", "webhook secret"]
        assert {leak.line for leak in leaks} == set(planted)

    def test_the_suite_log_keeps_records_of_every_logger(self) -> None:
        before = len(SUITE_LOG.lines)
        logging.getLogger("uvicorn.access").warning("%s - %s", "127.0.0.1", "GET /planted")
        logging.getLogger("microcred.jobs").debug("a debug line")
        assert SUITE_LOG.lines[before:] == ["uvicorn.access WARNING: 127.0.0.1 - GET /planted", "microcred.jobs DEBUG: a debug line"]


class TestRedaction:
    def test_every_planted_secret_is_redacted(self) -> None:
        redactor = RedactSecrets([PASSPHRASE])
        redacted = [redactor.redact(line) for line in _planted()]
        assert find_secrets(redacted, SUITE_PASSWORDS) == []
        assert redacted[0].startswith('127.0.0.1:5555 - "GET /learners/sign-in/confirm?token=[redacted] HTTP/1.1"')
        assert redacted[2].startswith("rejected key mc_") and redacted[2].endswith("_[redacted]")  # the prefix names the client
        assert redactor.redact("postgresql+asyncpg://microcred:hunter2@db/microcred") == "postgresql+asyncpg://microcred:[redacted]@db/microcred"

    def test_the_access_log_keeps_its_shape_and_tracebacks_are_redacted(self) -> None:
        redactor = RedactSecrets()
        token = new_token()
        access = logging.LogRecord("uvicorn.access", logging.INFO, "h11", 1, '%s - "%s %s HTTP/%s" %d', ("1.2.3.4:5", "GET", f"/x?token={token}", "1.1", 200), None)
        redactor.filter(access)
        assert access.getMessage() == '1.2.3.4:5 - "GET /x?token=[redacted] HTTP/1.1" 200'
        try:
            raise ValueError(f"bad key {new_api_key()[0]}")
        except ValueError as exc:
            failed = logging.LogRecord("microcred", logging.ERROR, "x", 1, "failed", (), (type(exc), exc, exc.__traceback__))
        redactor.filter(failed)
        assert failed.exc_text is not None and "[redacted]" in failed.exc_text and find_secrets([failed.exc_text]) == []

    def test_installed_it_redacts_records_of_any_logger_before_any_handler(self, caplog: pytest.LogCaptureFixture) -> None:
        install_redaction([PASSPHRASE])
        key = new_api_key()[0]
        with caplog.at_level(logging.INFO):
            logging.getLogger("some.library").info("called with %s and %s", key, PASSPHRASE)
        assert key not in caplog.text and PASSPHRASE not in caplog.text and "[redacted]" in caplog.text
