"""Revoking, suspending and reinstating credentials, and the signed status lists verifiers fetch.

A change flips the credential's bit and re-signs its list in the same transaction, so the list a
verifier fetches afterwards shows it. The reason for a revocation is kept for the issuer alone:
status lists carry bits, nothing else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..awards.document import credential_url
from ..credentials import DocumentLoader, issue
from ..credentials.status_list import BitstringStatusList, status_entry, status_list_credential
from ..credentials.timeutil import parse_datetime
from ..db.models import Credential, Issuer, StatusList
from ..events import Event, record
from ..issuers.key_lock import hold_for_signing
from ..issuers.service import get_issuer
from ..keystore import KeyStore
from ..operations.metrics import SIGNING_SECONDS
from ..problems import Conflict, NotFound
from ..runtime import Runtime
from . import combined
from .allocator import Slot
from .schemas import CredentialState

__all__ = [
    "ListSigning", "apply_change", "change_status", "credential_state", "credential_status", "json_bytes", "list_signing", "public_list", "revoke_entry", "set_bit",
    "status_list_url",
]

Change = Literal["revoke", "suspend", "unsuspend"]


def credential_state(credential: Credential, *, now: datetime) -> CredentialState:
    """What a verifier would say of the credential's standing, most final first: a revoked
    credential is revoked whatever else holds, a suspended one may come back, an expired one is
    past its ``validUntil``. The credential list's ``?status=`` filter (awards.repository) uses
    the same order."""
    if credential.revoked_at is not None:
        return "revoked"
    if credential.suspended_at is not None:
        return "suspended"
    if credential.valid_until is not None and credential.valid_until < now:
        return "expired"
    return "active"


@dataclass(frozen=True)
class ListSigning:
    keystore: KeyStore
    loader: DocumentLoader
    base_url: str
    ttl_seconds: int


def list_signing(runtime: Runtime) -> ListSigning:
    settings = runtime.settings
    return ListSigning(runtime.keystore, runtime.loader, settings.base_url, settings.status_list_ttl_seconds)


def status_list_url(base_url: str, list_id: str) -> str:
    return f"{base_url}/status-lists/{list_id}"


def credential_status(base_url: str, revocation: Slot, suspension: Slot | None) -> dict[str, Any] | list[dict[str, Any]]:
    """The credential's ``credentialStatus``: one entry (revocation, or revocation and suspension
    combined), or two (a separate suspension entry: VC-API credentials, and awards before the
    combined entry existed)."""
    if revocation.purpose == combined.PURPOSE:
        return status_entry(
            purpose=combined.PURPOSE,
            index=revocation.index,
            list_url=status_list_url(base_url, revocation.list_id),
            status_size=combined.STATUS_SIZE,
            status_messages=list(combined.MESSAGES),
        )
    entries = [status_entry(purpose="revocation", index=revocation.index, list_url=status_list_url(base_url, revocation.list_id))]
    if suspension is not None:
        entries.append(status_entry(purpose="suspension", index=suspension.index, list_url=status_list_url(base_url, suspension.list_id)))
    return entries[0] if len(entries) == 1 else entries


def json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _etag(document: dict[str, Any]) -> str:
    return '"' + hashlib.sha256(json_bytes(document)).hexdigest()[:40] + '"'


async def _sign(session: AsyncSession, status_list: StatusList, signing: ListSigning, now: datetime, *, valid_from: datetime) -> None:
    """Sign the list as its bits are now. ``valid_from`` is when they became so: the time of the
    change, or for a list signed on first fetch (or re-signed unchanged) an earlier time, never
    the moment of signing, which may lie after the ``now`` of the verifier that asked for it."""
    await hold_for_signing(session, status_list.issuer_id)
    issuer = await session.get(Issuer, status_list.issuer_id)
    assert issuer is not None
    now = now.replace(microsecond=0)
    # A message list's statusSize and messages are in each entry (the VC 2.0 context defines no
    # statusSize or statusMessages for the list itself, so they could not be signed there).
    status_size = combined.STATUS_SIZE if status_list.purpose == combined.PURPOSE else 1
    unsigned = status_list_credential(
        list_id=status_list_url(signing.base_url, status_list.id),
        issuer=issuer.did,
        purpose=status_list.purpose,
        status_list=BitstringStatusList.from_bytes(status_list.bits, status_size=status_size),
        valid_from=min(valid_from.replace(microsecond=0), now),
        ttl_ms=signing.ttl_seconds * 1000,
    )
    signer = signing.keystore.signer_for(issuer.current_key_id)
    with SIGNING_SECONDS.labels("status_list").time():
        status_list.document = issue(unsigned, signer=signer, loader=signing.loader, suite=issuer.cryptosuite, created=now)
    status_list.etag = _etag(status_list.document)
    status_list.signed_at = now


async def _locked(session: AsyncSession, list_id: str) -> StatusList | None:
    """The list row, locked (FOR NO KEY UPDATE: awards' foreign keys to it go on) and read afresh
    even if this session has loaded it before."""
    return await session.scalar(
        select(StatusList).where(StatusList.id == list_id).with_for_update(key_share=True).execution_options(populate_existing=True)
    )


def _unsigned_or_stale(status_list: StatusList, now: datetime) -> bool:
    return status_list.document is None or status_list.signed_at is None or now - status_list.signed_at > timedelta(days=1)


async def set_bit(session: AsyncSession, list_id: str, index: int, value: int, signing: ListSigning, now: datetime) -> None:
    """Set one credential's value in its list (a bit, or a combined list's two-bit value) and
    re-sign the list, unless the value is so already. The caller holds the credential's row
    lock and decides whether the change is allowed."""
    status_list = await _locked(session, list_id)
    assert status_list is not None
    combined_list = status_list.purpose == combined.PURPOSE
    bits = BitstringStatusList.from_bytes(status_list.bits, status_size=combined.STATUS_SIZE if combined_list else 1)
    if bits.get(index) == value and status_list.document is not None:
        return
    if combined_list:
        status_list.bits = combined.with_status(status_list.bits, index, value)
    else:
        bits.set(index, value)
        status_list.bits = bits.to_bytes()
    await _sign(session, status_list, signing, now, valid_from=now)


async def revoke_entry(session: AsyncSession, *, signing: ListSigning, slot: Slot, now: datetime) -> None:
    """Set one revocation bit and re-sign its list, for a signed document that is not an award
    (an endorsement) but holds a slot of its issuer's revocation list."""
    await set_bit(session, slot.list_id, slot.index, 1, signing, now)


