"""The public side: credential URLs (for people and machines), issuers' DID documents and
profiles, and status lists (status.router). No API key; nothing beyond what credentials say."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from ..achievements import service as achievements
from ..awards.document import credential_json, credential_url
from ..awards.reissue import replacement_of
from ..credentials import CONTEXTS, VerificationReport, eu_elements
from ..credentials.baking import bake_png, bake_svg, default_badge_png, default_badge_svg
from ..credentials.did import MULTIKEY_CONTEXT_V1, verification_method
from ..credentials.loader import bundled_context_bytes
from ..credentials.vc_jwt import encode_vc_jwt
from ..db.models import Issuer
from ..documents import CertificateContent, certificate_pdf
from ..endorsements.service import standing_endorsements
from ..images.service import badge_of
from ..i18n import format_date, gettext, negotiate
from ..issuers.repository import IssuerRepository
from ..issuers.branding import BrandingError, brand_css, palette
from ..issuers.service import host_did, profile
from ..problems import NotFound
from ..status.service import credential_state
from ..usage.service import counted
from ..web.deps import RuntimeDep, SessionDep, check_url
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from ..verification.service import Verification
from . import credentials
from .assets import brand_css_url, logo_url, own_image
from .linkedin import add_to_profile_url
from .page import ComponentView, PageView, render_credential_page, status_of

__all__ = ["certificate_download", "page_view", "router"]

router = APIRouter(tags=["public"], responses=PROBLEMS, dependencies=[Depends(check_url)], route_class=StrictJsonRoute)

JSON_TYPES = ("application/vc+ld+json", "application/ld+json", "application/json")
#: Browsers ask for HTML first; a verifier or curl that names no type gets the credential.
_FORMATS = {
    "json": "application/vc+ld+json",
    "jwt": "application/vc+jwt",
    "html": "text/html",
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}


def _negotiate(accept: str | None, format: str | None) -> str:
    if format is not None:
        return _FORMATS[format]
    ranked = []
    for position, part in enumerate((accept or "").split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, position, media.lower()))
    for _, _, media in sorted(ranked):
        if media in JSON_TYPES or media in ("application/vc+jwt", "text/html"):
            return media
    return "application/vc+ld+json"


def _json(document: dict[str, Any], media_type: str, headers: dict[str, str]) -> Response:
    return Response(json.dumps(document, ensure_ascii=False, indent=2).encode(), media_type=media_type, headers=headers)


@router.get(
    "/credentials/{credential_id}",
    response_class=Response,
    responses={200: {"description": "The credential: an HTML page for people, the signed credential for machines", "content": {t: {} for t in (*JSON_TYPES, "application/vc+jwt", "text/html", "image/png", "image/svg+xml", "application/pdf")}}},
)
async def public_credential(
    credential_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    accept: Annotated[str | None, Header()] = None,
    format: Annotated[
        str | None,
        Query(pattern="^(json|jwt|html|png|svg|pdf)$", description="override the Accept header; png, svg and pdf are downloads"),
    ] = None,
    k: Annotated[str | None, Query(max_length=64, description="the secret part of an unlisted credential page's URL")] = None,
) -> Response:
    """A credential's public URL (also its id). `Accept: text/html` gets the page a person reads,
    with the live status; JSON-LD types get the signed credential; `application/vc+jwt` gets it
    as a VC-JWT signed by the same issuer key."""
    credential, issuer = await credentials.public_credential(session, credential_id)
    document = credential.document
    headers = {"Vary": "Accept", "Cache-Control": "no-cache"}
    if credential.visibility != "public":  # the learner's choice (the backpack): listed pages are not for search engines
        headers["X-Robots-Tag"] = "noindex"
    media = _negotiate(accept, format)
    if media == "text/html" and not credentials.may_see_page(credential, k):
        # Unlisted: the page answers only to its URL with the secret part. The signed credential
        # and its files stay at the plain URL (its id), so whoever holds the file can verify it.
        raise NotFound(f"no credential {credential_id!r}")
    # Counted after the answer has gone (usage.service): a person's page view, or a download
    # they chose (``?format=``, the page's links); a verifier negotiating JSON-LD is neither.
    use = counted(request, runtime.sessions, credential.id, f"download_{format}" if format and format != "html" else "view")  # type: ignore[arg-type]
    if media in JSON_TYPES:
        return Response(credential_json(document), media_type=media, headers=headers, background=use if format else None)
    if media == "application/vc+jwt":
        unsigned = {k: v for k, v in document.items() if k != "proof"}
        signer = runtime.keystore.signer_for(document["proof"]["verificationMethod"])
        token = await asyncio.to_thread(encode_vc_jwt, unsigned, signer=signer)
        return Response(token, media_type="application/vc+jwt", headers=headers, background=use if format else None)
    if media in ("image/png", "image/svg+xml", "application/pdf"):
        logo = await _stored_logo(session, issuer) if media == "application/pdf" else None
        badge = await badge_of(session, document, runtime.settings.base_url)
        body = await asyncio.to_thread(_download, media, document, issuer, logo, badge)
        extension = {"image/png": "png", "image/svg+xml": "svg", "application/pdf": "pdf"}[media]
        headers["Content-Disposition"] = f'attachment; filename="credential-{credential_id}.{extension}"'
        return Response(body, media_type=media, headers=headers, background=use)
    report = await Verification(runtime, runtime.fetcher, session=session).of_credential(document)
    view = page_view(document, report, runtime.settings.base_url, branding=issuer)
    if credential.revoked_at is not None and (replacement := await replacement_of(session, credential)) is not None:
        # A name corrected: the new credential says it replaces this one, and this page points to it.
        view = dataclasses.replace(view, replaced_by=credential_url(runtime.settings.base_url, replacement.id))
    return HTMLResponse(render_credential_page(view, indexable=credential.visibility == "public"), headers=headers, background=use)


@router.get("/credentials/{credential_id}/linkedin", include_in_schema=False)
async def linkedin_share(credential_id: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The page's "Add to LinkedIn profile" link: counts the click, then sends the learner on to
    LinkedIn's prefilled form (303). A credential that is no longer in good standing is not
    offered to LinkedIn: back to its page, which says why."""
    credential, issuer = await credentials.public_credential(session, credential_id)
    if credential.visibility == "unlisted":  # never offered to LinkedIn, and its page is not at the plain URL
        raise NotFound(f"no credential {credential_id!r}")
    page = credential.document["id"]
    if credential_state(credential, now=datetime.now(UTC)) != "active":
        return RedirectResponse(page, status_code=303)
    target = linkedin_link(credential.document, issuer.linkedin_organization_id)
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"}, background=counted(request, runtime.sessions, credential.id, "linkedin"))


