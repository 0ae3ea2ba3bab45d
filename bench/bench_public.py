"""The public side of the service under load, on PostgreSQL. Run by hand:

    .venv/bin/python bench/bench_public.py                  (every scenario, 15 s each: ~2 min)
    .venv/bin/python bench/bench_public.py --seconds 5 --scenarios page,verify

Prints figures; asserts nothing. The set-up is bench_service.py's (a fresh PostgreSQL database,
`microcred serve --workers 2`, an admin key from the CLI, an issuer over HTTP), plus one
achievement with the EU mandatory elements only (no grade, no training provider) so that the
credential awarded from it is close to 2.6 KB of JSON, the size the issue names.

Scenarios, each driven for --seconds by bench_service's load generator in its own process
(--concurrency keep-alive connections, the same request every time, no API key; the connections
are opened --stagger seconds apart, because opened at once they mostly land on one worker):

    page      GET /credentials/{id}, Accept: text/html: the public page, which verifies the
              credential with the core verifier and reads its status list from the database
    verify    POST /api/v1/verify with the credential's JSON-LD (application/ld+json)
    list      GET /status-lists/{id}: the signed status list, 200 with the whole body
    list-304  the same with If-None-Match: its ETag; anything but 304 counts as an error

For each: requests/s, latency p50/p95/p99, errors, the CPU milliseconds per request of the
uvicorn workers and of PostgreSQL (and of the load generator and the rest of the machine), and
how the workers' CPU time split between them. Beside them, the core verifier's own rate on one core in this
process (microcred.credentials.verify on the same credential, keys pinned, status lists handed
over from memory), measured before and after the load.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from bench_service import ACHIEVEMENT, CORES, Fixture, Load, Service, _award_body, _cpu_seconds, drive, set_up
from microcred.credentials import DocumentLoader, ResolvedKey, Resolver, verify
from microcred.credentials.resolve import key_from_controller_document
from microcred.credentials.status_list import BitstringStatusList

#: bench_service's achievement without a grade (result descriptions) and without a training
#: provider (achievement.creator, credentialSubject.source): optional elements, whose absence
#: brings its credential from ~3.1 KB to ~2.6 KB. Every EU mandatory element stays.
ACHIEVEMENT_2_6_KB = {k: v for k, v in ACHIEVEMENT.items() if k not in ("result_descriptions", "provider")}

SCENARIOS = ("page", "verify", "list", "list-304")


@dataclass(frozen=True)
class Public:
    """What the scenarios fetch: one credential, its status list and its issuer's keys."""

    credential: dict[str, Any]
    body: bytes  # the credential's JSON-LD as POSTed to /api/v1/verify
    page_path: str
    list_path: str
    list_document: dict[str, Any]
    list_bytes: int
    etag: str
    did_document: dict[str, Any]


def award_public_credential(service: Service, fixture: Fixture) -> Public:
    """Publish the trimmed achievement, award one credential from it, and fetch what a verifier
    would: its status list (with ETag) and the issuer's DID document."""
    admin = {"Authorization": f"Bearer {fixture.admin_key}"}
    with httpx.Client(base_url=service.url, timeout=60) as client:
        r = client.post(f"/api/v1/issuers/{fixture.issuer_id}/achievements", json=ACHIEVEMENT_2_6_KB, headers=admin)
        if r.status_code != 201:
            raise SystemExit(f"publishing the trimmed achievement failed: {r.status_code} {r.text[:500]}")
        body = _award_body(r.json()["id"], "public")
        del body["result"]  # the achievement has no result description to grade against
        r = client.post(
            f"/api/v1/issuers/{fixture.issuer_id}/awards",
            json=body,
            headers={"Authorization": f"Bearer {fixture.key}", "Idempotency-Key": "public"},
        )
        if r.status_code != 201:
            raise SystemExit(f"the award failed: {r.status_code} {r.text[:500]}")
        award = r.json()
        credential = award["credential"]
        status = credential["credentialStatus"]
        list_url = (status[0] if isinstance(status, list) else status)["statusListCredential"]
        list_path = "/status-lists/" + list_url.rsplit("/", 1)[-1]
        r = client.get(list_path)
        r.raise_for_status()
        did = client.get(f"/issuers/{fixture.issuer_id}/did.json")
        did.raise_for_status()
        return Public(
            credential=credential,
            body=json.dumps(credential).encode(),  # ASCII (ensure_ascii), as a client library sends it
            page_path=f"/credentials/{award['id']}",
            list_path=list_path,
            list_document=r.json(),
            list_bytes=len(r.content),
            etag=r.headers["etag"],
            did_document=did.json(),
        )


