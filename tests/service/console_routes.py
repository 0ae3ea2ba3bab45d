"""The console's routes as the app serves them, for tests that try every one of them (the route
matrix, CSRF): found from the app's own routes, so pages added later are included."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

__all__ = ["console_routes"]


def _api_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(path, route) under ``routes``, into included routers (FastAPI keeps an included router
    as one entry pointing at the original, with the prefix it was included with; older
    versions copied its routes in, prefix applied)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _api_routes(included.routes, prefix + str(getattr(context, "prefix", "") or ""))


def console_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """Every (path, route) of the app under /console."""
    return [(path, route) for path, route in _api_routes(app.routes) if path.startswith("/console")]
