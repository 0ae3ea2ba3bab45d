"""The PDF certificate a learner downloads: the public page on paper, the signed credential inside.

A printed certificate proves nothing by itself, so the PDF carries the signed credential as an
embedded file (``credential.jsonld``, also the catalog's ``/AF`` associated file, as PDF/A-3 tools
expect) and prints the public URL as text and QR code. Anyone holding the PDF can pull the
credential out again (:func:`embedded_credential`) and verify its proof.

Pure rendering: no HTTP, no database. Written in the language in use (the request's, or the one
set with :func:`~microcred.i18n.using_language`): the fixed text from the ``pdf`` catalogue, the
dates as that language writes them; the content comes already in words. Text is set in DejaVu Sans, bundled in ``fonts/`` (licence
beside it), because the PDF core fonts cannot show "Zoë", "Société", Greek or Polish names.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Final

import segno
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos
from fpdf.fonts import FontFace
from pypdf import Configuration, PdfReader, apply_configuration
from pypdf.generic import EmbeddedFile

from microcred.credentials.errors import MalformedError
from microcred.i18n import current_language, format_date, gettext

__all__ = [
    "CREDENTIAL_FILENAME",
    "CREDENTIAL_MEDIA_TYPE",
    "MAX_PDF_BYTES",
    "CertificateContent",
    "certificate_pdf",
    "embedded_credential",
]

#: Name of the embedded signed credential inside the PDF.
CREDENTIAL_FILENAME: Final = "credential.jsonld"
CREDENTIAL_MEDIA_TYPE: Final = "application/ld+json"
#: Largest PDF :func:`embedded_credential` reads; also the cap on any one decoded stream.
MAX_PDF_BYTES: Final = 20 * 1024 * 1024

_FONT_DIR: Final = Path(__file__).parent / "fonts"
_FONT: Final = "DejaVuSans"

# Colours (RGB) and layout in millimetres, A4 portrait.
_INK: Final = (33, 37, 41)
_MUTED: Final = (96, 103, 112)
_ACCENT: Final = (25, 72, 122)
_RULE: Final = (200, 205, 212)
_MARGIN: Final = 20.0
_QR_SIZE: Final = 32.0
# The verification block (QR code and its text) is kept on one page.
_VERIFY_BLOCK_HEIGHT: Final = 5 + _QR_SIZE + 2

# Media types and file-name endings under which another issuer's PDF might carry a credential.
_CREDENTIAL_MEDIA_TYPES: Final = frozenset(
    {
        "application/ld+json",
        "application/json",
        "application/vc",
        "application/vc+ld+json",
        "application/vc+jwt",
        "application/jwt",
    }
)
_CREDENTIAL_SUFFIXES: Final = (".jsonld", ".json", ".jwt")

@dataclass(frozen=True)
class CertificateContent:
    """What the certificate shows: the same facts as the credential's public web page."""

    title: str
    #: "Diploma" or "Certificate of participation".
    kind: str
    learner_name: str | None
    issuer_name: str
    provider_name: str | None
    issued_on: date
    valid_until: date | None
    description: str
    #: The EU micro-credential elements as (label, value), e.g. ("Workload", "25 hours").
    elements: list[tuple[str, str]]
    public_url: str
    credential_id: str
    #: When the learner completed it (``awardedDate``), which may be long before ``issued_on``.
    completed_on: date | None = None
    #: The learner's results as (what, value), e.g. ("Final grade", "8.5 (on a scale of 1 to 10)").
    results: list[tuple[str, str]] = field(default_factory=list)
    #: The awarding body's country, in words.
    issuer_country: str | None = None
    # Branding (issue 13), as on the credential page: the issuer's stored logo (PNG, JPEG or SVG),
    # its brand colour (a band at the top) and accent colour (the issuer's name and the title:
    # checked on saving to read on white), and the badge image (PNG or JPEG).
    logo: bytes | None = None
    brand_colour: str | None = None
    accent_colour: str | None = None
    badge: bytes | None = None


def certificate_pdf(content: CertificateContent, credential_json: bytes) -> bytes:
    """Render the certificate (A4, one page for typical content) with ``credential_json`` attached.

    The output is reproducible: the same content and credential give the same bytes (the PDF's
    creation date is the issue date), so a cached copy and a fresh one never differ. When the
    elements push the verification block onto a second page, the elements are set tighter and
    smaller, so a typical certificate stays on one page; longer content takes two.
    """
    pdf = _certificate(content, credential_json, compact=False)
    rendered = bytes(pdf.output())  # output() also closes the font files it read
    if pdf.pages_count > 1:
        rendered = bytes(_certificate(content, credential_json, compact=True).output())
    return rendered


