"""The issuing service under load, on PostgreSQL (issue 3, "Performance"). Run by hand:

    .venv/bin/python bench/bench_service.py                 (both parts, 100,000-row batch)
    .venv/bin/python bench/bench_service.py --rows 2000 --seconds 10    (a quick try)
    .venv/bin/python bench/bench_service.py --breakdown     (and where an award's CPU goes)

Prints figures; asserts nothing. It sets up everything itself and removes it afterwards: a key
directory in a temporary folder (random passphrase), a fresh PostgreSQL database (dropped at the
end), `microcred serve --workers 2` on a free loopback port, an issuer key from `microcred
clients create`, an issuer and a published achievement with every EU element.

(a) Awards per second over HTTP: a load generator in a separate process (asyncio, plain
    HTTP/1.1 keep-alive connections, each request with its own Idempotency-Key, external_id and
    learner) posts awards for --seconds; beside it, the core's signing rate in this process, on
    one core, for the very credential the service signs. Overhead = (2 cores / HTTP rate) /
    (1 / signing rate) - 1; the goal is at most 30%. The load generator shares the two cores,
    so the CPU time each party used in the window is reported too. --breakdown adds the CPU
    per request of cheaper routes and of the award use case called without HTTP.
(b) A batch of --rows retroactive awards: one CSV through POST .../awards/batch, then GET
    /api/v1/jobs/{id} until completed; time to finish and the peak memory of the uvicorn worker
    processes (sum of RSS sampled from /proc, and each worker's VmHWM). Goal: < 5 min, < 1 GiB.
    The CI PostgreSQL here runs with autovacuum off; --analyze-every 30 analyses the tables
    during the batch as autovacuum would on a default installation.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from microcred.awards.document import credential_document
from microcred.awards.schemas import AwardIn
from microcred.credentials import DocumentLoader, Ed25519KeyPair, issue

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
CORES = os.cpu_count() or 1

ISSUER = {
    "id": "bench",
    "name": "Society of Precision Engineers",
    "url": "https://spe.example",
    "email": "office@spe.example",
    "address": {"country": "Netherlands", "country_code": "NL", "region": "Noord-Brabant"},
}
# Every EU mandatory element (as in the smoke test), so publishing succeeds.
ACHIEVEMENT = {
    "name": "Precision Turning",
    "description": "Turn parts to 5 um.",
    "learning_outcomes": ["set up a CNC lathe", "measure to 5 um"],
    "assessed": True,
    "credits_available": 3,
    "eqf_level": 4,
    "assessment_type": "Practical examination",
    "participation_form": "Onsite",
    "quality_assurance": "Accredited by the SPE board",
    "result_descriptions": [{"name": "Final grade", "result_type": "GradePointAverage", "value_min": "1", "value_max": "10"}],
    "provider": {"id": "https://turning.example", "name": "Turning Academy"},
    "status": "published",
}


# -- /proc ------------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except OSError:
        return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _machine_busy() -> tuple[float, float]:
    """(busy, total) seconds of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


# -- set-up ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _pg(dsn: str, *statements: str) -> list[list[Any]]:
    connection = await asyncpg.connect(dsn)
    try:
        return [[tuple(r) for r in await connection.fetch(sql)] for sql in statements]
    finally:
        await connection.close()


