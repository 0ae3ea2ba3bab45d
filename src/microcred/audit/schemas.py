from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEntryOut(BaseModel):
    seq: int = Field(description="the entry's place in the service's one chain: 1, 2, 3... without gaps")
    event_id: str = Field(description="the event's id; webhook deliveries of it carry it as webhook-id")
    at: datetime
    issuer_id: str | None
    actor: str = Field(description="the API client that did it, `cli` for the command line, `job:<id>` for a bulk-award job")
    action: str = Field(description="e.g. credential.issued, credential.revoked, key.rotated, issuer.updated")
    subject: str = Field(description="what it is about: a credential, achievement, key, client or webhook id")
    data: dict[str, Any]
    prev_hash: str = Field(description="hash of the entry before (64 zeros for the first)")
    hash: str = Field(description="hex SHA-256 of the RFC 8785 encoding of this entry's fields and prev_hash")


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before: int | None = Field(description="pass as `before` for the next (older) page; null on the last")