def check_answers(service: Service, public: Public) -> None:
    """Each scenario's request, once: the answers the load then counts as successes must be the
    right ones (a valid verdict, not just a 200)."""
    with httpx.Client(base_url=service.url, timeout=60) as client:
        page = client.get(public.page_path, headers={"Accept": "text/html"})
        if page.status_code != 200 or 'data-status="valid"' not in page.text:
            raise SystemExit(f"the public page does not show a valid credential: {page.status_code} {page.text[:500]}")
        report = client.post("/api/v1/verify", content=public.body, headers={"Content-Type": "application/ld+json"})
        if report.status_code != 200 or report.json().get("verdict") != "valid":
            raise SystemExit(f"/api/v1/verify does not answer valid: {report.status_code} {report.text[:500]}")
        again = client.get(public.list_path, headers={"If-None-Match": public.etag})
        if again.status_code != 304:
            raise SystemExit(f"the status list did not answer 304 to its own ETag: {again.status_code}")


def raw_requests(service: Service, public: Public) -> dict[str, tuple[str, int]]:
    """Each scenario's request as HTTP/1.1 text, with the status a success answers."""
    host = f"Host: 127.0.0.1:{service.port}\r\n"
    body = public.body.decode("ascii")
    return {
        "page": (f"GET {public.page_path} HTTP/1.1\r\n{host}Accept: text/html\r\n\r\n", 200),
        "verify": (
            f"POST /api/v1/verify HTTP/1.1\r\n{host}Content-Type: application/ld+json\r\n"
            f"Content-Length: {len(public.body)}\r\n\r\n{body}",
            200,
        ),
        "list": (f"GET {public.list_path} HTTP/1.1\r\n{host}Accept: application/vc+ld+json\r\n\r\n", 200),
        "list-304": (f"GET {public.list_path} HTTP/1.1\r\n{host}If-None-Match: {public.etag}\r\n\r\n", 304),
    }


# -- the core verifier in this process ------------------------------------------------------------


@contextmanager
def one_core() -> Iterator[str]:
    """This process on one core for the duration (and back on all of them afterwards, so the
    load generator it starts next is not confined too)."""
    try:
        before = os.sched_getaffinity(0)
        core = min(before)
        os.sched_setaffinity(0, {core})
    except (AttributeError, OSError):
        yield "not pinned"
        return
    try:
        yield f"core {core}"
    finally:
        os.sched_setaffinity(0, before)


@dataclass(frozen=True)
class VerifyRates:
    """Verifications per second on one core: by the clock, and per second of CPU time."""

    full: float  # with the status list (its proof verified, as the service does)
    full_cpu: float
    no_status: float  # without the status check: the credential's own proof and checks
    no_status_cpu: float


def verifier_rates(public: Public, *, seconds: float) -> VerifyRates:
    """microcred.credentials.verify on the benchmark's credential, with the issuer's keys pinned
    (no DID resolution) and its status list handed over from memory (no fetch)."""
    did = public.did_document
    keys: dict[str, ResolvedKey] = {}
    for method in did.get("verificationMethod", []):
        vm_id = method["id"] if not method["id"].startswith("#") else did["id"] + method["id"]
        keys[vm_id] = key_from_controller_document(did, vm_id)
    resolver = Resolver(keys=keys)
    loader = DocumentLoader()
    lists = {public.list_document["id"]: public.list_document}

    def fetch_list(url: str) -> Mapping[str, Any]:
        return lists[url]

    def once(fetch: Callable[[str], Mapping[str, Any]] | None) -> Callable[[], None]:
        def run() -> None:
            report = verify(copy.deepcopy(public.credential), loader=loader, resolve_key=resolver, fetch_status_list=fetch, now=datetime.now(UTC))
            if report.verdict != "valid":
                raise SystemExit(f"the core verifier says {report.verdict}: {report.to_dict()['checks']}")

        return run

    def rate(fn: Callable[[], None]) -> tuple[float, float]:
        for _ in range(5):
            fn()
        n, start, cpu = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - start < seconds:
            fn()
            n += 1
        return n / (time.perf_counter() - start), n / (time.process_time() - cpu)

    with one_core():
        full, no_status = rate(once(fetch_list)), rate(once(None))
    return VerifyRates(full=full[0], full_cpu=full[1], no_status=no_status[0], no_status_cpu=no_status[1])


# -- report -------------------------------------------------------------------------------------------

LABELS = {
    "page": "GET /credentials/{id} (text/html)",
    "verify": "POST /api/v1/verify (JSON-LD)",
    "list": "GET /status-lists/{id} (200)",
    "list-304": "GET /status-lists/{id} (If-None-Match: 304)",
}


def errors(load: Load, ok: int) -> int:
    """Answers other than ``ok``, and connections that failed."""
    statuses: dict[str, int] = load.result["statuses"]
    failures: dict[str, int] = load.result["failures"]
    return sum(n for status, n in statuses.items() if status != str(ok)) + sum(failures.values())


