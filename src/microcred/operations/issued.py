"""``microcred_credentials_issued_total``: credentials counted when the transaction that issued
them commits. An event subscriber (wired in :mod:`microcred.runtime`): it notes the
``credential.issued`` events a transaction records and counts them from the session's
after-commit hook, so an award that is signed and then rolled back is never counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ..events import Event
from .metrics import CREDENTIALS_ISSUED

__all__ = ["count_issued"]

#: session.info key: credentials issued per issuer in the open transaction, not yet counted.
_PENDING = "microcred.issued_pending"


async def count_issued(session: AsyncSession, events: Sequence[Event]) -> None:
    issued = Counter(e.issuer_id or "" for e in events if e.type == "credential.issued")
    if not issued:
        return
    if _PENDING not in session.info:  # once per session: it may run several transactions
        event.listen(session.sync_session, "after_commit", _count)
        event.listen(session.sync_session, "after_rollback", _forget)
        session.info[_PENDING] = Counter()
    session.info[_PENDING].update(issued)


def _count(session: Session) -> None:
    for issuer_id, count in session.info[_PENDING].items():
        CREDENTIALS_ISSUED.labels(issuer_id).inc(count)
    session.info[_PENDING].clear()


def _forget(session: Session) -> None:
    session.info[_PENDING].clear()
