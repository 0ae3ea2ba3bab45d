"""Telling "the database cannot be reached" apart from every other failure: the first is no
fault of the request (503 with Retry-After; a job waits and retries), the others are."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

__all__ = ["is_unavailable"]

# SQLSTATE classes that say the server is away or refusing connections, not that the query was
# wrong: 08 connection exception, 53 insufficient resources (e.g. too many connections), 57P0x
# operator intervention (shutdown, starting up).
_UNAVAILABLE_STATES = ("08", "53", "57P01", "57P02", "57P03")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) says the database is out of reach."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (OSError, PoolTimeout, OperationalError, InterfaceError)):
            return True  # the socket, the pool, or the driver's own "cannot talk to it" errors
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES):
            return True
        current = current.__cause__ or current.__context__
    return False
