from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from ..schemas_common import ApiModel, EmailAddress, HttpUrl, Slug, Text

Cryptosuite = Literal["eddsa-rdfc-2022", "eddsa-jcs-2022"]
#: The languages the service writes in (``microcred.i18n.SUPPORTED``; a test keeps them equal).
Language = Literal["en", "nl"]
_LANGUAGE = "the language of learner emails and PDF certificates for learners who have not chosen one (en or nl)"
DidMethod = Literal["did:web", "did:key"]


class VcApiIn(ApiModel):
    """Whether and how the W3C VC-API (POST /credentials/issue, /credentials/status) signs for the issuer."""

    enabled: bool = Field(
        default=False,
        description="the issuer's issue-scoped keys may sign any VC 1.1 or 2.0 credential through POST /credentials/issue, "
        "not only awards of published achievements",
    )
    did_method: DidMethod = Field(
        default="did:web",
        description="the identifier credentials are issued as: the issuer's did:web, or the did:key of its current key "
        "(which changes when the key rotates; credentials signed before keep verifying)",
    )
    status: bool = Field(
        default=False,
        description="add BitstringStatusListEntry status (revocation, and suspension if offered) that POST /credentials/status "
        "changes; did:web only, as status lists are signed by the issuer's did:web",
    )


class VcApiUpdate(ApiModel):
    enabled: bool | None = None
    did_method: DidMethod | None = None
    status: bool | None = None


class VcApiOut(BaseModel):
    enabled: bool
    did_method: str
    status: bool
    issuer: str = Field(description="the identifier VC-API credentials carry as their issuer")


class AddressIn(ApiModel):
    country: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    country_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        default=None, description="ISO 3166-1 alpha-2, e.g. NL"
    )
    region: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class EmailSettingsIn(ApiModel):
    """The learner's email when a credential is issued to them (or revoked, if asked)."""

    enabled: bool | None = Field(default=None, description="email learners when a credential is issued (default on)")
    rate_per_second: float | None = Field(default=None, ge=0.1, le=1000, description="at most this many emails a second (default 10)")
    sender_name: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r'^[^\r\n<>"]+$')] | None = Field(
        default=None, description="the From name (else the issuer's name)"
    )
    reply_to: EmailAddress | None = Field(default=None, description="where learners' replies go")
    notify_on_revocation: bool | None = Field(default=None, description="also email learners when a credential is revoked (default off)")


class EmailSettingsOut(BaseModel):
    enabled: bool
    rate_per_second: float
    sender_name: str | None
    reply_to: str | None
    notify_on_revocation: bool


class IssuerCreate(ApiModel):
    id: Slug | None = Field(default=None, description="URL slug; derived from the name when absent")
    name: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    url: HttpUrl | None = None
    email: EmailAddress | None = None
    description: Text | None = None
    image: HttpUrl | None = None
    address: AddressIn | None = None
    hash_recipient_emails: bool = Field(default=True, description="put recipient emails in credentials as salted hashes")
    cryptosuite: Cryptosuite = "eddsa-rdfc-2022"
    host_did: bool = Field(
        default=False,
        description="identify the issuer by the host's own did:web (did:web:<host>, its document at /.well-known/did.json) "
        "rather than did:web:<host>:issuers:<id>; for an installation that serves one awarding body. One issuer per host",
    )
    offers_suspension: bool = Field(
        default=False,
        description="credentials can be suspended and reinstated as well as revoked. Their one credentialStatus entry (the "
        "OB 3.0 schema allows one) is a Bitstring Status List entry with statusPurpose \"message\" and statusSize 2 "
        "(0x0 active, 0x1 revoked, 0x2 suspended); verifiers that read only one-bit entries (as the specification allows) "
        "refuse a suspended or revoked credential without telling which. Credentials awarded before keep the entries they "
        "carry. VC-API credentials get separate revocation and suspension entries",
    )
    extension_context: bool = Field(
        default=False,
        description="credentials also carry the microcred extension context (served at {base_url}/contexts/microcred/v1.jsonld) "
        "and the EU elements in a microCredential object. Stock verifiers (DCC's, Digital Bazaar's) do not ship that context "
        "and may refuse such credentials: off by default, when the elements ride as OB 3.0 alignments only",
    )
    linkedin_organization_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")] | None = Field(
        default=None, description="the issuer's LinkedIn organization id, for 'Add to profile' links"
    )
    vc_api: VcApiIn | None = Field(default=None, description="W3C VC-API settings; off when absent")
    emails: EmailSettingsIn | None = Field(default=None, description="learner emails; the defaults when absent")
    default_language: Language = Field(default="en", description=_LANGUAGE)


class IssuerUpdate(ApiModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None
    url: HttpUrl | None = None
    email: EmailAddress | None = None
    description: Text | None = None
    image: HttpUrl | None = None
    address: AddressIn | None = Field(
        default=None,
        description="replaces the whole address; once the issuer has a published achievement it must keep a country or "
        "country_code (an EU mandatory element): a change of country is accepted, a removal is a 422",
    )
    hash_recipient_emails: bool | None = None
    cryptosuite: Cryptosuite | None = None
    offers_suspension: bool | None = None
    extension_context: bool | None = None
    linkedin_organization_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")] | None = None
    vc_api: VcApiUpdate | None = None
    emails: EmailSettingsIn | None = Field(default=None, description="learner emails: only the fields given change")
    default_language: Language | None = Field(default=None, description=_LANGUAGE)


class IssuerOut(BaseModel):
    id: str
    did: str
    name: str
    url: str | None
    email: str | None
    description: str | None
    image: str | None
    address: AddressIn | None
    hash_recipient_emails: bool
    cryptosuite: str
    offers_suspension: bool
    extension_context: bool = Field(description="credentials also carry the microcred extension context")
    linkedin_organization_id: str | None
    vc_api: VcApiOut
    verification_method: str = Field(description="the key that signs now")
    profile: dict[str, Any] = Field(description="the OB 3.0 Profile credentials embed as their issuer")
    created_at: datetime
    updated_at: datetime
    emails: EmailSettingsOut
    default_language: str = Field(description=_LANGUAGE)


class IssuerList(BaseModel):
    items: list[IssuerOut]


class KeyOut(BaseModel):
    verification_method: str
    public_key_multibase: str
    valid_from: datetime | None
    valid_until: datetime | None


class KeyList(BaseModel):
    items: list[KeyOut]


class ColoursIn(ApiModel):
    brand: Annotated[str, StringConstraints(max_length=7)] = Field(description="the band behind the page's heading, #rrggbb")
    accent: Annotated[str, StringConstraints(max_length=7)] = Field(
        description="links and rules on the white page, #rrggbb; must reach 4.5:1 (WCAG AA) on white"
    )


class BrandingIn(ApiModel):
    logo: Annotated[str, StringConstraints(max_length=360_000)] | None = Field(
        default=None,
        description="the logo as a data: URL (data:image/png;base64,..., PNG, JPEG or a plain SVG, at most 256 KB); "
        "null removes it; absent keeps it",
    )
    colours: ColoursIn | None = Field(default=None, description="the credential page's colours; null: the service's own")


class BrandingOut(BaseModel):
    logo_url: str | None = Field(description="the stored logo, served by this service (never hot-linked)")
    logo_media_type: str | None
    brand_colour: str | None
    accent_colour: str | None
    notes: list[str] = Field(default_factory=list, description="what was adjusted for contrast, in words")
