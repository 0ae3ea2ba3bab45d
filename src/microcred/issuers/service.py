"""Issuer profiles and their keys. The key store holds the keys; the database records which key
signs now, so every worker and host switches at the same commit when a key rotates."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..credentials.did import PublishedKey, did_web_from_url
from ..credentials.keys import did_key_from_public, public_key_from_multikey
from ..db.models import Issuer
from ..events import Event, record
from ..keystore import KeyStore, KeyStoreError
from ..problems import Conflict, NotFound, UnprocessableContent, field_error
from .key_lock import hold_for_rotation
from .repository import IssuerRepository
from .schemas import AddressIn, EmailSettingsIn, EmailSettingsOut, IssuerCreate, IssuerOut, IssuerUpdate, VcApiOut

__all__ = [
    "create_issuer",
    "did_document",
    "get_issuer",
    "issuer_out",
    "list_issuers",
    "profile",
    "published_keys",
    "reconcile_keys",
    "rotate_key",
    "update_issuer",
    "vc_api_identifier",
]


def profile(issuer: Issuer) -> dict[str, Any]:
    """The OB 3.0 Profile of the issuer, as credentials embed it."""
    document: dict[str, Any] = {"id": issuer.did, "type": ["Profile"], "name": issuer.name}
    if issuer.url:
        document["url"] = issuer.url
    if issuer.email:
        document["email"] = issuer.email
    if issuer.description:
        document["description"] = issuer.description
    if issuer.image:
        document["image"] = {"id": issuer.image, "type": "Image"}
    address = {
        "addressCountry": issuer.address_country,
        "addressCountryCode": issuer.address_country_code,
        "addressRegion": issuer.address_region,
    }
    if any(address.values()):
        document["address"] = {"type": ["Address"], **{k: v for k, v in address.items() if v}}
    return document


def vc_api_identifier(issuer: Issuer) -> str:
    """The issuer VC-API credentials carry: the issuer's did:web, or the did:key of its current
    key (the key store names each key ``<did>#<publicKeyMultibase>``)."""
    if issuer.vc_api_did_method == "did:key":
        return did_key_from_public(public_key_from_multikey(issuer.current_key_id.rpartition("#")[2]))
    return issuer.did


def _check_vc_api(issuer: Issuer) -> None:
    if issuer.vc_api_status and issuer.vc_api_did_method == "did:key":
        raise UnprocessableContent(
            "VC-API status entries need did:web: status lists are signed by the issuer's did:web, and a verifier wants "
            "them signed by the credential's own issuer",
            errors=[field_error("/vc_api/status", "only with did_method did:web")],
        )


def issuer_out(issuer: Issuer) -> IssuerOut:
    address = None
    if issuer.address_country or issuer.address_country_code or issuer.address_region:
        address = AddressIn(country=issuer.address_country, country_code=issuer.address_country_code, region=issuer.address_region)
    return IssuerOut(
        id=issuer.id,
        did=issuer.did,
        name=issuer.name,
        url=issuer.url,
        email=issuer.email,
        description=issuer.description,
        image=issuer.image,
        address=address,
        hash_recipient_emails=issuer.hash_recipient_emails,
        cryptosuite=issuer.cryptosuite,
        offers_suspension=issuer.offers_suspension,
        extension_context=issuer.extension_context,
        linkedin_organization_id=issuer.linkedin_organization_id,
        vc_api=VcApiOut(
            enabled=issuer.vc_api_enabled, did_method=issuer.vc_api_did_method, status=issuer.vc_api_status, issuer=vc_api_identifier(issuer)
        ),
        verification_method=issuer.current_key_id,
        profile=profile(issuer),
        created_at=issuer.created_at,
        updated_at=issuer.updated_at,
        emails=EmailSettingsOut(
            enabled=issuer.email_enabled, rate_per_second=issuer.email_rate_per_second, sender_name=issuer.email_sender_name,
            reply_to=issuer.email_reply_to, notify_on_revocation=issuer.notify_on_revocation,
        ),
        default_language=issuer.default_language,
    )


def _slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].strip("-")
    return slug or "issuer"


