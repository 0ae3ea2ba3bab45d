"""Endorsements: an issuer's signed claim about another issuer's profile or achievement.

An EndorsementCredential is a credential like any other (OB 3.0 §B.1.8): its subject is the
endorsed thing's ``id``. OB 3.0 lets a Profile, an Achievement and an AchievementCredential
carry endorsements in ``endorsement``; each is verified with the same steps as any credential,
and must be about the object it is embedded in, or it could be lifted from one achievement and
shown on another. (The schemas also allow ``endorsementJwt``, but the OB 3.0 context does not
define it: JSON-LD would drop it, so safe mode refuses a credential that carries one.)
https://www.imsglobal.org/spec/ob/v3p0/#endorsementcredential
https://www.imsglobal.org/spec/ob/v3p0/#endorsement-verification
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from .ob3 import EndorsementCredential

if TYPE_CHECKING:
    from .verify import VerificationReport, Verdict

__all__ = [
    "MAX_EMBEDDED",
    "EmbeddedEndorsement",
    "EndorsementResult",
    "check_embedded",
    "embedded_endorsements",
    "endorsement_credential",
]

#: Endorsements checked in one credential; each may cost key and status list fetches.
MAX_EMBEDDED = 16

State = Literal["valid", "revoked", "suspended", "expired", "not_yet_valid", "invalid"]
#: An endorsement that verified once but no longer holds: the credential itself is unaffected.
_LAPSED: dict[str, State] = {"revoked": "revoked", "suspended": "suspended", "expired": "expired", "not_yet_valid": "not_yet_valid"}
_LAPSED_WORDS = {
    "revoked": "was revoked by its issuer",
    "suspended": "is suspended by its issuer",
    "expired": "has expired",
    "not_yet_valid": "is not valid yet",
}
_MAX_COMMENT_IN_MESSAGE = 200


def endorsement_credential(
    *,
    credential_id: str,
    issuer: Mapping[str, Any],
    subject_id: str,
    name: str,
    valid_from: datetime,
    comment: str | None = None,
    valid_until: datetime | None = None,
    credential_status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The unsigned EndorsementCredential of ``issuer`` (an OB 3.0 Profile) about ``subject_id``.

    Raises ``ValueError`` (naming the field) for what OB 3.0 does not allow, e.g. a relative id.
    """
    document: dict[str, Any] = {
        "id": credential_id,
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": name,
        "issuer": dict(issuer),
        "validFrom": valid_from,
        "credentialSubject": {"id": subject_id, "type": ["EndorsementSubject"], "endorsementComment": comment},
        "validUntil": valid_until,
        "credentialStatus": dict(credential_status) if credential_status is not None else None,
    }
    return EndorsementCredential.model_validate(document).to_jsonld()


@dataclass(frozen=True)
class EmbeddedEndorsement:
    """One endorsement found in a credential."""

    #: JSON pointer of the endorsement, e.g. ``/credentialSubject/achievement/endorsement/0``
    pointer: str
    #: ``id`` of the object that carries it (the credential, a Profile, an Achievement)
    holder_id: str | None
    #: the endorsement as embedded (a JSON object, unless the credential is malformed)
    document: Any


def embedded_endorsements(credential: Mapping[str, Any]) -> list[EmbeddedEndorsement]:
    """Every endorsement a credential carries, wherever OB 3.0 allows one (not inside other
    endorsements: those are the endorsements' own business)."""
    return list(_walk(credential, ""))


