from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, undefer

from ..db.models import (
    AddressLink,
    Credential,
    Issuer,
    Learner,
    LearnerAddress,
    LearnerCredential,
    LearnerPasskey,
    LearnerPasskeyChallenge,
    LearnerSession,
    ShareLink,
    SignInLink,
)

__all__ = ["BackpackRepository"]


class BackpackRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: LearnerAddress | AddressLink | ShareLink) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def other_addresses(self, learner_id: str) -> list[str]:
        return list(await self.session.scalars(select(LearnerAddress.email).where(LearnerAddress.learner_id == learner_id).order_by(LearnerAddress.email)))

    async def address(self, email: str) -> LearnerAddress | None:
        return await self.session.get(LearnerAddress, email)

    async def delete_address(self, learner_id: str, email: str) -> bool:
        result = await self.session.execute(delete(LearnerAddress).where(LearnerAddress.learner_id == learner_id, LearnerAddress.email == email))
        return getattr(result, "rowcount", 0) == 1

    async def pending_address_links(self, learner_id: str, now: datetime) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(AddressLink).where(AddressLink.learner_id == learner_id, AddressLink.used_at.is_(None), AddressLink.expires_at > now)
        )
        return int(count or 0)

    async def claim_address_link(self, token_hash: str, now: datetime) -> AddressLink | None:
        """Use an address link up, once (one statement, like a sign-in link)."""
        link = await self.session.get(AddressLink, token_hash)
        if link is None or link.used_at is not None or link.expires_at <= now:
            return None
        claimed = await self.session.execute(
            update(AddressLink)
            .where(AddressLink.token_hash == token_hash, AddressLink.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return link if getattr(claimed, "rowcount", 0) == 1 else None

    async def credentials(self, emails: Sequence[str]) -> list[tuple[Credential, str]]:
        """Every credential awarded to one of ``emails``, by any issuer, newest first, with its
        issuer's name (ix_credentials_recipient_email_issued)."""
        rows = await self.session.execute(
            select(Credential, Issuer.name)
            .join(Issuer, Issuer.id == Credential.issuer_id)
            .where(Credential.recipient_email.in_(list(emails)))
            .order_by(Credential.issued_at.desc(), Credential.id)
        )
        return [(credential, name) for credential, name in rows]

    async def with_issuers(self, emails: Sequence[str]) -> list[tuple[Credential, Issuer]]:
        """As :meth:`credentials`, with each credential's issuer and its stored logo (the ZIP's
        PDFs carry the issuer's branding, as the public download does)."""
        rows = await self.session.execute(
            select(Credential, Issuer)
            .join(Issuer, Issuer.id == Credential.issuer_id)
            .where(Credential.recipient_email.in_(list(emails)))
            .order_by(Credential.issued_at.desc(), Credential.id)
            .options(undefer(Issuer.logo))
        )
        return [(credential, issuer) for credential, issuer in rows]

    async def listing(self, emails: Sequence[str]) -> list[tuple[Credential, str, str]]:
        """As :meth:`credentials`, with each achievement's name read in the query and the signed
        documents left unloaded (decoding 200 of them was most of the backpack's time)."""
        title = Credential.document["credentialSubject"]["achievement"]["name"].as_string()
        rows = await self.session.execute(
            select(Credential, Issuer.name, title)
            .join(Issuer, Issuer.id == Credential.issuer_id)
            .where(Credential.recipient_email.in_(list(emails)))
            .order_by(Credential.issued_at.desc(), Credential.id)
            .options(defer(Credential.document, raiseload=True))
        )
        return [(credential, name, str(title or "")) for credential, name, title in rows]

    async def share_links(self, learner_id: str) -> list[ShareLink]:
        return list(await self.session.scalars(select(ShareLink).where(ShareLink.learner_id == learner_id).order_by(ShareLink.created_at)))

    async def share_link(self, token: str) -> ShareLink | None:
        return await self.session.get(ShareLink, token)

    async def delete_share_link(self, learner_id: str, token: str) -> bool:
        result = await self.session.execute(delete(ShareLink).where(ShareLink.learner_id == learner_id, ShareLink.token == token))
        return getattr(result, "rowcount", 0) == 1

    async def delete_learner(self, learner: Learner, emails: Sequence[str]) -> None:
        """The account and all that hangs on it (addresses, sessions, links, passkeys: ON DELETE CASCADE,
        deleted here too for SQLite without foreign keys), and its unused sign-in links."""
        for model in (LearnerAddress, AddressLink, ShareLink, LearnerPasskey, LearnerPasskeyChallenge):
            await self.session.execute(delete(model).where(model.learner_id == learner.id))
        await self.session.execute(delete(LearnerSession).where(LearnerSession.learner_id == learner.id))
        await self.session.execute(delete(LearnerCredential).where(LearnerCredential.learner_id == learner.id))
        await self.session.execute(delete(SignInLink).where(SignInLink.email.in_(list(emails))))
        await self.session.delete(learner)
        await self.session.flush()
