"""Baked badges: an OpenBadgeCredential carried inside its own PNG or SVG image.

Open Badges 3.0 section 5.3 ("Baked Badge"): https://www.imsglobal.org/spec/ob/v3p0/#baked-badge

What the spec fixes, and this module follows:

* PNG: one ``iTXt`` chunk with keyword ``openbadgecredential``, compression flag and method 0,
  empty language tag and translated keyword; its text is the credential's JSON or, for a
  VC-JWT, the compact JWS. "Compression MUST NOT be used"; the chunk "MUST NOT appear in a PNG
  more than once".
* SVG: the root ``<svg>`` declares ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"``
  and an ``<openbadges:credential>`` element follows the ``<svg>`` tag directly. A VC-JWT goes
  in its ``verify`` attribute; JSON goes in its body inside ``<![CDATA[...]]>``. "There MUST be
  only one" such element.
* Baking an image that is already baked may either fail or overwrite: we overwrite, so
  re-issuing a credential re-bakes the same image.

Choices of ours, where the spec leaves room:

* JSON is written compact, UTF-8, non-ASCII kept as is (names in any script stay readable).
* The PNG chunk goes right before the first ``IDAT``, so a reader that stops at the first
  ``openbadgecredential`` chunk (as the spec's extraction step allows) stops early. Every
  other chunk is copied byte for byte; bytes after ``IEND`` are not part of the PNG
  datastream, so baking drops them and unbaking ignores them.
* Every chunk's CRC is checked, in baking and unbaking alike: a corrupted image is refused
  rather than passed on.
* The SVG is never re-serialized: ElementTree would rename namespace prefixes (``ns0:``), drop
  comments and CDATA. Instead expat (the parser beneath ``xml.etree``) reports where the root
  tag and any credential element are, and the text is spliced at those offsets; everything
  else stays as the author wrote it. A DOCTYPE or ENTITY declaration is refused outright (no
  entity expansion, no external entities), and only UTF-8 SVG is accepted, because the baked
  SVG is returned as text that will be written out as UTF-8.
* A ``]]>`` inside the JSON is split across two CDATA sections, which every XML parser joins
  back; U+FFFE and U+FFFF, which XML cannot carry, are written as JSON escapes.
* Work is bounded: images (before and after baking) over :data:`MAX_IMAGE_BYTES` (10 MiB),
  chunk lengths that run past the data, and nesting deeper than Python can parse are refused.
* Unbaking refuses what a careful verifier should not guess about: two credentials, a
  compressed chunk, a credential element with both ``verify`` and a body, duplicate JSON
  member names, NaN / Infinity.

When an achievement's own image cannot be fetched, :func:`default_badge_svg` and
:func:`default_badge_png` draw a plain badge so that every credential can still be baked.
"""

from __future__ import annotations

import json
import math
import re
import struct
import textwrap
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat
from xml.sax.saxutils import escape

from . import strict_json
from .errors import MalformedError

__all__ = ["bake_png", "bake_svg", "default_badge_png", "default_badge_svg", "unbake"]

#: Images larger than this (10 MiB), given or produced, are refused.
MAX_IMAGE_BYTES = 10 * 1024 * 1024

OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
PNG_KEYWORD = "openbadgecredential"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_KEYWORD = PNG_KEYWORD.encode("latin-1")
_OB2_KEYWORD = b"openbadges"
_TEXT_CHUNKS = (b"iTXt", b"tEXt", b"zTXt")
_MAX_CHUNK_LENGTH = 2**31 - 1  # PNG section 5.3

_SVG_ROOT = "http://www.w3.org/2000/svg svg"
_OB3_CREDENTIAL = f"{OB3_NAMESPACE} credential"
_OB2_ASSERTION = "http://openbadges.org assertion"
_UTF8_BOM = b"\xef\xbb\xbf"

#: A compact JWS: three base64url segments. Nothing in it needs escaping in XML.
_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


# -- the credential as text ----------------------------------------------------------------------