def linkedin_link(document: dict[str, Any], linkedin_organization_id: str | None) -> str:
    """LinkedIn's "Add to profile" URL for the credential, prefilled."""
    shown = credentials.facts(document)
    return add_to_profile_url(
        name=shown.title, organization_id=linkedin_organization_id, organization_name=document["issuer"].get("name"),
        # When the learner earned it, not when it was signed: a retroactive award signed today
        # for a course completed years ago lists the date of the course.
        issued=shown.completed_on or shown.issued_on, expires=shown.valid_until, cert_url=shown.public_url, cert_id=shown.credential_id,
    )


async def _stored_logo(session: SessionDep, issuer: Issuer) -> bytes | None:
    if issuer.logo_digest is None:
        return None
    return (await session.execute(select(Issuer.logo).where(Issuer.id == issuer.id))).scalar_one()


def _download(
    media: str, document: dict[str, Any], branding: Issuer | None = None, logo: bytes | None = None, badge: tuple[str, bytes] | None = None
) -> bytes:
    """A baked badge (the signed credential inside the image, per OB 3.0) or the PDF certificate
    (the signed credential attached). ``badge`` is the achievement's image as stored here (media
    type, bytes): baked when it is of the format asked for, drawn on the PDF when it is PNG or
    JPEG; otherwise the default badge, drawn here, stands in."""
    shown = credentials.facts(document)
    kind, image = badge if badge is not None else ("", b"")
    if media == "image/png":
        return bake_png(image if kind == "image/png" else default_badge_png(), document)
    if media == "image/svg+xml":
        svg = image if kind == "image/svg+xml" else default_badge_svg(shown.title, document["issuer"].get("name", ""))
        return bake_svg(svg, document).encode()
    content = CertificateContent(
        title=shown.title,
        kind=shown.kind,
        learner_name=shown.learner_name,
        issuer_name=shown.issuer_name,
        provider_name=shown.provider_name,
        issuer_country=shown.issuer_country,
        completed_on=shown.completed_on,
        issued_on=shown.issued_on,
        valid_until=shown.valid_until,
        results=shown.results,
        description=shown.description,
        elements=shown.elements,
        public_url=shown.public_url,
        credential_id=shown.credential_id,
        logo=logo,
        brand_colour=branding.brand_colour if branding is not None else None,
        accent_colour=branding.accent_colour if branding is not None else None,
        badge=image if kind in ("image/png", "image/jpeg") else default_badge_png(),
    )
    return certificate_pdf(content, json.dumps(document, ensure_ascii=False, indent=2).encode())


