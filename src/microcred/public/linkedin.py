"""LinkedIn's "Add to profile" link, so a learner can list a credential with one click.

LinkedIn documents the link as a plain GET on ``/profile/add`` with ``startTask=CERTIFICATION_NAME``
and the certification's fields as query parameters; it prefills the form and the learner confirms.
https://addtoprofile.linkedin.com/
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

__all__ = ["ADD_TO_PROFILE", "add_to_profile_url"]

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def add_to_profile_url(
    *,
    name: str,
    organization_id: str | None,
    organization_name: str | None,
    issued: date,
    expires: date | None,
    cert_url: str,
    cert_id: str,
) -> str:
    """The link that opens LinkedIn's "Add licence or certification" form, prefilled.

    LinkedIn links the certification to a company page when given ``organizationId`` and shows
    free text otherwise; it takes one or the other, so the id wins when both are known.
    """
    if organization_id:
        organization = ("organizationId", organization_id)
    elif organization_name:
        organization = ("organizationName", organization_name)
    else:
        raise ValueError("LinkedIn needs the issuing organisation: give organization_id or organization_name")
    params: list[tuple[str, str]] = [
        ("startTask", "CERTIFICATION_NAME"),
        ("name", name),
        organization,
        ("issueYear", str(issued.year)),
        ("issueMonth", str(issued.month)),
    ]
    if expires is not None:
        params += [("expirationYear", str(expires.year)), ("expirationMonth", str(expires.month))]
    params += [("certUrl", cert_url), ("certId", cert_id)]
    return f"{ADD_TO_PROFILE}?{urlencode([(k, v) for k, v in params if v], quote_via=quote)}"