def _credential_text(credential: Mapping[str, Any] | str) -> tuple[str, bool]:
    """The text to bake, and whether it is a VC-JWT."""
    if isinstance(credential, str):
        token = credential.strip()
        if not _JWS.fullmatch(token):
            raise MalformedError(
                "a credential given as text must be a VC-JWT (compact JWS); pass a JSON-LD credential as a mapping"
            )
        return token, True
    if not isinstance(credential, Mapping):
        raise TypeError(f"a credential is a mapping (JSON-LD) or a str (VC-JWT), not {type(credential).__name__}")
    try:
        text = json.dumps(dict(credential), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:  # UnicodeEncodeError: a lone surrogate
        raise MalformedError(f"the credential is not plain JSON: {exc}") from exc
    return text, False


def _parse_json(text: str, *, where: str) -> dict[str, Any]:
    try:
        value = strict_json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedError(f"the {where} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise MalformedError(f"the {where} must hold a JSON object, not {type(value).__name__}")
    return value


def _parse_credential(text: str, *, where: str) -> dict[str, Any] | str:
    """JSON text becomes a dict, a compact JWS stays a str; anything else is refused."""
    text = text.strip()
    if not text:
        raise MalformedError(f"the {where} is empty")
    if text.startswith("{"):
        return _parse_json(text, where=where)
    if _JWS.fullmatch(text):
        return text
    raise MalformedError(f"the {where} is neither a JSON credential nor a VC-JWT")



def _check_size(data: bytes, *, what: str) -> None:
    if len(data) > MAX_IMAGE_BYTES:
        raise MalformedError(f"{what} is {len(data)} bytes; images over {MAX_IMAGE_BYTES} bytes (10 MiB) are refused")


# -- PNG ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chunk:
    type: bytes
    data: bytes
    #: the chunk exactly as read (length, type, data, CRC), so it is written back unchanged
    raw: bytes


def _chunk(chunk_type: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(chunk_type))
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", crc)


def _png_chunks(png: bytes) -> list[_Chunk]:
    """Every chunk from IHDR to IEND, each checked for length, type and CRC."""
    if not png.startswith(_PNG_SIGNATURE):
        raise MalformedError("the data is not a PNG image (no PNG signature)")
    chunks: list[_Chunk] = []
    pos = len(_PNG_SIGNATURE)
    while True:
        if pos + 12 > len(png):
            raise MalformedError("the PNG ends before its IEND chunk")
        length, chunk_type = struct.unpack_from(">I4s", png, pos)
        name = chunk_type.decode("latin-1")
        if not chunk_type.isalpha():
            raise MalformedError(f"the PNG has an invalid chunk type {name!r} at byte {pos}")
        if length > _MAX_CHUNK_LENGTH or pos + 12 + length > len(png):
            raise MalformedError(f"PNG chunk {name} at byte {pos} claims {length} bytes, more than the image holds")
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", png, pos + 8 + length)
        if zlib.crc32(data, zlib.crc32(chunk_type)) != crc:
            raise MalformedError(f"PNG chunk {name} at byte {pos} is corrupted (its CRC does not match)")
        chunks.append(_Chunk(chunk_type, data, png[pos : pos + 12 + length]))
        pos += 12 + length
        if chunk_type == b"IEND":
            break
    if chunks[0].type != b"IHDR" or len(chunks[0].data) != 13:
        raise MalformedError("the PNG does not start with an IHDR chunk")
    if not any(chunk.type == b"IDAT" for chunk in chunks):
        raise MalformedError("the PNG has no image data (IDAT chunk)")
    return chunks


def _text_keyword(chunk: _Chunk) -> bytes | None:
    """The keyword of a tEXt / zTXt / iTXt chunk (1-79 bytes before a NUL), else None."""
    if chunk.type not in _TEXT_CHUNKS:
        return None
    end = chunk.data.find(b"\x00", 0, 80)
    return chunk.data[:end] if end > 0 else None


def _itxt_text(chunk: _Chunk) -> str:
    """The text of our iTXt chunk: keyword NUL, flag, method, language NUL, translated NUL, text."""
    rest = chunk.data[len(_KEYWORD) + 1 :]
    if len(rest) < 2:
        raise MalformedError("the openbadgecredential iTXt chunk is truncated")
    flag, method = rest[0], rest[1]
    if flag == 1:
        raise MalformedError("the openbadgecredential iTXt chunk is compressed; Open Badges 3.0 forbids compression")
    if flag != 0 or method != 0:
        raise MalformedError(f"the openbadgecredential iTXt chunk has an invalid compression flag {flag} / method {method}")
    language_end = rest.find(b"\x00", 2)
    translated_end = rest.find(b"\x00", language_end + 1) if language_end >= 0 else -1
    if translated_end < 0:
        raise MalformedError("the openbadgecredential iTXt chunk is truncated")
    try:
        return rest[translated_end + 1 :].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedError("the openbadgecredential iTXt text is not UTF-8") from exc


def bake_png(png: bytes, credential: Mapping[str, Any] | str) -> bytes:
    """Return ``png`` with ``credential`` baked in, replacing any credential baked before.

    ``credential`` is a JSON-LD credential (a mapping) or a VC-JWT (its compact JWS string).
    Raises ``MalformedError`` for an image that is not a sound PNG or is too large.
    """
    text, _ = _credential_text(credential)
    png = bytes(png)
    _check_size(png, what="the image")
    kept = [chunk for chunk in _png_chunks(png) if _text_keyword(chunk) != _KEYWORD]
    first_idat = next(i for i, chunk in enumerate(kept) if chunk.type == b"IDAT")
    # keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL
    baked = _chunk(b"iTXt", _KEYWORD + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8"))
    out = b"".join(
        [_PNG_SIGNATURE, *(c.raw for c in kept[:first_idat]), baked, *(c.raw for c in kept[first_idat:])]
    )
    _check_size(out, what="the baked image")
    return out


def _unbake_png(png: bytes) -> dict[str, Any] | str:
    chunks = _png_chunks(png)
    found = [chunk for chunk in chunks if chunk.type == b"iTXt" and _text_keyword(chunk) == _KEYWORD]
    if len(found) > 1:
        raise MalformedError(f"the PNG holds {len(found)} openbadgecredential chunks; Open Badges 3.0 allows one")
    if not found:
        hint = ""
        if any(_text_keyword(chunk) == _OB2_KEYWORD for chunk in chunks):
            hint = " (it holds an Open Badges 2.0 'openbadges' assertion, which is not a 3.0 credential)"
        raise MalformedError(f"the PNG holds no Open Badges 3.0 credential (no openbadgecredential iTXt chunk){hint}")
    return _parse_credential(_itxt_text(found[0]), where="PNG's openbadgecredential text")


# -- SVG ----------------------------------------------------------------------------------------


@dataclass
class _Element:
    start: int
    end: int = -1
    attributes: dict[str, str] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    has_children: bool = False


@dataclass
class _Svg:
    """Where things are in an SVG's UTF-8 bytes, as expat reported them."""

    root_qname: bytes = b""
    root_name_end: int = -1  # just past "<svg"
    root_tag_end: int = -1  # just past the root start tag's ">"
    root_empty: bool = False  # written as <svg .../>
    root_prefixes: dict[str, str] = field(default_factory=dict)
    credentials: list[_Element] = field(default_factory=list)
    has_ob2_assertion: bool = False


def _svg_bytes(svg: str | bytes) -> bytes:
    """The SVG as UTF-8 bytes without a byte order mark."""
    if isinstance(svg, str):
        try:
            data = svg.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MalformedError("the SVG text is not valid Unicode") from exc
    elif isinstance(svg, (bytes, bytearray, memoryview)):
        data = bytes(svg)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedError("the SVG is not UTF-8 encoded; only UTF-8 SVG is supported") from exc
    else:
        raise TypeError(f"an SVG is str or bytes, not {type(svg).__name__}")
    return data.removeprefix(_UTF8_BOM)


def _tag_end(data: bytes, start: int) -> int:
    """Just past the ">" closing the tag that opens at ``start`` (quotes may hold ">")."""
    quote = 0
    for pos in range(start + 1, len(data)):
        byte = data[pos]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in b"\"'":
            quote = byte
        elif byte == 0x3E:  # ">"
            return pos + 1
    raise MalformedError("the SVG has an unterminated tag")  # expat has already refused this


def _name_end(data: bytes, start: int) -> int:
    """Just past the element name of the tag opening at ``start``."""
    pos = start + 1
    while pos < len(data) and data[pos] not in b" \t\r\n/>":
        pos += 1
    return pos


def _scan_svg(data: bytes) -> _Svg:
    """One pass of expat over the SVG; refuses DTDs, entities, non-SVG roots and bad XML."""
    svg = _Svg()
    parser = expat.ParserCreate(encoding="utf-8", namespace_separator=" ")
    parser.buffer_text = True
    depth = 0
    pending_prefixes: dict[str, str] = {}
    current: _Element | None = None
    current_depth = 0

    def refuse_dtd(*_: Any) -> None:
        raise MalformedError("the SVG has a DOCTYPE or ENTITY declaration; these are refused (entity expansion)")

    def xml_declaration(_version: str, encoding: str | None, _standalone: int) -> None:
        if encoding is not None and encoding.lower() not in ("utf-8", "utf8"):
            raise MalformedError(f"the SVG declares encoding {encoding!r}; only UTF-8 SVG is supported")

    def namespace_declared(prefix: str | None, uri: str) -> None:
        if depth == 0:
            pending_prefixes[prefix or ""] = uri

    def start_element(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth, current, current_depth
        start = parser.CurrentByteIndex
        if depth == 0:
            if name != _SVG_ROOT:
                raise MalformedError(f"the XML document is not an SVG image (its root element is {name!r})")
            svg.root_qname = data[start + 1 : _name_end(data, start)]
            svg.root_name_end = _name_end(data, start)
            svg.root_tag_end = _tag_end(data, start)
            svg.root_empty = data[svg.root_tag_end - 2 : svg.root_tag_end] == b"/>"
            svg.root_prefixes = dict(pending_prefixes)
        depth += 1
        if current is not None:
            current.has_children = True
        elif name == _OB3_CREDENTIAL:
            current, current_depth = _Element(start=start, attributes=dict(attributes)), depth
            svg.credentials.append(current)
        elif name == _OB2_ASSERTION:
            svg.has_ob2_assertion = True

    def end_element(_name: str) -> None:
        nonlocal depth, current
        if current is not None and depth == current_depth:
            tag_end = _tag_end(data, current.start)
            empty = data[tag_end - 2 : tag_end] == b"/>"
            current.end = tag_end if empty else _tag_end(data, parser.CurrentByteIndex)
            current = None
        depth -= 1

    def character_data(text: str) -> None:
        if current is not None:
            current.text.append(text)

    # Entities can only be declared inside a DOCTYPE, so refusing it refuses them all; a
    # reference to an undeclared entity is then a well-formedness error expat reports itself.
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.XmlDeclHandler = xml_declaration
    parser.StartNamespaceDeclHandler = namespace_declared
    parser.StartElementHandler = start_element
    parser.EndElementHandler = end_element
    parser.CharacterDataHandler = character_data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise MalformedError(f"the SVG is not well-formed XML: {exc}") from exc
    except RecursionError as exc:
        raise MalformedError("the SVG is nested too deeply") from exc
    return svg


def _credential_element(text: str, is_jwt: bool) -> bytes:
    if is_jwt:
        return f'<openbadges:credential verify="{text}"></openbadges:credential>'.encode("ascii")
    # Inside JSON strings only: XML cannot carry U+FFFE / U+FFFF, and "]]>" would end the CDATA.
    text = text.replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff").replace("]]>", "]]]]><![CDATA[>")
    return f"<openbadges:credential><![CDATA[{text}]]></openbadges:credential>".encode("utf-8")


def _splice(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace each ``data[start:end]`` by its bytes; edits do not overlap."""
    out: list[bytes] = []
    pos = 0
    for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        out += [data[pos:start], replacement]
        pos = end
    out.append(data[pos:])
    return b"".join(out)


def bake_svg(svg: str | bytes, credential: Mapping[str, Any] | str) -> str:
    """Return ``svg`` with ``credential`` baked in, replacing any credential baked before.

    ``credential`` is a JSON-LD credential (a mapping) or a VC-JWT (its compact JWS string).
    Only the namespace declaration and the credential element are added (and an old credential
    element removed); the rest of the SVG is kept byte for byte. The result is text to be
    written as UTF-8. Raises ``MalformedError`` for input that is not a safe, well-formed SVG.
    """
    text, is_jwt = _credential_text(credential)
    data = _svg_bytes(svg)
    _check_size(data, what="the image")
    scan = _scan_svg(data)
    bound = scan.root_prefixes.get("openbadges")
    if bound is not None and bound != OB3_NAMESPACE:
        raise MalformedError(
            f"the SVG binds the prefix 'openbadges' to {bound!r}, not {OB3_NAMESPACE!r}"
            " (an Open Badges 2.0 baked image?); bake a clean image instead"
        )
    element = _credential_element(text, is_jwt)
    edits = [(c.start, c.end, b"") for c in scan.credentials]
    if bound is None:
        declaration = f' xmlns:openbadges="{OB3_NAMESPACE}"'.encode("ascii")
        edits.append((scan.root_name_end, scan.root_name_end, declaration))
    if scan.root_empty:  # <svg .../> becomes <svg ...><openbadges:credential/></svg>
        closing = b"</" + scan.root_qname + b">"
        edits.append((scan.root_tag_end - 2, scan.root_tag_end, b">" + element + closing))
    else:
        edits.append((scan.root_tag_end, scan.root_tag_end, element))
    out = _splice(data, edits)
    _check_size(out, what="the baked image")
    return out.decode("utf-8")


def _unbake_svg(data: bytes) -> dict[str, Any] | str:
    scan = _scan_svg(_svg_bytes(data))
    if len(scan.credentials) > 1:
        raise MalformedError(
            f"the SVG holds {len(scan.credentials)} openbadges:credential elements; Open Badges 3.0 allows one"
        )
    if not scan.credentials:
        hint = " (it holds an Open Badges 2.0 assertion, which is not a 3.0 credential)" if scan.has_ob2_assertion else ""
        raise MalformedError(f"the SVG holds no Open Badges 3.0 credential (no openbadges:credential element){hint}")
    element = scan.credentials[0]
    if element.has_children:
        raise MalformedError("the openbadges:credential element holds markup, not only a credential")
    body = "".join(element.text).strip()
    token = element.attributes.get("verify")
    if token is None:
        if not body:
            raise MalformedError("the openbadges:credential element is empty")
        return _parse_json(body, where="SVG's openbadges:credential element")
    if body:
        raise MalformedError("the openbadges:credential element has both a verify attribute and a body")
    token = token.strip()
    if not _JWS.fullmatch(token):
        raise MalformedError("the verify attribute of openbadges:credential is not a VC-JWT (compact JWS)")
    return token


# -- unbaking -----------------------------------------------------------------------------------


def unbake(data: bytes) -> dict[str, Any] | str:
    """The credential baked into a PNG or SVG image: a dict (JSON-LD) or a str (VC-JWT).

    Only extracts; verify the result with ``verify``. Raises ``MalformedError`` for data that
    is not such an image, holds no credential or two, or is corrupted.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"an image is bytes, not {type(data).__name__}")
    data = bytes(data)
    _check_size(data, what="the image")
    if data.startswith(_PNG_SIGNATURE):
        return _unbake_png(data)
    if data.removeprefix(_UTF8_BOM).lstrip(b" \t\r\n").startswith(b"<"):
        return _unbake_svg(data)
    raise MalformedError("the data is neither a PNG nor an SVG image")


# -- default badge images -----------------------------------------------------------------------

_NAVY, _GOLD, _BLUE, _WHITE = (31, 58, 95), (224, 184, 74), (43, 92, 138), (255, 255, 255)
#: Characters XML 1.0 cannot carry at all (C0 controls but tab / newline / CR, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return escape(_NOT_XML.sub("", text))


def default_badge_svg(title: str, subtitle: str) -> str:
    """A plain round badge showing ``title`` (wrapped, up to three lines) and ``subtitle``.

    For credentials whose achievement image cannot be fetched. The full text is also the SVG's
    ``<title>``, so screen readers announce it even when the drawn text is shortened.
    """
    if not isinstance(title, str) or not isinstance(subtitle, str):
        raise TypeError("title and subtitle are str")
    title, subtitle = " ".join(_NOT_XML.sub("", title).split()), " ".join(_NOT_XML.sub("", subtitle).split())
    short = subtitle if len(subtitle) <= 22 else subtitle[:21].rstrip() + "…"
    lines = textwrap.wrap(title, width=16, max_lines=3, placeholder=" …") or [""]
    # Sizes assume a glyph about 0.6 em wide: the longest line fits the 176 px across the disc.
    font = max(12, min(22, int(176 / (0.6 * max(len(line) for line in lines)) if title else 22)))
    line_height = round(font * 1.2)
    first = (116 if short else 128) - (len(lines) - 1) * line_height / 2 + font * 0.35
    last = first + (len(lines) - 1) * line_height
    spans = "".join(
        f'<tspan x="128" y="{first + i * line_height:.0f}">{_xml_text(line)}</tspan>' for i, line in enumerate(lines)
    )
    label = f"{title} — {subtitle}" if title and subtitle else title or subtitle
    text_style = "font-family=\"'Helvetica Neue', Arial, sans-serif\" text-anchor=\"middle\""
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256" role="img">',
        f"<title>{_xml_text(label)}</title>",
        f'<circle cx="128" cy="128" r="124" fill="#{_hex(_NAVY)}"/>',
        f'<circle cx="128" cy="128" r="108" fill="none" stroke="#{_hex(_GOLD)}" stroke-width="6"/>',
        f'<circle cx="128" cy="128" r="98" fill="#{_hex(_BLUE)}"/>',
        f'<text {text_style} font-size="{font}" font-weight="700" fill="#ffffff">{spans}</text>',
    ]
    if short:
        parts += [
            f'<path d="M100 {last + 12:.0f}H156" stroke="#{_hex(_GOLD)}" stroke-width="2"/>',
            f'<text x="128" y="{last + 32:.0f}" {text_style} font-size="12" fill="#dbe7f3">{_xml_text(short)}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _hex(rgb: tuple[int, int, int]) -> str:
    return "".join(f"{channel:02x}" for channel in rgb)


def default_badge_png(size: int = 256) -> bytes:
    """A ``size`` x ``size`` RGBA PNG of a round badge with a check mark, drawn pixel by pixel.

    Anti-aliased by coverage; transparent outside the badge. ``size`` is 16 to 1024.
    """
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"size is an int, not {type(size).__name__}")
    if not 16 <= size <= 1024:
        raise ValueError(f"size must be between 16 and 1024 pixels, not {size}")
    pixel = 1 / size
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type None
        v = (y + 0.5) * pixel - 0.5
        for x in range(size):
            rows += _badge_pixel((x + 0.5) * pixel - 0.5, v, pixel)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return b"".join(
        [_PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(bytes(rows), 9)), _chunk(b"IEND", b"")]
    )


