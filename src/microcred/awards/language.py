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

from ..db.models import Learner, LearnerAddress
from ..i18n.languages import DEFAULT, supported_or_none

__all__ = ["choose", "learner_languages"]


def choose(*, learner: str | None, requested: str | None, issuer_default: str | None) -> str:
    """The language of one credential (pure: the caller looked the learner up)."""
    return supported_or_none(learner) or supported_or_none(requested) or supported_or_none(issuer_default) or DEFAULT


async def learner_languages(session: AsyncSession, emails: Collection[str]) -> dict[str, str]:
    """The language setting of the learner behind each of ``emails`` (lower-cased) that has
    one: the account's own address, or an address the learner added and verified."""
    if not emails:
        return {}
    wanted = sorted(emails)
    own = select(Learner.email, Learner.language).where(Learner.email.in_(wanted), Learner.language.is_not(None))
    added = (
        select(LearnerAddress.email, Learner.language)
        .join(Learner, Learner.id == LearnerAddress.learner_id)
        .where(LearnerAddress.email.in_(wanted), Learner.language.is_not(None))
    )
    found = {email: language for email, language in await session.execute(added) if language}
    found.update({email: language for email, language in await session.execute(own) if language})  # the account's own address first
    return found
