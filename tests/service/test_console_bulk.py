"""The console's bulk pages over HTTP (the browser test drives the same flow in Chromium): an
awarder uploads, maps, sees the dry run, submits, and downloads results; lower roles get 403,
another issuer's staff 404."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from microcred.awards.service import Signing
from microcred.config import Settings
from microcred.jobs.worker import JobRunner
from microcred.runtime import Runtime

from ..bulk.files import csv_bytes
from ..factories.service import ServiceClient
from .console_helpers import LOCAL, add_staff, csrf_of, sign_in, http, settings  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio




def _file(code: str) -> bytes:
    return csv_bytes(
        [
            ["E-mailadres", "Naam", "Cursuscode", "Datum afgerond", "Cijfer"],
            ["zoe@example.org", "Zoë Jansen", code, "28-06-2024", "8,5"],
            ["unal@example.org", "Ünal Öztürk", code, "31-02-2024", "7"],
        ],
        delimiter=";",
        encoding="cp1252",
    )


async def test_an_awarder_uploads_checks_submits_and_downloads(http: httpx.AsyncClient, runtime: Runtime) -> None:
    api = await ServiceClient.start(http, runtime)
    issuer = await api.create_issuer("spe")
    achievement = await api.create_achievement("spe", human_code="CNC-101")
    await sign_in(http, runtime, await add_staff(runtime, "awarder@spe.example", {"spe": "awarder"}))

    page = await http.get("/console/spe/bulk")
    assert page.status_code == 200 and f"/console/spe/bulk/templates/{achievement['id']}.xlsx" in page.text
    template = await http.get(f"/console/spe/bulk/templates/{achievement['id']}.csv")
    assert template.status_code == 200 and template.headers["content-disposition"] == 'attachment; filename="CNC-101-template.csv"'

    refused = await http.post("/console/spe/bulk", files={"file": ("cohort.csv", _file("CNC-101"), "text/csv")})
    assert refused.status_code == 403  # no CSRF token (and its spooled file closed: no ResourceWarning)
    bad = await http.post(
        "/console/spe/bulk", data={"csrf_token": csrf_of(page.text)}, files={"file": ("old.xls", b"\xd0\xcf\x11\xe0rest", "application/vnd.ms-excel")}
    )
    assert bad.status_code == 400 and "xlsx" in bad.text.lower() and 'aria-invalid="true"' in bad.text

    uploaded = await http.post("/console/spe/bulk", data={"csrf_token": csrf_of(page.text)}, files={"file": ("cohort.csv", _file("CNC-101"), "text/csv")})
    assert uploaded.status_code == 303
    columns_url = uploaded.headers["location"]
    columns = await http.get(columns_url)
    assert columns.status_code == 200
    assert '<option value="2" selected>C: Cursuscode (e.g. CNC-101)</option>' in columns.text  # guessed from the Dutch header

    chosen = await http.post(
        columns_url,
        data={"csrf_token": csrf_of(columns.text), "column_email": "0", "column_name": "1", "column_achievement": "2",
              "column_completion_date": "3", "column_grade": "4", "date_order": "dmy"},
    )
    assert chosen.status_code == 303
    dry = await http.get(chosen.headers["location"])
    assert dry.status_code == 200
    assert "D3: not a date" in dry.text and "Award 1 credential" in dry.text and "Zoë Jansen" in dry.text

    upload_id = columns_url.split("/")[-2]
    assert (await http.get(f"/console/spe/bulk/{upload_id}")).headers["location"] == f"/console/spe/bulk/{upload_id}/dry-run"
    submitted = await http.post(f"/console/spe/bulk/{upload_id}/submit", data={"csrf_token": csrf_of(dry.text)})
    assert submitted.status_code == 303 and submitted.headers["location"] == f"/console/spe/bulk/{upload_id}"
    waiting = await http.get(f"/console/spe/bulk/{upload_id}/status")
    assert 'hx-trigger="every 2s"' in waiting.text and "0 of 2" in waiting.text
    assert '<p id="job-announce" hx-swap-oob="true">Awarding: 0 of 2 rows processed.</p>' in waiting.text  # into the page's live region

    signing = Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses)
    await JobRunner(runtime.sessions, signing).run_once()
    done = await http.get(f"/console/spe/bulk/{upload_id}")
    assert "2 of 2" in done.text and 'data-figure="awarded">1<' in done.text and "hx-trigger" not in done.text
    assert "Done: all 2 rows processed, 1 awarded, 0 already awarded, 1 not awarded." in done.text
    results = await http.get(f"/console/spe/bulk/{upload_id}/results.csv")
    rows = list(csv.reader(io.StringIO(results.content.decode("utf-8-sig")), delimiter=";"))
    assert [r[4] for r in rows[1:]] == ["awarded", "not awarded"] and rows[1][5].startswith(f"{LOCAL}/credentials/")
    xlsx = await http.get(f"/console/spe/bulk/{upload_id}/results.xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert issuer["id"] == "spe"
    listed = await http.get("/console/spe/bulk")
    assert f'href="/console/spe/bulk/{upload_id}">cohort.csv</a>' in listed.text and "done: 1 awarded, 0 already awarded, 1 not awarded" in listed.text
    assert (await http.get(f"/console/spe/bulk/{upload_id}/dry-run")).headers["location"] == f"/console/spe/bulk/{upload_id}"


async def test_viewers_get_403_and_other_issuers_staff_404(http: httpx.AsyncClient, runtime: Runtime) -> None:
    api = await ServiceClient.start(http, runtime)
    await api.create_issuer("spe")
    await api.create_issuer("other")
    await sign_in(http, runtime, await add_staff(runtime, "viewer@spe.example", {"spe": "viewer", "other": "awarder"}))
    assert (await http.get("/console/spe/bulk")).status_code == 403
    assert (await http.get("/console/other/bulk")).status_code == 200
    page = await http.get("/console/other/bulk")
    uploaded = await http.post("/console/other/bulk", data={"csrf_token": csrf_of(page.text)}, files={"file": ("c.csv", _file("X"), "text/csv")})
    upload_id = uploaded.headers["location"].split("/")[-2]
    assert (await http.get(f"/console/spe/bulk/{upload_id}/dry-run")).status_code == 403
    await sign_in(http, runtime, await add_staff(runtime, "stranger@elsewhere.example", {"spe": "awarder"}))
    assert (await http.get("/console/other/bulk")).status_code == 404
    assert (await http.get(f"/console/spe/bulk/{upload_id}/dry-run")).status_code == 404  # another issuer's upload


async def test_a_file_over_a_forms_size_limit_is_taken_from_awarders_only(http: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    """Forms are limited to MICROCRED_MAX_BODY_BYTES; a bulk upload by a signed-in awarder may be
    as large as an API batch file. Anybody else is held to the form limit before the body is read."""
    api = await ServiceClient.start(http, runtime)
    await api.create_issuer("spe")
    await api.create_achievement("spe", human_code="CNC-101")
    rows = [["email", "name", "achievement", "completion_date"]]
    rows += [[f"learner{i}@example.org", f"Learner number {i}", "CNC-101", "2024-06-28"] for i in range(settings.max_body_bytes // 60 + 10)]
    body = csv_bytes(rows)
    assert len(body) > settings.max_body_bytes
    await sign_in(http, runtime, await add_staff(runtime, "viewer@spe.example", {"spe": "viewer"}))
    home = await http.get("/console/spe/")
    refused = await http.post("/console/spe/bulk", data={"csrf_token": csrf_of(home.text)}, files={"file": ("big.csv", body, "text/csv")})
    assert refused.status_code == 413
    await sign_in(http, runtime, await add_staff(runtime, "awarder@spe.example", {"spe": "awarder"}))
    form = await http.get("/console/spe/bulk")
    taken = await http.post("/console/spe/bulk", data={"csrf_token": csrf_of(form.text)}, files={"file": ("big.csv", body, "text/csv")})
    assert taken.status_code == 303, taken.text[:300]
    columns = await http.get(taken.headers["location"])
    assert f"{len(rows) - 1} rows to award" in columns.text