def _certificate(content: CertificateContent, credential_json: bytes, *, compact: bool) -> FPDF:
    pdf = _CertificateDocument(footer_text=gettext("Credential %(id)s") % {"id": content.credential_id})
    pdf.set_title(f"{content.kind}: {content.title}")
    pdf.set_author(content.issuer_name)
    pdf.set_subject(_subject(content))
    pdf.set_creator("microcred")
    pdf.set_lang(current_language())
    pdf.set_creation_date(datetime.combine(content.issued_on, time(), tzinfo=timezone.utc))
    pdf.embed_file(
        bytes=credential_json,
        basename=CREDENTIAL_FILENAME,
        mime_type=CREDENTIAL_MEDIA_TYPE,
        desc=gettext("The signed credential (W3C Verifiable Credential / Open Badges 3.0)"),
        # The certificate is drawn from the credential, not the other way round.
        associated_file_relationship="Source",
        compress=True,
    )
    pdf.add_page()
    _draw_brand(pdf, content)
    _draw_heading(pdf, content)
    _draw_description(pdf, content)
    _draw_elements(pdf, content.elements, compact=compact)
    _draw_verification(pdf, content)
    return pdf


def embedded_credential(pdf: bytes) -> bytes:
    """Return the signed credential embedded in ``pdf``.

    That is the file named ``credential.jsonld`` or, in a PDF from another issuer, the one embedded
    file that looks like a credential (JSON, JSON-LD or JWT by media type or name). Raises
    :class:`MalformedError` for input over :data:`MAX_PDF_BYTES`, anything that is not a readable
    PDF, a PDF with no such file, and one with more than one candidate (we will not guess).
    """
    if len(pdf) > MAX_PDF_BYTES:
        raise MalformedError(f"the PDF is larger than {MAX_PDF_BYTES // (1024 * 1024)} MiB")
    # A PDF starts with its header, though readers allow junk in the first kilobyte.
    if b"%PDF-" not in pdf[:1024]:
        raise MalformedError("this is not a PDF")
    try:
        # Bounds every decompression, so a small PDF cannot inflate into gigabytes.
        with _read_limits():
            reader = PdfReader(io.BytesIO(pdf), strict=False)
            data = _the_credential_file(reader.attachment_list).content
    except MalformedError:
        raise
    except Exception as exc:  # pypdf raises many kinds (its own, ValueError, KeyError, ...) on bad input
        raise MalformedError(f"the PDF cannot be read: {_short(str(exc))}") from exc
    if not data:
        raise MalformedError("the embedded credential is empty")
    return data


def _the_credential_file(attachments: Iterable[EmbeddedFile]) -> EmbeddedFile:
    """Pick ``credential.jsonld``, else the single attachment that looks like a credential."""
    files = [(f.name, (f.subtype or "").lstrip("/").lower(), f) for f in attachments]
    named = [f for name, _, f in files if name == CREDENTIAL_FILENAME]
    if len(named) > 1:
        raise MalformedError(f"the PDF embeds more than one {CREDENTIAL_FILENAME}")
    if named:
        return named[0]
    candidates = [
        (name, f)
        for name, media_type, f in files
        if media_type in _CREDENTIAL_MEDIA_TYPES or name.lower().endswith(_CREDENTIAL_SUFFIXES)
    ]
    if not candidates:
        raise MalformedError("the PDF has no embedded credential")
    if len(candidates) > 1:
        names = ", ".join(sorted(_short(name) for name, _ in candidates))
        raise MalformedError(f"the PDF embeds more than one file that could be the credential: {names}")
    return candidates[0][1]


def _short(text: str, limit: int = 120) -> str:
    """Text from the PDF, cut short for an error message a client will see."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_limits() -> AbstractContextManager[Configuration]:
    """pypdf's limits, lowered so no single stream decodes to more than :data:`MAX_PDF_BYTES`."""
    return apply_configuration(
        maximum_declared_stream_length=MAX_PDF_BYTES,
        array_based_stream_maximum_output_length=MAX_PDF_BYTES,
        zlib_maximum_output_length=MAX_PDF_BYTES,
        lzw_maximum_output_length=MAX_PDF_BYTES,
        run_length_maximum_output_length=MAX_PDF_BYTES,
        brotli_maximum_output_length=MAX_PDF_BYTES,
        jbig2_maximum_output_length=MAX_PDF_BYTES,
        stream_decoding_work_maximum_length=MAX_PDF_BYTES,
    )


