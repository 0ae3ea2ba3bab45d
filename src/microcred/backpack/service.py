"""The backpack's use cases: a learner's addresses and credentials (across issuers), each
credential's visibility, share-all links, and deleting the account.

Credentials are the learner's when awarded to one of their verified addresses: the account's own
(proved at sign-in) and any other they proved by a link sent to it. Deleting the account removes
the account, addresses, sessions and links; credentials stay issued and verifiable (they belong
to the issuers' records and the learner's files).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..awards.document import credential_url
from ..i18n import SUPPORTED, gettext
from ..learners.repository import LearnerRepository
from ..db.models import AddressLink, Credential, Issuer, Learner, LearnerAddress, ShareLink
from ..images.service import badge_of
from ..problems import BadRequest, Conflict, NotFound, field_error
from ..status.service import credential_state
from ..tokens import new_token, token_digest
from .repository import BackpackRepository

__all__ = [
    "ADDRESS_LINK_SECONDS",
    "VISIBILITIES",
    "Entry",
    "addresses",
    "confirm_address",
    "delete_account",
    "documents",
    "entries",
    "make_share_link",
    "page_url",
    "remove_address",
    "request_address",
    "revoke_share_link",
    "set_language",
    "set_visibility",
    "share_links",
    "shared",
]

ADDRESS_LINK_SECONDS = 60 * 60
VISIBILITIES = ("listed", "public", "unlisted")
#: Addresses one account may hold: enough for work, home and school, not a harvesting tool.
MAX_ADDRESSES = 10
#: Address links one account may have waiting: the form cannot be used to flood mailboxes.
MAX_PENDING_ADDRESS_LINKS = 5


def page_url(base_url: str, credential: Credential) -> str:
    """The credential page's URL as the learner shares it: with its secret part when unlisted."""
    url = credential_url(base_url, credential.id)
    return f"{url}?k={credential.page_secret}" if credential.visibility == "unlisted" and credential.page_secret else url


@dataclass(frozen=True)
class Entry:
    """One credential as the backpack lists it."""

    credential: Credential
    title: str
    issuer_name: str
    issued_on: datetime
    state: str
    page_url: str
    plain_url: str
    linkedin_url: str | None


async def addresses(session: AsyncSession, learner: Learner) -> list[str]:
    """The learner's verified addresses, the account's own first."""
    return [learner.email, *await BackpackRepository(session).other_addresses(learner.id)]


async def entries(session: AsyncSession, learner: Learner, *, base_url: str, now: datetime) -> list[Entry]:
    """Every credential awarded to one of the learner's addresses, by any issuer, newest first."""
    repository = BackpackRepository(session)
    out = []
    for credential, issuer_name, title in await repository.listing(await addresses(session, learner)):
        state = credential_state(credential, now=now)
        plain = credential_url(base_url, credential.id)
        out.append(
            Entry(
                credential=credential,
                title=title,
                issuer_name=issuer_name,
                issued_on=credential.issued_at,
                state=state,
                page_url=page_url(base_url, credential),
                plain_url=plain,
                linkedin_url=f"{plain}/linkedin" if state == "active" and credential.visibility != "unlisted" else None,
            )
        )
    return out


@dataclass(frozen=True)
class Archived:
    """A credential for the ZIP: as signed, with its issuer and stored logo to brand its PDF."""

    document: dict[str, Any]
    issuer: Issuer
    logo: bytes | None
    #: the achievement's image as stored here (media type, bytes), when it names one of ours
    badge: tuple[str, bytes] | None = None


async def documents(session: AsyncSession, learner: Learner, base_url: str) -> list[Archived]:
    """Every credential of the learner as signed, newest first (the ZIP)."""
    found = await BackpackRepository(session).with_issuers(await addresses(session, learner))
    return [
        Archived(c.document, issuer, issuer.logo if issuer.logo_digest is not None else None, await badge_of(session, c.document, base_url))
        for c, issuer in found
    ]


async def _own_credential(session: AsyncSession, learner: Learner, credential_id: str) -> Credential:
    credential = await session.get(Credential, credential_id)
    if credential is None or credential.recipient_email not in await addresses(session, learner):
        raise NotFound(gettext("That credential is not in your backpack."))
    return credential


async def set_visibility(session: AsyncSession, learner: Learner, *, credential_id: str, visibility: str) -> Credential:
    """Who may see the credential's page. Making it unlisted gives it a new secret (so a link
    shared before stops working when it is unlisted again)."""
    if visibility not in VISIBILITIES:
        raise BadRequest(gettext("Choose listed, public or unlisted."), errors=[field_error("/visibility", "not one of listed, public, unlisted")])
    credential = await _own_credential(session, learner, credential_id)
    if visibility == "unlisted" and credential.visibility != "unlisted":
        credential.page_secret = new_token()
    credential.visibility = visibility
    await session.flush()
    return credential


