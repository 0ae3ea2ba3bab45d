"""The backpack (``/me``) of a learner with 200 credentials from two issuers (issue 13: under
100 ms server time at p95). Run by hand:

    PYTHONPATH=src .venv/bin/python bench/bench_backpack.py               (SQLite in a temp dir)
    PYTHONPATH=src .venv/bin/python bench/bench_backpack.py --postgres    (a fresh PostgreSQL database)

Prints figures; asserts nothing. The credentials are awarded through the API (signed for real),
to two of the learner's addresses; then the page is asked for --requests times in-process (ASGI,
no socket), so the time is the service's own: session lookup, query, rendering.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from microcred.app import create_app
from microcred.web.memory import freeze_startup_objects
from microcred.auth.service import create_client
from microcred.config import Settings
from microcred.db.base import new_id
from microcred.db.engine import create_engine
from microcred.db.migrate import upgrade
from microcred.db.models import Learner, LearnerAddress, LearnerSession
from microcred.runtime import Runtime, build_runtime
from microcred.tokens import new_token, token_digest

PG = "postgresql://postgres@127.0.0.1:5432"
BASE = "https://badges.example.org"


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database_url, name = "", ""
        if args.postgres:
            name = f"microcred_bench_backpack_{uuid.uuid4().hex[:6]}"
            admin = await asyncpg.connect(PG + "/postgres")
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            database_url = f"{PG.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
        settings = Settings(
            database_url=database_url, data_dir=Path(tmp), keys_dir=Path(tmp) / "keys", key_passphrase="bench-not-secret",  # type: ignore[arg-type]
            base_url=BASE, run_jobs=False,
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


async def run(runtime: Runtime, settings: Settings, args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.factories.service import achievement_body

    async with runtime.sessions() as session, session.begin():
        key = (await create_client(session, name="bench", issuer_id=None, scopes=())).api_key
    app = create_app(settings, runtime=runtime, migrate=False)
    freeze_startup_objects()  # as `microcred serve` does before it serves
    headers = {"Authorization": f"Bearer {key}"}
    addresses = ("zoe@example.org", "z.jansen@work.example.org")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        started = time.perf_counter()
        for n in range(2):
            issuer = (await http.post("/api/v1/issuers", headers=headers, json={"id": f"bench-{n}", "name": f"Bench {n}", "url": "https://bench.example",
                      "address": {"country": "Netherlands", "country_code": "NL"}})).json()
            achievement = (await http.post(f"/api/v1/issuers/{issuer['id']}/achievements", headers=headers, json=achievement_body())).json()
            for i in range(args.credentials // 2):
                response = await http.post(
                    f"/api/v1/issuers/{issuer['id']}/awards", headers=headers,
                    json={"achievement_id": achievement["id"], "recipient": {"email": addresses[i % 2], "name": "Zoë Jansen"},
                          "completion_date": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}", "external_id": f"lms-{n}-{i}"},
                )
                assert response.status_code == 201, response.text
        print(f"awarded {args.credentials} credentials in {time.perf_counter() - started:.1f} s")
        token, now = new_token(), datetime.now(UTC)
        async with runtime.sessions() as session, session.begin():
            learner = Learner(id=new_id(), email=addresses[0], profile={}, verified_at=now, created_at=now)
            session.add(learner)
            await session.flush()
            session.add_all([
                LearnerAddress(email=addresses[1], learner_id=learner.id, verified_at=now),
                LearnerSession(token_hash=token_digest(token), learner_id=learner.id, created_at=now, expires_at=now + timedelta(hours=1)),
            ])
        cookie = {"Cookie": f"__Host-microcred_learner={token}"}
        first = await http.get("/me", headers=cookie)
        assert first.status_code == 200 and first.text.count('class="panel"') == args.credentials, first.status_code
        profile = cProfile.Profile() if args.profile else None
        if profile is not None:
            profile.enable()
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = await http.get("/me", headers=cookie)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        if profile is not None:
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"/me with {args.credentials} credentials, {'PostgreSQL' if args.postgres else 'SQLite'}, {args.requests} requests:")
    print(f"  median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms (goal: p95 under 100 ms); page {len(first.content) / 1e3:.0f} kB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--credentials", type=int, default=200)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print where the page's time goes (cProfile)")
    asyncio.run(main(parser.parse_args()))
