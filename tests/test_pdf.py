"""The PDF certificate: what a learner sees in it, the signed credential inside it, and refusing
PDFs that do not carry one. Read back with pypdf, as any third party would."""

from __future__ import annotations

import ast
import io
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import segno
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream

import microcred.documents as documents
import microcred.documents.pdf as pdf_module
from microcred.credentials import MalformedError
from microcred.i18n import using_language
from microcred.documents import (
    MAX_PDF_BYTES,
    CertificateContent,
    certificate_pdf,
    embedded_credential,
)

URL = "https://credentials.example.org/c/8f14e45f-ceea-467f-a0e6-1d3b2c9f0a11"
CREDENTIAL = json.dumps(
    {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:8f14e45f-ceea-467f-a0e6-1d3b2c9f0a11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "credentialSubject": {"name": "Zoë Jansen"},
        "proof": {"type": "DataIntegrityProof", "proofValue": "z58DAdFfa9SkqZMVPxAQp"},
    },
    ensure_ascii=False,
    indent=2,
).encode("utf-8")


def _content(**overrides: object) -> CertificateContent:
    values: dict[str, object] = dict(
        title="Data Literacy for Public Servants",
        kind="Certificate of participation",
        learner_name="Zoë Jansen",
        issuer_name="Société Française",
        provider_name="Πανεπιστήμιο Αθηνών",
        issued_on=date(2025, 3, 12),
        valid_until=date(2028, 3, 12),
        description="Participants learned to read, question and present public data.",
        elements=[
            ("Learning outcomes", "Build a reproducible chart from open data."),
            ("Workload", "25 hours"),
            ("Credits", "1 ECTS"),
            ("Level", "EQF 6"),
            ("Form of participation", "Online"),
            ("Assessment", "Projekt oceniany przez dwóch egzaminatorów (Łódź)"),
        ],
        public_url=URL,
        credential_id="urn:uuid:8f14e45f-ceea-467f-a0e6-1d3b2c9f0a11",
    )
    values.update(overrides)
    return CertificateContent(**values)  # type: ignore[arg-type]


def _read(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in _read(data).pages)


def _drawn_qr_modules(reader: PdfReader) -> set[tuple[int, int]]:
    """(row, column) of every dark module drawn on the last page, read from its filled rectangles.

    The certificate draws the QR code as one filled rectangle per run of dark modules and fills
    no other rectangle, so the rectangles give back the matrix.
    """
    page = reader.pages[-1]
    ops = ContentStream(page.get_contents(), reader).operations
    rects = [
        [float(v) for v in operands]
        for (operands, op), (_, following) in zip(ops, ops[1:])
        if op == b"re" and following == b"f"
    ]
    assert rects, "no QR code drawn"
    module = min(abs(h) for _, _, _, h in rects)
    left = min(x for x, _, _, _ in rects)
    top = max(y for _, y, _, _ in rects)  # PDF y grows upwards; fpdf2 gives each rectangle's top edge
    dark: set[tuple[int, int]] = set()
    for x, y, w, h in rects:
        assert abs(abs(h) - module) < 0.05, "every run is one module high"
        row, col, run = round((top - y) / module), round((x - left) / module), round(w / module)
        dark.update((row, col + i) for i in range(run))
    return dark


