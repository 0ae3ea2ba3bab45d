"""How log lines look, and the request id each one carries.

``MICROCRED_LOG_FORMAT=text`` (the default) writes one readable line per record; ``json`` writes
one JSON object per line (``time``, ``level``, ``logger``, ``request_id``, ``message``, and the
record's extra fields: an access line's ``method``, ``route``, ``path``, ``status``,
``duration_ms`` and ``client``) for a log shipper to read without parsing text.

Every record made while a request is handled carries that request's id (:data:`REQUEST_ID`, set
by :class:`microcred.web.observe.ObserveRequests`), whichever logger made it and in whichever
thread the request's work ran, so one request's lines can be found together and matched with the
``X-Request-ID`` its answer carried. Secrets stay out of JSON lines as out of text ones: the
message is redacted when the record is made (:mod:`microcred.logs`), and the JSON formatter
redacts every other text field, a traceback's included, before writing it.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS, LogData
from pythonjsonlogger.json import JsonFormatter

from .logs import redact

__all__ = ["REQUEST_ID", "JsonLines", "TEXT_FORMAT", "install_request_ids", "logging_config", "text_lines"]

#: The id of the request being handled (None outside one, e.g. in the job runner's loop).
REQUEST_ID: ContextVar[str | None] = ContextVar("microcred_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_INSTALLED = False


def install_request_ids() -> None:
    """Put the current request's id on every record this process creates from now on (once per
    process), as ``record.request_id``; outside a request the record has none."""
    global _INSTALLED
    if _INSTALLED:
        return
    _INSTALLED = True
    make_record = logging.getLogRecordFactory()

    def with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        request_id = REQUEST_ID.get()
        if request_id is not None:
            record.request_id = request_id
        return record

    logging.setLogRecordFactory(with_request_id)


def text_lines() -> logging.Formatter:
    """``2026-12-01 10:00:00,000 INFO microcred.access [3f2a...] GET /healthz 200 0.4 ms``; ``-``
    for the request id of a record made outside a request."""
    return logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})


class JsonLines(JsonFormatter):
    """One JSON object per record, its text fields redacted."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn's colour copy of its message: the same words, with terminal escapes.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: LogData) -> LogData:
        # The message was redacted when the record was made; extra fields and the traceback
        # (which this formatter renders afresh from the exception) were not.
        return {key: redact(value) if isinstance(value, str) else value for key, value in log_data.items()}


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of a served process (uvicorn applies it in each worker):
    every record to standard error in ``log_format``; microcred's and uvicorn's records from
    ``level`` up, other libraries' from warnings up (httpx would otherwise log every webhook
    delivery's URL). uvicorn's own access log is off: :mod:`microcred.web.observe` writes one
    line per request, with its route, duration and request id."""
    formatter = {"()": f"{__name__}.{'JsonLines' if log_format == 'json' else 'text_lines'}"}
    named = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"microcred": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "microcred", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "microcred": {"level": named, "propagate": True},
            "uvicorn": {"level": named, "propagate": True},
            "uvicorn.access": {"level": "WARNING", "propagate": False},
        },
    }