def certificate_download(
    document: dict[str, Any], branding: Issuer | None = None, logo: bytes | None = None, badge: tuple[str, bytes] | None = None
) -> bytes:
    """The PDF certificate of a credential, branded as the public download is (the backpack's
    ZIP holds one per credential): ``branding`` the issuer, ``logo`` its stored logo, ``badge``
    the achievement's stored image."""
    return _download("application/pdf", document, branding, logo, badge)


def page_view(document: dict[str, Any], report: VerificationReport, base_url: str, *, branding: Issuer | None = None) -> PageView:
    shown = credentials.facts(document)
    achievement = document["credentialSubject"]["achievement"]
    issuer = document["issuer"]
    url = shown.public_url
    status, why = status_of(report.verdict)
    if status == "valid" and not report.valid:  # e.g. a pathway component no longer matches its pinned digest
        status, why = "invalid", gettext("A verification check failed: see the checks below.")
    if status == "valid":
        why = gettext("The signature checks out and the issuer has not revoked or suspended it.")
    elif status == "expired" and shown.valid_until is not None:
        why = gettext("It expired on %(date)s.") % {"date": format_date(shown.valid_until)}
    # Through our own URL, which counts the click and redirects to LinkedIn (linkedin_share).
    linkedin = f"{url}/linkedin" if status == "valid" else None
    image = achievement.get("image") or document.get("image")
    image_url = image.get("id") if isinstance(image, dict) else image if isinstance(image, str) else None
    return PageView(
        credential_id=shown.credential_id,
        public_url=url,
        title=shown.title,
        kind=shown.kind,
        description=shown.description,
        image_url=own_image(image_url, base_url),
        learner_name=shown.learner_name,
        issuer_name=shown.issuer_name,
        issuer_url=issuer.get("url"),
        provider_name=shown.provider_name,
        issued_on=shown.issued_on,
        valid_until=shown.valid_until,
        status=status,
        status_detail=why or "",
        checks=[(c.name, c.outcome, c.message) for c in report.checks],
        elements=shown.elements,
        downloads=[
            (gettext("Signed credential (JSON-LD)"), f"{url}?format=json"),
            (gettext("Signed credential (VC-JWT)"), f"{url}?format=jwt"),
            (gettext("Badge image with the credential inside (PNG)"), f"{url}?format=png"),
            (gettext("Badge image with the credential inside (SVG)"), f"{url}?format=svg"),
            (gettext("Certificate (PDF, signed credential attached)"), f"{url}?format=pdf"),
        ],
        linkedin_url=linkedin,
        verify_url=f"{base_url}/verify",
        json_ld_url=f"{url}?format=json",
        endorsements=credentials.endorsements(document, report.summary.get("endorsements")),
        components=[ComponentView(c.get("name") or c.get("id") or "", c.get("id"), c["state"]) for c in report.components],
        completed_on=shown.completed_on,
        results=shown.results,
        issuer_country=shown.issuer_country,
        logo_url=logo_url(branding, base_url) if branding is not None else None,
        brand_css_url=brand_css_url(branding, base_url) if branding is not None else None,
        skills=credentials.skills(achievement),
    )


_YEAR = "public, max-age=31536000, immutable"