@dataclass
class Service:
    """A running `microcred serve` with its own database and key directory."""

    args: argparse.Namespace
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="microcred-bench-")))
    port: int = field(default_factory=_free_port)
    passphrase: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_dsn(self) -> str:
        return f"{self.args.pg}/postgres"

    def create_database(self) -> None:
        name = self.args.database
        asyncio.run(_pg(self.admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))

    def drop_database(self) -> None:
        asyncio.run(_pg(self.admin_dsn, f'DROP DATABASE IF EXISTS "{self.args.database}" WITH (FORCE)'))

    def start(self) -> None:
        self.env = {
            **os.environ,
            "MICROCRED_DATABASE_URL": f"{self.args.pg}/{self.args.database}",
            "MICROCRED_KEY_PASSPHRASE": self.passphrase,
            "MICROCRED_KEYS_DIR": str(self.tmp / "keys"),
            "MICROCRED_DATA_DIR": str(self.tmp / "data"),
            "MICROCRED_BASE_URL": f"http://localhost:{self.port}",
            "MICROCRED_LOG_LEVEL": self.args.log_level,
        }
        self.log = (self.tmp / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [str(BIN / "microcred"), "serve", "--workers", str(self.args.workers), "--port", str(self.port)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches the workers too
        )
        deadline = time.monotonic() + 90
        ready = 0
        while ready < 2 * self.args.workers:  # every worker has had a chance to come up
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the service did not start; its log:\n{(self.tmp / 'serve.log').read_text()[-3000:]}")
            try:
                ready = ready + 1 if httpx.get(self.url + "/readyz", timeout=2).status_code == 200 else 0
            except httpx.HTTPError:
                ready = 0
            time.sleep(0.2)
        while len(self.workers()) < self.args.workers and time.monotonic() < deadline:
            time.sleep(0.2)

    def workers(self) -> list[int]:
        """The uvicorn worker processes (children of the supervisor, without helper processes)."""
        assert self.process is not None
        if self.args.workers == 1:
            return [self.process.pid]
        return [p for p in _children(self.process.pid) if "resource_tracker" not in _cmdline(p)]

    def pg_backends(self) -> list[int]:
        rows = asyncio.run(_pg(self.admin_dsn, f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.args.database}'"))[0]
        return [int(r[0]) for r in rows]

    def cli(self, *args: str) -> str:
        out = subprocess.run([str(BIN / "microcred"), *args], env=self.env, capture_output=True, text=True, timeout=120, check=False)
        if out.returncode != 0:
            raise SystemExit(f"microcred {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.log is not None:
            self.log.close()

    def cleanup(self) -> None:
        if self.args.keep:
            print(f"\nkept: {self.tmp} and database {self.args.database}")
            return
        try:
            self.drop_database()
        except Exception as exc:  # report, and still remove the folder
            print(f"could not drop database {self.args.database}: {exc}")
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass(frozen=True)
class Fixture:
    key: str  # an issuer-scoped key with the award scope, as an LMS would hold
    admin_key: str
    issuer_id: str
    achievement_id: str
    sample: dict[str, Any]  # one award response, for the signing baseline


def _award_body(achievement_id: str, n: str) -> dict[str, Any]:
    return {
        "achievement_id": achievement_id,
        "recipient": {"email": f"learner-{n}@example.org", "name": f"Learner {n}"},
        "completion_date": "2024-06-30",
        "result": {"value": "8.5"},
        "external_id": f"lms-{n}",
    }


def set_up(service: Service) -> Fixture:
    admin = service.cli("clients", "create", "--admin", "--name", "bench admin")
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {admin}"}, timeout=60) as client:
        r = client.post("/api/v1/issuers", json=ISSUER)
        r.raise_for_status()
        r = client.post(f"/api/v1/issuers/{ISSUER['id']}/achievements", json=ACHIEVEMENT)
        if r.status_code != 201:
            raise SystemExit(f"publishing the achievement failed: {r.status_code} {r.text[:500]}")
        achievement_id = r.json()["id"]
    key = service.cli("clients", "create", "--issuer", str(ISSUER["id"]), "--scopes", "award", "--name", "bench LMS")
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        sample: dict[str, Any] = {}
        for i in range(4 * service.args.workers):  # reach every worker: keys, contexts and caches warm up
            r = client.post(
                f"/api/v1/issuers/{ISSUER['id']}/awards",
                json=_award_body(achievement_id, f"warmup-{i}"),
                headers={"Idempotency-Key": f"warmup-{i}"},
            )
            if r.status_code != 201:
                raise SystemExit(f"the warm-up award failed: {r.status_code} {r.text[:500]}")
            sample = r.json()
    return Fixture(key=key, admin_key=admin, issuer_id=str(ISSUER["id"]), achievement_id=achievement_id, sample=sample)


# -- (a) the core's signing rate ---------------------------------------------------------------


@dataclass(frozen=True)
class SignRates:
    """Credentials per second in one process: by the clock, and per second of its CPU time."""

    sign: float
    sign_cpu: float
    build: float  # building the document from an award body, then signing
    build_cpu: float


def signing_rates(sample: dict[str, Any], *, seconds: float) -> SignRates:
    """The core's signing rate on one core, for the credential the service signed in the
    warm-up, each time with a fresh id."""
    signed = sample["credential"]
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    did = unsigned["issuer"]["id"]
    signer = Ed25519KeyPair.generate(id=f"{did}#bench", controller=did).signer()
    loader = DocumentLoader()
    now = datetime.now(UTC)

    def sign_only(i: int) -> None:
        doc = copy.deepcopy(unsigned)
        doc["id"] = f"http://localhost/credentials/{uuid.uuid4()}"
        issue(doc, signer=signer, loader=loader, created=now)

    achievement = unsigned["credentialSubject"]["achievement"]

    def build_and_sign(i: int) -> None:
        award = AwardIn.model_validate(_award_body(sample["achievement_id"], f"sign-{i}-{uuid.uuid4().hex[:8]}"))
        doc = credential_document(
            award,
            credential_id=str(uuid.uuid4()),
            base_url="http://localhost:8000",
            issuer_profile=unsigned["issuer"],
            achievement=achievement,
            hash_email=True,
            now=now,
        )
        issue(doc, signer=signer, loader=loader, created=now)

    def rate(fn: Any) -> tuple[float, float]:
        for i in range(10):
            fn(i)
        n, start, cpu = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - start < seconds:
            fn(n)
            n += 1
        return n / (time.perf_counter() - start), n / (time.process_time() - cpu)

    sign, build = rate(sign_only), rate(build_and_sign)
    return SignRates(sign=sign[0], sign_cpu=sign[1], build=build[0], build_cpu=build[1])


# -- (a) the load generator (runs in its own process) ------------------------------------------


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        body += await reader.readexactly(size + 2)
        if size == 0:
            return status, body


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    """Requests on ``concurrency`` keep-alive connections for ``warmup`` + ``seconds``; counts
    what finished inside the window. ``request`` given: send that whole request (latin-1 text)
    each time, expecting status ``ok``; ``path`` given: GET it; else POST a new award each time."""
    host, port = spec["host"], spec["port"]
    get_path = spec.get("path")
    raw = spec.get("request")
    post_path = f"/api/v1/issuers/{spec['issuer_id']}/awards"
    ok = spec.get("ok") or (200 if get_path or raw else 201)
    run = uuid.uuid4().hex[:8]
    warmup, seconds = spec["warmup"], spec["seconds"]
    t0 = time.perf_counter()
    window = (t0 + warmup, t0 + warmup + seconds)
    done: list[tuple[float, float, int]] = []  # (finished at, latency, status)
    failures: dict[str, int] = {}

    def request(n: str) -> bytes:
        if raw is not None:
            return str(raw).encode("latin-1")
        auth = f"Authorization: Bearer {spec['key']}\r\n"
        if get_path:
            return f"GET {get_path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}\r\n".encode()
        body = json.dumps(_award_body(spec["achievement_id"], n)).encode()
        return (
            f"POST {post_path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}"
            f"Content-Type: application/json\r\nIdempotency-Key: {n}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    async def connection(c: int) -> None:
        reader = writer = None
        i = 0
        # Opened all at once, the connections tend to land on one uvicorn worker (its accept loop
        # takes every pending one); opened one by one, each goes to whichever worker is free.
        if spec.get("stagger"):
            await asyncio.sleep(c * spec["stagger"])
        while time.perf_counter() < window[1]:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            i += 1
            message = request(f"{run}-{c}-{i}")
            started = time.perf_counter()
            try:
                status, _ = await _http(reader, writer, message)
            except (OSError, asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                writer.close()
                reader = writer = None
                continue
            finished = time.perf_counter()
            done.append((finished, finished - started, status))
        if writer is not None:
            writer.close()

    async def announce() -> None:
        await asyncio.sleep(max(0.0, window[0] - time.perf_counter()))
        print("START", flush=True)
        await asyncio.sleep(max(0.0, window[1] - time.perf_counter()))
        print("END", flush=True)

    await asyncio.gather(announce(), *(connection(c) for c in range(spec["concurrency"])))
    inside = [(lat, status) for at, lat, status in done if window[0] <= at <= window[1]]
    statuses: dict[str, int] = {}
    for _, status in inside:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    latencies = sorted(lat for lat, status in inside if status == ok)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

    return {
        "seconds": seconds,
        "ok": statuses.get(str(ok), 0),
        "statuses": statuses,
        "failures": failures,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "max": latencies[-1] if latencies else float("nan"),
    }


# -- (a) orchestration -----------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One load run: the generator's figures and, per successful request, the CPU milliseconds
    each party spent inside the measured window."""

    result: dict[str, Any]
    rate: float
    worker_ms: float
    #: each worker's share of the workers' CPU, in percent (a lopsided split means one worker
    #: accepted most connections: the rate is then one worker's)
    split: list[int]
    pg_ms: float
    generator_ms: float
    other_ms: float
    busy: float  # share of the machine's cores in use
    backends: int


def drive(
    service: Service,
    fixture: Fixture,
    *,
    seconds: float,
    warmup: float,
    concurrency: int,
    path: str | None = None,
    request: str | None = None,
    ok: int | None = None,
    stagger: float = 0.0,
) -> Load:
    """``request``: a whole HTTP/1.1 request to send as it is (bench_public.py), answered with
    ``ok`` when it succeeds; else see _load. ``stagger``: seconds between opening one connection
    and the next (0: all at once)."""
    spec = {
        "host": "127.0.0.1",
        "port": service.port,
        "issuer_id": fixture.issuer_id,
        "achievement_id": fixture.achievement_id,
        "key": fixture.key,
        "concurrency": concurrency,
        "seconds": seconds,
        "warmup": warmup,
        "path": path,
        "request": request,
        "ok": ok,
        "stagger": stagger,
    }
    generator = subprocess.Popen([sys.executable, __file__, "--load-generator", json.dumps(spec)], stdout=subprocess.PIPE, text=True)
    assert generator.stdout is not None
    workers = service.workers()
    # PostgreSQL backends come and go (the pool's overflow connections close when returned), so
    # they are sampled through the window: first and last CPU reading of each.
    backends: dict[int, list[float]] = {}
    in_window = threading.Event()
    stop = threading.Event()

    async def sample_backends() -> None:
        connection = await asyncpg.connect(service.admin_dsn)  # one connection: no backend started per look
        try:
            while not stop.is_set():
                if in_window.is_set():
                    rows = await connection.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", service.args.database)
                    for row in rows:
                        cpu = _cpu_seconds(int(row[0]))
                        backends.setdefault(int(row[0]), [cpu, cpu])[1] = cpu
                await asyncio.sleep(0.25)
        finally:
            await connection.close()

    sampler = threading.Thread(target=lambda: asyncio.run(sample_backends()), daemon=True)
    sampler.start()
    marks: dict[str, tuple[dict[int, float], tuple[float, float], float]] = {}
    result: dict[str, Any] = {}
    try:
        for line in generator.stdout:
            word = line.strip()
            if word == "START":
                backends.update({pid: [_cpu_seconds(pid)] * 2 for pid in service.pg_backends()})
                in_window.set()
            elif word == "END":
                in_window.clear()
                for pid in service.pg_backends():
                    if pid in backends:
                        backends[pid][1] = _cpu_seconds(pid)
            if word in ("START", "END"):
                marks[word] = ({p: _cpu_seconds(p) for p in workers}, _machine_busy(), _cpu_seconds(generator.pid))
            elif word:
                result = json.loads(word)
    finally:
        stop.set()
        sampler.join()
    if generator.wait() != 0 or not result or "END" not in marks:
        raise SystemExit("the load generator failed")
    (w0, m0, g0), (w1, m1, g1) = marks["START"], marks["END"]
    n = max(1, result["ok"])
    worker_ms = sum(w1[p] - w0.get(p, 0.0) for p in w1) * 1000 / n
    shares = [w1[p] - w0.get(p, 0.0) for p in sorted(w1)]
    pg_ms = sum(last - first for first, last in backends.values()) * 1000 / n
    generator_ms = (g1 - g0) * 1000 / n
    machine_ms = (m1[0] - m0[0]) * 1000 / n
    return Load(
        result=result,
        rate=result["ok"] / result["seconds"],
        worker_ms=worker_ms,
        pg_ms=pg_ms,
        generator_ms=generator_ms,
        other_ms=machine_ms - worker_ms - pg_ms - generator_ms,
        busy=(m1[0] - m0[0]) / (m1[1] - m0[1]),
        backends=len(backends),
        split=[round(100 * x / max(sum(shares), 1e-9)) for x in shares],
    )


def http_rate(service: Service, fixture: Fixture, args: argparse.Namespace) -> None:
    print(f"\n(a) awards over HTTP: {args.workers} uvicorn workers, PostgreSQL, {args.concurrency} connections, {args.seconds:.0f} s")
    before = signing_rates(fixture.sample, seconds=args.sign_seconds)
    load = drive(service, fixture, seconds=args.seconds, warmup=args.warmup, concurrency=args.concurrency, stagger=args.stagger)
    after = signing_rates(fixture.sample, seconds=args.sign_seconds)

    result, rate = load.result, load.rate
    sign_rate = statistics.mean([before.sign, after.sign])
    sign_cpu_ms = 1000 / statistics.mean([before.sign_cpu, after.sign_cpu])
    build_rate = statistics.mean([before.build, after.build])
    overhead = (CORES / rate) / (1 / sign_rate) - 1 if rate else float("inf")

    print(f"  HTTP:     {rate:8.1f} awards/s  (statuses {result['statuses']}, connection errors {result['failures'] or 0})")
    print(f"            latency p50 {result['p50'] * 1000:.1f} ms, p95 {result['p95'] * 1000:.1f} ms, p99 {result['p99'] * 1000:.1f} ms, max {result['max'] * 1000:.1f} ms")
    print(
        f"  signing:  {sign_rate:8.1f} credentials/s on one core (before {before.sign:.1f}, after {after.sign:.1f}); "
        f"x{CORES} cores = {CORES * sign_rate:.1f}/s; {sign_cpu_ms:.2f} ms of CPU each"
    )
    print(f"            building the document from the award + signing: {build_rate:.1f}/s on one core")
    verdict = "meets" if overhead <= 0.30 else "MISSES"
    print(f"  overhead: {overhead * 100:+.0f}%  = ({CORES} cores / {rate:.1f}/s) / (1 / {sign_rate:.1f}/s) - 1   ({verdict} the goal of at most +30%)")
    print(f"  CPU per award in the window (machine {load.busy * 100:.0f}% busy over {CORES} cores):")
    print(f"    uvicorn workers {load.worker_ms:6.2f} ms   (signing alone: {sign_cpu_ms:.2f} ms, so {load.worker_ms / sign_cpu_ms - 1:+.0%} in the service process; split {'/'.join(map(str, load.split))})")
    print(f"    PostgreSQL      {load.pg_ms:6.2f} ms   ({load.backends} backends)")
    print(f"    load generator  {load.generator_ms:6.2f} ms")
    print(f"    anything else   {load.other_ms:6.2f} ms   (PostgreSQL's own processes, the kernel, other programs on the machine)")
    server = load.worker_ms + load.pg_ms
    print(
        f"    service + database {server:.2f} ms = {server / sign_cpu_ms - 1:+.0%} over signing: the overhead by CPU time, "
        "which other programs on the machine do not skew"
    )
    if args.breakdown:
        breakdown(service, fixture, args, sign_ms=sign_cpu_ms, award=load)


def breakdown(service: Service, fixture: Fixture, args: argparse.Namespace, *, sign_ms: float, award: Load) -> None:
    """Where an award's CPU goes: the same load on cheaper routes, and the award use case called
    in this process without HTTP (once as it is, once with signing replaced by a stored credential)."""
    print(f"\n  where the time goes (CPU ms per request; {args.breakdown_seconds:.0f} s each):")
    print(f"    {'':52}{'req/s':>8}{'service':>9}{'postgres':>9}")
    rows: list[tuple[str, float, float, float]] = []
    for label, path in (
        ("GET /healthz (HTTP stack only)", "/healthz"),
        (f"GET /api/v1/issuers/{fixture.issuer_id} (+ auth, 1 select)", f"/api/v1/issuers/{fixture.issuer_id}"),
    ):
        load = drive(service, fixture, seconds=args.breakdown_seconds, warmup=1.0, concurrency=args.concurrency, path=path)
        rows.append((label, load.rate, load.worker_ms, load.pg_ms))
    direct = asyncio.run(direct_awards(service, fixture, seconds=args.breakdown_seconds))
    stubbed = asyncio.run(direct_awards(service, fixture, seconds=args.breakdown_seconds, stub_signing=True))
    rows.append(("award() in this process, no HTTP", 1000 / direct[2], direct[0], direct[1]))
    rows.append(("award() in this process, signing stubbed out", 1000 / stubbed[2], stubbed[0], stubbed[1]))
    rows.append(("POST .../awards over HTTP (the run above)", award.rate, award.worker_ms, award.pg_ms))
    rows.append(("signing alone (credentials.issue)", 1000 / sign_ms, sign_ms, 0.0))
    for label, rate, cpu, pg in rows:
        print(f"    {label:52}{rate:8.1f}{cpu:9.2f}{pg:9.2f}")
    print(
        f"    => per award over HTTP, {award.worker_ms:.2f} ms in the workers: signing {sign_ms:.2f}; the award use case "
        f"around it {direct[0] - sign_ms:.2f} (stubbed: {stubbed[0]:.2f}: ORM, {AWARD_STATEMENTS} statements, JSON); "
        f"HTTP, auth and the request/response models {award.worker_ms - direct[0]:.2f} (the HTTP stack alone {rows[0][2]:.2f}); "
        f"and {award.pg_ms:.2f} ms in PostgreSQL"
    )


#: Statements one award over HTTP runs (seen in pg_stat_statements): pool pre-ping (BEGIN,
#: ROLLBACK), BEGIN, API client, the issuer's key lock, issuer, current achievement version,
#: INSERT ... ON CONFLICT DO NOTHING, COMMIT.
AWARD_STATEMENTS = 9


async def direct_awards(service: Service, fixture: Fixture, *, seconds: float, stub_signing: bool = False) -> tuple[float, float, float]:
    """The award use case against the same database, sequentially in this process: (CPU ms of
    this process, CPU ms of its PostgreSQL backend, wall ms) per award. ``stub_signing``
    replaces signing with a copy of a stored credential, leaving what surrounds it."""
    from sqlalchemy import text

    from microcred.auth.principal import Principal
    from microcred.awards import service as awards
    from microcred.config import load_settings
    from microcred.runtime import build_runtime

    settings = load_settings(
        database_url=service.env["MICROCRED_DATABASE_URL"],
        keys_dir=service.env["MICROCRED_KEYS_DIR"],
        data_dir=service.env["MICROCRED_DATA_DIR"],
        key_passphrase=service.env["MICROCRED_KEY_PASSPHRASE"],
        base_url=service.env["MICROCRED_BASE_URL"],
    )
    runtime = build_runtime(settings)
    signing = awards.Signing(runtime.keystore, runtime.loader, settings.base_url, runtime.statuses)
    principal = Principal(client_id="bench", issuer_id=fixture.issuer_id, scopes=frozenset({"award"}))
    run = uuid.uuid4().hex[:8]
    real_sign = awards.sign_award
    if stub_signing:
        stored = fixture.sample["credential"]
        awards.sign_award = lambda *a, **k: copy.deepcopy(stored)

    async def one(i: int) -> int:
        async with runtime.sessions() as session, session.begin():
            await awards.award(
                session,
                principal=principal,
                signing=signing,
                issuer_id=fixture.issuer_id,
                data=AwardIn.model_validate(_award_body(fixture.achievement_id, f"direct-{run}-{i}")),
                idempotency_key=f"direct-{run}-{i}",
                now=datetime.now(UTC),
            )
            return int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)

    try:
        backend = 0
        for i in range(10):
            backend = await one(i)
        cpu0, pg0, wall0 = time.process_time(), _cpu_seconds(backend), time.perf_counter()
        n = 0
        while time.perf_counter() - wall0 < seconds:
            await one(10 + n)
            n += 1
        cpu, pg, wall = time.process_time() - cpu0, _cpu_seconds(backend) - pg0, time.perf_counter() - wall0
    finally:
        awards.sign_award = real_sign
        await runtime.close()
    # The extra SELECT pg_backend_pid() per award is left in: one round trip of ~0.1 ms.
    return cpu * 1000 / n, pg * 1000 / n, wall * 1000 / n


# -- (b) a batch of retroactive awards -----------------------------------------------------------


@contextmanager
def memory_sampler(service: Service, every: float = 0.2) -> Iterator[dict[str, Any]]:
    peaks: dict[str, Any] = {"sum_rss": 0, "per_worker": {}, "master": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            workers = service.workers()
            rss = {p: _rss_bytes(p) for p in workers}
            peaks["sum_rss"] = max(peaks["sum_rss"], sum(rss.values()))
            for p, value in rss.items():
                peaks["per_worker"][p] = max(peaks["per_worker"].get(p, 0), value)
            assert service.process is not None
            peaks["master"] = max(peaks["master"], _rss_bytes(service.process.pid))
            peaks["hwm"] = {p: _status_kib(p, "VmHWM") * 1024 for p in workers}
            stop.wait(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


@contextmanager
def analyzer(service: Service, every: float) -> Iterator[None]:
    """ANALYZE the tables every ``every`` seconds (0: never), as autovacuum's autoanalyze would
    on a PostgreSQL with default settings (the CI server here runs with autovacuum = off)."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            asyncio.run(_pg(f"{service.args.pg}/{service.args.database}", "ANALYZE credentials, job_rows, jobs"))

    thread = threading.Thread(target=run, daemon=True)
    if every > 0:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if every > 0:
            thread.join()


def _mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def batch(service: Service, fixture: Fixture, args: argparse.Namespace) -> None:
    rows = args.rows
    print(f"\n(b) a batch of {rows:,} retroactive awards (CSV, one POST, then polling the job)")
    run = uuid.uuid4().hex[:8]
    lines = ["achievement_id,recipient_email,recipient_name,completion_date,grade,external_id"]
    for i in range(rows):
        day = 1 + i % 28
        lines.append(f"{fixture.achievement_id},l{i}-{run}@example.org,Learner {i},2023-{1 + i % 12:02d}-{day:02d},{6 + i % 5},past-{run}-{i}")
    body = ("\n".join(lines) + "\n").encode()
    baseline = {p: _rss_bytes(p) for p in service.workers()}
    print(f"  file: {len(body) / 2**20:.1f} MiB; worker RSS before: {', '.join(_mib(v) for v in baseline.values())}")

    headers = {"Authorization": f"Bearer {fixture.key}"}
    deadline = time.monotonic() + args.batch_timeout
    workers, backends = service.workers(), service.pg_backends()
    cpu0 = ({p: _cpu_seconds(p) for p in workers}, {p: _cpu_seconds(p) for p in backends}, _machine_busy())
    with memory_sampler(service) as peaks, analyzer(service, args.analyze_every), httpx.Client(base_url=service.url, headers=headers, timeout=600) as client:
        started = time.monotonic()
        r = client.post(f"/api/v1/issuers/{fixture.issuer_id}/awards/batch", content=body, headers={"Content-Type": "text/csv"})
        accepted = time.monotonic() - started
        if r.status_code != 202:
            raise SystemExit(f"the batch was refused: {r.status_code} {r.text[:500]}")
        job_id = r.json()["id"]
        print(f"  202 after {accepted:.1f} s (job {job_id})")
        last_report = started
        while True:
            job = client.get(f"/api/v1/jobs/{job_id}", params={"rows_limit": 0}).json()
            now = time.monotonic()
            if job["status"] == "completed":
                break
            if now - last_report >= args.progress_every:
                last_report = now
                rate = job["processed"] / (now - started)
                print(f"  {now - started:6.0f} s  {job['processed']:>7,}/{job['total']:,} rows  ({rate:.0f} rows/s since the POST)", flush=True)
            if now > deadline:
                print(f"  gave up after {args.batch_timeout:.0f} s at {job['processed']:,}/{job['total']:,} rows")
                break
            time.sleep(args.poll)
        elapsed = time.monotonic() - started
    backends = sorted(set(backends) | set(service.pg_backends()))
    worker_s = sum(_cpu_seconds(p) - cpu0[0].get(p, 0.0) for p in workers)
    pg_s = sum(_cpu_seconds(p) - cpu0[1].get(p, 0.0) for p in backends)
    machine = _machine_busy()
    machine_s = machine[0] - cpu0[2][0]
    failed = client_errors = None
    if job["status"] == "completed":
        if job["failed"]:
            with httpx.Client(base_url=service.url, headers=headers, timeout=60) as client:
                client_errors = client.get(f"/api/v1/jobs/{job_id}", params={"row_status": "failed", "rows_limit": 3}).json()["rows"]
        failed = job["failed"]
    server_time = ""
    if job.get("finished_at") and job.get("created_at"):
        span = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["created_at"])
        work = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])
        server_time = f" (job created -> finished {span.total_seconds():.1f} s; started -> finished {work.total_seconds():.1f} s)"
    verdict_time = "meets" if job["status"] == "completed" and elapsed < 300 else "MISSES"
    print(f"  finished: {job['status']} in {elapsed:.1f} s from the POST{server_time}: {verdict_time} the goal of < 5 min")
    print(f"            {job['awarded']:,} awarded, {job['duplicates']:,} duplicates, {failed} failed; {job['processed'] / elapsed:.0f} rows/s overall")
    per_row = 1000 / max(1, job["processed"])
    print(
        f"  CPU:      workers {worker_s:.1f} s ({worker_s * per_row:.2f} ms/row), PostgreSQL backends {pg_s:.1f} s "
        f"({pg_s * per_row:.2f} ms/row), rest of the machine {machine_s - worker_s - pg_s:.1f} s; machine "
        f"{machine_s / (machine[1] - cpu0[2][1]) * 100:.0f}% busy over {CORES} cores"
    )
    if client_errors:
        print(f"            first failures: {json.dumps(client_errors)[:600]}")
    stats = asyncio.run(
        _pg(
            f"{args.pg}/{args.database}",
            "SELECT relname, seq_scan, seq_tup_read, idx_scan, n_live_tup, n_dead_tup, autovacuum_count, autoanalyze_count "
            "FROM pg_stat_user_tables WHERE relname IN ('jobs', 'job_rows', 'credentials') ORDER BY relname",
            "SHOW autovacuum",
        )
    )
    print(f"  tables:   (PostgreSQL autovacuum {stats[1][0][0]}; scans since the database was created)")
    for name, seq, seq_read, idx, live, dead, vacuums, analyzes in stats[0]:
        print(f"            {name:12} {seq:>6} seq scans reading {seq_read:>12,} rows, {idx:>8} index scans; {live:,} live, {dead:,} dead rows, {vacuums} autovacuums, {analyzes} autoanalyzes")
    hwm = peaks.get("hwm", {})
    verdict_memory = "meets" if peaks["sum_rss"] < 2**30 else "MISSES"
    print(
        f"  memory:   peak sum of worker RSS {_mib(peaks['sum_rss'])} ({verdict_memory} the goal of < 1 GiB); "
        f"per worker peak RSS {', '.join(_mib(v) for v in peaks['per_worker'].values())}; "
        f"VmHWM {', '.join(_mib(v) for v in hwm.values())} (sum {_mib(sum(hwm.values()))}); supervisor {_mib(peaks['master'])}"
    )


# -- main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--skip-http", action="store_true", help="skip (a), awards per second over HTTP")
    parser.add_argument("--skip-batch", action="store_true", help="skip (b), the batch")
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the batch (default 100000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of the measured window of (a)")
    parser.add_argument("--warmup", type=float, default=3.0, help="load before the measured window starts")
    parser.add_argument(
        "--stagger", type=float, default=0.05,
        help="seconds between opening one connection and the next (opened all at once, one worker often accepts them all)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive connections in (a) (default 32: enough to keep both workers busy)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    parser.add_argument("--sign-seconds", type=float, default=4.0, help="duration of each signing-rate measurement")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server (no database name)")
    parser.add_argument("--database", default="microcred_bench", help="database to create and drop")
    parser.add_argument("--log-level", default="info", help="MICROCRED_LOG_LEVEL of the service (info logs each request)")
    parser.add_argument("--batch-timeout", type=float, default=1800.0, help="give up on the batch after this many seconds")
    parser.add_argument(
        "--analyze-every", type=float, default=0.0,
        help="during (b), ANALYZE the tables every this many seconds, as autovacuum would (default 0: never)",
    )
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between job polls")
    parser.add_argument("--progress-every", type=float, default=15.0, help="seconds between progress lines")
    parser.add_argument("--breakdown", action="store_true", help="after (a), measure where an award's CPU goes")
    parser.add_argument("--breakdown-seconds", type=float, default=10.0, help="duration of each breakdown measurement")
    parser.add_argument("--keep", action="store_true", help="keep the database and temporary folder")
    parser.add_argument("--load-generator", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.load_generator:
        print(json.dumps(asyncio.run(_load(json.loads(args.load_generator)))), flush=True)
        return

    print(f"microcred service benchmark: Python {sys.version.split()[0]}, {CORES} cores, PostgreSQL database {args.database}")
    service = Service(args)
    service.create_database()
    try:
        service.start()
        print(f"  service on {service.url}, workers {service.workers()}, log {service.tmp / 'serve.log'}")
        fixture = set_up(service)
        if not args.skip_http:
            http_rate(service, fixture, args)
        if not args.skip_batch:
            batch(service, fixture, args)
    finally:
        service.stop()
        service.cleanup()


if __name__ == "__main__":
    main()