class TestCertificatePdf:
    def test_shows_the_certificate_in_readable_unicode_text(self) -> None:
        text = _text(certificate_pdf(_content(), CREDENTIAL))

        for expected in [
            "Zoë Jansen",
            "Société Française",
            "Πανεπιστήμιο Αθηνών",
            "Łódź",
            "Data Literacy for Public Servants",
            "Certificate of participation",
            "Issued on 12 March 2025",
            "valid until 12 March 2028",
            "Participants learned to read, question and present public data.",
            "25 hours",
            "EQF 6",
            URL,
        ]:
            assert expected in text, expected

    def test_says_the_signed_credential_is_attached_and_how_to_verify_it(self) -> None:
        text = " ".join(_text(certificate_pdf(_content(), CREDENTIAL)).split())

        assert "The signed credential is attached to this PDF as credential.jsonld" in text
        assert "To verify it, open the address above" in text

    def test_typical_content_fits_one_a4_page(self) -> None:
        reader = _read(certificate_pdf(_content(), CREDENTIAL))

        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points

    def test_long_content_moves_on_to_a_second_page_and_keeps_the_qr_code(self) -> None:
        outcomes = "Explain, apply and evaluate methods of open data analysis in public administration. " * 6
        elements = [(f"Learning outcome {i}", outcomes) for i in range(1, 5)]
        data = certificate_pdf(_content(elements=elements), CREDENTIAL)
        reader = _read(data)

        assert len(reader.pages) == 2
        assert URL in reader.pages[1].extract_text()
        assert _drawn_qr_modules(reader)

    def test_without_a_learner_name_it_names_the_holder(self) -> None:
        text = _text(certificate_pdf(_content(learner_name=None, provider_name=None), CREDENTIAL))

        assert "awarded to the holder of this credential" in text
        assert "None" not in text
        assert "Provided by" not in text

    def test_document_metadata_names_title_issuer_and_subject(self) -> None:
        meta = _read(certificate_pdf(_content(), CREDENTIAL)).metadata

        assert meta is not None
        assert meta.title == "Certificate of participation: Data Literacy for Public Servants"
        assert meta.author == "Société Française"
        assert meta.subject is not None
        assert "Zoë Jansen" in meta.subject and "Data Literacy for Public Servants" in meta.subject

    def test_qr_code_drawn_is_the_qr_code_of_the_public_url(self) -> None:
        """Compared module by module with the QR code segno makes for the URL on its own."""
        drawn = _drawn_qr_modules(_read(certificate_pdf(_content(), CREDENTIAL)))

        expected_qr = segno.make(URL, error="m", micro=False)
        expected = {
            (r, c) for r, row in enumerate(expected_qr.matrix_iter(border=0)) for c, dark in enumerate(row) if dark
        }
        assert drawn == expected
        # And it is a URL's QR code, not some other one of the same size.
        other = segno.make(URL.replace("8f14", "9f14"), error="m", micro=False)
        assert drawn != {(r, c) for r, row in enumerate(other.matrix_iter(border=0)) for c, d in enumerate(row) if d}

    def test_same_input_gives_the_same_bytes(self) -> None:
        assert certificate_pdf(_content(), CREDENTIAL) == certificate_pdf(_content(), CREDENTIAL)


class TestEmbeddedCredential:
    def test_signed_credential_round_trips_byte_for_byte(self) -> None:
        assert embedded_credential(certificate_pdf(_content(), CREDENTIAL)) == CREDENTIAL

    def test_is_an_ld_json_attachment_and_an_associated_file(self) -> None:
        """PDF viewers list it as credential.jsonld; PDF/A-3 tools find it through /AF."""
        reader = _read(certificate_pdf(_content(), CREDENTIAL))

        [attachment] = list(reader.attachment_list)
        assert attachment.name == "credential.jsonld"
        assert attachment.subtype == "/application/ld+json"
        assert attachment.content == CREDENTIAL
        assert attachment.associated_file_relationship == "/Source"
        associated = [ref.get_object() for ref in reader.root_object["/AF"]]
        assert [spec["/UF"] for spec in associated] == ["credential.jsonld"]

    def test_reads_a_single_credential_file_under_another_name(self) -> None:
        """Another issuer's PDF may carry a VC-JWT under its own name."""
        jwt = b"eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2lnbmF0dXJl"
        data = _pdf_with_attachments({"notes.txt": b"hello", "badge.jwt": jwt})

        assert embedded_credential(data) == jwt

    def test_credential_jsonld_wins_over_other_json_attachments(self) -> None:
        data = _pdf_with_attachments({"course-data.json": b"[]", "credential.jsonld": CREDENTIAL})

        assert embedded_credential(data) == CREDENTIAL

    @pytest.mark.parametrize(
        "data",
        [b"", b"not a pdf at all", b"\x89PNG\r\n\x1a\n" + bytes(200), b"%PDF-1.7\n" + b"\x00garbage" * 50],
        ids=["empty", "text", "png", "pdf-header-then-garbage"],
    )
    def test_refuses_what_is_not_a_readable_pdf(self, data: bytes) -> None:
        with pytest.raises(MalformedError):
            embedded_credential(data)

    def test_refuses_a_pdf_without_attachment(self) -> None:
        blank = FPDF()
        blank.add_page()

        with pytest.raises(MalformedError, match="no embedded credential"):
            embedded_credential(bytes(blank.output()))

    def test_refuses_a_pdf_whose_only_attachment_is_not_a_credential(self) -> None:
        with pytest.raises(MalformedError, match="no embedded credential"):
            embedded_credential(_pdf_with_attachments({"notes.txt": b"hello"}))

    def test_refuses_more_than_one_candidate(self) -> None:
        data = _pdf_with_attachments({"a.json": b"{}", "b.jsonld": b"{}"})

        with pytest.raises(MalformedError, match="more than one"):
            embedded_credential(data)

    def test_refuses_two_files_named_credential_jsonld(self) -> None:
        writer = PdfWriter()
        writer.add_blank_page(width=595, height=842)
        writer.add_attachment("credential.jsonld", b'{"id": "urn:uuid:1"}')
        writer.add_attachment("credential.jsonld", b'{"id": "urn:uuid:2"}')
        out = io.BytesIO()
        writer.write(out)

        with pytest.raises(MalformedError, match="more than one credential.jsonld"):
            embedded_credential(out.getvalue())

    def test_refuses_input_over_the_size_limit(self) -> None:
        data = certificate_pdf(_content(), CREDENTIAL)
        padded = data + b"\n%" + b"x" * (MAX_PDF_BYTES - len(data))  # a comment after %%EOF: still a PDF

        with pytest.raises(MalformedError, match="larger than 20 MiB"):
            embedded_credential(padded)

    def test_refuses_an_attachment_that_inflates_past_the_limit(self) -> None:
        """A small PDF whose compressed credential would decompress to more than 20 MiB."""
        bomb = FPDF()
        bomb.add_page()
        bomb.embed_file(bytes=b"{" + b" " * MAX_PDF_BYTES + b"}", basename="credential.jsonld", compress=True)
        data = bytes(bomb.output())
        assert len(data) < 1024 * 1024

        with pytest.raises(MalformedError):
            embedded_credential(data)


