"""The HTTP/1.1 protocol uvicorn runs, with Nagle's algorithm off on every connection.

With ``--workers`` above 1 uvicorn binds the socket itself with protocol 0, and asyncio only
sets TCP_NODELAY on sockets created with IPPROTO_TCP, so every keep-alive response waited for
the peer's delayed ACK (~40 ms; measured by bench/bench_service.py). Setting the option per
connection fixes it whatever the socket's origin.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["NoDelayH11Protocol"]


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass  # not a TCP socket after all; nothing to tune
        super().connection_made(transport)
