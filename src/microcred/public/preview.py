"""What a credential for an achievement would look like, before anything is published or awarded:
the unsigned document a sample learner would get, its public page (the same template, marked as
a preview) and its badge image. Nothing is signed, no status list entry is taken, nothing is
stored: a preview is never a credential."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..achievements import service as achievements
from ..achievements.document import achievement_document, own_language
from ..auth.principal import Principal
from ..awards.document import credential_document
from ..awards.schemas import AwardIn, RecipientIn
from ..credentials import eu_elements
from ..credentials.baking import default_badge_svg
from ..issuers.service import get_issuer, profile
from ..problems import UnprocessableContent, field_error
from . import credentials
from .assets import brand_css_url, logo_url, own_image
from .page import PageView, render_credential_page

__all__ = ["NO_OUTCOMES_YET", "SAMPLE_LEARNER", "Preview", "preview_achievement"]

#: What a preview shows where a draft gives no learning outcomes yet.
NO_OUTCOMES_YET = "(No learning outcomes given yet: publishing needs them.)"
#: Who the preview is "awarded" to; example.org is reserved, so it is nobody's address.
SAMPLE_LEARNER = RecipientIn(email="sample.learner@example.org", name="Sample Learner")


@dataclass(frozen=True)
class Preview:
    #: the credential a sample learner would get, unsigned: no ``proof``, no ``credentialStatus``
    document: dict[str, Any]
    #: the EU elements still missing, in words (publishing needs none)
    missing: list[str]
    #: the public credential page, marked as a preview
    page_html: str
    #: the badge image (plain SVG: nothing baked into it)
    badge_svg: str


async def preview_achievement(
    session: AsyncSession,
    *,
    principal: Principal,
    issuer_id: str,
    achievement_id: str,
    base_url: str,
    now: datetime,
    definition: dict[str, Any] | None = None,
) -> Preview:
    """The preview of an achievement as it stands (or of ``definition``, an edit not saved yet)."""
    issuer = await get_issuer(session, principal=principal, issuer_id=issuer_id)
    achievement = await achievements.get_achievement(session, principal=principal, issuer_id=issuer_id, achievement_id=achievement_id)
    definition = achievement.definition if definition is None else definition
    missing = achievements.missing_names(definition, issuer)
    if not definition.get("name"):
        raise UnprocessableContent("an achievement needs a name to be previewed", errors=[field_error("/name", "required")])
    if not definition.get("learning_outcomes") and not (definition.get("criteria") or {}).get("narrative"):
        # OB 3.0 needs criteria: a draft without them is shown with the gap named, not refused.
        definition = {**definition, "criteria": {**(definition.get("criteria") or {}), "narrative": NO_OUTCOMES_YET}}
    number = achievement.version + 1 if achievement.status == "draft" else achievement.version
    try:
        achievement_doc = achievement_document(
            definition,
            achievement_url=achievements.achievement_url(base_url, issuer.id, achievement.id, version=number),
            version=number,
            language=own_language(definition, default=issuer.default_language),
        )
    except ValueError as exc:
        raise UnprocessableContent(str(exc)) from None
    document = credential_document(
        AwardIn(achievement_id=achievement.id, recipient=SAMPLE_LEARNER, completion_date=now),
        credential_id="preview",
        base_url=base_url,
        issuer_profile=profile(issuer),
        achievement=achievement_doc,
        hash_email=issuer.hash_recipient_emails,
        now=now,
        extension_context=eu_elements.extension_context_url(base_url) if issuer.extension_context else None,
    )
    # Not the URL a credential would have: a preview must not look like one that could be shared.
    document["id"] = f"urn:uuid:{uuid.uuid4()}"
    shown = credentials.facts(document)
    image = achievement_doc.get("image")
    view = PageView(
        credential_id=shown.credential_id,
        public_url=shown.public_url,
        title=shown.title,
        kind=shown.kind,
        description=shown.description,
        image_url=own_image(image.get("id") if isinstance(image, dict) else None, base_url),
        learner_name=shown.learner_name,
        issuer_name=shown.issuer_name,
        issuer_url=document["issuer"].get("url"),
        provider_name=shown.provider_name,
        issued_on=shown.issued_on,
        valid_until=shown.valid_until,
        status="valid",  # not shown: a preview has no status
        status_detail="",
        checks=[],
        elements=shown.elements,
        downloads=[],
        linkedin_url=None,
        verify_url=f"{base_url}/verify",
        json_ld_url="",
        completed_on=shown.completed_on,
        results=shown.results,
        issuer_country=shown.issuer_country,
        preview=True,
        logo_url=logo_url(issuer, base_url),
        brand_css_url=brand_css_url(issuer, base_url),
        skills=credentials.skills(achievement_doc),
    )
    return Preview(
        document=document,
        missing=missing,
        page_html=render_credential_page(view),
        badge_svg=default_badge_svg(shown.title, shown.issuer_name),
    )
