"""The gap check for HR: a person's credentials (URLs, files, or a learner's share-all link),
each verified as the verify page would, then set against the pathways: per pathway, what the
person holds (a valid credential only counts) and what is missing, and who gives it.

Nothing is stored: no row is written (no usage count either), and what was sent is gone with
the answer. A URL of this service (a credential's page or a share-all link) is read from our own
database, never fetched from ourselves over HTTP; any other URL only through the SSRF-safe
fetcher (runtime.fetcher).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..awards.document import credential_json
from ..backpack import service as backpack
from ..credentials import CredentialError
from ..db.models import Achievement, Credential, Issuer, PathwayComponent
from ..fetch import FetchError
from ..i18n import gettext
from ..problems import NotFound
from ..public import credentials
from ..public.page import verdict_reason
from ..runtime import Runtime
from ..verification.service import Verification
from ..verification.uploads import credential_from_bytes
from . import service

__all__ = ["Checked", "GapReport", "MAX_CREDENTIALS", "PathwayGap", "gap_check"]

#: How many credentials one check verifies at most (a share-all link may hold many).
MAX_CREDENTIALS = 50
_CREDENTIAL_ACCEPT = "application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.8, application/vc+jwt;q=0.7"
_STATES = ("valid", "expired", "revoked", "suspended")
#: Verdicts whose failed check says more than the page's general words ("not a readable credential").
_OWN_MESSAGE = ("malformed",)


@dataclass(frozen=True)
class Checked:
    """One credential as verified: where it came from, what it is, and its state in words."""

    source: str
    title: str | None
    learner: str | None
    issuer: str | None
    #: valid | expired | revoked | suspended | invalid | unreadable
    state: str
    detail: str | None = None
    #: the achievement on this service it was awarded for, if it is one of ours
    achievement_id: str | None = None
    #: when it was issued (validFrom, or a VC 1.1 issuanceDate), if it says
    issued: date | None = None


@dataclass(frozen=True)
class PathwayGap:
    view: service.PathwayView
    #: achievement id -> the best state presented ("valid", "revoked"...); missing ones are absent
    held: dict[str, str]

    @property
    def valid(self) -> int:
        return sum(1 for a, _ in self.view.components if self.held.get(a) == "valid")

    @property
    def complete(self) -> bool:
        return self.valid >= self.view.pathway.needed or self.held.get(self.view.leads_to_id) == "valid"


@dataclass
class GapReport:
    checked: list[Checked] = field(default_factory=list)
    pathways: list[PathwayGap] = field(default_factory=list)
    #: what could not be read at all (too many, a failed fetch...), in words
    notes: list[str] = field(default_factory=list)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:  # a port that is not a number
        return None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def own_address(base_url: str, url: str) -> tuple[str, str] | None:
    """``("credentials", id)``, ``("share", token)`` or ``("other", path)`` for a URL of this
    service (``base_url``); None for anyone else's."""
    origin = _origin(url)
    if origin is None or origin != _origin(base_url):
        return None
    root = urlsplit(base_url).path.rstrip("/")
    path = urlsplit(url).path
    if not path.startswith(f"{root}/"):
        return None
    first, _, rest = path.removeprefix(f"{root}/").partition("/")
    if first in ("credentials", "share") and rest and "/" not in rest.rstrip("/"):
        return first, rest.rstrip("/")
    return "other", path


async def _ours(session: AsyncSession, kind: str, key: str) -> list[Any]:
    """What our own credential URL or share-all link serves, read from the database: each
    credential as the bytes its URL serves (so it verifies exactly as a fetched one would)."""
    if kind == "credentials":
        credential = await session.get(Credential, key)
        if credential is None:
            raise CredentialError(gettext("There is no credential at this address on this service."))
        return [json.loads(credential_json(credential.document))]
    if kind == "share":
        try:
            _, found = await backpack.shared(session, token=key)
        except NotFound:
            raise CredentialError(gettext("No share-all link of this service has this address, or its owner revoked it.")) from None
        return [json.loads(credential_json(c.document)) for c in found]
    raise CredentialError(gettext("This address on this service is not a credential or a share-all link."))


async def _documents_at(session: AsyncSession, runtime: Runtime, url: str) -> list[Any]:
    """A credential URL gives one credential; a share-all link (``/share/``) its list. Ours are
    read from the database; anyone else's are fetched."""
    own = own_address(runtime.settings.base_url, url)
    if own is not None:
        return await _ours(session, *own)
    share = "/share/" in urlsplit(url).path
    fetched = await runtime.fetcher.fetch(url, accept="application/json" if share else _CREDENTIAL_ACCEPT)
    try:
        parsed = json.loads(fetched.body)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("credentials"), list):
        return list(parsed["credentials"])
    return [await asyncio.to_thread(credential_from_bytes, fetched.body)]