async def create_issuer(
    session: AsyncSession, *, principal: Principal, keystore: KeyStore, base_url: str, data: IssuerCreate, now: datetime
) -> Issuer:
    principal.require_admin()
    repository = IssuerRepository(session)
    issuer_id = data.id or _slugify(data.name)
    if await repository.get(issuer_id) is not None:
        raise Conflict(f"issuer {issuer_id!r} exists already", errors=[{"pointer": "#/id", "detail": "taken"}])
    did = host_did(base_url) if data.host_did else did_web_from_url("https://" + base_url.split("://", 1)[1], "issuers", issuer_id)
    if data.host_did and await session.scalar(select(Issuer.id).where(Issuer.did == did)) is not None:
        raise Conflict(f"another issuer already has {did}", errors=[{"pointer": "#/host_did", "detail": "taken: one issuer per host"}])
    key = await asyncio.to_thread(_first_key, keystore, did, now)
    issuer = Issuer(
        id=issuer_id,
        did=did,
        name=data.name,
        url=data.url,
        email=data.email,
        description=data.description,
        image=data.image,
        hash_recipient_emails=data.hash_recipient_emails,
        cryptosuite=data.cryptosuite,
        offers_suspension=data.offers_suspension,
        extension_context=data.extension_context,
        linkedin_organization_id=data.linkedin_organization_id,
        default_language=data.default_language,
        current_key_id=key.id,
        created_at=now,
        updated_at=now,
    )
    _set_address(issuer, data.address)
    issuer.email_enabled, issuer.email_rate_per_second, issuer.notify_on_revocation = True, 10.0, False
    _set_emails(issuer, data.emails)
    if data.vc_api is not None:
        issuer.vc_api_enabled, issuer.vc_api_did_method, issuer.vc_api_status = data.vc_api.enabled, data.vc_api.did_method, data.vc_api.status
    else:
        issuer.vc_api_enabled, issuer.vc_api_did_method, issuer.vc_api_status = False, "did:web", False
    _check_vc_api(issuer)
    await repository.add(issuer)
    await record(session, Event("issuer.created", issuer.id, principal.client_id, issuer.id, now, {"did": did, "name": issuer.name, "key_id": key.id}))
    return issuer


def host_did(base_url: str) -> str:
    """The host's own did:web (``did:web:<host>``), whose document is /.well-known/did.json."""
    # did:web always resolves over https; a development base URL on plain http still names the
    # same host and port (its DID documents are then only usable by this installation).
    return did_web_from_url("https://" + base_url.split("://", 1)[1])


def _first_key(keystore: KeyStore, did: str, now: datetime) -> PublishedKey:
    # Keys left by an earlier attempt whose transaction failed are reused, not duplicated.
    if keystore.published_keys(did):
        return keystore.current_key(did)
    return keystore.generate(did, now=now)


def _set_address(issuer: Issuer, address: AddressIn | None) -> None:
    issuer.address_country = address.country if address else None
    issuer.address_country_code = address.country_code if address else None
    issuer.address_region = address.region if address else None


async def get_issuer(
    session: AsyncSession, *, principal: Principal, issuer_id: str, for_update: bool = False, for_share: bool = False
) -> Issuer:
    """The issuer, if the caller may see it; ``for_share`` keeps it from changing (publishing an
    achievement checks its EU elements) without holding up awards."""
    principal.check_issuer(issuer_id)
    issuer = await IssuerRepository(session).get(issuer_id, for_update=for_update, for_share=for_share)
    if issuer is None:
        raise NotFound(f"no issuer {issuer_id!r}")
    return issuer


async def list_issuers(session: AsyncSession, *, principal: Principal) -> Sequence[Issuer]:
    return await IssuerRepository(session).all(only=principal.issuer_id)


