from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEntryOut(BaseModel):
    seq: int = Field(description="the entry's place in the whole log, which lists newest first: increasing, with gaps")
    chain: str = Field(
        description="the hash chain it is in: `issuer:<issuer id>`, `service` (entries of no issuer), or `legacy` (written before per-issuer chains)"
    )
    chain_seq: int = Field(description="its place in its chain: 1, 2, 3... without gaps")
    event_id: str = Field(description="the event's id; webhook deliveries of it carry it as webhook-id")
    at: datetime
    issuer_id: str | None
    actor: str = Field(description="the API client that did it, `cli` for the command line, `job:<id>` for a bulk-award job")
    action: str = Field(description="e.g. credential.issued, credential.revoked, key.rotated, issuer.updated")
    subject: str = Field(description="what it is about: a credential, achievement, key, client or webhook id")
    data: dict[str, Any]
    prev_hash: str = Field(
        description="hash of the entry before it in its chain (for a chain's first: the legacy chain's last hash, or 64 zeros if there is none)"
    )
    hash: str = Field(description="hex SHA-256 of the RFC 8785 encoding of this entry's fields (with chain and chain_seq) and prev_hash")


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before: int | None = Field(description="pass as `before` for the next (older) page; null on the last")
