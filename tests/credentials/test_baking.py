"""Baked badges (OB 3.0 section 5.3): credentials carried inside PNG and SVG images."""

from __future__ import annotations

import copy
import json
import struct
import xml.etree.ElementTree as ET
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.credentials import DocumentLoader, Ed25519KeyPair, MalformedError, issue, verify
from microcred.credentials.baking import (
    MAX_IMAGE_BYTES,
    bake_png,
    bake_svg,
    default_badge_png,
    default_badge_svg,
    unbake,
)
from microcred.credentials.vc_jwt import encode_vc_jwt

OB = "https://purl.imsglobal.org/ob/v3p0"
SVG_NS = "http://www.w3.org/2000/svg"
SIGNATURE = b"\x89PNG\r\n\x1a\n"
JWT = "eyJhbGciOiJFZERTQSJ9.eyJuYW1lIjoiWm_DqyJ9.c2lnbmF0dXJl"
CREDENTIAL: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "urn:uuid:91537dba-56cb-11ec-bf63-0242ac130002",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "Ελληνικά für Zoë Jansen 🎓",
    "credentialSubject": {"achievement": {"name": "Prüfung — 合格", "criteria": {"narrative": "a]]>b <&> \"q\""}}},
    "score": 8.5,
    "passed": True,
}
SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<!-- drawn by hand -->\n"
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    "viewBox=\"0 0 10 10\" data-note='a > b'>\n"
    "  <style><![CDATA[ circle { fill: red } ]]></style>\n"
    '  <?render fast?><circle cx="5" cy="5" r="4"/><use xlink:href="#c"/>\n'
    "</svg>\n"
)


