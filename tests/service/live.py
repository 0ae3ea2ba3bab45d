"""The real service served by uvicorn on 127.0.0.1, for clients that need a socket (Node, a browser).

Import the fixtures into a test module to use them (``from .live import live, live_base_url``);
they take the ``settings`` and ``runtime`` fixtures of ``conftest.py``, so a module that
overrides ``settings`` serves the app with its own.
"""

from __future__ import annotations

import asyncio
import socket
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
import uvicorn

from microcred.app import create_app
from microcred.config import Settings
from microcred.runtime import Runtime

from ..factories.service import ServiceClient

__all__ = ["LiveService", "live", "live_base_url", "serve"]

#: Bounds on waiting for uvicorn to start and stop (polled, never asserted on).
_START_ATTEMPTS = 200
_POLL_SECONDS = 0.05
_STOP_SECONDS = 30


@dataclass(frozen=True)
class LiveService:
    """A service answering on loopback, and an admin client for it."""

    base_url: str
    client: ServiceClient

    @property
    def runtime(self) -> Runtime:
        return self.client.runtime


@pytest.fixture
def live_base_url(settings: Settings, runtime: Runtime) -> Iterator[str]:
    """The app from ``create_app``, served by uvicorn in a thread with its own event loop (Node,
    a browser and the sync verifier block while they fetch from it), at ``http://localhost:<port>``.

    Its runtime (engine, key store) is its own, built and disposed in the server's loop; it
    shares the database and keys directory with ``runtime``, whose teardown empties the tables.
    """
    with serve(settings) as base_url:
        yield base_url


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """``create_app(settings)`` served by uvicorn in a thread, at its ``http://localhost:<port>``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    base_url = f"http://localhost:{port}"
    app = create_app(settings.model_copy(update={"base_url": base_url}), migrate=False)
    # log_config=None: uvicorn's loggers propagate to the root, where the suite's log scan (and a
    # failing test's report) sees them, the access log included.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", log_config=None))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[listener])), name="live-microcred")
    thread.start()
    try:
        _wait_until_healthy(base_url, thread)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(_STOP_SECONDS)
        listener.close()
    assert not thread.is_alive(), "uvicorn did not stop"


def _wait_until_healthy(base_url: str, thread: threading.Thread) -> None:
    with httpx.Client(base_url=base_url, trust_env=False, timeout=2) as http:
        for _ in range(_START_ATTEMPTS):
            if not thread.is_alive():
                pytest.fail("the live service stopped while starting (uvicorn logged why)")
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(_POLL_SECONDS)
    pytest.fail(f"the live service at {base_url} never answered /healthz")


@pytest_asyncio.fixture
async def live(live_base_url: str, runtime: Runtime) -> AsyncIterator[LiveService]:
    async with httpx.AsyncClient(base_url=live_base_url, trust_env=False, timeout=30) as http:
        yield LiveService(live_base_url, await ServiceClient.start(http, runtime))
