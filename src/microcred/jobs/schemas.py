from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class JobRowOut(BaseModel):
    row: int = Field(description="1-based position in the file (CSV: not counting the header)")
    status: Literal["pending", "awarded", "duplicate", "incomplete", "failed"] = Field(
        description="for a pathway evaluation, each row is a learner: awarded (issued now), duplicate (held it already) or incomplete"
    )
    credential_id: str | None
    credential_url: str | None
    error: dict[str, Any] | None


class JobOut(BaseModel):
    id: str
    issuer_id: str
    kind: Literal["awards", "pathway"] = Field(description="awards: a bulk file; pathway: a new pathway evaluating earlier awards")
    pathway_id: str | None
    status: Literal["queued", "running", "completed"]
    format: str
    total: int
    processed: int
    awarded: int
    duplicates: int = Field(description="rows awarded before (by an earlier request or file): not awarded twice")
    failed: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rows: list[JobRowOut] = Field(description="a page of rows, see rows_after and rows_limit")
    next_rows_after: int | None