_CHECK_MARK = ((-0.14, 0.01), (-0.04, 0.11), (0.15, -0.10))


def _badge_pixel(u: float, v: float, pixel: float) -> bytes:
    """The RGBA of the pixel centred at (u, v), the badge spanning -0.5..0.5 on both axes."""
    radius = math.hypot(u, v)
    if radius > 0.48:
        return b"\x00\x00\x00\x00"

    def coverage(inside: float) -> float:  # signed distance to the edge, positive inside
        return min(1.0, max(0.0, 0.5 + inside / pixel))

    check = min(_segment_distance(u, v, a, b) for a, b in zip(_CHECK_MARK, _CHECK_MARK[1:]))
    layers = (
        (_NAVY, coverage(0.47 - radius)),
        (_GOLD, min(coverage(0.43 - radius), coverage(radius - 0.39))),
        (_BLUE, coverage(0.36 - radius)),
        (_WHITE, coverage(0.04 - check)),
    )
    red = green = blue = alpha = 0.0
    for (r, g, b), a in layers:  # "over" compositing, straight alpha
        if a <= 0:
            continue
        out_alpha = a + alpha * (1 - a)
        red = (r * a + red * alpha * (1 - a)) / out_alpha
        green = (g * a + green * alpha * (1 - a)) / out_alpha
        blue = (b * a + blue * alpha * (1 - a)) / out_alpha
        alpha = out_alpha
    return bytes((round(red), round(green), round(blue), round(alpha * 255)))


def _segment_distance(u: float, v: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((u - a[0]) * dx + (v - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(u - a[0] - t * dx, v - a[1] - t * dy)
