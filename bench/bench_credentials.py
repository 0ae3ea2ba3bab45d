"""Sign and verify rates of microcred beside Digital Bazaar's JS stack, on one core.

    make bench            (or: .venv/bin/python bench/bench_credentials.py [--n 300])

Prints figures; asserts nothing. Both sides sign the OB 3.0 vector credential (2.4 KB) with
eddsa-rdfc-2022, each credential with a fresh id so nothing is memoised per document. It also
checks that both sides produce the same proofValue for the vector, and measures how the cost
grows with the credential (1, 10, 50 alignments and results).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from microcred.credentials import DocumentLoader, Ed25519KeyPair, Resolver, issue, verify
from microcred.credentials.canonical import canonicalize_rdfc
from microcred.credentials.proofs import verify_proof

ROOT = Path(__file__).resolve().parents[1]
VECTOR = ROOT / "tests" / "vectors" / "ob3-eddsa-rdfc-2022"
CREATED = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)


def _pin_one_core() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return f"pinned to core {min(os.sched_getaffinity(0))}"
    except (AttributeError, OSError):
        return "not pinned"


def _rate(n: int, fn: Callable[[int], Any], warmup: int = 10) -> float:
    for i in range(warmup):
        fn(i)
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def _credential(key: Ed25519KeyPair, *, items: int | None = None) -> dict[str, Any]:
    doc = json.loads((VECTOR / "unsigned.json").read_text())
    doc["issuer"]["id"] = key.controller
    if items is not None:
        achievement = doc["credentialSubject"]["achievement"]
        achievement["alignment"] = [
            {
                "type": ["Alignment"],
                "targetName": f"Learning outcome {i}",
                "targetUrl": f"https://outcomes.example/lo/{i}",
                "targetType": "ext:LearningOutcome",
            }
            for i in range(items)
        ]
        achievement["resultDescription"] = [
            {
                "id": f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
                "type": ["ResultDescription"],
                "name": f"Assessment {i}",
                "resultType": "LetterGrade",
            }
            for i in range(items)
        ]
        doc["credentialSubject"]["result"] = [
            {"type": ["Result"], "resultDescription": f"urn:uuid:00000000-0000-4000-8000-{i:012d}", "value": "A"}
            for i in range(items)
        ]
    return doc


def _js(args: list[str]) -> dict[str, Any] | None:
    node = shutil.which("node")
    if node is None or not (ROOT / "tests/interop/js/node_modules").exists():
        return None
    cmd = [node, str(ROOT / "bench/js/bench.mjs"), *args]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", str(min(os.sched_getaffinity(0))), *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if out.returncode != 0:
        print(f"  JS bench failed: {out.stderr.strip()[:300]}")
        return None
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    n = args.n

    print(f"microcred benchmark ({_pin_one_core()}, Python {sys.version.split()[0]}, n={n})")
    key = Ed25519KeyPair.from_seed(bytes.fromhex(json.loads((VECTOR / "keyPair.json").read_text())["seedHex"]))
    loader = DocumentLoader()
    base = _credential(key)
    size = len(json.dumps(base).encode())

    # --- same proof on both sides ---------------------------------------------------------
    vector = json.loads((VECTOR / "unsigned.json").read_text())
    ours = issue(vector, signer=key.signer(), loader=loader, created=CREATED)["proof"]["proofValue"]
    theirs = _js(["proof-value", "--created", "2025-01-15T09:00:00Z"])
    same = theirs is not None and theirs.get("proofValue") == ours
    print(f"\nproofValue of the vector: microcred {ours[:24]}...  JS {'identical' if same else 'DIFFERENT or unavailable'}")

    # --- signing and verifying --------------------------------------------------------------
    docs = []
    for _ in range(n + 10):
        doc = copy.deepcopy(base)
        doc["id"] = f"urn:uuid:{uuid.uuid4()}"
        docs.append(doc)
    signed: list[dict[str, Any]] = []

    def sign_one(i: int) -> None:
        signed.append(issue(docs[i], signer=key.signer(), loader=loader, created=CREATED))

    sign_rate = _rate(n, sign_one)
    resolver = Resolver()
    now = datetime.now(UTC)
    proof_rate = _rate(n, lambda i: verify_proof(signed[i], loader=loader, resolve_key=resolver, now=now))
    full_rate = _rate(n, lambda i: verify(signed[i], loader=loader, resolve_key=resolver, now=now))
    raw_rate = _rate(5000, lambda i: key.signer().sign(b"x" * 64))
    canon_rate = _rate(n, lambda i: canonicalize_rdfc(docs[i], loader=loader))

    js = _js(["--n", str(n)])
    print(f"\nOB 3.0 credential, {size} bytes, eddsa-rdfc-2022, one core:")
    print(f"  {'':34}{'microcred':>12}{'Digital Bazaar':>16}{'ratio':>8}")
    js_sign = js["sign_per_s"] if js else None
    js_verify = js["verify_per_s"] if js else None

    def row(label: str, ours_rate: float, theirs_rate: float | None) -> None:
        ratio = f"{ours_rate / theirs_rate:.1f}x" if theirs_rate else "-"
        their = f"{theirs_rate:.0f}/s" if theirs_rate else "-"
        print(f"  {label:34}{ours_rate:>10.0f}/s{their:>16}{ratio:>8}")

    row("sign", sign_rate, js_sign)
    row("verify proof (as vc.verifyCredential)", proof_rate, js_verify)
    row("verify, full report (+schema, safe)", full_rate, js_verify)
    print(f"  raw Ed25519 sign: {raw_rate:.0f}/s; RDFC-1.0 of the document alone: {canon_rate:.0f}/s")

    # --- cost curve -----------------------------------------------------------------------
    print("\ncost as the credential grows (alignments + results + result descriptions):")
    print(f"  {'items':>6}{'bytes':>8}{'sign ms':>10}{'verify ms':>11}{'sign ms/item':>14}")
    previous: tuple[int, float] | None = None
    for items in (1, 10, 50):
        doc = _credential(key, items=items)
        m = max(20, n // (items // 5 + 1))
        sdocs = [{**doc, "id": f"urn:uuid:{uuid.uuid4()}"} for _ in range(m + 10)]
        out: list[dict[str, Any]] = []
        s_rate = _rate(m, lambda i: out.append(issue(sdocs[i], signer=key.signer(), loader=loader, created=CREATED)))
        v_rate = _rate(m, lambda i: verify_proof(out[i], loader=loader, resolve_key=resolver, now=now))
        sign_ms = 1000 / s_rate
        slope = ""
        if previous is not None:
            slope = f"{(sign_ms - previous[1]) / (items - previous[0]):.3f}"
        previous = (items, sign_ms)
        print(f"  {items:>6}{len(json.dumps(doc).encode()):>8}{sign_ms:>10.2f}{1000 / v_rate:>11.2f}{slope:>14}")


if __name__ == "__main__":
    main()