# -- a PNG reader of the tests' own, independent of the module under test ----------------------


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, asserting the PNG's structure and every CRC."""
    assert png[:8] == SIGNATURE
    found, pos = [], 8
    while pos < len(png):
        length, kind = struct.unpack_from(">I4s", png, pos)
        data = png[pos + 8 : pos + 8 + length]
        assert len(data) == length
        (crc,) = struct.unpack_from(">I", png, pos + 8 + length)
        assert crc == zlib.crc32(kind + data), f"bad CRC in {kind!r}"
        found.append((kind, data))
        pos += 12 + length
    assert pos == len(png)
    assert found[0][0] == b"IHDR" and found[-1] == (b"IEND", b"")
    return found


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def build_png(*extra: bytes) -> bytes:
    """A 1x1 grey PNG with ``extra`` chunks between IHDR and IDAT."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    return SIGNATURE + ihdr + b"".join(extra) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")


def itxt(text: bytes, *, keyword: bytes = b"openbadgecredential", flag: int = 0) -> bytes:
    return chunk(b"iTXt", keyword + b"\x00" + bytes([flag, 0]) + b"\x00\x00" + text)


def credential_chunks(png: bytes) -> list[bytes]:
    return [data for kind, data in chunks(png) if kind == b"iTXt" and data.startswith(b"openbadgecredential\x00")]


def credential_elements(svg: str) -> list[ET.Element]:
    return ET.fromstring(svg.encode("utf-8")).findall(f".//{{{OB}}}credential")


@pytest.fixture(scope="module")
def png() -> bytes:
    return default_badge_png(32)


# -- PNG ----------------------------------------------------------------------------------------


class TestBakePng:
    @pytest.mark.parametrize("credential", [CREDENTIAL, JWT], ids=["json-ld", "vc-jwt"])
    def test_round_trip(self, png, credential):
        assert unbake(bake_png(png, credential)) == credential

    def test_non_ascii_round_trips_exactly_and_is_stored_as_utf8(self, png):
        baked = bake_png(png, CREDENTIAL)
        back = unbake(baked)
        assert back["name"] == "Ελληνικά für Zoë Jansen 🎓"
        assert back["credentialSubject"]["achievement"]["name"] == "Prüfung — 合格"
        assert "Zoë Jansen 🎓".encode() in credential_chunks(baked)[0]

    def test_the_chunk_is_one_uncompressed_itxt_before_the_image_data(self, png):
        baked = chunks(bake_png(png, JWT))  # chunks() checks every CRC and the overall structure
        kinds = [kind for kind, _ in baked]
        position = kinds.index(b"iTXt")
        assert kinds[position + 1] == b"IDAT" and kinds.count(b"iTXt") == 1
        keyword, flag, method, language, translated, text = (
            baked[position][1][:19], *baked[position][1][20:22], *baked[position][1][22:].split(b"\x00", 2)
        )
        assert (keyword, flag, method, language, translated, text) == (b"openbadgecredential", 0, 0, b"", b"", JWT.encode())

    def test_every_other_chunk_is_kept_unchanged_and_in_order(self):
        original = build_png(chunk(b"tEXt", b"Software\x00hand"), itxt(b"legacy", keyword=b"openbadges"))
        baked = bake_png(original, CREDENTIAL)
        without = [c for c in chunks(baked) if not (c[0] == b"iTXt" and c[1].startswith(b"openbadgecredential\x00"))]
        assert without == chunks(original)

    def test_rebaking_replaces_the_credential(self, png):
        twice = bake_png(bake_png(png, CREDENTIAL), JWT)
        assert len(credential_chunks(twice)) == 1
        assert unbake(twice) == JWT
        assert twice == bake_png(png, JWT)

    def test_rebaking_replaces_a_chunk_placed_elsewhere(self):
        original = build_png(chunk(b"tEXt", b"openbadgecredential\x00old"), itxt(b'{"old":1}'))
        baked = bake_png(original, CREDENTIAL)
        assert len(credential_chunks(baked)) == 1 and b"old" not in baked
        assert unbake(baked) == CREDENTIAL

    def test_bytes_after_iend_are_not_part_of_the_png(self, png):
        baked = bake_png(png + b"trailing", JWT)
        assert not baked.endswith(b"trailing") and unbake(baked + b"junk") == JWT

    def test_a_corrupted_input_is_refused(self, png):
        broken = bytearray(png)
        broken[50] ^= 0xFF  # inside IDAT
        with pytest.raises(MalformedError, match="CRC"):
            bake_png(bytes(broken), CREDENTIAL)


class TestUnbakePngRefuses:
    def test_a_corrupted_crc(self, png):
        baked = bytearray(bake_png(png, CREDENTIAL))
        at = baked.index("Zoë".encode())
        baked[at] = ord("X")
        with pytest.raises(MalformedError, match="CRC"):
            unbake(bytes(baked))

    def test_two_credential_chunks(self):
        with pytest.raises(MalformedError, match="2 openbadgecredential"):
            unbake(build_png(itxt(JWT.encode()), itxt(b'{"a":1}')))

    def test_a_compressed_chunk(self):
        with pytest.raises(MalformedError, match="compressed"):
            unbake(build_png(itxt(zlib.compress(JWT.encode()), flag=1)))

    @pytest.mark.parametrize("text", [b'{"name": "unterminated', b'{"a":1,"a":2}', b'{"a":NaN}', b"not a credential", b""])
    def test_text_that_is_neither_json_nor_a_jwt(self, text):
        with pytest.raises(MalformedError):
            unbake(build_png(itxt(text)))

    def test_text_that_is_not_utf8(self):
        with pytest.raises(MalformedError, match="UTF-8"):
            unbake(build_png(itxt(b'{"a":"\xff"}')))

    def test_no_credential(self, png):
        with pytest.raises(MalformedError, match="no Open Badges 3.0 credential"):
            unbake(png)

    def test_an_open_badges_2_assertion_is_named(self):
        with pytest.raises(MalformedError, match="2.0"):
            unbake(build_png(itxt(JWT.encode(), keyword=b"openbadges")))

    def test_a_chunk_length_beyond_the_data(self):
        lying = struct.pack(">I", 2**31 - 1) + b"tEXt" + b"x" * 20
        with pytest.raises(MalformedError, match="more than the image holds"):
            unbake(build_png()[:33] + lying)

    def test_a_truncated_png(self, png):
        with pytest.raises(MalformedError, match="IEND"):
            unbake(bake_png(png, JWT)[:-12])


# -- SVG ----------------------------------------------------------------------------------------


class TestBakeSvg:
    @pytest.mark.parametrize("credential", [CREDENTIAL, JWT], ids=["json-ld", "vc-jwt"])
    def test_round_trip(self, credential):
        baked = bake_svg(SVG, credential)
        assert unbake(baked.encode("utf-8")) == credential

    def test_a_jwt_goes_in_the_verify_attribute_right_after_the_svg_tag(self):
        baked = bake_svg(SVG, JWT)
        assert f"a > b'><openbadges:credential verify=\"{JWT}\"></openbadges:credential>\n  <style>" in baked
        root = ET.fromstring(baked.encode())
        assert root[0].tag == f"{{{OB}}}credential" and root[0].get("verify") == JWT and not root[0].text

    def test_json_goes_in_cdata_as_the_first_child(self):
        baked = bake_svg(SVG, CREDENTIAL)
        assert "<openbadges:credential><![CDATA[{" in baked
        root = ET.fromstring(baked.encode())
        assert root[0].tag == f"{{{OB}}}credential" and json.loads(root[0].text) == CREDENTIAL

    def test_the_rest_of_the_svg_is_kept_as_written(self):
        baked = bake_svg(SVG, JWT)
        element = f'<openbadges:credential verify="{JWT}"></openbadges:credential>'
        expected = SVG.replace(
            '<svg xmlns="', '<svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" xmlns="'
        ).replace("'a > b'>", "'a > b'>" + element)
        assert baked == expected

    def test_non_ascii_round_trips_exactly(self):
        baked = bake_svg(SVG.encode("utf-8"), CREDENTIAL)
        assert "Ελληνικά für Zoë Jansen 🎓" in baked
        assert unbake(baked.encode("utf-8")) == CREDENTIAL

    def test_a_cdata_terminator_inside_the_json_survives(self):
        baked = bake_svg(SVG, CREDENTIAL)
        assert unbake(baked.encode())["credentialSubject"]["achievement"]["criteria"]["narrative"] == 'a]]>b <&> "q"'

    def test_rebaking_replaces_the_credential(self):
        twice = bake_svg(bake_svg(SVG, CREDENTIAL), JWT)
        assert len(credential_elements(twice)) == 1 and twice.count("xmlns:openbadges") == 1
        assert unbake(twice.encode()) == JWT
        assert twice == bake_svg(SVG, JWT)

    def test_rebaking_replaces_a_credential_baked_elsewhere(self):
        theirs = (
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="https://purl.imsglobal.org/ob/v3p0">\n'
            '  <g><ob:credential>\n    <![CDATA[ {"old": true} ]]>\n  </ob:credential></g>\n</svg>'
        )
        assert unbake(theirs.encode()) == {"old": True}
        baked = bake_svg(theirs, CREDENTIAL)
        assert len(credential_elements(baked)) == 1 and "old" not in baked
        assert unbake(baked.encode()) == CREDENTIAL

    def test_a_self_closing_svg_and_a_byte_order_mark(self):
        baked = bake_svg(b'\xef\xbb\xbf<svg:svg xmlns:svg="http://www.w3.org/2000/svg"/>', JWT)
        assert baked == (
            '<svg:svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" xmlns:svg="http://www.w3.org/2000/svg">'
            f'<openbadges:credential verify="{JWT}"></openbadges:credential></svg:svg>'
        )
        assert unbake(baked.encode()) == JWT


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    '<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
)
EXTERNAL_ENTITY = (
    '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
)


class TestSvgRefuses:
    @pytest.mark.parametrize("svg", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["entity-expansion", "external-entity"])
    def test_doctype_and_entities(self, svg):
        with pytest.raises(MalformedError, match="DOCTYPE"):
            bake_svg(svg, JWT)
        with pytest.raises(MalformedError, match="DOCTYPE"):
            unbake(svg.encode())

    def test_an_undeclared_entity(self):
        with pytest.raises(MalformedError, match="well-formed"):
            bake_svg('<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>', JWT)

    @pytest.mark.parametrize(
        "svg", ["<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", "<html/>", "<svg/>"], ids=["broken", "html", "no-ns"]
    )
    def test_what_is_not_a_well_formed_svg(self, svg):
        with pytest.raises(MalformedError):
            bake_svg(svg, JWT)

    def test_an_encoding_other_than_utf8(self):
        svg = '<?xml version="1.0" encoding="ISO-8859-1"?><svg xmlns="http://www.w3.org/2000/svg"/>'
        with pytest.raises(MalformedError, match="UTF-8"):
            bake_svg(svg.encode("latin-1"), JWT)

    def test_the_openbadges_prefix_bound_to_another_namespace(self):
        svg = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org"/>'
        with pytest.raises(MalformedError, match="openbadges"):
            bake_svg(svg, JWT)

    def test_two_credential_elements(self):
        once = bake_svg(SVG, JWT)
        twice = once.replace("<style>", f'<openbadges:credential verify="{JWT}"/><style>')
        with pytest.raises(MalformedError, match="2 openbadges:credential"):
            unbake(twice.encode())

    def test_a_credential_element_with_both_verify_and_a_body(self):
        svg = bake_svg(SVG, JWT).replace("></openbadges:credential>", '><![CDATA[{"a":1}]]></openbadges:credential>')
        with pytest.raises(MalformedError, match="both"):
            unbake(svg.encode())

    @pytest.mark.parametrize("body", ['<![CDATA[{"a":]]>', "<![CDATA[[1,2]]]>", ""])
    def test_a_body_that_is_not_a_json_object(self, body):
        svg = f'<svg xmlns="http://www.w3.org/2000/svg"><o:credential xmlns:o="{OB}">{body}</o:credential></svg>'
        with pytest.raises(MalformedError):
            unbake(svg.encode())

    def test_no_credential(self):
        with pytest.raises(MalformedError, match="no Open Badges 3.0 credential"):
            unbake(SVG.encode())


# -- both formats -------------------------------------------------------------------------------


class TestRefusedInput:
    @pytest.mark.parametrize(
        "data",
        [b"", b"hello", b"GIF89a\x01\x00\x01\x00", b"\xff\xd8\xff\xe0\x00\x10JFIF", bytes(range(256)), SIGNATURE],
        ids=["empty", "text", "gif", "jpeg", "binary", "signature-only"],
    )
    def test_garbage(self, data):
        with pytest.raises(MalformedError):
            unbake(data)

    def test_images_over_the_size_limit(self, png):
        huge = png + b"\x00" * MAX_IMAGE_BYTES
        with pytest.raises(MalformedError, match="10 MiB"):
            unbake(huge)
        with pytest.raises(MalformedError, match="10 MiB"):
            bake_png(huge, JWT)
        with pytest.raises(MalformedError, match="10 MiB"):
            bake_svg(SVG + " " * MAX_IMAGE_BYTES, JWT)

    def test_a_bake_that_would_exceed_the_limit(self, png):
        with pytest.raises(MalformedError, match="baked image"):
            bake_png(png, {"padding": "x" * MAX_IMAGE_BYTES})

    @pytest.mark.parametrize("bake", [bake_png, bake_svg])
    def test_credentials_that_cannot_be_baked(self, png, bake):
        image = png if bake is bake_png else SVG
        with pytest.raises(MalformedError, match="VC-JWT"):
            bake(image, json.dumps(CREDENTIAL))  # JSON text: pass the mapping instead
        with pytest.raises(MalformedError, match="plain JSON"):
            bake(image, {"score": float("nan")})
        with pytest.raises(TypeError):
            bake(image, [CREDENTIAL])


class TestSignedCredentialSurvivesBaking:
    """What the core signed still verifies after a trip through either image format."""

    @pytest.fixture
    def unsigned(self, ob3_unsigned: dict[str, Any]) -> dict[str, Any]:
        credential = copy.deepcopy(ob3_unsigned)
        credential["credentialSubject"]["achievement"]["name"] = "Ελληνικά für Zoë Jansen 🎓"
        return credential

    @pytest.fixture
    def signed(self, unsigned, vector_key: Ed25519KeyPair, loader: DocumentLoader) -> dict[str, Any]:
        return issue(unsigned, signer=vector_key.signer(), loader=loader, created=datetime(2026, 1, 10, tzinfo=UTC))

    @pytest.mark.parametrize("fmt", ["png", "svg"])
    def test_data_integrity_proof(self, signed, fmt, now):
        baked = bake_png(default_badge_png(32), signed) if fmt == "png" else bake_svg(SVG, signed).encode()
        back = unbake(baked)
        assert back == signed
        report = verify(back, now=now)
        assert report.verdict == "valid", report.to_dict()

    @pytest.mark.parametrize("fmt", ["png", "svg"])
    def test_vc_jwt(self, unsigned, vector_key, fmt, now):
        token = encode_vc_jwt(unsigned, signer=vector_key.signer())
        baked = bake_png(default_badge_png(32), token) if fmt == "png" else bake_svg(SVG, token).encode()
        report = verify(unbake(baked), now=now)
        assert report.format == "jwt" and report.verdict == "valid", report.to_dict()

    def test_an_edit_inside_the_image_is_caught_by_the_proof(self, signed, now):
        svg = bake_svg(SVG, signed).replace("Zoë Jansen", "Zoe Jansen")
        assert verify(unbake(svg.encode()), now=now).verdict == "tampered"


# -- default images -----------------------------------------------------------------------------


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGBA rows of an 8-bit RGBA PNG written without row filters."""
    found = chunks(png)
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", found[0][1])
    assert (depth, colour, compression, filtering, interlace) == (8, 6, 0, 0, 0)
    raw = zlib.decompress(b"".join(data for kind, data in found if kind == b"IDAT"))
    stride = 1 + 4 * width
    assert len(raw) == height * stride
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


