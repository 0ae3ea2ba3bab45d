"""Issuer branding: the logo upload's checks (types, sizes, hostile SVGs), the WCAG contrast check
of the colours, and the PDF certificate drawn with the logo, the colours and the badge."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader

from microcred.credentials.baking import default_badge_png
from microcred.documents import CertificateContent, certificate_pdf
from microcred.issuers.branding import MAX_LOGO_BYTES, BrandingError, brand_css, check_logo, contrast, palette


def _raster(kind: str, size: tuple[int, int] = (40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


CLEAN_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20"><style>rect{fill:#c81e1e}</style><rect width="40" height="20" fill="url(#g)"/></svg>'


class TestLogo:
    def test_png_jpeg_and_a_plain_svg_are_stored_with_the_type_read_from_the_bytes(self) -> None:
        assert check_logo(_raster("PNG")).media_type == "image/png"
        assert check_logo(_raster("JPEG")).media_type == "image/jpeg"
        svg = check_logo(b'<?xml version="1.0"?>\n' + CLEAN_SVG)
        assert svg.media_type == "image/svg+xml"
        assert re.fullmatch(r"[0-9a-f]{20}", svg.digest) and svg.digest != check_logo(CLEAN_SVG).digest

    @pytest.mark.parametrize(
        ("content", "says"),
        [
            (b"", "empty"),
            (b"GIF89a" + b"\0" * 40, "PNG, JPEG or SVG"),
            (b"\x89PNG\r\n\x1a\n" + b"not really", "could not be read"),
            (_raster("GIF"), "PNG, JPEG or SVG"),
            (b"<html><script>alert(1)</script></html>", "PNG, JPEG or SVG"),
        ],
    )
    def test_other_files_are_refused_with_why(self, content: bytes, says: str) -> None:
        with pytest.raises(BrandingError, match=re.escape(says)):
            check_logo(content)

    def test_a_logo_over_the_size_limit_is_refused(self) -> None:
        big = _raster("PNG") + b"\0" * MAX_LOGO_BYTES
        with pytest.raises(BrandingError, match="largest accepted is 256 KB"):
            check_logo(big)

    def test_a_logo_too_many_pixels_wide_is_refused(self) -> None:
        with pytest.raises(BrandingError, match="3000×10 pixels"):
            check_logo(_raster("PNG", (3000, 10)))

    @pytest.mark.parametrize(
        "svg",
        [
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>',
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect onmouseover="alert(1)"/></svg>',
            b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example"/></foreignObject></svg>',
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><rect/></a></svg>',
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="https://tracker.example/p.png"/></svg>',
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://tracker.example/p)"/></svg>',
            b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css);</style></svg>',
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
            b'<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="onmouseover" to="alert(1)"/></svg>',
            b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
        ],
    )
    def test_an_svg_that_could_run_or_load_anything_is_refused(self, svg: bytes) -> None:
        with pytest.raises(BrandingError):
            check_logo(svg)


class TestContrast:
    def test_wcag_ratios(self) -> None:
        assert contrast("#000000", "#ffffff") == pytest.approx(21)
        assert contrast("#ffffff", "#ffffff") == pytest.approx(1)
        assert contrast("#0b57d0", "#ffffff") == pytest.approx(6.4, abs=0.05)  # page.css's link colour

    def test_a_dark_brand_keeps_white_text(self) -> None:
        colours, notes = palette("#19487A", "#0b57d0")
        assert (colours.brand, colours.on_brand, colours.accent, notes) == ("#19487a", "#ffffff", "#0b57d0", [])
        assert brand_css(colours) == ":root{--brand:#19487a;--on-brand:#ffffff;--accent:#0b57d0}\n"

    def test_a_light_brand_gets_dark_text_and_says_so(self) -> None:
        colours, notes = palette("#ffd400", "#0b57d0")
        assert colours.on_brand == "#1b1f24" and contrast(colours.brand, colours.on_brand) >= 4.5
        assert len(notes) == 1 and "below 4.5:1" in notes[0] and "dark instead" in notes[0]

    @pytest.mark.parametrize("accent", ["#ffd400", "#7a9cc6", "#767676"])
    def test_an_accent_that_does_not_read_on_white_and_grey_is_refused(self, accent: str) -> None:
        with pytest.raises(BrandingError, match=r"^accent: .*4\.5:1"):
            palette("#19487a", accent)

    @pytest.mark.parametrize(("brand", "accent"), [("red", "#0b57d0"), ("#19487a", "#0b57d"), ("#19487a;}", "#0b57d0")])
    def test_only_hex_colours(self, brand: str, accent: str) -> None:
        with pytest.raises(BrandingError, match="#rrggbb"):
            palette(brand, accent)


def _certificate(**branding: object) -> bytes:
    content = CertificateContent(
        title="Data Literacy", kind="Certificate", learner_name="Zoë Jansen", issuer_name="Acme Academy", provider_name=None,
        issued_on=date(2026, 3, 12), valid_until=None, description="Short.", elements=[], public_url="https://c.example/credentials/1",
        credential_id="1", **branding,  # type: ignore[arg-type]
    )
    return certificate_pdf(content, b"{}")


def _images(data: bytes) -> list[tuple[int, int]]:
    page = PdfReader(io.BytesIO(data)).pages[0]
    return [(image.image.width, image.image.height) for image in page.images if image.image is not None]


class TestPdf:
    def test_the_logo_the_badge_and_the_brand_colours_are_drawn(self) -> None:
        pdf = _certificate(logo=_raster("PNG", (40, 20)), badge=default_badge_png(), brand_colour="#c81e1e", accent_colour="#0b57d0")
        assert sorted(_images(pdf)) == sorted([(40, 20), (256, 256)])
        stream = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().decode("latin-1")  # type: ignore[union-attr]
        assert "0.7843 0.1176 0.1176 rg" in stream  # the band, #c81e1e
        assert "0.0431 0.3412 0.8157 rg" in stream  # the issuer's name and the title, #0b57d0

    def test_an_svg_logo_is_drawn_too(self) -> None:
        plain = _certificate()
        with_svg = _certificate(logo=CLEAN_SVG.replace(b'fill="url(#g)"', b'fill="#c81e1e"'))
        assert with_svg != plain and len(PdfReader(io.BytesIO(with_svg)).pages) == 1

    def test_without_branding_no_image_and_no_band(self) -> None:
        pdf = _certificate()
        assert _images(pdf) == []
        assert "0.7843 0.1176 0.1176 rg" not in PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().decode("latin-1")  # type: ignore[union-attr]

    def test_a_logo_fpdf_cannot_draw_costs_no_certificate(self) -> None:
        assert _certificate(logo=b"\x89PNG\r\n\x1a\nbroken", brand_colour="#c81e1e").startswith(b"%PDF")