async def request_address(session: AsyncSession, learner: Learner, *, email: str, now: datetime) -> str:
    """A one-time link's token (to be sent to ``email``) that adds it to the learner's addresses."""
    repository = BackpackRepository(session)
    known = await addresses(session, learner)
    if email in known:
        raise Conflict(gettext("That address is already one of yours."))
    if len(known) >= MAX_ADDRESSES:
        raise Conflict(gettext("An account holds at most %(count)s addresses: remove one first.") % {"count": MAX_ADDRESSES})
    if await repository.pending_address_links(learner.id, now) >= MAX_PENDING_ADDRESS_LINKS:
        raise Conflict(gettext("Several address links are already waiting to be opened: open one, or try again in an hour."))
    token = new_token()
    await repository.add(
        AddressLink(token_hash=token_digest(token), learner_id=learner.id, email=email, created_at=now, expires_at=now + timedelta(seconds=ADDRESS_LINK_SECONDS))
    )
    return token


async def confirm_address(session: AsyncSession, *, token: str, now: datetime) -> str:
    """Use an address link: its address becomes its learner's. 400 when the link works no more;
    409 when the address is already another account's (its owner can delete that account)."""
    repository = BackpackRepository(session)
    link = await repository.claim_address_link(token_digest(token), now)
    if link is None:
        raise BadRequest(gettext("This link does not work any more: each works once, for an hour. Add the address again from your backpack."))
    existing = await repository.address(link.email)
    if existing is not None:
        if existing.learner_id == link.learner_id:
            return link.email
        raise Conflict(gettext("That address already belongs to another account."))
    if await session.get(Learner, link.learner_id) is None:
        raise BadRequest(gettext("The account that asked for this address no longer exists."))
    if (owner := await LearnerRepository(session).by_email(link.email)) is not None and owner.id != link.learner_id:
        raise Conflict(gettext("That address has an account of its own: sign in with it and delete that account first, or keep them apart."))
    await repository.add(LearnerAddress(email=link.email, learner_id=link.learner_id, verified_at=now))
    return link.email


async def remove_address(session: AsyncSession, learner: Learner, *, email: str) -> None:
    """Remove one of the learner's added addresses: its credentials leave the backpack (they stay
    issued). The address the account signs in with stays: it is the account."""
    address = email.strip().lower()
    if address == learner.email:
        raise BadRequest(
            gettext("You sign in with this address, so it stays. To remove it, delete your account."),
            errors=[field_error("/email", "the account's own address")],
        )
    if not await BackpackRepository(session).delete_address(learner.id, address):
        raise NotFound(gettext("That address is not one of your added addresses."))


async def set_language(session: AsyncSession, learner: Learner, *, language: str) -> str:
    """The learner's language for their pages and emails; 400 for one the service does not speak."""
    if language not in SUPPORTED:
        raise BadRequest(gettext("Choose one of the languages listed."), errors=[field_error("/language", f"one of {', '.join(SUPPORTED)}")])
    learner.language = language
    await session.flush()
    return language


async def share_links(session: AsyncSession, learner: Learner) -> list[ShareLink]:
    return await BackpackRepository(session).share_links(learner.id)


async def make_share_link(session: AsyncSession, learner: Learner, *, include_unlisted: bool, now: datetime) -> ShareLink:
    link = ShareLink(token=new_token(), learner_id=learner.id, include_unlisted=include_unlisted, created_at=now)
    await BackpackRepository(session).add(link)
    return link


async def revoke_share_link(session: AsyncSession, learner: Learner, *, token: str) -> None:
    if not await BackpackRepository(session).delete_share_link(learner.id, token):
        raise NotFound(gettext("That share link is not yours, or was revoked already."))


async def shared(session: AsyncSession, *, token: str) -> tuple[Learner, list[Credential]]:
    """What a share-all link shows: the learner's credentials, newest first, without the
    unlisted ones unless the link includes them. 404 for a revoked or unknown link."""
    repository = BackpackRepository(session)
    link = await repository.share_link(token) if 0 < len(token) <= 64 else None
    learner = await session.get(Learner, link.learner_id) if link is not None else None
    if link is None or learner is None:
        raise NotFound(gettext("This share link does not exist, or its owner revoked it."))
    found = await repository.credentials(await addresses(session, learner))
    return learner, [c for c, _ in found if link.include_unlisted or c.visibility != "unlisted"]


async def delete_account(session: AsyncSession, learner: Learner) -> None:
    """The account, its addresses, sessions and links go; its credentials stay issued."""
    await BackpackRepository(session).delete_learner(learner, await addresses(session, learner))
