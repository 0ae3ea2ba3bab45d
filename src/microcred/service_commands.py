"""The service's commands: serve, migrate, clients, issuers, import, backup and restore (see ``cli.py``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from .audit.service import ChainReport, verify_chain
from .auth.principal import SCOPES, Principal
from .auth.service import client_state, create_client, list_clients, revoke_client, rotate_client, update_client
from .awards.service import Signing
from .backup import FAILURES, describe, make_backup, restore_backup
from .config import Settings, SettingsError, load_settings
from .db.migrate import upgrade
from .issuers.service import rotate_key
from .jobs.repository import JobRepository
from .awards.signing_pool import SigningPool
from .jobs.service import LEASE, submit_job
from .jobs.worker import JobRunner
from .problems import ProblemError
from .service_cli import CommandError
from .runtime import Runtime, build_runtime
from .staff import service as staff_service
from .web.server import NoDelayH11Protocol

__all__ = [
    "cmd_audit_verify", "cmd_backup", "cmd_clients_create", "cmd_clients_list", "cmd_clients_revoke", "cmd_clients_rotate",
    "cmd_clients_set_expiry", "cmd_import", "cmd_issuers_rotate_key", "cmd_migrate", "cmd_restore", "cmd_serve", "cmd_staff_create",
]

T = TypeVar("T")
_OPERATOR = Principal(client_id="cli", issuer_id=None, scopes=frozenset(SCOPES))




def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise CommandError(str(exc)) from None


def _run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    async def main() -> T:
        runtime = build_runtime(_settings())
        try:
            await upgrade(runtime.engine)
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except ProblemError as problem:
        raise CommandError(problem.detail) from None


def cmd_serve(args: argparse.Namespace) -> int:
    import logging
    import logging.config
    import shutil

    import uvicorn

    from .log_format import logging_config
    from .operations.metrics import multiprocess_folder, use_multiprocess_folder

    settings = _settings()
    host, port = args.host or settings.host, args.port or settings.port
    workers = args.workers or settings.workers
    # Every line from here on in MICROCRED_LOG_FORMAT; uvicorn applies the same in each worker.
    log_config = logging_config(log_format=settings.log_format, level=settings.log_level)
    logging.config.dictConfig(log_config)
    _run(lambda runtime: asyncio.sleep(0))  # migrate once, before any worker starts
    logging.getLogger("microcred").info(
        "serving on http://%s:%s (database: %s; public base URL: %s)", host, port, _describe(settings), settings.base_url
    )
    # Several workers count metrics into one folder, so any of them answers /metrics for all.
    metrics_folder = use_multiprocess_folder(multiprocess_folder(settings.data_dir, port=port)) if workers > 1 else None
    # access_log=False: microcred.web.observe writes the access lines (route, duration, request id).
    try:
        if workers > 1:
            uvicorn.run(
                "microcred.app:app_from_environment",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level=settings.log_level,
                log_config=log_config,
                access_log=False,
                http=NoDelayH11Protocol,
                proxy_headers=False,  # the app believes X-Forwarded-For from MICROCRED_TRUSTED_PROXIES only
            )
        else:
            from .app import create_app
            from .web.memory import freeze_startup_objects

            app = create_app(settings, migrate=False)
            freeze_startup_objects()
            uvicorn.run(
                app, host=host, port=port, log_level=settings.log_level, log_config=log_config, access_log=False, http=NoDelayH11Protocol,
                proxy_headers=False,
            )
    finally:
        if metrics_folder is not None:
            shutil.rmtree(metrics_folder, ignore_errors=True)
    return 0


def _describe(settings: Settings) -> str:
    if not settings.database_url:
        return f"embedded SQLite in {settings.data_dir}/microcred.db"
    return settings.sqlalchemy_url.split("://", 1)[0] + "://" + settings.sqlalchemy_url.rsplit("@", 1)[-1].split("://")[-1]


def cmd_migrate(args: argparse.Namespace) -> int:
    _run(lambda runtime: asyncio.sleep(0))
    print("microcred: the database is at the newest schema", file=sys.stderr)
    return 0


def _expires(text: str | None, *, now: datetime) -> datetime | None:
    """``--expires``: a number of days (``90d``), a date (midnight UTC) or a datetime with its zone."""
    if text is None:
        return None
    if days := re.fullmatch(r"(\d{1,5})d", text.strip()):
        return now + timedelta(days=int(days.group(1)))
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), UTC)
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise CommandError(f"--expires {text!r}: give days (90d), a date (2027-06-30) or a time with its zone (2027-06-30T12:00:00Z)")
    return at


def cmd_clients_create(args: argparse.Namespace) -> int:
    if args.admin == bool(args.issuer):
        raise CommandError("give either --admin or --issuer ISSUER")
    scopes = [s.strip() for s in (args.scopes or "award").split(",") if s.strip()]
    now = datetime.now(UTC)
    expires_at = _expires(args.expires, now=now)

    async def work(runtime: Runtime) -> Any:
        async with runtime.sessions() as session, session.begin():
            return await create_client(session, name=args.name, issuer_id=args.issuer, scopes=scopes, expires_at=expires_at, now=now)

    created = _run(work)
    client = created.client
    scope_text = "admin: every issuer" if client.issuer_id is None else f"issuer {client.issuer_id}: {client.scopes}"
    until = f", expires {client.expires_at.isoformat()}" if client.expires_at else ""
    print(f"microcred: API client {client.id} ({scope_text}{until}). The key is shown once; store it now:", file=sys.stderr)
    print(created.api_key)
    return 0


def cmd_staff_create(args: argparse.Namespace) -> int:
    """A service admin for the console, and a one-time sign-in link for them (printed, not mailed:
    the first admin has nobody to be invited by)."""
    if not args.admin:
        raise CommandError("give --admin: other staff are invited from the console by an owner")
    now = datetime.now(UTC)

    async def work(runtime: Runtime) -> tuple[str, str]:
        async with runtime.sessions() as session, session.begin():
            member = await staff_service.add_admin(session, email=args.email, now=now)
            token = await staff_service.issue_link(session, member=member, now=now)
            return member.email, f"{runtime.settings.base_url}/console/sign-in/confirm?{urlencode({'token': token})}"

    email, link = _run(work)
    minutes = staff_service.SIGN_IN_LINK_SECONDS // 60
    print(f"microcred: {email} is a console admin (owner of every issuer). Open this link within {minutes} minutes to sign in (it works once):", file=sys.stderr)
    print(link)
    return 0


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%dT%H:%MZ") if at is not None else "-"


def cmd_clients_list(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> Any:
        async with runtime.sessions() as session, session.begin():
            return await list_clients(session, principal=_OPERATOR, issuer_id=args.issuer)

    clients = _run(work)
    now = datetime.now(UTC)
    rows = [("ID", "NAME", "ISSUER", "SCOPES", "KEY", "CREATED", "EXPIRES", "LAST-USED", "STATE")]
    for c in clients:
        issuer = c.issuer_id or "(admin)"
        rows.append((
            c.id, c.name, issuer, ",".join(c.scopes.split()), f"mc_{c.key_prefix}_...", _when(c.created_at), _when(c.expires_at),
            _when(c.last_used_at), client_state(c, now=now),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_clients_revoke(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> Any:
        async with runtime.sessions() as session, session.begin():
            return await revoke_client(session, principal=_OPERATOR, client_id=args.client, now=datetime.now(UTC))

    client = _run(work)
    print(f"microcred: API client {client.id} ({client.name}) is revoked since {_when(client.revoked_at)}; its key gets 401", file=sys.stderr)
    return 0


def cmd_clients_set_expiry(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    expires_at = None if args.when.strip().lower() == "never" else _expires(args.when, now=now)

    async def work(runtime: Runtime) -> Any:
        async with runtime.sessions() as session, session.begin():
            return await update_client(session, principal=_OPERATOR, client_id=args.client, changes={"expires_at": expires_at}, now=now)

    client = _run(work)
    until = f"expires {client.expires_at.isoformat()}" if client.expires_at else "no longer expires"
    print(f"microcred: API client {client.id} ({client.name}) {until}", file=sys.stderr)
    return 0


def cmd_clients_rotate(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    expires_at = _expires(args.expires, now=now)

    async def work(runtime: Runtime) -> Any:
        async with runtime.sessions() as session, session.begin():
            return await rotate_client(session, principal=_OPERATOR, client_id=args.client, expires_at=expires_at, now=now)

    rotated = _run(work)
    until = f", expires {rotated.client.expires_at.isoformat()}" if rotated.client.expires_at else ""
    print(f"microcred: API client {rotated.client.id} has a new key{until}; the old key no longer works. Shown once; store it now:", file=sys.stderr)
    print(rotated.api_key)
    return 0


def cmd_issuers_rotate_key(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> Any:
        async with runtime.sessions() as session, session.begin():
            return await rotate_key(session, principal=_OPERATOR, keystore=runtime.keystore, issuer_id=args.issuer)

    key = _run(work)
    print(f"microcred: {args.issuer} now signs with {key.id}; earlier keys stay published as retired", file=sys.stderr)
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> ChainReport:
        async with runtime.sessions() as session, session.begin():
            return await verify_chain(session)

    report = _run(work)
    for broken in report.breaks:
        print(f"microcred: the audit log is broken at {broken.describe()}", file=sys.stderr)
    if report.breaks:
        print(f"microcred: the {report.checked} entries before the breaks and in the other chains hold", file=sys.stderr)
        return 1
    print(f"microcred: the audit log holds: {report.checked} entries in {report.chains} chains checked")
    for chain, (seq, hash_) in sorted(report.heads.items()):
        print(f"  {chain}: entry {seq}, head {hash_}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    content_type = "text/csv" if path.suffix.lower() == ".csv" else "application/json"

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with runtime.sessions() as session, session.begin():
            job = await submit_job(
                session,
                principal=_OPERATOR,
                issuer_id=args.issuer,
                body=body,
                content_type=content_type,
                max_rows=runtime.settings.max_batch_rows,
                now=datetime.now(UTC),
            )
        settings = runtime.settings
        pool = SigningPool(keys_dir=settings.keys_dir, passphrase=settings.key_passphrase.get_secret_value(), base_url=settings.base_url)
        signing = Signing(runtime.keystore, runtime.loader, settings.base_url, runtime.statuses, pool)
        runner = JobRunner(runtime.sessions, signing, chunk_rows=settings.job_chunk_rows, lease=timedelta(seconds=settings.job_lease_seconds))
        try:
            return await _follow(runtime, runner, job.id)
        finally:
            pool.close()

    summary = _run(work)
    print(json.dumps(summary))
    return 0 if not summary["failed"] else 1


async def _follow(runtime: Runtime, runner: JobRunner, job_id: str) -> dict[str, Any]:
    """Run a job in this process until it is done, drawing a progress bar."""
    async with runtime.sessions() as session, session.begin():
        if not await JobRepository(session).take_lease(job_id, owner=runner.owner, now=runner.clock(), until=runner.clock() + LEASE):
            raise CommandError("another worker took the job; follow it with GET /api/v1/jobs/" + job_id)
    started = time.monotonic()
    while True:
        done = await runner.run_job(job_id, max_chunks=1)
        async with runtime.sessions() as session:
            current = await JobRepository(session).get(job_id)
            assert current is not None
            _progress(current.processed, current.total, current.failed, time.monotonic() - started)
        if done:
            print(file=sys.stderr)
            return {"job": job_id, "total": current.total, "awarded": current.awarded, "duplicates": current.duplicates, "failed": current.failed}


def _progress(done: int, total: int, failed: int, seconds: float) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / seconds if seconds > 0 else 0.0
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows, {failed} failed, {rate:.0f} rows/s")
    sys.stderr.flush()




def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        report = asyncio.run(make_backup(settings, Path(args.file), now=datetime.now(UTC)))
    except FAILURES as exc:
        raise CommandError(f"no backup was written: {describe(exc)}") from None
    manifest = report.manifest
    issuers = len({key.issuer for key in manifest.keys})
    database = manifest.database
    print(f"microcred: wrote {report.path} ({_size(report.bytes)}, sha256 {report.sha256})")
    print(f"  database  {database.kind} at schema {database.revision}: {database.file} ({_size(manifest.files[database.file].bytes)}; {database.made_by})")
    print(f"  keys      {len(manifest.keys)} keys of {issuers} issuers, {len(manifest.files) - 1} files, still encrypted")
    for key in manifest.keys:
        print(f"            {key.verification_method}{'  (retired ' + key.valid_until + ')' if key.valid_until else ''}")
    print("  manifest  manifest.json: versions, SHA-256 of every file, the keys above")
    print("  not in it: MICROCRED_KEY_PASSPHRASE. Keep it apart from the archive: without it no key opens")
    if report.record_error:
        print(f"microcred: warning: {report.record_error}; the service will keep warning that the keys have no backup", file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        report = asyncio.run(restore_backup(settings, Path(args.file), force=args.force, now=datetime.now(UTC)))
    except FAILURES as exc:
        raise CommandError(f"restore: {describe(exc)}") from None
    print(f"microcred: restored {Path(args.file)} into {_describe(settings)} and the key store {settings.keys_dir}")
    if report.moved_aside is not None:
        print(f"  the key store's earlier files were moved to {report.moved_aside}")
    for check in report.checks:
        print(f"  {'ok    ' if check.ok else 'FAILED'}  {check.name}: {check.detail}")
    if not report.ok:
        print("microcred: the restore is not usable as it is: see FAILED above", file=sys.stderr)
        return 1
    return 0


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    value = count / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