def _walk(node: Any, pointer: str) -> Iterator[EmbeddedEndorsement]:
    if isinstance(node, list):
        for n, item in enumerate(node):
            yield from _walk(item, f"{pointer}/{n}")
        return
    if not isinstance(node, Mapping):
        return
    holder = node.get("id") if isinstance(node.get("id"), str) else None
    for key, value in node.items():
        if key == "endorsement":
            items = value if isinstance(value, list) else [value]
            for n, item in enumerate(items):
                at = f"{pointer}/{key}/{n}" if isinstance(value, list) else f"{pointer}/{key}"
                yield EmbeddedEndorsement(at, holder, item)
        elif key not in ("@context", "proof"):
            yield from _walk(value, f"{pointer}/{_escape(key)}")


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class EndorsementResult:
    """What the verifier concluded about one embedded endorsement."""

    pointer: str
    outcome: Literal["passed", "warning", "failed"]
    state: State
    message: str
    #: for a failure: the verdict it calls for on the credential that carries the endorsement
    verdict: Verdict | None
    endorser_id: str | None
    endorser_name: str | None
    subject_id: str | None
    comment: str | None
    endorsement_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.endorsement_id,
            "endorser": {"id": self.endorser_id, "name": self.endorser_name},
            "subject": self.subject_id,
            "comment": self.comment,
            "state": self.state,
            "pointer": self.pointer,
        }


def check_embedded(
    credential: Mapping[str, Any], *, verify_one: Callable[[Any], VerificationReport]
) -> tuple[list[EndorsementResult], int]:
    """Verify each embedded endorsement with ``verify_one`` (the same steps as any credential)
    and check that it is about the object that carries it. Returns the results and how many
    endorsements were left unchecked (past :data:`MAX_EMBEDDED`)."""
    found = embedded_endorsements(credential)
    return [_check(item, verify_one(item.document)) for item in found[:MAX_EMBEDDED]], max(0, len(found) - MAX_EMBEDDED)


def _check(item: EmbeddedEndorsement, report: VerificationReport) -> EndorsementResult:
    document = report.credential or {}
    issuer = document.get("issuer")
    endorser_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    endorser_name = issuer.get("name") if isinstance(issuer, Mapping) else None
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, Mapping) else {}
    facts = {
        "endorser_id": endorser_id if isinstance(endorser_id, str) else None,
        "endorser_name": endorser_name if isinstance(endorser_name, str) else None,
        "subject_id": subject.get("id") if isinstance(subject.get("id"), str) else None,
        "comment": subject.get("endorsementComment") if isinstance(subject.get("endorsementComment"), str) else None,
        "endorsement_id": document.get("id") if isinstance(document.get("id"), str) else None,
    }
    who = f"the endorsement by {facts['endorser_name'] or facts['endorser_id'] or 'an unnamed issuer'}"
    types = document.get("type")
    types = types if isinstance(types, list) else [types]

    def failed(message: str, verdict: Verdict) -> EndorsementResult:
        return EndorsementResult(item.pointer, "failed", "invalid", f"{item.pointer}: {message}", verdict, **facts)

    if report.credential is None or report.verdict in ("malformed", "unknown_key", "tampered"):
        why = next((c.message for c in report.checks if c.outcome == "failed"), report.verdict)
        return failed(f"{who} does not verify: {why}", report.verdict)
    if "EndorsementCredential" not in types:
        return failed(f"{who} is not an EndorsementCredential", "malformed")
    if item.holder_id is None or facts["subject_id"] != item.holder_id:
        # A genuine endorsement of something else, presented as if it were about this object.
        return failed(f"{who} is about {facts['subject_id']}, not about {item.holder_id} that carries it", "tampered")
    if report.verdict in _LAPSED:
        return EndorsementResult(
            item.pointer, "warning", _LAPSED[report.verdict], f"{who} {_LAPSED_WORDS[report.verdict]}", None, **facts
        )
    comment = facts["comment"]
    said = ""
    if comment:
        shown = comment if len(comment) <= _MAX_COMMENT_IN_MESSAGE else comment[: _MAX_COMMENT_IN_MESSAGE - 1] + "…"
        said = f": “{shown}”"
    return EndorsementResult(item.pointer, "passed", "valid", f"endorsed by {who.removeprefix('the endorsement by ')}{said}", None, **facts)
