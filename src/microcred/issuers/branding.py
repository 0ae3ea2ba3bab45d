"""An issuer's branding: its logo (stored by the service, never hot-linked) and its colours.

Pure: no HTTP, no database. A logo is checked before it is stored as every stored image is
(:mod:`microcred.images.checks`), within the logo's own limits. Colours are checked against WCAG 2.2 AA
(4.5:1 for normal text): the brand colour is a band behind the page's heading, and the text on
it is white or near-black, whichever reads (one of them always does); the accent colour is used
for links and rules on the white page, so it must itself reach 4.5:1 on white or is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ..images.checks import CheckedImage, ImageError, check_image

#: an issuer's logo is a checked image like any other the service stores
Logo = CheckedImage

__all__ = [
    "BrandingError",
    "Logo",
    "MAX_LOGO_BYTES",
    "Palette",
    "brand_css",
    "check_logo",
    "contrast",
    "palette",
]

MAX_LOGO_BYTES: Final = 256 * 1024
MAX_LOGO_PIXELS: Final = 2048
#: the text colours a band of brand colour may carry
WHITE: Final = "#ffffff"
INK: Final = "#1b1f24"
#: the grey of the page's panels, the darkest background links sit on
PANEL: Final = "#f5f5f4"
AA: Final = 4.5

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


class BrandingError(ValueError):
    """A logo or colour the service refuses, with why in words an owner reads."""


@dataclass(frozen=True)
class Palette:
    brand: str
    #: the text on the brand band: white or ink, whichever reaches AA
    on_brand: str
    accent: str


def check_logo(content: bytes) -> Logo:
    """The logo as stored, or :class:`BrandingError` (the checks are every stored image's)."""
    try:
        return check_image(content, what="logo", max_bytes=MAX_LOGO_BYTES, max_pixels=MAX_LOGO_PIXELS)
    except ImageError as exc:
        raise BrandingError(str(exc)) from exc


def _luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def palette(brand: str, accent: str) -> tuple[Palette, list[str]]:
    """The palette for a brand and an accent colour, and what was adjusted, in words.

    Raises :class:`BrandingError` (naming the field) for a colour that is not ``#rrggbb`` or an
    accent that does not reach AA on white."""
    for field, value in (("brand", brand), ("accent", accent)):
        if not _HEX.match(value):
            raise BrandingError(f"{field}: a colour is written #rrggbb, e.g. #19487a.")
    brand, accent = brand.lower(), accent.lower()
    ratio = min(contrast(accent, WHITE), contrast(accent, PANEL))
    if ratio < AA:
        raise BrandingError(f"accent: {accent} on the page's white and grey has a contrast of {ratio:.2f}:1; links and text need at least 4.5:1 (WCAG AA). Choose a darker colour.")
    notes: list[str] = []
    on_brand = WHITE if contrast(brand, WHITE) >= AA else INK
    if on_brand == INK:
        notes.append(f"White text on {brand} would have a contrast of {contrast(brand, WHITE):.2f}:1, below 4.5:1 (WCAG AA): text on the brand colour is dark instead ({contrast(brand, INK):.2f}:1).")
    return Palette(brand, on_brand, accent), notes


def brand_css(colours: Palette) -> str:
    """The small per-issuer stylesheet the credential page links to (served from our origin, so the
    page's CSP needs no ``unsafe-inline``)."""
    return (
        f":root{{--brand:{colours.brand};--on-brand:{colours.on_brand};--accent:{colours.accent}}}\n"
    )