async def update_issuer(
    session: AsyncSession, *, principal: Principal, issuer_id: str, data: IssuerUpdate, now: datetime
) -> Issuer:
    principal.require(issuer_id, "manage")
    issuer = await get_issuer(session, principal=principal, issuer_id=issuer_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    for field in (
        "name", "url", "email", "description", "image", "hash_recipient_emails", "cryptosuite", "offers_suspension", "extension_context",
        "linkedin_organization_id", "default_language",
    ):
        if field in changes:
            if field in ("name", "hash_recipient_emails", "cryptosuite", "offers_suspension", "extension_context", "default_language") and changes[field] is None:
                continue  # required columns: null means "leave as is"
            setattr(issuer, field, changes[field])
    if "address" in changes:
        _set_address(issuer, data.address)
        await _keep_eu_elements(session, issuer)
    if data.vc_api is not None:
        for field, value in data.vc_api.model_dump(exclude_unset=True).items():
            if value is not None:
                setattr(issuer, f"vc_api_{field}", value)
        _check_vc_api(issuer)
    _set_emails(issuer, data.emails)
    issuer.updated_at = now
    await session.flush()
    if changes:
        await record(session, Event("issuer.updated", issuer.id, principal.client_id, issuer.id, now, {"fields": sorted(changes)}))
    return issuer


def _set_emails(issuer: Issuer, data: EmailSettingsIn | None) -> None:
    """The learner email settings given (a null leaves a switch or the rate as is, and clears a name or address)."""
    if data is None:
        return
    for field, column in (
        ("enabled", "email_enabled"), ("rate_per_second", "email_rate_per_second"), ("sender_name", "email_sender_name"),
        ("reply_to", "email_reply_to"), ("notify_on_revocation", "notify_on_revocation"),
    ):
        if field in data.model_fields_set:
            value = getattr(data, field)
            if value is None and field in ("enabled", "rate_per_second", "notify_on_revocation"):
                continue
            setattr(issuer, column, value)


async def _keep_eu_elements(session: AsyncSession, issuer: Issuer) -> None:
    """The awarding body's country is an EU mandatory element of every micro-credential: once an
    achievement is published (and publishing checked it), the issuer may change it, not drop it,
    or later awards would go out without it."""
    if issuer.address_country or issuer.address_country_code:
        return
    published = await IssuerRepository(session).published_achievement_names(issuer.id)
    if published:
        shown = ", ".join(repr(name) for name in published[:3]) + (f" and {len(published) - 3} more" if len(published) > 3 else "")
        raise UnprocessableContent(
            f"the issuer's country is an EU mandatory element of its published achievements ({shown}): "
            "it can be changed (address.country or address.country_code), not removed",
            errors=[field_error("/address/country", "required while the issuer has published achievements")],
        )


async def rotate_key(
    session: AsyncSession, *, principal: Principal, keystore: KeyStore, issuer_id: str, now: datetime | None = None
) -> PublishedKey:
    """A new current key; the old one is retired at ``now`` and stays published, so every
    credential it signed keeps verifying. An award in flight on another worker signs before the
    switch or after it, never with a key already retired (see key_lock)."""
    principal.require(issuer_id, "manage")
    # The key lock before the row lock: an award holding the key lock takes a key-share lock on
    # the issuer row (its foreign key) before it commits, so the reverse order could deadlock.
    await hold_for_rotation(session, issuer_id)
    issuer = await get_issuer(session, principal=principal, issuer_id=issuer_id, for_update=True)
    # The time is read once the lock is held: awards that were signing have committed by then.
    now = now or datetime.now(UTC)
    try:
        key = await asyncio.to_thread(keystore.rotate, issuer.did, now=now)
    except KeyStoreError as exc:
        raise Conflict(f"cannot rotate the key of {issuer_id!r}: {exc}") from exc
    previous = issuer.current_key_id
    issuer.current_key_id = key.id
    issuer.updated_at = now
    await session.flush()
    await record(session, Event("key.rotated", issuer.id, principal.client_id, key.id, now, {"key_id": key.id, "previous_key_id": previous}))
    return key


async def published_keys(session: AsyncSession, *, principal: Principal, keystore: KeyStore, issuer_id: str) -> list[PublishedKey]:
    issuer = await get_issuer(session, principal=principal, issuer_id=issuer_id)
    return await asyncio.to_thread(keystore.published_keys, issuer.did)


async def did_document(session: AsyncSession, *, principal: Principal, keystore: KeyStore, issuer_id: str) -> dict[str, Any]:
    """The DID document the issuer's did:web serves: every key, the retired ones with ``expires``."""
    issuer = await get_issuer(session, principal=principal, issuer_id=issuer_id)
    return await asyncio.to_thread(keystore.did_document, issuer.did)


async def reconcile_keys(session: AsyncSession, *, keystore: KeyStore) -> list[str]:
    """Point every issuer at the key store's current key (after a rotation whose database commit
    failed, the files are ahead). Returns the ids of issuers that were behind."""
    behind = []
    for issuer in await IssuerRepository(session).all():
        current = await asyncio.to_thread(keystore.current_key, issuer.did)
        if current.id != issuer.current_key_id:
            issuer.current_key_id = current.id
            behind.append(issuer.id)
    await session.flush()
    return behind
