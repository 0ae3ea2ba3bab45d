"""The URLs of what the public pages load, all on this service's own origin: the badge image (an
achievement's image on another host is never hot-linked), the issuer's stored logo and its
colours' stylesheet, each with a content hash in the URL so it can be cached for a year."""

from __future__ import annotations

import hashlib

from ..db.models import Issuer

__all__ = ["brand_css_url", "logo_url", "own_image"]


def own_image(image: str | None, base_url: str) -> str:
    """The badge image the page shows: never another host's (the page loads nothing from a third
    party): an embedded ``data:image`` or one of ours, else the default badge, served here."""
    if image and (image.startswith("data:image/") or image.startswith(base_url + "/")):
        return image
    return f"{base_url}/badges/default.png"


def logo_url(issuer: Issuer, base_url: str) -> str | None:
    """The issuer's stored logo, its content hash in the URL (so it is cached for a year)."""
    if not issuer.logo_digest:
        return None
    return f"{base_url}/issuers/{issuer.id}/logo/{issuer.logo_digest}"


def brand_css_url(issuer: Issuer, base_url: str) -> str | None:
    if not issuer.brand_colour or not issuer.accent_colour:
        return None
    digest = hashlib.sha256(f"{issuer.brand_colour}{issuer.accent_colour}".encode()).hexdigest()[:16]
    return f"{base_url}/issuers/{issuer.id}/brand/{digest}.css"
