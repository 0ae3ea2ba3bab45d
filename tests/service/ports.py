"""Loopback ports for the suite's own servers that stay safe when pytest-xdist runs several test
processes at once. Probing for a free port and closing the probe leaves a gap in which another
worker's server can be given that port; a port here is held by a bound socket from the moment the
kernel picks it."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

__all__ = ["held_port", "refused_port"]


def held_port() -> socket.socket:
    """A socket bound to a port of 127.0.0.1 that the kernel picked, not listening: connecting
    to it is refused until something listens on this socket, and no other process is given the
    port while it stays open. The caller closes it (or a server it is handed to does)."""
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    return held


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port where nothing listens (connections are refused), kept so while in use."""
    with held_port() as held:
        yield int(held.getsockname()[1])
