"""MICROCRED_LOG_FORMAT=json: one JSON object per log line, each carrying the id of the request it
was made for (the X-Request-ID the answer carries), and no secret in any of its fields."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from microcred.app import create_app
from microcred.auth.api_keys import new_api_key
from microcred.config import Settings
from microcred.log_format import JsonLines, text_lines
from microcred.runtime import Runtime
from microcred.tokens import new_token

pytestmark = pytest.mark.asyncio

log = logging.getLogger("microcred.test")


class Lines:
    """What a handler with ``formatter`` wrote, line by line."""

    def __init__(self, formatter: logging.Formatter) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(formatter)

    def text(self) -> str:
        return self.stream.getvalue()

    def json(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text().splitlines()]  # every line one JSON object


@pytest.fixture
def written() -> Iterator[Lines]:
    lines = Lines(JsonLines())
    logging.getLogger().addHandler(lines.handler)
    try:
        yield lines
    finally:
        logging.getLogger().removeHandler(lines.handler)


@pytest_asyncio.fixture
async def http(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app, with one more route that logs from the request's task and from a worker thread
    (as services do with CPU work), and fails when asked."""
    app: FastAPI = create_app(settings, runtime=runtime, migrate=False)

    @app.get("/test/logs")
    async def logs(fail: bool = False) -> dict[str, str]:
        log.warning("in the request, %s", f"Authorization: Bearer {new_token()}")
        await asyncio.to_thread(log.warning, "in a worker thread")
        if fail:
            raise RuntimeError(f"failed with key {new_api_key()[0]}")
        return {"status": "ok"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def _of(lines: list[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["request_id"] == request_id]


class TestRequestIds:
    async def test_every_line_of_a_request_carries_the_id_its_answer_returns(self, http: httpx.AsyncClient, written: Lines) -> None:
        answer = await http.get("/test/logs")
        request_id = answer.headers["x-request-id"]
        assert len(request_id) == 32 and int(request_id, 16) >= 0

        mine = _of(written.json(), request_id)
        assert [line["message"] for line in mine if line["logger"] == "microcred.test"][1] == "in a worker thread"
        access = [line for line in mine if line["logger"] == "microcred.access"]
        assert len(access) == 1
        assert {k: access[0][k] for k in ("method", "path", "route", "status")} == {"method": "GET", "path": "/test/logs", "route": "/test/logs", "status": 200}
        assert access[0]["duration_ms"] >= 0 and access[0]["level"] == "INFO" and access[0]["time"].endswith("+00:00")
        assert len(mine) == 3

    async def test_two_requests_get_two_ids_and_lines_outside_a_request_none(self, http: httpx.AsyncClient, written: Lines) -> None:
        first, second = await http.get("/healthz"), await http.get("/healthz")
        assert first.headers["x-request-id"] != second.headers["x-request-id"]
        log.warning("between requests")
        assert [line["request_id"] for line in written.json() if line["message"] == "between requests"] == [None]

    async def test_a_sane_incoming_id_is_kept(self, http: httpx.AsyncClient, written: Lines) -> None:
        for sent in ("0f8fad5b-d9cb-469f-a165-70867728950e", "req:42/edge-3=", "x" * 128):
            answer = await http.get("/test/logs", headers={"X-Request-ID": sent})
            assert answer.headers["x-request-id"] == sent
            assert len(_of(written.json(), sent)) == 3

    async def test_an_absurd_incoming_id_is_replaced_and_never_logged(self, http: httpx.AsyncClient, written: Lines) -> None:
        for sent in ("x" * 129, "two words", 'quote"d', "semi;colon", "new\\nline", "<script>"):
            answer = await http.get("/test/logs", headers={"X-Request-ID": sent})
            assert answer.status_code == 200
            replaced = answer.headers["x-request-id"]
            assert replaced != sent and len(replaced) == 32
            assert len(_of(written.json(), replaced)) == 3
            assert sent not in written.text()

    async def test_an_unhandled_error_is_logged_with_the_id_of_the_500(self, http: httpx.AsyncClient, written: Lines) -> None:
        answer = await http.get("/test/logs", params={"fail": "true"})
        assert answer.status_code == 500
        mine = _of(written.json(), answer.headers["x-request-id"])
        failed = [line for line in mine if line["level"] == "ERROR"]
        assert len(failed) == 1 and "RuntimeError" in failed[0]["exc_info"]
        assert [line["status"] for line in mine if line["logger"] == "microcred.access"] == [500]


class TestRedaction:
    async def test_secrets_are_redacted_in_the_message_the_traceback_and_the_fields(self, http: httpx.AsyncClient, written: Lines) -> None:
        await http.get("/test/logs", params={"fail": "true"})
        token = new_token()
        await http.get("/healthz", params={"token": token})
        text = written.text()
        lines = written.json()
        assert "Bearer [redacted]" in [line["message"] for line in lines if line["logger"] == "microcred.test"][0]
        assert "mc_" in text and "_[redacted]" in [line["exc_info"] for line in lines if "exc_info" in line][0]
        assert token not in text  # the access line's path leaves out the query string
        log.warning("an extra field", extra={"url": f"https://example.org/cb?code={token}", "auth": f"Bearer {token}"})
        extra = written.json()[-1]
        assert extra["url"] == "https://example.org/cb?code=[redacted]" and extra["auth"] == "Bearer [redacted]"
        for line in written.text().splitlines():
            assert "Bearer ey" not in line and token not in line


class TestTextLines:
    async def test_a_text_line_names_the_request_too(self, http: httpx.AsyncClient) -> None:
        lines = Lines(text_lines())
        logging.getLogger().addHandler(lines.handler)
        try:
            answer = await http.get("/healthz", headers={"X-Request-ID": "text-line-1"})
            log.warning("outside")
        finally:
            logging.getLogger().removeHandler(lines.handler)
        access, outside = lines.text().splitlines()
        assert answer.headers["x-request-id"] == "text-line-1"
        assert ' INFO microcred.access [text-line-1] 127.0.0.1 "GET /healthz" 200 ' in access
        assert outside.endswith(" WARNING microcred.test [-] outside")
