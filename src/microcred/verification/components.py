"""Checking the stack a pathway credential pins (its ``relatedResource``): each component
credential is retrieved, compared with the digest the issuer pinned, and verified in turn.

Our own credentials are read at the source, as their URLs serve them; any other URL is fetched
through the SSRF-safe fetcher, asking for the media type the entry names (a response of another
type is refused, as VC 2.0 §5.3 asks). A digest that does not match fails the check: what the
URL serves is not what the pathway was awarded for. A component revoked (or suspended, or
expired) since leaves the pathway credential valid, issued while the component counted, with a
warning and the component flagged in ``components``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..awards.document import credential_json, credential_url
from ..credentials import MalformedError, VerificationReport, strict_json
from ..credentials.loader import bundled_context_bytes
from ..credentials.related import digest_matches
from ..credentials.verify import Check
from ..db.models import Credential
from ..fetch import FetchError
from ..pathways.completion import COMPONENT_MEDIA_TYPE

if TYPE_CHECKING:  # the service calls check_components: a runtime import would be circular
    from .service import Verification

__all__ = ["ComponentBudget", "check_components"]

#: relatedResource media types read as credentials to verify; any other resource is only matched
_CREDENTIAL_MEDIA_TYPES = frozenset({COMPONENT_MEDIA_TYPE, "application/vc", "application/ld+json", "application/json"})
#: A component's state, from its verifier verdict: anything else is "invalid".
_STATES = {"valid": "valid", "revoked": "revoked", "suspended": "suspended", "expired": "expired"}


@dataclass
class _Spent:
    retrievals: int = 0
    fetches: int = 0


@dataclass(frozen=True)
class ComponentBudget:
    """How far one verification may go for related credentials: each is a retrieval and a full
    verification, and anyone may ask us to verify anything, so the whole tree is bounded."""

    #: levels of pathways inside pathways still retrieved
    depth: int = 2
    #: related credentials retrieved and verified, at every level together
    retrievals: int = 100
    #: of which fetched from other hosts
    fetches: int = 10
    spent: _Spent = field(default_factory=_Spent)

    def nested(self) -> ComponentBudget:
        return replace(self, depth=self.depth - 1)


class _Unreachable(Exception):
    pass


async def check_components(verification: Verification, report: VerificationReport, *, budget: ComponentBudget) -> VerificationReport:
    """``report`` with a ``components`` check and list when the credential pins related
    credentials; unchanged otherwise."""
    credential = report.credential
    if credential is None or "relatedResource" not in credential:
        return report
    raw = credential["relatedResource"]
    # bundled contexts pinned by digest are the core verifier's to check (no fetch): not components
    entries = [e for e in (raw if isinstance(raw, list) else [raw]) if not _bundled_context(e)]
    if not entries:
        return report
    if budget.depth <= 0:
        return replace(report, checks=[*report.checks, Check("components", "warning", "the related credentials were not checked: nested too deep")])
    components = [await _component(verification, entry, budget) for entry in entries]
    return replace(report, checks=[*report.checks, _check(components)], components=components)


def _bundled_context(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("id"), str) and bundled_context_bytes(entry["id"]) is not None


def _check(components: list[dict[str, Any]]) -> Check:
    def listed(states: tuple[str, ...]) -> str:
        named = [f"{c.get('name') or c['id']} ({c['state'].replace('_', ' ')})" for c in components if c["state"] in states]
        return "; ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")

    broken = listed(("digest_mismatch", "invalid", "malformed"))
    if broken:
        return Check("components", "failed", f"related credentials that do not match what the issuer pinned or do not verify: {broken}")
    lapsed, unchecked = listed(("revoked", "suspended", "expired")), listed(("unreachable",))
    if lapsed or unchecked:
        parts = []
        if lapsed:
            parts.append(f"no longer valid: {lapsed}. This credential was issued while they were valid and stands")
        if unchecked:
            parts.append(f"could not be checked: {unchecked}")
        return Check("components", "warning", ". ".join(parts))
    if all(c["state"] == "matched" for c in components):
        return Check("components", "passed", f"all {len(components)} related resources match the digests the issuer pinned")
    return Check("components", "passed", f"all {len(components)} related credentials match the digests the issuer pinned and verify")


async def _component(verification: Verification, entry: Any, budget: ComponentBudget) -> dict[str, Any]:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        return {"id": None, "name": None, "state": "malformed", "message": "a relatedResource entry needs an id"}
    url: str = entry["id"]
    media = entry.get("mediaType") if isinstance(entry.get("mediaType"), str) else None
    out: dict[str, Any] = {"id": url, "name": None}
    if budget.spent.retrievals >= budget.retrievals:
        return {**out, "state": "unreachable", "message": f"not retrieved: more than {budget.retrievals} related credentials"}
    budget.spent.retrievals += 1
    try:
        data = await _retrieve(verification, url, media, budget)
    except _Unreachable as exc:
        return {**out, "state": "unreachable", "message": str(exc)}
    try:
        if not digest_matches(entry, data):
            return {**out, "state": "digest_mismatch", "message": "what the URL serves is not what the issuer pinned"}
        if media is not None and media.split(";", 1)[0].strip().lower() not in _CREDENTIAL_MEDIA_TYPES:
            # a pinned resource that is no credential (a syllabus, an image): its digest is all there is to check
            return {**out, "state": "matched", "message": "matches the digest the issuer pinned"}
        parsed = strict_json.loads(data)
        if not isinstance(parsed, dict):
            raise MalformedError("not a JSON object")
    except (MalformedError, ValueError) as exc:
        return {**out, "state": "malformed", "message": exc.message if isinstance(exc, MalformedError) else "not JSON"}
    report = await verification.of_credential(parsed, components=budget.nested())
    # a valid verdict with a failed check (its own components, say) does not count as valid
    state = "invalid" if report.verdict == "valid" and not report.valid else _STATES.get(report.verdict, "invalid")
    failed = next((c.message for c in report.checks if c.outcome == "failed"), None)
    achievement = report.summary.get("achievement") or {}
    return {**out, "name": achievement.get("name"), "state": state, "verdict": report.verdict, "message": failed or "verified"}


async def _retrieve(verification: Verification, url: str, media: str | None, budget: ComponentBudget) -> bytes:
    """The component as its URL serves it: ours read at the source, others fetched."""
    ours = credential_url(verification.runtime.settings.base_url, "")
    if url.startswith(ours):
        credential_id = url.removeprefix(ours)
        if not credential_id or any(ch in credential_id for ch in "/?#"):
            raise _Unreachable(f"{url} is not a credential of this service")
        if verification.session is not None:
            found = await verification.session.get(Credential, credential_id)
        else:
            async with verification.runtime.sessions() as session:
                found = await session.get(Credential, credential_id)
        if found is None:
            raise _Unreachable(f"{url}: no such credential")
        return credential_json(found.document)
    if budget.spent.fetches >= budget.fetches:
        raise _Unreachable(f"{url} not fetched: more than {budget.fetches} related credentials on other hosts")
    budget.spent.fetches += 1
    accept = media or f"{COMPONENT_MEDIA_TYPE}, application/ld+json;q=0.9"
    try:
        fetched = await verification.fetcher.fetch(url, accept=accept)
    except FetchError as exc:
        raise _Unreachable(str(exc)) from exc
    served = fetched.content_type.split(";", 1)[0].strip().lower()
    if media is not None and served != media.lower():
        raise _Unreachable(f"{url} answered {served or 'no type'}, not the {media} the issuer pinned")
    return fetched.body
