from __future__ import annotations

from sqlalchemy import Float, LargeBinary, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, TimestampMixin


class Issuer(TimestampMixin, Base):
    """An awarding body: its public profile, its did:web and how it signs."""

    __tablename__ = "issuers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # slug used in URLs
    did: Mapped[str] = mapped_column(String(512), unique=True)
    name: Mapped[str] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(String(2048))
    email: Mapped[str | None] = mapped_column(String(320))
    description: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(String(2048))
    address_country: Mapped[str | None] = mapped_column(String(128))
    address_country_code: Mapped[str | None] = mapped_column(String(2))
    address_region: Mapped[str | None] = mapped_column(String(128))
    #: Recipient emails go into credentials as salted hashes unless the issuer turns this off.
    hash_recipient_emails: Mapped[bool] = mapped_column(default=True)
    cryptosuite: Mapped[str] = mapped_column(String(64), default="eddsa-rdfc-2022")
    #: Credentials also carry a suspension entry. VC 2.0 allows several credentialStatus
    #: entries, but the OB 3.0 JSON schema allows one object only, so this is off by default.
    offers_suspension: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The W3C VC-API (``/credentials/issue`` and ``/credentials/status``) may sign for this issuer:
    #: credentials the caller writes, not only OB 3.0 awards of published achievements. Off unless
    #: the issuer is configured for it.
    vc_api_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The issuer identifier VC-API credentials carry: "did:web" (the issuer's did) or "did:key"
    #: (the did:key of its current key, which changes when the key rotates).
    vc_api_did_method: Mapped[str] = mapped_column(String(16), default="did:web", server_default="did:web")
    #: VC-API credentials get Bitstring Status List entries (did:web only: a status list is
    #: signed by the issuer's did:web, and a verifier wants the credential's own issuer).
    vc_api_status: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Credentials also carry the microcred extension context (served at
    #: ``{base_url}/contexts/microcred/v1.jsonld``) and the EU elements in a ``microCredential``
    #: object beside the alignments. Off by default: stock verifiers do not ship that context.
    extension_context: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: LinkedIn's organization id for "Add to profile" links (else the issuer's name is used).
    linkedin_organization_id: Mapped[str | None] = mapped_column(String(32))
    #: Verification method id of the key that signs now (rotation changes it in one transaction).
    current_key_id: Mapped[str] = mapped_column(String(600))
    # -- learner emails (delivery) ----------------------------------------------------------
    #: Learners get an email when a credential is issued to them (off when the LMS tells them itself).
    email_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: The most emails per second the sender sends for this issuer (a mail provider's limit).
    email_rate_per_second: Mapped[float] = mapped_column(Float, default=10.0, server_default="10")
    #: The From name of learner emails (else the issuer's name), and where replies go.
    email_sender_name: Mapped[str | None] = mapped_column(String(128))
    email_reply_to: Mapped[str | None] = mapped_column(String(320))
    #: Learners also get an email when a credential of theirs is revoked.
    notify_on_revocation: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Branding (console/branding.py): the logo stored here (never hot-linked), checked by
    # issuers.branding, and the colours of the credential page and PDF (checked for WCAG AA).
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_media_type: Mapped[str | None] = mapped_column(String(32))
    #: the logo's content hash, in its URL (cached for a year)
    logo_digest: Mapped[str | None] = mapped_column(String(64))
    brand_colour: Mapped[str | None] = mapped_column(String(7))
    accent_colour: Mapped[str | None] = mapped_column(String(7))
    #: the language credentials and emails are written in when the learner's is not known
    #: (``en``, ``nl``: microcred.i18n.SUPPORTED)
    default_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