@router.get("/badges/default.png", include_in_schema=False)
async def default_badge() -> Response:
    """The badge a credential page shows when the achievement has no image of ours."""
    return Response(await asyncio.to_thread(default_badge_png), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/issuers/{issuer_id}/logo/{digest}", include_in_schema=False)
async def issuer_logo(issuer_id: str, digest: str, session: SessionDep) -> Response:
    """The issuer's logo as stored (checked on upload: see issuers.branding). Served with the
    sandbox CSP every non-HTML answer carries, so an SVG opened on its own runs nothing."""
    issuer = await _issuer(session, issuer_id)
    if issuer.logo_digest != digest or issuer.logo_media_type is None:
        raise NotFound("no such logo")
    content = (await session.execute(select(Issuer.logo).where(Issuer.id == issuer.id))).scalar_one()
    return Response(content, media_type=issuer.logo_media_type, headers={"Cache-Control": _YEAR})


@router.get("/issuers/{issuer_id}/brand/{digest}.css", include_in_schema=False)
async def issuer_brand_css(issuer_id: str, digest: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The issuer's colours as a stylesheet the credential page links to."""
    issuer = await _issuer(session, issuer_id)
    url = brand_css_url(issuer, runtime.settings.base_url)
    if url is None or not url.endswith(f"/{digest}.css") or issuer.brand_colour is None or issuer.accent_colour is None:
        raise NotFound("no such stylesheet")
    try:
        colours, _ = palette(issuer.brand_colour, issuer.accent_colour)
    except BrandingError as exc:  # stored before a rule tightened: the page keeps its own colours
        raise NotFound("no such stylesheet") from exc
    return Response(brand_css(colours), media_type="text/css", headers={"Cache-Control": _YEAR})


@router.get(
    "/.well-known/did.json",
    response_class=Response,
    responses={200: {"content": {"application/did+json": {}}, "description": "The host's DID document"}},
)
async def host_did_document(session: SessionDep, runtime: RuntimeDep) -> Response:
    """The DID document of `did:web:<host>`: the issuer created with `host_did` (404 without one)."""
    did = host_did(runtime.settings.base_url)
    issuer = await session.scalar(select(Issuer).where(Issuer.did == did))
    if issuer is None:
        raise NotFound(f"no issuer is identified by {did}")
    document = await asyncio.to_thread(runtime.keystore.did_document, issuer.did)
    return _json(document, "application/did+json", {"Cache-Control": "public, max-age=300"})


@router.get("/issuers/{issuer_id}/did.json", response_class=Response, responses={200: {"content": {"application/did+json": {}}, "description": "The issuer's DID document"}})
async def did_document(issuer_id: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The did:web document of an issuer: its current key and every retired one (marked with
    `expires`), so credentials signed before a rotation keep verifying."""
    issuer = await _issuer(session, issuer_id)
    document = await asyncio.to_thread(runtime.keystore.did_document, issuer.did)
    return _json(document, "application/did+json", {"Cache-Control": "public, max-age=300"})


@router.get(
    "/issuers/{issuer_id}/keys/{key_name}",
    response_class=Response,
    responses={200: {"content": {"application/ld+json": {}}, "description": "One of the issuer's keys as a Multikey document"}},
)
async def key_document(issuer_id: str, key_name: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Each of the issuer's keys at a plain HTTPS URL, for verifiers that resolve only HTTPS
    (OB 3.0 requires no more of them): the same key as the DID document's
    `did:web:...#{key_name}`, with its controller (the issuer's DID) and, once retired, `expires`."""
    issuer = await _issuer(session, issuer_id)
    keys = await asyncio.to_thread(runtime.keystore.published_keys, issuer.did)
    key = next((k for k in keys if k.id == f"{issuer.did}#{key_name}"), None)
    if key is None:
        raise NotFound(f"no key {key_name!r} of issuer {issuer_id!r}")
    document = {"@context": [MULTIKEY_CONTEXT_V1], **verification_method(key)}
    return _json(document, "application/ld+json", {"Cache-Control": "public, max-age=300"})


@router.get(
    eu_elements.EXTENSION_CONTEXT_PATH,
    response_class=Response,
    responses={
        200: {"content": {"application/ld+json": {}}, "description": "The microcred extension context (JSON-LD)"},
        304: {"description": "Not modified: the If-None-Match ETag is this context's"},
    },
)
async def extension_context(if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """The microcred JSON-LD context that credentials of issuers who opted into it name, byte for
    byte the file bundled with microcred (its ETag is that file's pinned sha256). It never
    changes at this URL (a new version gets a new one), so caches may keep it for a year; any
    origin may read it, as browser-based verifiers must."""
    data = bundled_context_bytes(CONTEXTS.MICROCRED_V1)
    assert data is not None, "the microcred context is bundled"
    etag = f'"sha256-{hashlib.sha256(data).hexdigest()}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable",
        "Access-Control-Allow-Origin": "*",
        "Content-Digest": f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:",
    }
    if if_none_match is not None and etag in (tag.strip().removeprefix("W/") for tag in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="application/ld+json", headers=headers)


_ACHIEVEMENT: dict[int | str, dict[str, Any]] = {200: {"content": {"application/ld+json": {}}, "description": "One published version of the achievement"}}


@router.get("/issuers/{issuer_id}/achievements/{achievement_id}", response_class=Response, responses=_ACHIEVEMENT)
async def achievement(
    issuer_id: str,
    achievement_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    version: Annotated[int, Query(ge=1, le=1_000_000, description="another published version than the first")] = 1,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The achievement's plain URL: the id of its version 1, which it serves (with the standing
    endorsements of that version). Later versions have their own ids (`.../versions/{n}`);
    credentials awarded with a later version before those existed carry this URL and their
    `version`, which `?version=` serves. `Link: rel="latest-version"` names the newest. An
    achievement written in several languages answers in the one `Accept-Language` prefers."""
    return await _achievement_version(session, runtime, issuer_id, achievement_id, version, accept_language)


@router.get("/issuers/{issuer_id}/achievements/{achievement_id}/versions/{version}", response_class=Response, responses=_ACHIEVEMENT)
async def achievement_version(
    issuer_id: str,
    achievement_id: str,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    session: SessionDep,
    runtime: RuntimeDep,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """One published version of an achievement: the OB 3.0 Achievement credentials awarded with
    it embed (its id from version 2 on), with the endorsements that stand for it, in the language
    `Accept-Language` prefers when it is written in several."""
    return await _achievement_version(session, runtime, issuer_id, achievement_id, version, accept_language)


async def _achievement_version(
    session: SessionDep, runtime: RuntimeDep, issuer_id: str, achievement_id: str, number: int, accept_language: str | None
) -> Response:
    version, latest = await achievements.public_version(session, issuer_id=issuer_id, achievement_id=achievement_id, version=number)
    if version.translations:  # in the language the reader asks for, when the achievement has it
        version = version.in_language(negotiate(accept_language, default=""))
    endorsed = await standing_endorsements(session, issuer_id, now=datetime.now(UTC))
    # a version published before issue 11 keeps its elements in microCredential: served as alignments
    document = {"@context": [CONTEXTS.VC_V2, CONTEXTS.OB_V3], **eu_elements.as_alignments(endorsed.on_version(version).document)}
    newest = achievements.achievement_url(runtime.settings.base_url, issuer_id, achievement_id, version=latest)
    headers = {"Cache-Control": "public, max-age=300", "Link": f'<{newest}>; rel="latest-version"'}
    if version.translations:
        headers |= {"Vary": "Accept-Language", "Content-Language": str(document.get("inLanguage", ""))}
    return _json(document, "application/ld+json", headers)


@router.get("/issuers/{issuer_id}/profile", response_class=Response, responses={200: {"content": {"application/ld+json": {}}, "description": "The issuer's OB 3.0 Profile"}})
async def issuer_profile(issuer_id: str, session: SessionDep) -> Response:
    """The issuer's Open Badges 3.0 Profile, as credentials embed it (with the endorsements that stand now)."""
    issuer = await _issuer(session, issuer_id)
    endorsed = await standing_endorsements(session, issuer.id, now=datetime.now(UTC))
    document = {"@context": [CONTEXTS.VC_V2, CONTEXTS.OB_V3], **endorsed.on_profile(profile(issuer))}
    return _json(document, "application/ld+json", {"Cache-Control": "public, max-age=300"})


async def _issuer(session: SessionDep, issuer_id: str) -> Issuer:
    issuer = await IssuerRepository(session).get(issuer_id)
    if issuer is None:
        raise NotFound(f"no issuer {issuer_id!r}")
    return issuer

