"""Settings: read once from the environment (``MICROCRED_*``), validated with a fix-it message.

Built in :func:`microcred.app.create_app` and in CLI commands, never at import time.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .keystore import PASSPHRASE_ENV

__all__ = ["DEV_PASSPHRASE_FILE", "Settings", "SettingsError", "load_settings"]

#: Where `make run` keeps a generated development passphrase (never used when one is set).
DEV_PASSPHRASE_FILE = ".dev-passphrase"


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the variable and how to fix it."""


class Settings(BaseSettings):
    """Every knob of the service. Environment variables are the field names, upper-cased, with
    the ``MICROCRED_`` prefix (e.g. ``MICROCRED_DATABASE_URL``)."""

    model_config = SettingsConfigDict(env_prefix="MICROCRED_", extra="ignore", frozen=True)

    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite at <data_dir>/microcred.db
    base_url: str = "http://localhost:8000"
    keys_dir: Path = Path("keys")
    key_passphrase: SecretStr = SecretStr("")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    #: text: one readable line per record; json: one JSON object per line, for a log shipper.
    log_format: Literal["text", "json"] = "text"
    #: A bearer token that lets Prometheus scrape /metrics from anywhere. Unset, /metrics answers
    #: only to clients on this machine that did not come through a proxy.
    metrics_token: SecretStr = SecretStr("")
    #: Largest request body for JSON endpoints, and for a batch upload.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_batch_bytes: int = Field(default=64 * 1_048_576, ge=1024)
    max_batch_rows: int = Field(default=100_000, ge=1)
    #: Run bulk-award jobs in this process (turn off on hosts that should only answer requests).
    run_jobs: bool = True
    job_chunk_rows: int = Field(default=250, ge=1, le=10_000)
    #: How long a worker holds a bulk job between chunks: a job whose worker died (kill -9, a
    #: lost host) is taken over by another after at most this long. A worker that stops
    #: properly hands its job over at once.
    job_lease_seconds: float = Field(default=60.0, ge=1.0, le=3600.0)
    db_pool_size: int = Field(default=32, ge=1, le=500)
    #: How long verifiers may cache a status list (its ``ttl`` and Cache-Control max-age): the
    #: longest a revocation can stay unseen by a verifier that caches.
    status_list_ttl_seconds: int = Field(default=60, ge=1, le=86_400)
    #: Let the public verifier fetch from this machine (loopback addresses, over plain http too):
    #: for development and tests only. Private and link-local addresses stay refused.
    verify_allow_loopback: bool = False
    #: Largest file the public verifier reads (an upload, or a fetched credential).
    verify_max_bytes: int = Field(default=10 * 1_048_576, ge=1024)
    #: Rate limits per client address (web/rate_limits.py), each process counting for itself:
    #: verifications (the verify API, the verify page, the VC-API's verify endpoints together)
    #: and OAuth client registrations, a minute. 0 turns a limit off.
    verify_requests_per_minute: int = Field(default=60, ge=0, le=1_000_000)
    oauth_registrations_per_minute: int = Field(default=60, ge=0, le=1_000_000)
    #: The reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-
    #: separated, e.g. ``10.0.0.0/8,127.0.0.1``); empty: none, the connecting address is the client.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    #: The OB 3.0 API (OAuth 2.0): how long an access token and a refresh token last, and how
    #: long a learner stays signed in on the service's own pages (sign-in and consent).
    oauth_access_token_seconds: int = Field(default=3600, ge=60, le=86_400)
    oauth_refresh_token_seconds: int = Field(default=30 * 86_400, ge=3600, le=365 * 86_400)
    learner_session_seconds: int = Field(default=86_400, ge=300, le=30 * 86_400)
    #: The staff console: a session lasts at most this long, and ends sooner when unused for
    #: the idle time (a shared office computer left signed in).
    staff_session_seconds: int = Field(default=12 * 3600, ge=300, le=7 * 86_400)
    staff_idle_seconds: int = Field(default=30 * 60, ge=60, le=86_400)
    #: Linked from the OB 3.0 service description (empty: the base URL).
    privacy_policy_url: str = ""
    terms_of_service_url: str = ""
    #: SMTP server for learners' sign-in links. Unset, sign-in by email is off, except when the
    #: base URL is on this machine (localhost), where the link is written to the server log.
    #: Port 465 speaks TLS from the start; other ports use STARTTLS unless smtp_starttls is off.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = ""
    smtp_starttls: bool = True
    #: Send webhook deliveries from this process (turn off on hosts that should only answer requests).
    webhook_dispatch: bool = True
    #: Attempts per delivery before it is marked failed; between them, exponential backoff with
    #: jitter from the base delay up to the longest one.
    webhook_max_attempts: int = Field(default=12, ge=1, le=100)
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0, le=86_400)
    webhook_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0, le=7 * 86_400)
    #: The whole of one delivery attempt: DNS, connect, TLS, sending and the answer.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    #: Let webhook endpoints be on this machine (loopback, over plain http too); unset: as
    #: verify_allow_loopback. For development and tests only.
    webhook_allow_loopback: bool | None = None
    #: Send learner emails from this process (needs an SMTP server, or a development service).
    email_dispatch: bool = True
    #: Attempts per learner email before it is marked failed (a 5xx answer fails it at once).
    email_max_attempts: int = Field(default=8, ge=1, le=100)
    email_retry_base_seconds: float = Field(default=30.0, gt=0, le=86_400)
    email_retry_max_seconds: float = Field(default=3600.0, gt=0, le=7 * 86_400)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                "MICROCRED_BASE_URL must be the absolute http(s) URL the service is reached at, without "
                "query or fragment, e.g. https://badges.example.org"
            )
        if re.fullmatch(r"[0-9.]+|\[.*\]", parts.hostname or "") or ":" in (parts.hostname or ""):
            raise ValueError(
                "MICROCRED_BASE_URL must name a host (issuers are did:web identifiers, which cannot "
                "hold an IP address): use http://localhost:8000 locally, or your public https host"
            )
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        scheme = value.split("://", 1)[0] if "://" in value else ""
        normalised = {
            "postgres": "postgresql+asyncpg",
            "postgresql": "postgresql+asyncpg",
            "postgresql+asyncpg": "postgresql+asyncpg",
            "sqlite": "sqlite+aiosqlite",
            "sqlite+aiosqlite": "sqlite+aiosqlite",
        }.get(scheme)
        if normalised is None:
            raise ValueError(
                "MICROCRED_DATABASE_URL must be postgresql://user@host:5432/dbname (asyncpg) or "
                "sqlite:///path/to/file.db; leave it unset for the embedded SQLite database in "
                "MICROCRED_DATA_DIR"
            )
        return normalised + value[len(scheme) :]

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _check_trusted_proxies(cls, value: object) -> tuple[str, ...]:
        entries = value.split(",") if isinstance(value, str) else value
        if not isinstance(entries, (list, tuple)):
            raise ValueError("must be a comma-separated list of addresses or networks")
        checked: list[str] = []
        for entry in (str(e).strip() for e in entries):
            if not entry:
                continue
            try:
                checked.append(str(ipaddress.ip_network(entry, strict=False) if "/" in entry else ipaddress.ip_address(entry)))
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network: list your reverse proxies' addresses, "
                    "comma-separated, e.g. 10.0.0.0/8,127.0.0.1 (host names and * are not accepted)"
                ) from None
        return tuple(checked)

    @field_validator("privacy_policy_url", "terms_of_service_url")
    @classmethod
    def _check_page_url(cls, value: str) -> str:
        if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
            raise ValueError("must be an absolute http(s) URL of a page people can read")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _check_metrics_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if token and (len(token) < 16 or not re.fullmatch(r"[A-Za-z0-9._~+/=-]+", token)):
            raise ValueError(
                "MICROCRED_METRICS_TOKEN must be at least 16 characters of letters, digits and ._~+/=- "
                "(a bearer token), e.g. the output of `openssl rand -hex 32`; leave it unset to serve "
                "/metrics to this machine only"
            )
        return value

    @model_validator(mode="after")
    def _check_smtp(self) -> Settings:
        if self.smtp_host and "@" not in self.smtp_from:
            raise ValueError(
                "MICROCRED_SMTP_FROM must be the sender address of sign-in emails (e.g. badges@example.org) "
                "when MICROCRED_SMTP_HOST is set"
            )
        return self

    @model_validator(mode="after")
    def _check_passphrase(self) -> Settings:
        if not self.key_passphrase.get_secret_value():
            raise ValueError(
                f"{PASSPHRASE_ENV} is not set: private keys are encrypted at rest with it. For a local "
                f"trial run `make run`, which keeps a development passphrase in keys/{DEV_PASSPHRASE_FILE}; "
                "in production inject it from your secret manager"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'microcred.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def base_url_is_local(self) -> bool:
        """The base URL names this machine (``localhost``): a development run, over plain http."""
        host = (urlsplit(self.base_url).hostname or "").lower()
        return host == "localhost" or host.endswith(".localhost")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, raising :class:`SettingsError` with every problem explained."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            variable = f"MICROCRED_{field.upper()}" if field else "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"  {variable}: {message}")
        raise SettingsError("the service settings are not usable:\n" + "\n".join(lines)) from None
