"""An issuer's branding: its logo (stored by the service, never hot-linked) and its colours.

Pure: no HTTP, no database. A logo is checked before it is stored: PNG or JPEG that Pillow can
read, or an SVG with nothing active in it (no script, no event handler, no foreign object, no
reference to anything outside the file). An SVG with any of those is refused, not rewritten:
the owner is told why and can export a clean one. Colours are checked against WCAG 2.2 AA
(4.5:1 for normal text): the brand colour is a band behind the page's heading, and the text on
it is white or near-black, whichever reads (one of them always does); the accent colour is used
for links and rules on the white page, so it must itself reach 4.5:1 on white or is refused.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import Final
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeXml  # type: ignore[import-untyped]
from PIL import Image, UnidentifiedImageError

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
_SVG_NS = "{http://www.w3.org/2000/svg}"
_FORBIDDEN_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "embed", "object", "use", "image", "feimage", "a", "animate", "set", "animatemotion", "animatetransform", "handler", "listener"})


class BrandingError(ValueError):
    """A logo or colour the service refuses, with why in words an owner reads."""


@dataclass(frozen=True)
class Logo:
    media_type: str
    content: bytes

    @property
    def digest(self) -> str:
        """The content hash in the logo's URL, so it can be cached for a year."""
        return hashlib.sha256(self.content).hexdigest()[:20]


@dataclass(frozen=True)
class Palette:
    brand: str
    #: the text on the brand band: white or ink, whichever reaches AA
    on_brand: str
    accent: str


def check_logo(content: bytes) -> Logo:
    """The logo as stored, or :class:`BrandingError`. The type is read from the bytes, never
    from the file name or the browser's word."""
    if not content:
        raise BrandingError("The file is empty.")
    if len(content) > MAX_LOGO_BYTES:
        raise BrandingError(f"The logo is {len(content) // 1024} KB; the largest accepted is {MAX_LOGO_BYTES // 1024} KB.")
    if content.startswith(b"\x89PNG\r\n\x1a\n") or content.startswith(b"\xff\xd8\xff"):
        return _raster(content)
    head = content[:512].lstrip().lower()
    if head.startswith(b"<?xml") or head.startswith(b"<svg") or head.startswith(b"<!--"):
        return _svg(content)
    raise BrandingError("The logo must be a PNG, JPEG or SVG image.")


def _raster(content: bytes) -> Logo:
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise BrandingError("The image could not be read: it is damaged or not really a PNG or JPEG.") from exc
    if kind not in ("PNG", "JPEG"):
        raise BrandingError("The logo must be a PNG, JPEG or SVG image.")
    if width > MAX_LOGO_PIXELS or height > MAX_LOGO_PIXELS:
        raise BrandingError(f"The logo is {width}×{height} pixels; the largest accepted is {MAX_LOGO_PIXELS}×{MAX_LOGO_PIXELS}.")
    return Logo("image/png" if kind == "PNG" else "image/jpeg", content)


def _svg(content: bytes) -> Logo:
    try:
        root = SafeXml.fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception as exc:  # defusedxml raises several kinds: all mean "not a plain SVG"
        raise BrandingError("The SVG could not be read, or declares a DTD or entities.") from exc
    if root.tag not in (f"{_SVG_NS}svg", "svg"):
        raise BrandingError("The file is XML but not an SVG image.")
    for element in root.iter():
        _check_svg_element(element)
    return Logo("image/svg+xml", content)


def _check_svg_element(element: Element) -> None:
    name = str(element.tag).rsplit("}", 1)[-1].lower()
    if name in _FORBIDDEN_ELEMENTS:
        raise BrandingError(f"The SVG contains a <{name}> element: logos may not carry scripts, links or other files. Export a plain SVG.")
    if name == "style" and re.search(r"url\s*\(|@import|expression", element.text or "", re.I):
        raise BrandingError("The SVG's style refers to another file: logos must be self-contained.")
    for attribute, value in element.attrib.items():
        local = attribute.rsplit("}", 1)[-1].lower()
        if local.startswith("on"):
            raise BrandingError(f"The SVG has an event handler ({local}): logos may not carry scripts.")
        if local == "href" or re.search(r"url\s*\(\s*['\"]?\s*(?!#)", value, re.I) or "javascript:" in value.lower():
            raise BrandingError("The SVG refers to another file or a script: logos must be self-contained.")


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
