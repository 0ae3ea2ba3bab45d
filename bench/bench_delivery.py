"""Learner email delivery beside a bulk batch (issue 13: delivery adds no more than 10% to the
batch's own time, at a rate that allows it). Run by hand:

    PYTHONPATH=src .venv/bin/python bench/bench_delivery.py              (100,000 rows, SQLite in a temp dir)
    PYTHONPATH=src .venv/bin/python bench/bench_delivery.py --n 2000 --rate 1000

Prints figures; asserts nothing. Two batches of N rows go through the bulk job: one for an
issuer with emails off (the batch's own time), one for an issuer with emails on while the email
sender runs beside the job, sending to a local SMTP sink (aiosmtpd) at ``--rate`` per second.
The sink runs in a process of its own, as a mail server would: its work is not the service's.
Reported: both batch times and the overhead, the time until the last email was taken, and how
many the sink received (and how many distinct Message-IDs).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from microcred.app import create_app  # noqa: E402
from microcred.awards.service import Signing  # noqa: E402
from microcred.awards.signing_pool import SigningPool  # noqa: E402
from microcred.config import Settings  # noqa: E402
from microcred.db.engine import create_engine  # noqa: E402
from microcred.db.migrate import upgrade  # noqa: E402
from microcred.db.models import Issuer  # noqa: E402
from microcred.delivery.sender import EmailSender  # noqa: E402
from microcred.jobs.worker import JobRunner  # noqa: E402
from microcred.learners.mail import SmtpMailer  # noqa: E402
from microcred.runtime import build_runtime  # noqa: E402
from tests.factories.service import ServiceClient, award_body  # noqa: E402

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


def sink(port: int, received: "multiprocessing.sharedctypes.Synchronized[int]", distinct: "multiprocessing.sharedctypes.Synchronized[int]",
         ready: "multiprocessing.synchronize.Event", stop: "multiprocessing.synchronize.Event") -> None:
    """The local SMTP sink, in its own process: counts the messages and their distinct Message-IDs."""
    ids: set[bytes] = set()

    class Counter:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 (aiosmtpd's name)
            found = _MESSAGE_ID.search(envelope.content)  # type: ignore[attr-defined]
            ids.add(found.group(1) if found else b"")
            received.value += 1
            distinct.value = len(ids)
            return "250 Message accepted for delivery"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


async def batch(service: ServiceClient, runner: JobRunner, issuer_id: str, achievement_id: str, n: int, tag: str) -> float:
    rows = [award_body(achievement_id, external_id=f"{tag}-{i}", recipient={"email": f"{tag}{i}@example.org", "name": f"L {i}"}) for i in range(n)]
    response = await service.http.post(f"/api/v1/issuers/{issuer_id}/awards/batch", json=rows, headers=service.admin)
    assert response.status_code == 202, response.text
    started = time.monotonic()
    while await runner.run_once() is not None:
        pass
    return time.monotonic() - started


async def main(args: argparse.Namespace) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spawn = multiprocessing.get_context("spawn")
    received, distinct, ready, stop = spawn.Value("q", 0), spawn.Value("q", 0), spawn.Event(), spawn.Event()
    server = spawn.Process(target=sink, args=(port, received, distinct, ready, stop), daemon=True)
    server.start()
    ready.wait(30)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", base_url="https://badges.example.org", keys_dir=Path(tmp) / "keys",
            data_dir=Path(tmp), key_passphrase="bench-passphrase-not-secret",  # type: ignore[arg-type]
            run_jobs=False, smtp_host="127.0.0.1", smtp_port=port, smtp_from="badges@badges.example.org", smtp_starttls=False,
        )
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        await engine.dispose()
        runtime = build_runtime(settings)
        app = create_app(settings, runtime=runtime, migrate=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
            service = await ServiceClient.start(http, runtime)
            # Signed in the pool of processes, as `microcred serve` does (app.py): the sender and
            # the job share the service process, the signatures do not.
            pool = SigningPool(keys_dir=settings.keys_dir, passphrase=settings.key_passphrase.get_secret_value(), base_url=settings.base_url)
            signing = Signing(runtime.keystore, runtime.loader, settings.base_url, runtime.statuses, pool)
            runner = JobRunner(runtime.sessions, signing, chunk_rows=settings.job_chunk_rows)
            quiet, loud = await service.create_issuer(), await service.create_issuer()
            async with runtime.sessions() as session, session.begin():
                await session.execute(update(Issuer).where(Issuer.id == quiet["id"]).values(email_enabled=False))
                await session.execute(update(Issuer).where(Issuer.id == loud["id"]).values(email_rate_per_second=args.rate))
            quiet_achievement = (await service.create_achievement(quiet["id"]))["id"]
            loud_achievement = (await service.create_achievement(loud["id"]))["id"]

            await batch(service, runner, quiet["id"], quiet_achievement, 200, "warm-up")  # the pool's processes start
            alone = await batch(service, runner, quiet["id"], quiet_achievement, args.n, "quiet")
            mailer = SmtpMailer(settings, keep_open=True)
            sender = EmailSender(runtime.sessions, mailer, settings, poll_seconds=0.2)
            sending = asyncio.create_task(sender.run_forever())
            started = time.monotonic()
            with_emails = await batch(service, runner, loud["id"], loud_achievement, args.n, "loud")
            during = received.value
            while received.value < args.n:
                await asyncio.sleep(0.1)
            delivered = time.monotonic() - started
            sending.cancel()
            try:
                await sending
            except asyncio.CancelledError:
                pass
            mailer.close()
            pool.close()
        await runtime.close()
    stop.set()
    server.join(30)
    print(f"rows: {args.n}, rate: {args.rate:g} emails/s per issuer")
    print(f"batch, emails off:                 {alone:8.1f} s")
    print(f"batch, emails on (sender beside):  {with_emails:8.1f} s  overhead {100 * (with_emails - alone) / alone:+.1f}%")
    print(f"emails taken while the batch ran:   {during:8d}  ({during / with_emails:.0f} per second)")
    print(f"last email taken by the sink after {delivered:8.1f} s  (the rate alone needs {args.n / args.rate:.1f} s)")
    print(f"emails received: {received.value}, distinct Message-IDs: {distinct.value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="rows in each batch (default 100,000)")
    parser.add_argument("--rate", type=float, default=1000.0, help="the issuer's emails per second (default 1000)")
    asyncio.run(main(parser.parse_args()))