def print_row(name: str, load: Load, ok: int, *, split: str) -> None:
    r = load.result
    print(
        f"  {LABELS[name]:44}{load.rate:8.1f}{r['p50'] * 1000:7.1f}{r['p95'] * 1000:7.1f}{r['p99'] * 1000:7.1f}"
        f"{errors(load, ok):7d}{load.worker_ms:9.2f}{load.pg_ms:9.2f}{load.generator_ms:9.2f}{load.other_ms:9.2f}{load.busy * 100:6.0f}%{split:>8}",
        flush=True,
    )
    if errors(load, ok):
        print(f"      statuses {r['statuses']}, connection errors {r['failures'] or 0}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured window of each scenario (default 15)")
    parser.add_argument("--warmup", type=float, default=2.0, help="load before each measured window starts (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent keep-alive connections (default 16)")
    parser.add_argument(
        "--stagger", type=float, default=0.05,
        help="seconds between opening one connection and the next, so that every worker gets some (default 0.05)",
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--verify-seconds", type=float, default=3.0, help="duration of each core-verifier measurement (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server (no database name)")
    parser.add_argument("--database", default="microcred_bench_public", help="database to create and drop")
    parser.add_argument("--log-level", default="info", help="MICROCRED_LOG_LEVEL of the service (info logs each request)")
    parser.add_argument("--keep", action="store_true", help="keep the database and temporary folder")
    args = parser.parse_args()
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}: choose from {', '.join(SCENARIOS)}")

    started = time.monotonic()
    print(
        f"microcred public-side benchmark: Python {sys.version.split()[0]}, {CORES} cores, PostgreSQL database "
        f"{args.database}; load average {os.getloadavg()[0]:.2f} before the start"
    )
    service = Service(args)
    service.create_database()
    try:
        service.start()
        print(f"  service on {service.url}, workers {service.workers()}, log {service.tmp / 'serve.log'}")
        fixture = set_up(service)
        public = award_public_credential(service, fixture)
        check_answers(service, public)
        entries = public.credential["credentialStatus"]
        bits = BitstringStatusList.decode(public.list_document["credentialSubject"]["encodedList"]).length
        print(
            f"  credential: {len(public.body):,} bytes of JSON-LD (json.dumps, as POSTed), "
            f"{len(entries) if isinstance(entries, list) else 1} status entry\n"
            f"  status list: {public.list_bytes:,} bytes as served ({bits:,} bits = {bits // 8 // 1024} KiB, "
            f"gzipped and base64-encoded in encodedList), ETag {public.etag}"
        )

        before = verifier_rates(public, seconds=args.verify_seconds)
        requests = raw_requests(service, public)
        print(f"\n  {args.workers} uvicorn workers, PostgreSQL, {args.concurrency} connections, {args.seconds:.0f} s each (after {args.warmup:.0f} s of warm-up)")
        print(f"  {'':44}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}{'errors':>7}{'workers':>9}{'postgres':>9}{'loadgen':>9}{'other':>9}{'busy':>7}{'split':>8}")
        print(f"  {'':44}{'':>8}{'ms':>7}{'ms':>7}{'ms':>7}{'':>7}{'ms/req':>9}{'ms/req':>9}{'ms/req':>9}{'ms/req':>9}{'':>7}")
        loads: dict[str, Load] = {}
        print(f"  {'':44}(loadgen: the load generator; other: the rest of the machine, including other programs)")
        for name in scenarios:
            request, ok = requests[name]
            workers = service.workers()
            cpu0 = [_cpu_seconds(p) for p in workers]
            loads[name] = drive(service, fixture, seconds=args.seconds, warmup=args.warmup, concurrency=args.concurrency, request=request, ok=ok, stagger=args.stagger)
            used = [_cpu_seconds(p) - c for p, c in zip(workers, cpu0)]
            print_row(name, loads[name], ok, split="/".join(f"{u / max(sum(used), 1e-9) * 100:.0f}" for u in used))
            if min(used) < 0.25 * max(sum(used), 1e-9) / len(used):
                print("      one worker did most of the work: the rate above is not the service's (try a larger --stagger)")
        after = verifier_rates(public, seconds=args.verify_seconds)

        full = statistics.mean([before.full, after.full])
        full_ms = 1000 / statistics.mean([before.full_cpu, after.full_cpu])
        bare = statistics.mean([before.no_status, after.no_status])
        bare_ms = 1000 / statistics.mean([before.no_status_cpu, after.no_status_cpu])
        print(
            f"\n  core verifier, one core, this process (keys pinned, status list from memory):\n"
            f"    with the status list   {full:7.1f}/s (before {before.full:.1f}, after {after.full:.1f}); {full_ms:.2f} ms of CPU each;"
            f" x{CORES} cores = {CORES * full:.1f}/s\n"
            f"    without status check   {bare:7.1f}/s (before {before.no_status:.1f}, after {after.no_status:.1f}); {bare_ms:.2f} ms of CPU each"
        )
        for name in ("page", "verify"):
            if name in loads:
                load = loads[name]
                server = load.worker_ms + load.pg_ms
                print(
                    f"    {LABELS[name]}: {load.rate / (CORES * full):.0%} of {CORES} x the core verifier's rate; "
                    f"service + database {server:.2f} ms of CPU per request = {server / full_ms - 1:+.0%} over verifying alone"
                )
    finally:
        service.stop()
        service.cleanup()
    print(f"\n  total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
