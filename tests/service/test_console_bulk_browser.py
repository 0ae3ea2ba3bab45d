"""Bulk awarding in the console, in headless Chromium, as an awarder does it (issue 12, "Must
show"): an XLSX and then a semicolon CSV of 50 rows with 3 bad rows each; the dry run names the
3 cells; submitting starts the job, whose progress page updates by itself until 47 are awarded;
the results file gives each row's credential URL or error. axe-core finds no serious or critical
violation on any bulk page. The second file's columns come pre-filled with the first's choice."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.async_api import Page, expect

from microcred.config import Settings

from ..bulk.files import csv_bytes, xlsx_bytes
from .browsing import DESKTOP, PHONE, TABLET, Browsing, axe_problems, browsing, screenshot  # noqa: F401 (fixture)
from .console_helpers import add_staff, sign_in_browser
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

HEADER = ["Email", "Name", "Course", "Exam day", "Grade"]  # "Exam day" is no name the guess knows


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The live service runs its bulk jobs, in small chunks, so progress is seen moving."""
    return settings.model_copy(update={"run_jobs": True, "job_chunk_rows": 10})


def _rows(prefix: str, *, as_text: bool) -> list[list[Any]]:
    first = date(2024, 6, 3)
    rows: list[list[Any]] = []
    for i in range(1, 51):
        day = first + timedelta(days=i % 20)
        rows.append([f"{prefix}{i}@example.org", f"Zoë Ünal {prefix}{i}", "CNC-101", day.strftime("%d-%m-%Y") if as_text else day, str(6 + i % 4)])
    return rows


async def _axe(page: Page, what: str) -> None:
    assert await axe_problems(page) == [], what


async def _upload_and_check(page: Page, base: str, name: str, body: bytes, mime: str, bad_cells: list[str], *, choose_date: bool) -> None:
    await page.goto(f"{base}/console/spe/bulk")
    await _axe(page, "upload page")
    await page.get_by_label("Spreadsheet (CSV or XLSX)").set_input_files(files=[{"name": name, "mimeType": mime, "buffer": body}])
    await page.get_by_role("button", name="Upload and choose columns").click()
    await page.wait_for_url("**/columns")
    await _axe(page, "columns page")
    await screenshot(page, f"bulk-columns-{name}")
    date_select = page.get_by_label("Completion date")
    if choose_date:
        assert await date_select.input_value() == ""  # not guessed from "Exam day"
        await date_select.select_option(value="3")
    else:
        assert await date_select.input_value() == "3"  # remembered from the first file
    assert await page.get_by_label("Achievement (course code or id)").input_value() == "2"
    await page.get_by_role("button", name="Check every row (dry run)").click()
    await page.wait_for_url("**/dry-run")
    await _axe(page, "dry-run page")
    summary = page.get_by_label("Summary")
    assert " ".join((await summary.inner_text()).split()) == "Will be awarded 47 Already awarded 0 Errors 3"
    errors = [" ".join(t.split()) for t in await page.locator("ul.cell-errors li").all_inner_texts()]
    assert [e.split(":")[0] for e in errors] == bad_cells, errors
    await screenshot(page, f"bulk-dry-run-{name}")
    await page.get_by_role("button", name="Award 47 credentials").click()
    await page.wait_for_url(f"{base}/console/spe/bulk/*")
    await _axe(page, "progress page")
    await expect(page.locator('[data-figure="awarded"]')).to_have_text("47", timeout=120_000)  # htmx polls the figures
    assert await page.locator('[data-figure="failed"]').inner_text() == "3"
    # The live region (kept while the figures are swapped) says it for screen readers too.
    await expect(page.get_by_role("status")).to_have_text("Done: all 50 rows processed, 47 awarded, 0 already awarded, 3 not awarded.")
    await _axe(page, "progress page, done")
    await screenshot(page, f"bulk-done-{name}")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download the results (CSV)").click()
    download = await info.value
    path = await download.path()
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if name.endswith(".csv") else ","))
    assert rows[0][:7] == ["Row", "Email", "Name", "Achievement", "Outcome", "Credential URL", "Error"]
    awarded = [r for r in rows[1:] if r[4] == "awarded"]
    failed = {r[0]: r[6] for r in rows[1:] if r[4] == "not awarded"}
    assert len(awarded) == 47 and all(r[5].startswith(f"{base}/credentials/") for r in awarded)
    assert sorted(failed, key=int) == sorted((c.lstrip("ABCDE") for c in bad_cells), key=int)
    credential = await page.request.get(awarded[0][5])
    assert credential.ok


async def test_an_awarder_awards_a_cohort_from_an_xlsx_and_a_semicolon_csv(browsing: Browsing, live: LiveService) -> None:
    await live.client.create_issuer("spe", name="Society of Precision Engineers")
    await live.client.create_achievement("spe", human_code="CNC-101")
    member = await add_staff(live.runtime, "awarder@spe.example", {"spe": "awarder"})
    page = await browsing.page(DESKTOP)
    await sign_in_browser(page, live.base_url, live.runtime, member, "/console/spe/bulk")

    rows = _rows("x", as_text=False)
    rows[6][0] = "not-an-email"  # A8
    rows[18][3] = "31-02-2024"  # D20, a text cell
    rows[33][2] = "NOPE-9"  # C35
    workbook = xlsx_bytes([HEADER, *rows], date_columns=[3])
    await _upload_and_check(
        page, live.base_url, "cohort.xlsx", workbook, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ["A8", "D20", "C35"], choose_date=True,
    )

    rows = _rows("c", as_text=True)
    rows[8][0] = ""  # A10
    rows[23][3] = "25-13-2024"  # D25
    rows[38][2] = "CNC-999"  # C40
    body = csv_bytes([HEADER, *rows], delimiter=";", encoding="cp1252")
    await _upload_and_check(page, live.base_url, "cohort.csv", body, "text/csv", ["A10", "D25", "C40"], choose_date=False)


@pytest.mark.parametrize("device", [TABLET, PHONE], ids=["tablet", "phone"])
async def test_the_bulk_pages_fit_a_tablet_and_a_phone(browsing: Browsing, live: LiveService, device: dict[str, Any]) -> None:
    await live.client.create_issuer("spe", name="Society of Precision Engineers")
    await live.client.create_achievement("spe", human_code="CNC-101")
    member = await add_staff(live.runtime, "awarder@spe.example", {"spe": "awarder"})
    page = await browsing.page(device)
    await sign_in_browser(page, live.base_url, live.runtime, member, "/console/spe/bulk")
    rows = _rows("t", as_text=False)[:5]
    rows[1][3] = "soon"
    workbook = xlsx_bytes([["Email", "Name", "Course", "Completion date", "Grade"], *rows], date_columns=[3])
    await page.get_by_label("Spreadsheet (CSV or XLSX)").set_input_files(
        files=[{"name": "small.xlsx", "mimeType": "application/octet-stream", "buffer": workbook}]
    )
    await page.get_by_role("button", name="Upload and choose columns").click()
    await page.wait_for_url("**/columns")
    for step in ("columns", "dry run"):
        assert await axe_problems(page) == [], step
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= device["viewport"]["width"], f"the {step} page scrolls sideways"
        if step == "columns":
            await page.get_by_role("button", name="Check every row (dry run)").click()
            await page.wait_for_url("**/dry-run")
    assert "D3: not a date" in await page.inner_text("main")