async def change_status(
    session: AsyncSession,
    *,
    principal: Principal,
    signing: ListSigning,
    issuer_id: str,
    credential_id: str,
    change: Change,
    reason: str | None = None,
    now: datetime | None = None,
) -> Credential:
    """Revoke (final), suspend or unsuspend one credential; repeating a change changes nothing.
    ``reason`` is private: kept on the credential (a revocation's) and in the audit log, never in
    a status list, a webhook or the public page."""
    credential, event = await apply_change(
        session, principal=principal, signing=signing, issuer_id=issuer_id, credential_id=credential_id, change=change, reason=reason, now=now
    )
    if event is not None:
        await record(session, event)
    return credential


async def apply_change(
    session: AsyncSession,
    *,
    principal: Principal,
    signing: ListSigning,
    issuer_id: str,
    credential_id: str,
    change: Change,
    reason: str | None = None,
    now: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[Credential, Event | None]:
    """change_status without recording: the change, and its event (None when nothing changed)
    for the caller to record with the rest of its transaction's events (``data``: added to it)."""
    principal.require(issuer_id, "revoke")
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    now = now or datetime.now(UTC)
    credential = await session.scalar(
        select(Credential).where(Credential.id == credential_id, Credential.issuer_id == issuer_id).with_for_update()
    )
    if credential is None:
        raise NotFound(f"no credential {credential_id!r}")
    private = {"reason": reason} if reason is not None or change == "revoke" else {}

    def changed(kind: str) -> Event:
        return _changed(kind, credential, principal, signing, now, private=private, data=data)

    if change == "revoke":
        if credential.revocation_list_id is None or credential.revocation_index is None:
            raise Conflict("this credential was issued without a status entry and cannot be revoked")
        if credential.revoked_at is not None:
            return credential, None
        credential.revoked_at, credential.revocation_reason = now, reason
        value = combined.REVOKED if await _is_combined(session, credential) else 1
        await set_bit(session, credential.revocation_list_id, credential.revocation_index, value, signing, now)
        return credential, changed("credential.revoked")
    if await _is_combined(session, credential):
        assert credential.revocation_list_id is not None and credential.revocation_index is not None
        if credential.revoked_at is not None:
            raise Conflict("this credential is revoked; a revocation is final")
        suspend = change == "suspend"
        if (credential.suspended_at is not None) == suspend:
            return credential, None
        credential.suspended_at = now if suspend else None
        value = combined.SUSPENDED if suspend else combined.ACTIVE
        await set_bit(session, credential.revocation_list_id, credential.revocation_index, value, signing, now)
        return credential, changed("credential.suspended" if suspend else "credential.unsuspended")
    if credential.suspension_list_id is None or credential.suspension_index is None:
        raise Conflict(
            "this credential carries no suspension entry: the issuer did not offer suspension when it was awarded "
            "(issuer setting offers_suspension); revoke it instead"
        )
    if credential.revoked_at is not None:
        raise Conflict("this credential is revoked; a revocation is final")
    suspend = change == "suspend"
    if (credential.suspended_at is not None) == suspend:
        return credential, None
    credential.suspended_at = now if suspend else None
    await set_bit(session, credential.suspension_list_id, credential.suspension_index, int(suspend), signing, now)
    return credential, changed("credential.suspended" if suspend else "credential.unsuspended")


async def _is_combined(session: AsyncSession, credential: Credential) -> bool:
    """Whether the credential's one status entry carries both revocation and suspension."""
    if credential.revocation_list_id is None:
        return False
    purpose = await session.scalar(select(StatusList.purpose).where(StatusList.id == credential.revocation_list_id))
    return purpose == combined.PURPOSE


def _changed(
    kind: str, credential: Credential, principal: Principal, signing: ListSigning, now: datetime, *,
    private: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
) -> Event:
    """A status change as an event. The reason for a change goes to the audit log alone."""
    public = {"credential_id": credential.id, "url": credential_url(signing.base_url, credential.id), **(data or {})}
    return Event(kind, credential.issuer_id, principal.client_id, credential.id, now, public, private=private or {})


async def public_list(session: AsyncSession, *, signing: ListSigning, list_id: str) -> StatusList:
    """A status list for anyone, signed (and re-signed once it is older than a day, so its
    signature stays with a current key after a rotation)."""
    status_list = await session.get(StatusList, list_id)
    if status_list is None:
        raise NotFound(f"no status list {list_id!r}")
    now = datetime.now(UTC)
    if _unsigned_or_stale(status_list, now):
        locked = await _locked(session, list_id)  # another request may have signed it meanwhile
        assert locked is not None
        if _unsigned_or_stale(locked, now):
            unchanged_since = parse_datetime(locked.document["validFrom"]) if locked.document else locked.created_at
            await _sign(session, locked, signing, now, valid_from=unchanged_since)
        status_list = locked
    return status_list
