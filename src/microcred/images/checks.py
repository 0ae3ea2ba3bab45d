"""Checks every image the service stores (an issuer's logo, an achievement's badge image) before
it is kept: the type is read from the bytes, never from a file name or a server's word.

Accepted: PNG or JPEG that Pillow can read, within a size and a pixel limit; or an SVG with
nothing active in it (no script, no event handler, no foreign object, no reference to anything
outside the file). An SVG with any of those is refused, not rewritten: its owner is told why and
can export a clean one. Pure: no HTTP, no database.
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

__all__ = ["CheckedImage", "ImageError", "MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS", "check_image"]

MAX_IMAGE_BYTES: Final = 1024 * 1024
MAX_IMAGE_PIXELS: Final = 4096

_SVG_NS = "{http://www.w3.org/2000/svg}"
_FORBIDDEN_ELEMENTS = frozenset({
    "script", "foreignobject", "iframe", "embed", "object", "use", "image", "feimage", "a",
    "animate", "set", "animatemotion", "animatetransform", "handler", "listener",
})


class ImageError(ValueError):
    """An image the service refuses, with why in words its owner reads."""


@dataclass(frozen=True)
class CheckedImage:
    media_type: str
    content: bytes

    @property
    def digest(self) -> str:
        """The content hash in the image's URL, so it can be cached for a year."""
        return hashlib.sha256(self.content).hexdigest()[:20]


def check_image(content: bytes, *, what: str = "image", max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS) -> CheckedImage:
    """The image as it will be stored, or :class:`ImageError` (``what`` names it in the message:
    "logo", "badge image")."""
    if not content:
        raise ImageError("The file is empty.")
    if len(content) > max_bytes:
        raise ImageError(f"The {what} is {len(content) // 1024} KB; the largest accepted is {max_bytes // 1024} KB.")
    if content.startswith(b"\x89PNG\r\n\x1a\n") or content.startswith(b"\xff\xd8\xff"):
        return _raster(content, what, max_pixels)
    head = content[:512].lstrip().lower()
    if head.startswith(b"<?xml") or head.startswith(b"<svg") or head.startswith(b"<!--"):
        return _svg(content, what)
    raise ImageError(f"The {what} must be a PNG, JPEG or SVG image.")


def _raster(content: bytes, what: str, max_pixels: int) -> CheckedImage:
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError("The image could not be read: it is damaged or not really a PNG or JPEG.") from exc
    if kind not in ("PNG", "JPEG"):
        raise ImageError(f"The {what} must be a PNG, JPEG or SVG image.")
    if width > max_pixels or height > max_pixels:
        raise ImageError(f"The {what} is {width}×{height} pixels; the largest accepted is {max_pixels}×{max_pixels}.")
    return CheckedImage("image/png" if kind == "PNG" else "image/jpeg", content)


def _svg(content: bytes, what: str) -> CheckedImage:
    try:
        root = SafeXml.fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception as exc:  # defusedxml raises several kinds: all mean "not a plain SVG"
        raise ImageError("The SVG could not be read, or declares a DTD or entities.") from exc
    if root.tag not in (f"{_SVG_NS}svg", "svg"):
        raise ImageError("The file is XML but not an SVG image.")
    for element in root.iter():
        _check_svg_element(element, what)
    return CheckedImage("image/svg+xml", content)


def _check_svg_element(element: Element, what: str) -> None:
    name = str(element.tag).rsplit("}", 1)[-1].lower()
    if name in _FORBIDDEN_ELEMENTS:
        raise ImageError(f"The SVG contains a <{name}> element: a {what} may not carry scripts, links or other files. Export a plain SVG.")
    if name == "style" and re.search(r"url\s*\(|@import|expression", element.text or "", re.I):
        raise ImageError(f"The SVG's style refers to another file: a {what} must be self-contained.")
    for attribute, value in element.attrib.items():
        local = attribute.rsplit("}", 1)[-1].lower()
        if local.startswith("on"):
            raise ImageError(f"The SVG has an event handler ({local}): a {what} may not carry scripts.")
        if local == "href" or re.search(r"url\s*\(\s*['\"]?\s*(?!#)", value, re.I) or "javascript:" in value.lower():
            raise ImageError(f"The SVG refers to another file or a script: a {what} must be self-contained.")