class TestDefaultBadgePng:
    def test_a_valid_rgba_png_of_the_asked_size(self):
        width, height, _ = pixels(default_badge_png(48))
        assert (width, height) == (48, 48)
        assert pixels(default_badge_png())[:2] == (256, 256)

    def test_a_round_badge_on_a_transparent_background(self):
        _, _, rows = pixels(default_badge_png(64))

        def rgba(x: int, y: int) -> tuple[int, ...]:
            return tuple(rows[y][4 * x : 4 * x + 4])

        assert rgba(0, 0)[3] == 0 and rgba(63, 63)[3] == 0  # corners
        assert rgba(32, 3)[3] == 255 and rgba(32, 60)[3] == 255  # the disc reaches top and bottom
        assert rgba(32, 6)[:3] == (224, 184, 74)  # the gold ring
        assert rgba(24, 25)[:3] == (43, 92, 138)  # the blue centre
        assert rgba(31, 38)[:3] == (255, 255, 255)  # the check mark

    def test_it_can_be_baked(self):
        assert unbake(bake_png(default_badge_png(16), CREDENTIAL)) == CREDENTIAL

    @pytest.mark.parametrize("size", [0, 15, 1025, -1])
    def test_sizes_out_of_range(self, size):
        with pytest.raises(ValueError):
            default_badge_png(size)


