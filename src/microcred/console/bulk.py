"""The console's bulk pages (issue 12): to be built on :mod:`microcred.console.web`."""

from __future__ import annotations

from .web import console_router

__all__ = ["router"]

router = console_router()
