"""Two service instances, separate processes, on one PostgreSQL database; a bulk job; the instance
running it dies (``kill -9``) or is stopped (SIGTERM). The other instance finishes the job:
every row awarded exactly once, no status list index handed out twice, the audit log intact,
and no process of the dead instance left behind.

The instances are ``microcred serve`` as an operator runs it, each with its own port, data folder
and signing pool, sharing the database and the key store folder."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from microcred.audit.service import verify_chain
from microcred.config import Settings
from microcred.db.models import Credential, Job
from microcred.runtime import Runtime

from ..factories.service import ServiceClient, award_body

#: Bounds on waiting (polled; the test asserts what happens, never how fast).
_START_SECONDS = 60
_JOB_SECONDS = 240


@pytest.fixture
def database_url(postgresql_url: str) -> str:
    """Several instances on one database: PostgreSQL, as in production."""
    return postgresql_url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started (its signing pool and their helpers), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper has ended: not alive)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@contextmanager
def _instance(settings: Settings, data_dir: Path, *, lease_seconds: float) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``microcred serve`` in a process of its own; yields the process and its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "MICROCRED_DATABASE_URL": settings.database_url,
        "MICROCRED_KEYS_DIR": str(settings.keys_dir),
        "MICROCRED_DATA_DIR": str(data_dir),
        "MICROCRED_KEY_PASSPHRASE": settings.key_passphrase.get_secret_value(),
        "MICROCRED_BASE_URL": settings.base_url,
        "MICROCRED_JOB_LEASE_SECONDS": str(lease_seconds),
        "MICROCRED_JOB_CHUNK_ROWS": "250",
        "MICROCRED_WEBHOOK_DISPATCH": "false",
        "MICROCRED_EMAIL_DISPATCH": "false",
        "MICROCRED_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "microcred", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _START_SECONDS
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the instance did not start"
            assert time.monotonic() < deadline, "the instance did not answer in time"
            time.sleep(0.2)
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


async def _job(runtime: Runtime, job_id: str) -> Job:
    async with runtime.sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "stop,rows,lease_seconds",
    [
        # killed: the survivor takes over once the dead instance's lease lapses (longer than a chunk takes)
        (signal.SIGKILL, 5000, 10.0),
        # stopped: the instance hands its job over as it stops; the lease (ten minutes) would
        # otherwise keep the job waiting far longer than this test waits
        (signal.SIGTERM, 1500, 600.0),
    ],
    ids=["kill -9", "SIGTERM"],
)
async def test_another_instance_finishes_the_job_of_one_that_died(
    settings: Settings, runtime: Runtime, tmp_path: Path, stop: signal.Signals, rows: int, lease_seconds: float
) -> None:
    with ExitStack() as stack:
        first, first_url = stack.enter_context(_instance(settings, tmp_path / "first", lease_seconds=lease_seconds))
        async with httpx.AsyncClient(base_url=first_url, timeout=60) as http:
            service = await ServiceClient.start(http, runtime)
            issuer = await service.create_issuer()
            achievement = await service.create_achievement(issuer["id"])
            second, second_url = stack.enter_context(_instance(settings, tmp_path / "second", lease_seconds=lease_seconds))
            batch = [award_body(achievement["id"], external_id=f"row-{i}") for i in range(rows)]
            submitted = await http.post(f"/api/v1/issuers/{issuer['id']}/awards/batch", json=batch, headers=service.admin)
            assert submitted.status_code == 202, submitted.text
            job_id = submitted.json()["id"]

        # Wait until one instance is part-way through the job, then stop that one.
        deadline = time.monotonic() + _JOB_SECONDS
        while not ((job := await _job(runtime, job_id)).lease_owner and 0 < job.processed < rows):
            assert job.status != "completed", "the job finished before an instance could be stopped: give it more rows"
            assert time.monotonic() < deadline, "no instance took the job"
            await asyncio.sleep(0.05)
        running_pid = int(str(job.lease_owner).split(":")[1])
        instances = {first.pid: (first, second_url), second.pid: (second, first_url)}
        assert running_pid in instances, f"the job's lease names process {running_pid}, not an instance"
        doomed, survivor_url = instances[running_pid]
        pool = _children(doomed.pid)
        assert pool, "the instance running the job signs in a pool of processes"
        doomed.send_signal(stop)
        doomed.wait(timeout=_START_SECONDS)
        stopped_at = (await _job(runtime, job_id)).processed

        # The survivor finishes the job.
        async with httpx.AsyncClient(base_url=survivor_url, timeout=60) as http:
            while (answer := (await http.get(f"/api/v1/jobs/{job_id}", headers=service.admin)).json())["status"] != "completed":
                assert time.monotonic() < deadline, f"the surviving instance did not finish the job: {answer}"
                await asyncio.sleep(0.2)

    assert 0 < stopped_at < rows, "the instance was stopped part-way through the job"
    assert (answer["awarded"], answer["duplicates"], answer["failed"], answer["processed"]) == (rows, 0, 0, rows)
    async with runtime.sessions() as session:
        issued = await session.scalar(select(func.count()).select_from(Credential).where(Credential.issuer_id == issuer["id"]))
        awarded_rows = await session.scalar(
            select(func.count(func.distinct(Credential.external_id))).where(Credential.issuer_id == issuer["id"])
        )
        reused = (
            await session.execute(
                select(Credential.revocation_list_id, Credential.revocation_index)
                .group_by(Credential.revocation_list_id, Credential.revocation_index)
                .having(func.count() > 1)
            )
        ).all()
        chain = await verify_chain(session)
    assert issued == rows and awarded_rows == rows, "every row awarded exactly once"
    assert reused == [], "a status list index was handed out twice"
    assert chain.intact, chain.breaks
    deadline = time.monotonic() + _START_SECONDS
    while any(_alive(pid) for pid in pool) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert [pid for pid in pool if _alive(pid)] == [], "processes of the stopped instance were left behind"
