"""The console's credential pages with 100,000 credentials for one issuer, on PostgreSQL. Run by hand:

    PYTHONPATH=src .venv/bin/python bench/bench_console.py               (~3 min: seeding, then the pages)
    PYTHONPATH=src .venv/bin/python bench/bench_console.py --credentials 20000 --requests 30

Prints figures; asserts nothing. Issue 12's goal: every console page under 100 ms server time at
p95 with 100,000 credentials for the issuer (search included).

Set-up: a fresh database (``--database``, dropped at the end unless ``--keep``) migrated to head;
an issuer, an achievement and one real award through the API; then ``--credentials`` rows copied
from that award's signed document (new ids, learners' names and addresses from a list, issue
dates spread over ``--days`` days, 1% revoked, 0.5% suspended), an audit entry for each, and usage
counts for a fifth of them over 30 days. Then ANALYZE, as autovacuum would do on a default
installation (``--no-analyze`` to see the plans the CI database, which runs with autovacuum off,
would make from empty-table estimates).

Server time: the app runs in this process behind httpx's ASGI transport (no socket, no other
process), signed in as a service admin through the console's own sign-in link, and each request
is timed from send to the last byte. ``--requests`` per page after 3 warm-up requests; p50, p95
and max per page. ``--explain`` prints PostgreSQL's plans of the search queries.
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert, text

from microcred.app import create_app
from microcred.auth.service import create_client
from microcred.config import Settings
from microcred.db.engine import create_engine
from microcred.db.migrate import upgrade
from microcred.db.models import AuditEntry, Credential, CredentialUsage, StaffMember
from microcred.runtime import build_runtime
from microcred.staff import service as staff_service

FIRST = ["Zoë", "Ünal", "Pieter", "Anna", "Mohamed", "Sanne", "Lars", "Eva", "Daan", "Fatima", "Jan", "Noor", "Sem", "Lotte", "Bram", "Yara"]
LAST = ["Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Yılmaz", "Peters", "Hendriks"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _seed(settings: Settings, http: httpx.AsyncClient, *, count: int, days: int) -> dict[str, Any]:
    runtime = build_runtime(settings)
    try:
        async with runtime.sessions() as session, session.begin():
            admin = (await create_client(session, name="bench", issuer_id=None, scopes=())).api_key
        auth = {"Authorization": f"Bearer {admin}"}
        issuer = (await http.post("/api/v1/issuers", json={"id": "bench", "name": "Bench Society", "url": "https://bench.example",
                                                          "address": {"country": "Netherlands", "country_code": "NL"}}, headers=auth)).json()
        achievements = []
        for name in ("Precision Turning", "Milling", "Measuring"):
            r = await http.post(f"/api/v1/issuers/{issuer['id']}/achievements", json={
                "name": name, "description": "A course.", "learning_outcomes": ["turn parts"], "assessed": True, "credits_available": 3,
                "eqf_level": 4, "assessment_type": "Practical examination", "participation_form": "Onsite",
                "quality_assurance": "Accredited", "notional_workload_hours": 84, "status": "published"}, headers=auth)
            assert r.status_code == 201, r.text
            achievements.append(r.json()["id"])
        award = await http.post(f"/api/v1/issuers/{issuer['id']}/awards", json={
            "achievement_id": achievements[0], "recipient": {"email": "zoe.jansen@example.org", "name": "Zoë Jansen"},
            "completion_date": "2026-06-28"}, headers=auth)
        assert award.status_code == 201, award.text
        real = award.json()
        async with runtime.sessions() as session:
            template = await session.get(Credential, real["id"])
            assert template is not None
        rng = random.Random(12)
        now = datetime.now(UTC)
        rows, audit, usage = [], [], []
        seq = 10_000_000
        for n in range(count):
            cid = str(uuid.uuid4())
            first, last = rng.choice(FIRST), rng.choice(LAST)
            issued = now - timedelta(seconds=rng.randrange(days * 86400))
            revoked = issued + timedelta(days=1) if rng.random() < 0.01 else None
            document = dict(template.document, id=f"{settings.base_url}/credentials/{cid}")
            rows.append({
                "id": cid, "issuer_id": issuer["id"], "achievement_id": rng.choice(achievements),
                "achievement_version_id": template.achievement_version_id, "dedup_key": f"bench:{n}", "request_hash": "0" * 64,
                "external_id": None, "recipient_email": f"{first}.{last}.{n}@example.org".lower().replace(" ", ""),
                "recipient_name": f"{first} {last}", "recipient_did": None, "completed_at": issued, "issued_at": issued,
                "valid_until": None, "cryptosuite": template.cryptosuite, "document": document, "job_id": None,
                "revocation_list_id": None, "revocation_index": None, "suspension_list_id": None, "suspension_index": None,
                "revoked_at": revoked, "revocation_reason": "bench" if revoked else None,
                "suspended_at": issued + timedelta(days=2) if revoked is None and rng.random() < 0.005 else None,
            })
            seq += 1
            audit.append({"seq": seq, "chain": "bench", "chain_seq": seq, "event_id": str(uuid.uuid4()), "at": issued, "issuer_id": issuer["id"], "actor": "bench",
                          "action": "credential.issued", "subject": cid, "data": {"credential_id": cid}, "prev_hash": "0" * 64, "hash": "0" * 64})
            if rng.random() < 0.2:
                for d in rng.sample(range(30), 3):
                    usage.append({"credential_id": cid, "day": now.date() - timedelta(days=d), "kind": rng.choice(["view", "view", "download_pdf", "linkedin", "verification"]),
                                  "issuer_id": issuer["id"], "count": rng.randrange(1, 5)})
        started = time.perf_counter()
        async with runtime.sessions() as session, session.begin():
            for start in range(0, len(rows), 2000):
                await session.execute(insert(Credential), rows[start : start + 2000])
                await session.execute(insert(AuditEntry), audit[start : start + 2000])
            for start in range(0, len(usage), 5000):
                await session.execute(insert(CredentialUsage), usage[start : start + 5000])
        print(f"seeded {count} credentials, {len(audit)} audit entries, {len(usage)} usage rows in {time.perf_counter() - started:.1f} s")
        return {"issuer": issuer["id"], "achievements": achievements, "credential": real["id"], "runtime": runtime}
    except BaseException:
        await runtime.close()
        raise


async def _sign_in(http: httpx.AsyncClient, settings: Settings, runtime: Any) -> None:
    async with runtime.sessions() as session, session.begin():
        member = await staff_service.add_admin(session, email="bench@bench.example", now=datetime.now(UTC))
        fresh = await session.get(StaffMember, member.id)
        assert fresh is not None
        token = await staff_service.issue_link(session, member=fresh, now=datetime.now(UTC))
    page = await http.get(f"/console/sign-in/confirm?token={token}")
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = await http.post("/console/sign-in/confirm", data={"csrf_token": csrf, "token": token, "next": "/console"})
    assert answer.status_code == 303, answer.text


async def _explain(settings: Settings, issuer: str, achievement: str) -> None:
    engine = create_engine(settings.sqlalchemy_url)
    queries = {
        "name part": "SELECT id FROM credentials WHERE issuer_id = :i AND (recipient_name ILIKE '%jans%' OR recipient_email ILIKE '%jans%') ORDER BY issued_at DESC, id DESC LIMIT 26",
        "revoked": "SELECT id FROM credentials WHERE issuer_id = :i AND revoked_at IS NOT NULL ORDER BY issued_at DESC, id DESC LIMIT 26",
        "achievement + dates": "SELECT id FROM credentials WHERE issuer_id = :i AND achievement_id = :a AND issued_at >= now() - interval '30 days' AND issued_at < now() ORDER BY issued_at DESC, id DESC LIMIT 26",
        "no filter": "SELECT id FROM credentials WHERE issuer_id = :i ORDER BY issued_at DESC, id DESC LIMIT 26",
    }
    async with engine.connect() as connection:
        for name, sql in queries.items():
            plan = (await connection.execute(text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql), {"i": issuer, "a": achievement})).scalars().all()
            print(f"\n-- {name}\n" + "\n".join(plan))
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="microcred_bench_console")
    parser.add_argument("--credentials", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--no-analyze", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    admin = await asyncpg.connect(args.pg + "/postgres")
    await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{args.database}"')
    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-console-"))
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
            seeded = await _seed(settings, http, count=args.credentials, days=args.days)
            runtime = seeded["runtime"]
            if not args.no_analyze:
                async with runtime.engine.connect() as connection:
                    await connection.execute(text("ANALYZE"))
                    await connection.commit()
            if args.explain:
                await _explain(settings, seeded["issuer"], seeded["achievements"][1])
            await _sign_in(http, settings, runtime)
            base = f"/console/{seeded['issuer']}"
            since = (date.today() - timedelta(days=30)).isoformat()
            pages = {
                "dashboard": f"{base}/",
                "search, no filter": f"{base}/credentials",
                "search, name part 'jans'": f"{base}/credentials?q=jans",
                "search, email part 'visser.1'": f"{base}/credentials?q=visser.1",
                "search, rare name 'zoë jansen'": f"{base}/credentials?q=zo%C3%AB+jansen&status=active",
                "search, revoked": f"{base}/credentials?status=revoked",
                "search, suspended": f"{base}/credentials?status=suspended",
                "search, achievement + 30 days": f"{base}/credentials?achievement={seeded['achievements'][1]}&from={since}",
                "search, name + achievement + status": f"{base}/credentials?q=bakker&achievement={seeded['achievements'][2]}&status=active",
                "credential page (timeline)": f"{base}/credentials/{seeded['credential']}",
            }
            print(f"\n{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
            for name, path in pages.items():
                times = []
                for n in range(args.requests + 3):
                    started = time.perf_counter()
                    response = await http.get(path)
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        print(f"{name}: HTTP {response.status_code} {response.text[:300]}", file=sys.stderr)
                        break
                    if n >= 3:
                        times.append(elapsed)
                if times:
                    print(f"{name:40} {statistics.median(times):8.1f} {_pct(times, 0.95):8.1f} {max(times):8.1f}")
    finally:
        if runtime is not None:
            await runtime.close()
        if not args.keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
