"""The staff console (``/console``): server-rendered pages on the same services as the API.

``routers`` lists every console router, in the order the app includes them; ``static_files``
serves the console's own scripts and styles (htmx is vendored there)."""

from __future__ import annotations

from starlette.staticfiles import StaticFiles

from . import (
    achievements,
    api_keys,
    audit,
    awarding,
    branding,
    bulk,
    corrections,
    credentials,
    dashboard,
    emails,
    endorsements,
    pathways,
    profile,
    router,
    staff,
    webhooks,
)

__all__ = ["routers", "static_files"]

routers = (
    router.router, dashboard.router, achievements.router, profile.router, awarding.router, bulk.router, credentials.router,
    pathways.router, endorsements.router, webhooks.router, api_keys.router, audit.router, staff.router,
    emails.router, corrections.router, branding.router,
)


def static_files() -> StaticFiles:
    return StaticFiles(packages=[("microcred.console", "static")])
