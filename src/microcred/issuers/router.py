from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, status

from ..web.deps import PrincipalDep, RuntimeDep, SessionDep
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service
from . import brand
from .schemas import BrandingIn, BrandingOut, IssuerCreate, IssuerList, IssuerOut, IssuerUpdate, KeyList, KeyOut

router = APIRouter(prefix="/api/v1/issuers", tags=["issuers"], responses=PROBLEMS, route_class=StrictJsonRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuerOut,
    responses={409: {**PROBLEMS[400], "description": "An issuer with this id exists"}},
)
async def create_issuer(body: IssuerCreate, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> IssuerOut:
    """Create an issuer with a did:web identifier and its first signing key (admin keys only)."""
    issuer = await service.create_issuer(
        session,
        principal=principal,
        keystore=runtime.keystore,
        base_url=runtime.settings.base_url,
        data=body,
        now=datetime.now(UTC),
    )
    return service.issuer_out(issuer)


@router.get("", response_model=IssuerList)
async def list_issuers(principal: PrincipalDep, session: SessionDep) -> IssuerList:
    """Every issuer (admin), or the caller's own."""
    return IssuerList(items=[service.issuer_out(i) for i in await service.list_issuers(session, principal=principal)])


@router.get("/{issuer_id}", response_model=IssuerOut)
async def get_issuer(issuer_id: str, principal: PrincipalDep, session: SessionDep) -> IssuerOut:
    return service.issuer_out(await service.get_issuer(session, principal=principal, issuer_id=issuer_id))


@router.patch("/{issuer_id}", response_model=IssuerOut)
async def update_issuer(issuer_id: str, body: IssuerUpdate, principal: PrincipalDep, session: SessionDep) -> IssuerOut:
    """Change the profile; credentials issued before keep the profile they were signed with."""
    issuer = await service.update_issuer(session, principal=principal, issuer_id=issuer_id, data=body, now=datetime.now(UTC))
    return service.issuer_out(issuer)


@router.get("/{issuer_id}/keys", response_model=KeyList)
async def list_keys(issuer_id: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> KeyList:
    """Every key of the issuer, current and retired, with the period each signed for."""
    keys = await service.published_keys(session, principal=principal, keystore=runtime.keystore, issuer_id=issuer_id)
    return KeyList(
        items=[
            KeyOut(verification_method=k.id, public_key_multibase=k.public_key_multibase, valid_from=k.valid_from, valid_until=k.valid_until)
            for k in keys
        ]
    )


@router.post(
    "/{issuer_id}/keys/rotate",
    response_model=KeyOut,
    responses={409: {**PROBLEMS[400], "description": "The key store cannot rotate this issuer's key"}},
)
async def rotate_key(issuer_id: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> KeyOut:
    """Make a new key current; the old one stays published as retired, so old credentials verify."""
    key = await service.rotate_key(session, principal=principal, keystore=runtime.keystore, issuer_id=issuer_id)
    return KeyOut(verification_method=key.id, public_key_multibase=key.public_key_multibase, valid_from=key.valid_from, valid_until=key.valid_until)


@router.get("/{issuer_id}/branding", response_model=BrandingOut)
async def get_branding(issuer_id: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> BrandingOut:
    """The logo and colours the credential page, the PDF and the emails carry."""
    issuer = await service.get_issuer(session, principal=principal, issuer_id=issuer_id)
    return brand.branding_out(issuer, runtime.settings.base_url)


@router.put("/{issuer_id}/branding", response_model=BrandingOut)
async def put_branding(issuer_id: str, body: BrandingIn, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> BrandingOut:
    """Set the logo (a `data:` URL; `null` removes it; absent keeps it) and the colours (`null`:
    the service's own). The logo is checked as in the console (PNG, JPEG or an SVG with nothing
    active in it); an accent colour below WCAG AA on white is a 422 naming the field."""
    issuer, notes = await brand.save_branding_from_api(
        session, principal=principal, issuer_id=issuer_id, data=body, logo_given="logo" in body.model_fields_set, now=datetime.now(UTC)
    )
    return brand.branding_out(issuer, runtime.settings.base_url, notes)