def _issued(document: Any) -> date | None:
    value = (document.get("validFrom") or document.get("issuanceDate")) if isinstance(document, dict) else None
    try:
        return datetime.fromisoformat(value).date() if isinstance(value, str) else None
    except ValueError:
        return None


def _name(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) and value else None


async def _awarded_for(session: AsyncSession, base_url: str, document: Any) -> str | None:
    """The id of the achievement on this service the credential was awarded for, when its
    issuer is the achievement's issuer (a credential signed elsewhere cannot claim our course)."""
    if not isinstance(document, dict):
        return None
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    url = achievement.get("id") if isinstance(achievement, dict) else None
    prefix = f"{base_url}/issuers/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    parts = url.removeprefix(prefix).split("/")
    if len(parts) < 3 or parts[1] != "achievements":
        return None
    issuer = document.get("issuer")
    issuer_did = issuer.get("id") if isinstance(issuer, dict) else issuer
    row = (await session.execute(select(Achievement.id).join(Issuer, Issuer.id == Achievement.issuer_id).where(Achievement.id == parts[2], Issuer.id == parts[0], Issuer.did == issuer_did))).first()
    return row[0] if row is not None else None


async def _verify(session: AsyncSession, verification: Verification, base_url: str, source: str, credential: Any) -> Checked:
    try:
        report = await verification.of_credential(credential)
    except CredentialError as exc:
        return Checked(source, None, None, None, "unreadable", exc.message)
    document = report.credential or (credential if isinstance(credential, dict) else {})
    subject = document.get("credentialSubject") if isinstance(document, dict) else None
    title = _name(subject.get("achievement")) if isinstance(subject, dict) else None
    learner = (credentials.learner_name(document) or _name(subject)) if isinstance(document, dict) and isinstance(subject, dict) else None
    state = str(report.verdict) if report.verdict in _STATES else "invalid"
    if state == "valid" and not report.valid:
        state = "invalid"
    # Why it does not count, in the credential page's plain words for HR, else the failed check's.
    why = None if report.verdict in _OWN_MESSAGE else verdict_reason(report.verdict)
    failed = why or next((c.message for c in report.checks if c.outcome == "failed" and c.message), None)
    return Checked(source, title, learner, _name(document.get("issuer")) if isinstance(document, dict) else None, state, failed, await _awarded_for(session, base_url, document), _issued(document))


async def gap_check(session: AsyncSession, runtime: Runtime, *, urls: list[str], files: list[tuple[str, bytes]]) -> GapReport:
    """Verify what was given and set it against the active pathways. Reads only."""
    report = GapReport()
    verification = Verification(runtime, runtime.fetcher, session=session)
    base_url = runtime.settings.base_url
    given: list[tuple[str, Any]] = []
    for url in urls:
        try:
            given += [(url, document) for document in await _documents_at(session, runtime, url)]
        except FetchError as exc:
            report.checked.append(Checked(url, None, None, None, "unreadable", gettext("It could not be fetched: %(reason)s") % {"reason": exc}))
        except CredentialError as exc:
            report.checked.append(Checked(url, None, None, None, "unreadable", exc.message))
    for name, data in files:
        try:
            given.append((name, await asyncio.to_thread(credential_from_bytes, data)))
        except CredentialError as exc:
            report.checked.append(Checked(name, None, None, None, "unreadable", exc.message))
    if len(given) > MAX_CREDENTIALS:
        report.notes.append(gettext("Only the first %(checked)s of the %(given)s credentials were checked.") % {"checked": MAX_CREDENTIALS, "given": len(given)})
        given = given[:MAX_CREDENTIALS]
    for source, credential in given:
        report.checked.append(await _verify(session, verification, base_url, source, credential))

    rank = {"valid": 0, "suspended": 1, "expired": 2, "revoked": 3, "invalid": 4}
    held: dict[str, str] = {}
    for checked in report.checked:
        if checked.achievement_id is not None:
            current = held.get(checked.achievement_id)
            if current is None or rank[checked.state] < rank[current]:
                held[checked.achievement_id] = checked.state
    if held:
        touched = await session.scalars(select(PathwayComponent.pathway_id).where(PathwayComponent.achievement_id.in_(list(held))).distinct())
        for pathway_id in sorted(set(touched)):
            view = await service.pathway_view(session, pathway_id)
            if view is not None:
                report.pathways.append(PathwayGap(view, {a: s for a, s in held.items() if a in {c for c, _ in view.components} | {view.leads_to_id}}))
        report.pathways.sort(key=lambda g: g.view.pathway.name.casefold())
    return report