class TestModule:
    def test_imports_no_web_or_database_code(self) -> None:
        tree = ast.parse(Path(pdf_module.__file__).read_text("utf-8"))
        imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        forbidden = ("fastapi", "starlette", "sqlalchemy", "httpx", "requests", "urllib", "socket", "http")

        assert [name for name in imported if name.split(".")[0] in forbidden] == []
        # Its own errors, and the words and dates of the language in use (pure too).
        assert [name for name in imported if name.startswith("microcred.") and not name.startswith(
            ("microcred.credentials", "microcred.i18n"))] == []

    def test_public_surface_is_pinned(self) -> None:
        assert sorted(documents.__all__) == [
            "CREDENTIAL_FILENAME", "CREDENTIAL_MEDIA_TYPE", "CertificateContent", "MAX_PDF_BYTES",
            "certificate_pdf", "embedded_credential",
        ]  # fmt: skip

    def test_content_is_immutable(self) -> None:
        content = _content()
        with pytest.raises(AttributeError):
            content.title = "changed"  # type: ignore[misc]
        assert replace(content, title="changed").title == "changed"


def _pdf_with_attachments(files: dict[str, bytes]) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    for name, data in files.items():
        writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_shows_the_completion_date_the_grade_and_the_country() -> None:
    text = " ".join(
        _text(
            certificate_pdf(
                _content(completed_on=date(2019, 9, 1), results=[("Final grade", "8.5 (on a scale of 1 to 10)")], issuer_country="Netherlands"),
                CREDENTIAL,
            )
        ).split()
    )
    assert "Completed on 1 September 2019" in text and "Issued on 12 March 2025" in text
    assert "Final grade: 8.5 (on a scale of 1 to 10)" in text
    assert "Netherlands" in text


def test_in_dutch_every_fixed_text_and_date_is_dutch() -> None:
    """Written inside ``using_language("nl")`` (as the service does for a Dutch request or learner)."""
    with using_language("nl"):
        data = certificate_pdf(_content(completed_on=date(2025, 1, 31)), CREDENTIAL)
    text = " ".join(_text(data).split())
    for dutch in (
        "Verzorgd door Πανεπιστήμιο Αθηνών",
        "toegekend aan",
        "Afgerond op 31 januari 2025",
        "Uitgegeven op 12 maart 2025",
        "geldig tot 12 maart 2028",
        "Controleer dit credential online",
        "Het ondertekende credential is als credential.jsonld aan deze pdf gehecht",
        "pagina 1 van 1",
    ):
        assert dutch in text, dutch
    for english in ("Issued on", "awarded to", "March", "January", "Check this credential", "page 1 of"):
        assert english not in text, english
    reader = _read(data)
    assert reader.trailer["/Root"]["/Lang"] == "nl"
    assert reader.metadata is not None and "toegekend aan Zoë Jansen, uitgegeven door Société Française" in (reader.metadata.subject or "")
    assert embedded_credential(data) == CREDENTIAL  # the signed credential is the same in every language
    english = _read(certificate_pdf(_content(), CREDENTIAL))
    assert english.trailer["/Root"]["/Lang"] == "en"
