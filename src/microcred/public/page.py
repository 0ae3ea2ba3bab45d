"""Render the page a person sees at a credential's public URL, and the verification page.

Pure rendering: the service layer builds a :class:`PageView` (or hands over a verification
report) and serves the HTML. Templates autoescape everything; URLs that came from issuers
(image, issuer website) are also checked for a safe scheme, since escaping alone lets a
``javascript:`` link through.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any, Literal
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..i18n import N_, gettext
from ..i18n.templates import install as install_languages

__all__ = [
    "EndorsementView",
    "ComponentView",
    "Kind",
    "PageView",
    "Status",
    "render_credential_page",
    "render_page",
    "render_verify_page",
    "status_of",
    "style_csp_source",
    "verdict_reason",
]

#: What kind of credential it is, in words: "Diploma", "Certificate of participation", "Bachelor degree"...
Kind = str
Status = Literal["valid", "expired", "suspended", "revoked", "invalid"]

#: What the banner says: the status in words, so colour is never the only signal.
STATUS_LABELS: dict[str, str] = {
    "valid": N_("Valid"),
    "expired": N_("Expired"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
    "invalid": N_("Not valid"),
}
STATUS_ICONS: dict[str, str] = {"valid": "✓", "expired": "⏱", "suspended": "⏸", "revoked": "✕", "invalid": "✕"}
OUTCOME_LABELS: dict[str, str] = {"passed": N_("Passed"), "failed": N_("Failed"), "warning": N_("Warning"), "skipped": N_("Skipped")}
OUTCOME_ICONS: dict[str, str] = {"passed": "✓", "failed": "✕", "warning": "!", "skipped": "–"}
#: The verifier's check names (credentials.verify) in words an HR colleague reads; a name not
#: here (a new check) is shown as it is.
CHECK_LABELS: dict[str, str] = {
    "parse": N_("Readable document"),
    "context": N_("Known vocabulary"),
    "dataModel": N_("Credential structure"),
    "schema": N_("Open Badges 3.0 schema"),
    "credentialSchema": N_("Schemas the credential names"),
    "schema:credentialStatus": N_("Status entry format"),
    "proof": N_("Issuer's signature"),
    "validity": N_("Validity dates"),
    "status": N_("Revocation and suspension"),
    "status:revocation": N_("Revocation status"),
    "status:suspension": N_("Suspension status"),
    "status:message": N_("Status message from the issuer"),
    "status:refresh": N_("Refresh status"),
    "status:unknown": N_("Status"),
    "relatedResource": N_("Linked resources"),
    "endorsement": N_("Endorsements"),
    "recipient": N_("Recipient"),
    "internal": N_("Verifier"),
}
#: An endorsement's state as the verifier found it (credentials.endorsement), in words.
ENDORSEMENT_STATES: dict[str, str] = {
    "valid": N_("Valid"),
    "revoked": N_("Revoked by the endorser"),
    "suspended": N_("Suspended by the endorser"),
    "expired": N_("Expired"),
    "not_yet_valid": N_("Not valid yet"),
    "invalid": N_("Not valid: it does not verify"),
}
#: A pathway component's state (verification.components), in words.
COMPONENT_LABELS: dict[str, str] = {
    "valid": N_("Valid"),
    "revoked": N_("Revoked by its issuer"),
    "suspended": N_("Suspended by its issuer"),
    "expired": N_("Expired"),
    "matched": N_("Matches what the issuer pinned"),
    "digest_mismatch": N_("Changed since this credential was issued"),
    "invalid": N_("Not valid"),
    "malformed": N_("Not readable"),
    "unreachable": N_("Could not be checked"),
}

#: The verifier's verdicts (credentials.verify.VERDICTS) as the page's five statuses, with why.
_VERDICTS: dict[str, tuple[Status, str | None]] = {
    "valid": ("valid", None),
    "expired": ("expired", N_("The credential has passed its expiry date.")),
    "suspended": ("suspended", N_("The issuer has suspended this credential.")),
    "revoked": ("revoked", N_("The issuer has revoked this credential.")),
    "not_yet_valid": ("invalid", N_("The credential is not valid yet: its validity starts later.")),
    "tampered": ("invalid", N_("The credential was changed after it was signed: the signature does not match.")),
    "unknown_key": ("invalid", N_("The signing key could not be matched to the issuer.")),
    "malformed": ("invalid", N_("This is not a readable credential.")),
}

@dataclass(frozen=True)
class EndorsementView:
    """One endorsement the credential carries, as the verifier found it."""

    endorser_name: str
    #: what it endorses, in words ("the achievement", "the issuer", "this credential")
    about: str
    comment: str | None
    #: valid | revoked | suspended | expired | not_yet_valid | invalid
    state: str


@dataclass(frozen=True)
class ComponentView:
    """One credential a pathway credential was awarded for, and its state now."""

    name: str
    url: str | None
    #: valid, revoked, suspended, expired, digest_mismatch, invalid, malformed or unreachable
    state: str


@dataclass(frozen=True)
class PageView:
    """Everything the public credential page shows, already decided by the service layer."""

    credential_id: str
    public_url: str
    #: the achievement's name
    title: str
    kind: Kind
    description: str
    image_url: str | None
    #: None when the credential does not show the learner's name (hashed, or not given)
    learner_name: str | None
    issuer_name: str
    issuer_url: str | None
    provider_name: str | None
    issued_on: date
    valid_until: date | None
    status: Status
    #: why, in words ("Revoked on 3 March 2026"); never the issuer's internal revocation reason
    status_detail: str
    #: the verifier's steps: (name, outcome, message), outcome one of passed/failed/warning/skipped
    checks: list[tuple[str, str, str]]
    #: the EU micro-credential elements as (label, value)
    elements: list[tuple[str, str]]
    #: (label, href), e.g. ("Signed credential (JSON-LD)", ".../credentials/ID?format=json")
    downloads: list[tuple[str, str]]
    linkedin_url: str | None
    verify_url: str
    json_ld_url: str
    #: endorsements embedded in the credential (by a certifying body, say), with their state
    endorsements: list[EndorsementView] = field(default_factory=list)
    #: when the learner completed it (``awardedDate``); for a retroactive award long before ``issued_on``
    completed_on: date | None = None
    #: the learner's results as (what, value), e.g. ("Final grade", "8.5 (on a scale of 1 to 10)")
    results: list[tuple[str, str]] = field(default_factory=list)
    #: the awarding body's country, in words
    issuer_country: str | None = None
    #: for a pathway credential, the credentials it was awarded for
    components: list[ComponentView] = field(default_factory=list)
    #: a draft's preview in the console: no credential exists, so no status, checks or links
    preview: bool = False
    #: the public URL of the corrected credential that replaced this (revoked) one, if any
    replaced_by: str | None = None
    # Branding (issue 13): everything below is served from this service's own origin.
    #: the issuer's logo, stored by the service
    logo_url: str | None = None
    #: the issuer's colours, a small stylesheet (no inline style, so the CSP stays strict)
    brand_css_url: str | None = None
    #: the skills and frameworks the achievement aligns with: (name, framework, link)
    skills: list[tuple[str, str | None, str | None]] = field(default_factory=list)


@dataclass(frozen=True)
class _ReportView:
    status: Status
    #: the verifier's own word (tampered, unknown_key, ...), kept for scripts as data-verdict
    verdict: str | None
    detail: str | None
    summary: list[tuple[str, str]]
    checks: list[tuple[str, str, str]]


def render_credential_page(view: PageView, *, indexable: bool = True) -> str:
    """The credential's public page: a complete HTML5 document with inline CSS and no script;
    ``indexable`` False adds ``noindex`` (the learner has not made it public)."""
    image = _image_url(view.image_url)
    return _environment().get_template("credential.html").render(
        view=view,
        image=image,
        skills=[(name, framework, _web_url(link)) for name, framework, link in view.skills],
        og_image=image if image and _is_absolute_web_url(image) else None,
        issuer_url=_web_url(view.issuer_url),
        summary=_summary(view),
        components=[(c, _web_url(c.url)) for c in view.components],
        lapsed=any(c.state in ("revoked", "suspended", "expired") for c in view.components),
        indexable=indexable,
    )


def render_verify_page(result: dict[str, Any] | None, error: str | None, action_url: str) -> str:
    """The verification page: forms to check a URL or a file, and the last report if there is one.

    ``result`` is a verification report as ``VerificationReport.to_dict()`` returns it.
    """
    report = _report_view(result) if result is not None else None
    return _environment().get_template("verify.html").render(report=report, error=error, action_url=action_url)


def render_page(template: str, **context: Any) -> str:
    """Another page of the service (a learner's sign-in or consent page, say) from one of these
    templates, in the same style: ``template`` extends ``base.html``."""
    return _environment().get_template(template).render(**context)


def style_csp_source() -> str:
    """The CSP source (``'sha256-…'``) that allows the pages' one inline ``<style>`` element."""
    digest = hashlib.sha256(_css().encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("microcred.public", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install_languages(env)
    env.globals.update(
        css=Markup(_css()),
        STATUS_LABELS=STATUS_LABELS,
        STATUS_ICONS=STATUS_ICONS,
        OUTCOME_LABELS=OUTCOME_LABELS,
        OUTCOME_ICONS=OUTCOME_ICONS,
        CHECK_LABELS=CHECK_LABELS,
        ENDORSEMENT_STATES=ENDORSEMENT_STATES,
        COMPONENT_LABELS=COMPONENT_LABELS,
    )
    return env


@cache
def _css() -> str:
    """Our own stylesheet, inlined so a page needs no second request (and no external asset)."""
    css = files("microcred.public").joinpath("static/page.css").read_text("utf-8")
    if "</" in css:
        raise ValueError("page.css must not contain '</': it is inlined into a <style> element")
    return css


def _summary(view: PageView) -> str:
    """The one-line description link previews show."""
    text = " ".join(view.description.split())
    if not text:
        return gettext("%(kind)s issued by %(issuer)s") % {"kind": view.kind, "issuer": view.issuer_name}
    if len(text) <= 200:
        return text
    return text[:200].rsplit(" ", 1)[0] + "…"


def _web_url(value: str | None) -> str | None:
    """An http(s) or relative URL, or None: what an issuer supplies is not trusted as a link."""
    if not value:
        return None
    value = value.strip()
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    scheme = urlsplit(value).scheme.lower()
    return value if scheme in ("http", "https", "") else None


def _image_url(value: str | None) -> str | None:
    """As :func:`_web_url`, and also an embedded ``data:image/…`` (OB 3.0 images often are)."""
    if value and value.strip().lower().startswith("data:image/"):
        return value.strip()
    return _web_url(value)


def _is_absolute_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def verdict_reason(verdict: object) -> str | None:
    """Why a credential with this verdict is not plainly valid, in the page's words (None for a
    valid one or a verdict the page does not know)."""
    found = _VERDICTS.get(verdict if isinstance(verdict, str) else "")
    return gettext(found[1]) if found is not None and found[1] else None


def status_of(verdict: object) -> tuple[Status, str | None]:
    """The page status for a verifier verdict, and why in words (None: nothing to explain)."""
    unknown: tuple[Status, str | None] = ("invalid", N_("The verifier gave no verdict this page recognises."))
    status, detail = _VERDICTS.get(verdict if isinstance(verdict, str) else "", unknown)
    return status, gettext(detail) if detail else None


def _report_view(result: Mapping[str, Any]) -> _ReportView:
    verdict = result.get("verdict")
    status, detail = status_of(verdict)
    if status == "valid" and result.get("valid") is False:
        # the verdict is about the credential; a requested check (the recipient, say) still failed
        status, detail = "invalid", gettext("A requested check failed: see the steps below.")
    summary = result.get("summary")
    raw_checks = result.get("checks")
    checks = [
        (str(c.get("name", "")), str(c.get("outcome", "")), str(c.get("message", "") or ""))
        for c in (raw_checks if isinstance(raw_checks, list) else [])
        if isinstance(c, Mapping)
    ]
    return _ReportView(
        status,
        verdict if isinstance(verdict, str) else None,
        detail,
        _summary_rows(summary if isinstance(summary, Mapping) else {}),
        checks,
    )


def _summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the credential says about itself, in the order a person asks: what, who, by whom, when."""
    subject = summary.get("subject")
    learner = summary.get("learner") or (subject.get("name") if isinstance(subject, Mapping) else None)
    rows = [
        (gettext("Achievement"), _name_of(summary.get("achievement"))),
        (gettext("Awarded to"), _name_of(learner)),
        (gettext("Issued by"), _name_of(summary.get("issuer"))),
        (gettext("Valid from"), _name_of(summary.get("validFrom"))),
        (gettext("Valid until"), _name_of(summary.get("validUntil"))),
    ]
    return [(label, value) for label, value in rows if value]


def _name_of(value: Any) -> str | None:
    """A name for a summary entry that may be a string or a ``{"id", "name"}`` object."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in ("name", "id"):
            if isinstance(value.get(key), str) and value[key]:
                return str(value[key])
    return None