class TestDefaultBadgeSvg:
    def test_an_accessible_svg_with_the_whole_text_in_its_title(self):
        svg = default_badge_svg("Precision Turning for Instrument Makers and Apprentices", "Turning Academy Eindhoven")
        root = ET.fromstring(svg.encode())
        assert root.tag == f"{{{SVG_NS}}}svg" and root.get("role") == "img"
        assert root[0].tag == f"{{{SVG_NS}}}title"
        assert root[0].text == "Precision Turning for Instrument Makers and Apprentices — Turning Academy Eindhoven"
        lines = [span.text for span in root.iter(f"{{{SVG_NS}}}tspan")]
        assert 1 < len(lines) <= 3 and all(len(line) <= 16 for line in lines)

    def test_text_is_escaped_not_markup(self):
        svg = default_badge_svg("<script>alert(1)</script> & Zoë 🎓", "Ελληνικά\x00")
        root = ET.fromstring(svg.encode())
        assert root.find(f".//{{{SVG_NS}}}script") is None
        assert root[0].text == "<script>alert(1)</script> & Zoë 🎓 — Ελληνικά"

    def test_it_can_be_baked(self):
        svg = default_badge_svg("Teamwork", "Example University")
        baked = bake_svg(svg, CREDENTIAL)
        assert unbake(baked.encode()) == CREDENTIAL
        assert ET.fromstring(baked.encode())[1].tag == f"{{{SVG_NS}}}title"