class _CertificateDocument(FPDF):
    """An A4 page with the bundled Unicode font and a footer naming the credential on every page."""

    def __init__(self, *, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._footer_text = footer_text
        #: "page {nb}" in the language in use (the footer is drawn as the pages are, in this context)
        self._page_words = gettext("page %(page)s of %(pages)s")
        self.add_font(_FONT, "", _FONT_DIR / "DejaVuSans.ttf")
        self.add_font(_FONT, "B", _FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN)
        self.set_text_color(*_INK)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(_FONT, "", 7.5)
        self.set_text_color(*_MUTED)
        page = self._page_words % {"page": self.page_no(), "pages": "{nb}"}
        self.cell(0, 5, f"{self._footer_text}  ·  {page}", align=Align.C)
        self.set_text_color(*_INK)


def _rgb(colour: str | None) -> tuple[int, int, int] | None:
    if colour is None or len(colour) != 7 or not colour.startswith("#"):
        return None
    try:
        return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
    except ValueError:
        return None


def _draw_brand(pdf: FPDF, content: CertificateContent) -> None:
    """The issuer's colour (if it chose one) as a band across the top, its logo at the left and the badge at the
    right; an image fpdf2 cannot draw is left out rather than failing the certificate."""
    if (band := _rgb(content.brand_colour)) is not None:
        pdf.set_fill_color(*band)
        pdf.rect(0, 0, pdf.w, 8, style="F")
    height = 20.0
    drawn = False
    for picture, x in ((content.logo, _MARGIN), (content.badge, pdf.w - _MARGIN - height)):
        if not picture:
            continue
        try:
            if picture is content.logo:
                pdf.image(io.BytesIO(picture), x=x, y=_MARGIN - 6, h=height, keep_aspect_ratio=True, w=60)
            else:
                pdf.image(io.BytesIO(picture), x=x, y=_MARGIN - 6, w=height, h=height)
            drawn = True
        except Exception:  # noqa: BLE001 - a stored logo fpdf2 cannot draw must not cost the learner the PDF
            continue
    if drawn:
        pdf.set_y(_MARGIN - 6 + height + 2)


def _draw_heading(pdf: FPDF, content: CertificateContent) -> None:
    """Issuer, kind, learner and title, centred, as the top of a paper certificate reads."""
    accent = _rgb(content.accent_colour) or _ACCENT
    _centred(pdf, content.issuer_name, size=13, bold=True, colour=accent)
    if content.issuer_country:
        _centred(pdf, content.issuer_country, size=9.5, colour=_MUTED)
    if content.provider_name and content.provider_name != content.issuer_name:
        _centred(pdf, gettext("Provided by %(provider)s") % {"provider": content.provider_name}, size=9.5, colour=_MUTED)
    pdf.ln(12)
    _centred(pdf, content.kind, size=26, bold=True)
    pdf.ln(6)
    if content.learner_name:
        _centred(pdf, gettext("awarded to"), size=11, colour=_MUTED)
        pdf.ln(2)
        _centred(pdf, content.learner_name, size=22, bold=True)
    else:
        _centred(pdf, gettext("awarded to the holder of this credential"), size=11, colour=_MUTED)
    pdf.ln(4)
    # "for" the achievement's title (a line of its own between the learner and the title)
    _centred(pdf, gettext("for"), size=11, colour=_MUTED)
    pdf.ln(2)
    _centred(pdf, content.title, size=17, bold=True, colour=accent)
    for label, value in content.results:
        pdf.ln(2)
        _centred(pdf, f"{label}: {value}", size=11.5, bold=True)
    pdf.ln(5)
    dates = [gettext("Issued on %(date)s") % {"date": _long_date(content.issued_on)}]
    if content.completed_on is not None:
        dates.insert(0, gettext("Completed on %(date)s") % {"date": _long_date(content.completed_on)})
    if content.valid_until is not None:
        dates.append(gettext("valid until %(date)s") % {"date": _long_date(content.valid_until)})
    _centred(pdf, "  ·  ".join(dates), size=10, colour=_MUTED)
    pdf.ln(6)
    _rule(pdf)


def _draw_description(pdf: FPDF, content: CertificateContent) -> None:
    if not content.description.strip():
        return
    pdf.ln(5)
    pdf.set_font(_FONT, "", 10)
    pdf.multi_cell(0, 5.2, content.description.strip(), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _draw_elements(pdf: FPDF, elements: list[tuple[str, str]], *, compact: bool = False) -> None:
    """The micro-credential elements as a two-column table; empty values are left out
    (``compact``: smaller and tighter, to keep the certificate on one page)."""
    rows = [(label.strip(), value.strip()) for label, value in elements if value.strip()]
    if not rows:
        return
    pdf.ln(5)
    pdf.set_font(_FONT, "B", 11)
    pdf.cell(0, 7, gettext("About this credential"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font(_FONT, "", 8.5 if compact else 9.5)
    pdf.set_draw_color(*_RULE)
    with pdf.table(
        col_widths=(1, 3),
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        text_align=(Align.L, Align.L),
        line_height=4.3 if compact else 5,
        padding=(0.9, 1, 0.9, 0) if compact else (1.6, 1, 1.6, 0),
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=FontFace(emphasis="BOLD"))
            row.cell(value)


def _draw_verification(pdf: FPDF, content: CertificateContent) -> None:
    """QR code and URL of the public page, and how to check the attached signed credential.

    Set at the foot of the last page, where a paper certificate has its seal, or on a page of its
    own when the content left no room.
    """
    if pdf.get_y() + 6 + _VERIFY_BLOCK_HEIGHT > pdf.page_break_trigger:
        pdf.add_page()
    else:
        pdf.set_y(pdf.page_break_trigger - _VERIFY_BLOCK_HEIGHT)
    _rule(pdf)
    top = pdf.get_y() + 5
    _draw_qr(pdf, content.public_url, x=pdf.l_margin, y=top, size=_QR_SIZE)
    text_x = pdf.l_margin + _QR_SIZE + 6
    text_w = pdf.epw - _QR_SIZE - 6
    pdf.set_xy(text_x, top)
    pdf.set_font(_FONT, "B", 10)
    pdf.cell(text_w, 5.5, gettext("Check this credential online"), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", _url_font_size(pdf, content.public_url, text_w))
    pdf.set_text_color(*_ACCENT)
    pdf.multi_cell(
        text_w, 5, content.public_url, link=content.public_url, align=Align.L, wrapmode=WrapMode.CHAR,
        new_x=XPos.LEFT, new_y=YPos.NEXT,
    )  # fmt: skip
    pdf.set_text_color(*_INK)
    pdf.set_xy(text_x, pdf.get_y() + 2)
    pdf.set_font(_FONT, "", 8.5)
    pdf.multi_cell(
        text_w,
        4.3,
        gettext(
            "The signed credential is attached to this PDF as %(file)s. To verify it, open "
            "the address above, or check the attached file with any W3C Verifiable Credentials / "
            "Open Badges 3.0 verifier: its digital signature shows who issued it and that nothing "
            "in it has been changed."
        )
        % {"file": CREDENTIAL_FILENAME},
        align=Align.L,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_y(max(pdf.get_y(), top + _QR_SIZE))


def _draw_qr(pdf: FPDF, url: str, *, x: float, y: float, size: float) -> None:
    """Draw the QR code of ``url`` as filled rectangles, one per horizontal run of dark modules.

    Vector rectangles stay sharp at any zoom or print resolution, unlike an embedded bitmap.
    The page around it is white, which gives the quiet zone.
    """
    # micro=False: a short URL would otherwise become a Micro QR code, which phones do not read.
    qr = segno.make(url, error="m", micro=False)
    rows = [list(row) for row in qr.matrix_iter(border=0)]
    module = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")


def _centred(
    pdf: FPDF, text: str, *, size: float, bold: bool = False, colour: tuple[int, int, int] = _INK
) -> None:
    pdf.set_font(_FONT, "B" if bold else "", size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, size * 0.5, text, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_INK)


def _rule(pdf: FPDF) -> None:
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())


def _url_font_size(pdf: FPDF, url: str, width: float) -> float:
    """The largest size from 10 pt down to 7 pt at which the URL fits on one line."""
    size = 10.0
    while size > 7.0:
        pdf.set_font(_FONT, "", size)
        if pdf.get_string_width(url) <= width - 2:
            break
        size -= 0.5
    return size


def _long_date(day: date) -> str:
    """"12 March 2025" / "12 maart 2025": the month in words, unambiguous in every country, unlike 03/12/2025."""
    return format_date(day, "long")


def _subject(content: CertificateContent) -> str:
    values = {"kind": content.kind, "title": content.title, "learner": content.learner_name, "issuer": content.issuer_name}
    if content.learner_name:
        return gettext("%(kind)s for %(title)s awarded to %(learner)s, issued by %(issuer)s") % values
    return gettext("%(kind)s for %(title)s, issued by %(issuer)s") % values
