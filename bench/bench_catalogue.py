"""The public catalogue and a pathway page with 500 published achievements and 50 pathways, on
PostgreSQL (or SQLite with --sqlite). Run by hand:

    PYTHONPATH=src .venv/bin/python bench/bench_catalogue.py
    PYTHONPATH=src .venv/bin/python bench/bench_catalogue.py --achievements 2000 --pathways 200 --requests 100

Prints figures; asserts nothing. Issue 13's goal: the catalogue and a pathway page under 50 ms
server time at p95 with 500 achievements and 50 pathways.

Set-up: a fresh database migrated to head; an issuer and one achievement published through the
API (a real version document, every EU element); then --achievements published achievements
copied from it (names, EQF levels 3-7, 1-10 ECTS, six fields of study, five providers), 20 drafts
that must not show, and --pathways pathways of 4 components each, leading to one of them. A
learner holding two components of the first pathway, signed in for the "signed in" pages.

Server time: the app in this process behind httpx's ASGI transport (no socket), each request timed
from send to the last byte; --requests per page after 3 warm-up requests; p50, p95 and max, and
the CPU time of this process (the app and its database driver; PostgreSQL's own work is not in
it) for each request, which a machine shared with other work disturbs less than the clock.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import select, text

from microcred.app import create_app
from microcred.auth.service import create_client
from microcred.config import Settings
from microcred.db.engine import create_engine
from microcred.db.migrate import upgrade
from microcred.db.models import Achievement, AchievementVersion, Pathway, PathwayComponent
from microcred.learners import service as learners
from microcred.learners.web import cookie_name
from microcred.runtime import build_runtime

FIELDS = ["Mechanical engineering", "Metrology", "Welding", "Electronics", "Quality management", "Optics"]
PROVIDERS = ["Turning Academy Eindhoven", "Measuring Lab Delft", "Weld School Rotterdam", "Optics Guild Utrecht", "Bench Society"]
WORDS = ["Precision", "Turning", "Milling", "Measuring", "Welding", "Soldering", "Calibration", "Optics", "Inspection", "Drawing", "Lean", "Safety"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _eqf(document: dict[str, Any], level: int) -> list[dict[str, Any]]:
    out = []
    for alignment in document.get("alignment") or []:
        if alignment.get("targetType") == "ext:EQF":
            alignment = dict(alignment, targetCode=str(level), targetName=f"EQF level {level}")
        out.append(alignment)
    return out


async def _seed(settings: Settings, http: httpx.AsyncClient, *, count: int, pathways: int) -> dict[str, Any]:
    runtime = build_runtime(settings)
    async with runtime.sessions() as session, session.begin():
        admin = (await create_client(session, name="bench", issuer_id=None, scopes=())).api_key
    auth = {"Authorization": f"Bearer {admin}"}
    issuer = (await http.post("/api/v1/issuers", json={"id": "bench", "name": "Bench Society", "url": "https://bench.example",
                                                      "address": {"country": "Netherlands", "country_code": "NL"}}, headers=auth)).json()["id"]
    r = await http.post(f"/api/v1/issuers/{issuer}/achievements", json={
        "name": "Template", "description": "A course in the craft.", "learning_outcomes": ["turn parts"], "assessed": True, "credits_available": 3,
        "eqf_level": 4, "assessment_type": "Practical examination", "participation_form": "Onsite", "quality_assurance": "Accredited",
        "notional_workload_hours": 84, "in_language": "nl", "field_of_study": "Metrology",
        "provider": {"id": "https://turning.example", "name": "Turning Academy Eindhoven"}, "status": "published"}, headers=auth)
    assert r.status_code == 201, r.text
    async with runtime.sessions() as session:
        template = await session.scalar(select(AchievementVersion).where(AchievementVersion.achievement_id == r.json()["id"]))
        assert template is not None
        definition = (await session.get(Achievement, r.json()["id"])).definition  # type: ignore[union-attr]
    rng = random.Random(13)
    ids: list[str] = []
    started = time.perf_counter()
    async with runtime.sessions() as session, session.begin():
        for n in range(count + 20):
            aid = str(uuid.uuid4())
            draft = n >= count
            name = f"{rng.choice(WORDS)} {rng.choice(WORDS).lower()} {n}"
            level = rng.randrange(3, 8)
            document = dict(template.document, id=f"{settings.base_url}/issuers/{issuer}/achievements/{aid}", name=name,
                            alignment=_eqf(template.document, level), creditsAvailable=rng.randrange(1, 11), fieldOfStudy=rng.choice(FIELDS),
                            creator={"id": "https://provider.example", "type": ["Profile"], "name": rng.choice(PROVIDERS)})
            session.add(Achievement(id=aid, issuer_id=issuer, status="draft" if draft else "published", definition=definition, version=0 if draft else 1))
            if not draft:
                session.add(AchievementVersion(id=str(uuid.uuid4()), achievement_id=aid, version=1, document=document, assessed=True))
                ids.append(aid)
        await session.flush()
        pathway_ids = []
        for p in range(pathways):
            pid = str(uuid.uuid4())
            parts = rng.sample(ids, 5)
            session.add(Pathway(id=pid, issuer_id=issuer, name=f"Pathway {p:02d}: {rng.choice(WORDS)}", achievement_id=parts[0], rule="all", min_count=None))
            await session.flush()
            session.add_all([PathwayComponent(pathway_id=pid, achievement_id=a, issuer_id=issuer, position=i) for i, a in enumerate(parts[1:])])
            pathway_ids.append((pid, parts[1:]))
    print(f"seeded {count} published achievements, 20 drafts and {pathways} pathways in {time.perf_counter() - started:.1f} s")
    first, components = pathway_ids[0]
    for achievement_id in components[:2]:
        award = await http.post(f"/api/v1/issuers/{issuer}/awards", json={"achievement_id": achievement_id,
                                "recipient": {"email": "noor@example.org", "name": "Noor"}, "completion_date": "2026-06-28"}, headers=auth)
        assert award.status_code == 201, award.text
    async with runtime.sessions() as session, session.begin():
        token = await learners.request_sign_in(session, email="noor@example.org", next_path="/me", now=_now())
        assert token is not None
        signed_in = await learners.complete_sign_in(session, token=token, now=_now(), session_seconds=3600)
    return {"issuer": issuer, "pathway": first, "runtime": runtime, "cookie": (cookie_name(settings), signed_in.session_token), "achievement": ids[7]}


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="microcred_bench_catalogue")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file in a temporary folder instead of PostgreSQL")
    parser.add_argument("--achievements", type=int, default=500)
    parser.add_argument("--pathways", type=int, default=50)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-catalogue-"))
    admin = None
    if args.sqlite:
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    else:
        admin = await asyncpg.connect(args.pg + "/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{args.database}"')
        url = f"{args.pg.replace('postgresql://', 'postgresql+asyncpg://')}/{args.database}"
    settings = Settings(database_url=url, base_url="http://localhost:8000", keys_dir=folder / "keys", data_dir=folder,
                        key_passphrase=uuid.uuid4().hex, run_jobs=False)  # type: ignore[arg-type]
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    runtime = None
    try:
        app = create_app(settings, migrate=False)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=settings.base_url) as http:
            seeded = await _seed(settings, http, count=args.achievements, pathways=args.pathways)
            runtime = seeded["runtime"]
            if not args.sqlite:
                async with runtime.engine.connect() as connection:
                    await connection.execute(text("ANALYZE"))
                    await connection.commit()
            name, token = seeded["cookie"]
            pages = {
                "catalogue, no filter": ("/catalogue", False),
                "catalogue, EQF level 5": ("/catalogue?level=5", False),
                "catalogue, text + level + credits": ("/catalogue?q=precision&level=5&min_credits=3", False),
                "catalogue, page 10": ("/catalogue?page=10", False),
                "catalogue of the issuer": (f"/catalogue/{seeded['issuer']}", False),
                "achievement page": (f"/catalogue/achievements/{seeded['achievement']}", False),
                "pathway page": (f"/catalogue/pathways/{seeded['pathway']}", False),
                "pathway page, signed in (progress)": (f"/catalogue/pathways/{seeded['pathway']}", True),
                "/me/pathways, signed in": ("/me/pathways", True),
            }
            print(f"\n{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
            for label, (path, signed) in pages.items():
                http.cookies.clear()
                if signed:
                    http.cookies.set(name, token)
                times, cpu = [], []
                for n in range(args.requests + 3):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    response = await http.get(path)
                    elapsed = (time.perf_counter() - started) * 1000
                    cpu_elapsed = (time.process_time() - cpu_started) * 1000
                    if response.status_code != 200:
                        print(f"{label}: HTTP {response.status_code} {response.text[:300]}", file=sys.stderr)
                        break
                    if n >= 3:
                        times.append(elapsed)
                        cpu.append(cpu_elapsed)
                if times:
                    print(f"{label:40} {statistics.median(times):8.1f} {_pct(times, 0.95):8.1f} {max(times):8.1f} {statistics.median(cpu):8.1f} {_pct(cpu, 0.95):8.1f}")
    finally:
        if runtime is not None:
            await runtime.close()
        if admin is not None:
            if not args.keep:
                await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
