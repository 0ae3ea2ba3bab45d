"""The dry run of a bulk upload: a 10,000-row XLSX, as the staff console checks it before
anything is signed (issue 12: under 10 s). Run by hand:

    PYTHONPATH=src .venv/bin/python bench/bench_bulk.py                   (SQLite in a temp dir)
    PYTHONPATH=src .venv/bin/python bench/bench_bulk.py --postgres        (a fresh PostgreSQL database)
    PYTHONPATH=src .venv/bin/python bench/bench_bulk.py --rows 50000 --awarded 2000

Prints figures; asserts nothing. The workbook has six columns (email, name, course code, an
Excel date, grade, external id); ``--awarded`` rows of it are awarded first (through the bulk
job, so signed for real), so the dry run finds that many duplicates. Timed: the upload (the
file read once to check it and guess the columns), and the dry run as the console runs it
(the file read again, every row shaped and validated, the dedup keys and external ids looked
up), best and median of --repeat runs.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from microcred.app import create_app
from microcred.auth.principal import Principal
from microcred.auth.service import create_client
from microcred.awards.service import Signing
from microcred.bulk import service as bulk
from microcred.config import Settings
from microcred.db.engine import create_engine
from microcred.db.migrate import upgrade
from microcred.jobs.worker import JobRunner
from microcred.runtime import build_runtime

PG = "postgresql://postgres@127.0.0.1:5432"


def workbook(rows: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Awards")
    sheet.append(["Email", "Name", "Course code", "Completed on", "Grade", "External id"])
    first = date(2024, 1, 1)
    for i in range(rows):
        sheet.append([f"learner{i}@example.org", f"Learner {i} Zoë", "CNC-101", first + timedelta(days=i % 300), 6 + i % 5, f"lms-{i}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database_url, name = "", ""
        if args.postgres:
            name = f"microcred_bench_bulk_{uuid.uuid4().hex[:6]}"
            admin = await asyncpg.connect(PG + "/postgres")
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            database_url = f"{PG.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
        settings = Settings(
            database_url=database_url, data_dir=Path(tmp), keys_dir=Path(tmp) / "keys", key_passphrase="bench-not-secret",  # type: ignore[arg-type]
            base_url="https://badges.example.org", run_jobs=False, max_batch_rows=max(args.rows, 1),
        )
        try:
            engine = create_engine(settings.sqlalchemy_url)
            await upgrade(engine)
            await engine.dispose()
            runtime = build_runtime(settings)
            try:
                await run(runtime, settings, args)
            finally:
                await runtime.close()
        finally:
            if name:
                admin = await asyncpg.connect(PG + "/postgres")
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()


async def run(runtime: object, settings: Settings, args: argparse.Namespace) -> None:
    from microcred.runtime import Runtime

    assert isinstance(runtime, Runtime)
    async with runtime.sessions() as session, session.begin():
        key = (await create_client(session, name="bench", issuer_id=None, scopes=())).api_key
    app = create_app(settings, runtime=runtime, migrate=False)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        issuer = (await http.post("/api/v1/issuers", headers=headers, json={"id": "bench", "name": "Bench", "url": "https://bench.example",
                  "address": {"country": "Netherlands", "country_code": "NL"}})).json()
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.factories.service import achievement_body

        response = await http.post(f"/api/v1/issuers/{issuer['id']}/achievements", headers=headers, json=achievement_body(human_code="CNC-101"))
        assert response.status_code == 201, response.text
    principal = Principal(client_id="staff:bench", issuer_id=issuer["id"], scopes=frozenset({"award"}))
    now = datetime.now(UTC)

    if args.awarded:
        async with runtime.sessions() as session, session.begin():
            first = await bulk.start_upload(session, principal=principal, issuer_id=issuer["id"], filename="first.xlsx",
                                            body=workbook(args.awarded), max_rows=args.rows, now=now)
            await bulk.submit_upload(session, principal=principal, issuer_id=issuer["id"], upload_id=first.id, max_rows=args.rows, now=now)
        started = time.perf_counter()
        runner = JobRunner(runtime.sessions, Signing(runtime.keystore, runtime.loader, settings.base_url, runtime.statuses))
        await runner.run_once()
        print(f"awarded {args.awarded} rows first, in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    body = workbook(args.rows)
    print(f"{args.rows}-row XLSX: {len(body) / 1e6:.2f} MB, written in {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    async with runtime.sessions() as session, session.begin():
        upload = await bulk.start_upload(session, principal=principal, issuer_id=issuer["id"], filename="cohort.xlsx", body=body,
                                         max_rows=args.rows, now=now)
    print(f"upload (read, guess the columns, store): {time.perf_counter() - started:.2f} s")

    times, read_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        bulk.sheet_of(upload, max_rows=args.rows)
        read_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        async with runtime.sessions() as session:
            plan = await bulk.dry_run(session, principal=principal, issuer_id=issuer["id"], upload_id=upload.id, max_rows=args.rows, now=now)
        times.append(time.perf_counter() - started)
    print(f"dry run of {len(plan.rows)} rows ({plan.counts}), {'PostgreSQL' if args.postgres else 'SQLite'}:")
    print(f"  whole dry run: best {min(times):.2f} s, median {statistics.median(times):.2f} s (goal: under 10 s)")
    print(f"  of which reading the XLSX: best {min(read_times):.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--awarded", type=int, default=0, help="award this many of the rows first")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    asyncio.run(main(parser.parse_args()))
