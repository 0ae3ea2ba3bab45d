"""The keys the database refers to: each issuer's current key, and the verification method of
every proof the service signed and keeps (credentials, VC-API credentials, endorsements, status
lists). Each must be in the key store, or the service cannot serve or re-sign what it names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Credential, Endorsement, Issuer, StatusList, VcApiCredential

__all__ = ["issuer_keys", "proof_keys"]

_SIGNED: tuple[Any, ...] = (Credential.document, VcApiCredential.document, Endorsement.document, StatusList.document)


async def issuer_keys(session: AsyncSession) -> dict[str, str]:
    """Issuer id -> the verification method id of the key it signs with now."""
    rows = await session.execute(select(Issuer.id, Issuer.current_key_id))
    return {issuer_id: key_id for issuer_id, key_id in rows}


async def proof_keys(session: AsyncSession) -> set[str]:
    """Every verification method a stored proof names (one proof per document: ours sign once)."""
    found: set[str] = set()
    for document in _SIGNED:
        method = document[("proof", "verificationMethod")].as_string()
        found.update(await session.scalars(select(method).where(method.is_not(None)).distinct()))
    return found
