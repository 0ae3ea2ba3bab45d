"""Counting how credentials are used, without getting in the way of their pages.

A use is counted after the answer has gone out (a background task with its own short
transaction), so counting never slows a page down and a failure to count is logged and dropped,
never shown to the person reading. Bots need not be counted exactly: requests that say they are
crawlers, link previews or prefetches are skipped (HEAD requests reach the routes as GET and may
be counted; they are rare). The user agent is read to decide that and never stored.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.background import BackgroundTask
from starlette.requests import Request

from .repository import UsageRepository

__all__ = ["DOWNLOAD_FORMATS", "KINDS", "Kind", "UsageSummary", "counted", "credential_usage", "issuer_usage", "is_bot", "record_use"]

log = logging.getLogger(__name__)

Kind = Literal["view", "linkedin", "verification", "download_json", "download_jwt", "download_png", "download_svg", "download_pdf"]
DOWNLOAD_FORMATS = ("json", "jwt", "png", "svg", "pdf")
#: In the order the console shows them, with their words.
KINDS: dict[str, str] = {
    "view": "Page views",
    "linkedin": "LinkedIn clicks",
    "download_json": "Downloads (JSON-LD)",
    "download_jwt": "Downloads (VC-JWT)",
    "download_png": "Downloads (PNG badge)",
    "download_svg": "Downloads (SVG badge)",
    "download_pdf": "Downloads (PDF certificate)",
    "verification": "Verifications",
}

_BOTS = re.compile(
    r"bot|crawl|spider|slurp|preview|fetch|scan|monitor|checker|curl/|wget/|python-|httpx|go-http|java/|okhttp|lighthouse",
    re.IGNORECASE,
)


def is_bot(request: Request) -> bool:
    """A request that is not a person opening a page or sending a file to /verify: another
    method, a prefetch, or a user agent that names itself a crawler, a link preview, a monitor or
    an HTTP library."""
    if request.method not in ("GET", "POST"):
        return True
    if request.headers.get("sec-purpose", "").startswith("prefetch") or request.headers.get("purpose") == "prefetch":
        return True
    agent = request.headers.get("user-agent", "")
    return not agent or _BOTS.search(agent) is not None


async def record_use(sessions: async_sessionmaker[AsyncSession], credential_id: str, kind: Kind, *, now: datetime | None = None) -> None:
    """Add one use of ``kind`` to the credential's count for today (UTC), in a transaction of its
    own. Never raises: a count lost is better than a page failed."""
    day = (now or datetime.now(UTC)).date()
    try:
        async with sessions() as session, session.begin():
            await UsageRepository(session).bump(credential_id, kind=kind, day=day)
    except Exception as exc:  # noqa: BLE001 - counting must never break what it counts
        log.warning("a %s of a credential was not counted: %s", kind, type(exc).__name__)


def counted(request: Request, sessions: async_sessionmaker[AsyncSession], credential_id: str, kind: Kind) -> BackgroundTask | None:
    """The background task that counts this request's use, or None for a bot."""
    if is_bot(request):
        return None
    return BackgroundTask(record_use, sessions, credential_id, kind)


@dataclass(frozen=True)
class UsageSummary:
    """Totals by kind (in KINDS order, zeros included), and the first and last day of any use."""

    totals: list[tuple[str, str, int]]
    first_day: date | None = None
    last_day: date | None = None
    by_day: list[tuple[date, dict[str, int]]] = field(default_factory=list)

    def total(self, kind: str) -> int:
        return next((n for k, _, n in self.totals if k == kind), 0)


def _summary(totals: dict[str, int]) -> list[tuple[str, str, int]]:
    return [(kind, words, totals.get(kind, 0)) for kind, words in KINDS.items()]


async def credential_usage(session: AsyncSession, credential_id: str) -> UsageSummary:
    rows = await UsageRepository(session).of_credential(credential_id)
    totals: dict[str, int] = defaultdict(int)
    days: dict[date, dict[str, int]] = {}
    for day, kind, count in rows:
        totals[kind] += count
        days.setdefault(day, {})[kind] = count
    return UsageSummary(
        _summary(totals), first_day=rows[0][0] if rows else None, last_day=rows[-1][0] if rows else None, by_day=sorted(days.items())
    )


async def issuer_usage(session: AsyncSession, issuer_id: str, *, now: datetime, days: int = 30) -> UsageSummary:
    """The issuer's credentials' uses in the last ``days`` days (today included)."""
    since = now.date() - timedelta(days=days - 1)
    return UsageSummary(_summary(await UsageRepository(session).totals_for_issuer(issuer_id, since=since)))
