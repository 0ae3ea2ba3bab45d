"""How far a learner is along each pathway: which components they hold (and in what standing),
which are missing and who gives them, and the pathway credential once issued.

A learner is matched by the emails their credentials were awarded to (lower-cased, as pathway
completion matches them): a signed-in learner's every verified address counts, so a course
awarded to a work address and one to a private address are both theirs. Read only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Credential, Pathway, PathwayComponent, PathwayCompletion
from ..status.service import credential_state
from .completion import Learner

__all__ = ["ComponentProgress", "PathwayProgress", "progress"]

#: Most useful first: a valid credential beats a suspended one, which beats an expired or revoked one.
_RANK = {"active": 0, "suspended": 1, "expired": 2, "revoked": 3}


@dataclass(frozen=True)
class ComponentProgress:
    achievement_id: str
    #: "valid", "suspended", "expired", "revoked", or "missing" (never awarded to them)
    state: str
    credential_id: str | None


@dataclass(frozen=True)
class PathwayProgress:
    pathway_id: str
    components: list[ComponentProgress]
    needed: int
    #: the pathway credential, once issued
    credential_id: str | None

    @property
    def held(self) -> int:
        return sum(1 for c in self.components if c.state == "valid")

    @property
    def started(self) -> bool:
        return self.credential_id is not None or any(c.state != "missing" for c in self.components)


async def progress(session: AsyncSession, *, emails: Sequence[str], now: datetime, pathway_ids: Sequence[str] | None = None) -> list[PathwayProgress]:
    """The learner's progress on the given active pathways (all active ones when None), over
    the credentials awarded to any of ``emails`` (their verified addresses)."""
    learners = [learner for learner in {Learner.of(email, None) for email in emails if email} if learner is not None and learner.email]
    if not learners:
        return []
    query = select(Pathway).where(Pathway.status == "active")
    if pathway_ids is not None:
        query = query.where(Pathway.id.in_(list(pathway_ids)))
    pathways = (await session.scalars(query.order_by(Pathway.name, Pathway.id))).all()
    if not pathways:
        return []
    ids = [p.id for p in pathways]
    components: dict[str, list[PathwayComponent]] = {}
    for component in await session.scalars(select(PathwayComponent).where(PathwayComponent.pathway_id.in_(ids)).order_by(PathwayComponent.position, PathwayComponent.achievement_id)):
        components.setdefault(component.pathway_id, []).append(component)
    best: dict[str, tuple[str, str]] = {}
    held = await session.scalars(select(Credential).where(Credential.recipient_email.in_(sorted(str(learner.email) for learner in learners))))
    for credential in held:
        state = credential_state(credential, now=now)
        current = best.get(credential.achievement_id)
        if current is None or _RANK[state] < _RANK[current[0]]:
            best[credential.achievement_id] = (state, credential.id)
    keys = sorted(learner.key for learner in learners)
    earned = (
        select(PathwayCompletion.pathway_id, PathwayCompletion.credential_id)
        .where(PathwayCompletion.pathway_id.in_(ids), PathwayCompletion.recipient_key.in_(keys))
        .order_by(PathwayCompletion.credential_id)
    )
    completions: dict[str, str] = {}
    for pathway_id, credential_id in await session.execute(earned):
        completions.setdefault(pathway_id, credential_id)  # completed at two addresses: one is enough to show
    out = []
    for pathway in pathways:
        parts = components.get(pathway.id, [])
        rows = []
        for part in parts:
            held_as = best.get(part.achievement_id)
            if held_as is None:
                rows.append(ComponentProgress(part.achievement_id, "missing", None))
            else:
                rows.append(ComponentProgress(part.achievement_id, "valid" if held_as[0] == "active" else held_as[0], held_as[1]))
        needed = pathway.min_count if pathway.rule == "at_least" and pathway.min_count else len(parts)
        out.append(PathwayProgress(pathway.id, rows, needed, completions.get(pathway.id)))
    return out
