"""Which language a credential is written in.

One language per credential, chosen when it is awarded: the learner's own setting (a learner
account with the recipient's email address), else the language the award asks for (an LMS
that knows its learner's language), else the issuer's default. The achievement embedded is
its translation into that language when it has one, else its own text; ``inLanguage`` says
which it is.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Learner
from ..i18n.languages import DEFAULT, supported_or_none

__all__ = ["choose", "learner_languages"]


def choose(*, learner: str | None, requested: str | None, issuer_default: str | None) -> str:
    """The language of one credential (pure: the caller looked the learner up)."""
    return supported_or_none(learner) or supported_or_none(requested) or supported_or_none(issuer_default) or DEFAULT


async def learner_languages(session: AsyncSession, emails: Collection[str]) -> dict[str, str]:
    """The language setting of each learner account among ``emails`` (lower-cased) that has
    one, in one query."""
    if not emails:
        return {}
    rows = await session.execute(
        select(Learner.email, Learner.language).where(Learner.email.in_(sorted(emails)), Learner.language.is_not(None))
    )
    return {email: language for email, language in rows if language}
