"""Call Digital Bazaar's JavaScript libraries (tests/interop/js/dbvc.mjs) from the tests.

An independent implementation is the only honest judge of interoperability, so the interop
tests sign and verify with the libraries most OB 3.0 / VC 2.0 wallets and verifiers build on.
Node runs them offline: the harness serves only microcred's bundled contexts, did:key and the
DID documents it is handed; a status check may fetch status lists from one named origin only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = JS_DIR / "dbvc.mjs"
SERVE_SCRIPT = JS_DIR / "dbvc-serve.mjs"
TIMEOUT_SECONDS = 60
SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020")
INSTALL_COMMAND = "npm ci --prefix tests/interop/js"


class NodeHarnessError(RuntimeError):
    """The JavaScript harness could not run or gave no usable answer."""


def ensure_installed(js_dir: Path = JS_DIR) -> None:
    """Fail with the fix spelled out, rather than with Node's module-not-found trace."""
    if shutil.which("node") is None:
        raise NodeHarnessError("node is not on PATH; the interop tests need Node.js 20 or later")
    if not (js_dir / "node_modules").is_dir():
        raise NodeHarnessError(
            f"the JavaScript interop harness is not installed ({js_dir / 'node_modules'} is missing); "
            f"run `{INSTALL_COMMAND}` (make test does this)"
        )


def js_sign(
    unsigned: dict[str, Any],
    *,
    suite: str,
    seed: bytes,
    created: str | None = None,
    proof_id: str | None = None,
    previous_proof: str | list[str] | None = None,
) -> dict[str, Any]:
    """Sign ``unsigned`` with ``vc.issue`` using the Ed25519 key from ``seed``.

    A VC 2.0 or VC 1.1 credential (its first ``@context`` decides; for VC 1.1, ``vc`` adds
    ``issuanceDate`` when absent and the Data Integrity context). The caller sets ``issuer``;
    the proof's verification method is ``did:key:<fp>#<fp>``.
    ``created`` (e.g. ``"2025-01-15T09:00:00Z"``) makes the proof reproducible.
    A credential that is already signed gets one more proof (a proof set); ``proof_id`` gives
    the new proof an ``id``, and ``previous_proof`` chains it to earlier proofs (a proof chain).
    """
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {', '.join(SUITES)}, not {suite!r}")
    if not isinstance(seed, bytes) or len(seed) != 32:
        raise ValueError("seed must be 32 bytes")
    args = ["sign", "--suite", suite, "--seed", seed.hex()]
    if created is not None:
        args += ["--created", created]
    if proof_id is not None:
        args += ["--proof-id", proof_id]
    for previous in [previous_proof] if isinstance(previous_proof, str) else previous_proof or []:
        args += ["--previous-proof", previous]
    signed = _run(args, unsigned)
    if not isinstance(signed, dict):
        raise NodeHarnessError(f"dbvc sign returned {type(signed).__name__}, not a JSON object")
    return signed


def js_sign_presentation(
    presentation: dict[str, Any], *, suite: str, seed: bytes, challenge: str, domain: str | None = None, created: str | None = None
) -> dict[str, Any]:
    """Sign ``presentation`` with ``vc.signPresentation``: an ``authentication`` proof by the
    did:key of ``seed`` (``did:key:<fp>#<fp>``), answering ``challenge`` and naming ``domain``.

    The caller builds the presentation (``holder``, ``verifiableCredential``).
    """
    if suite not in SUITES[:2]:
        raise ValueError(f"suite must be one of {', '.join(SUITES[:2])}, not {suite!r}")
    if not isinstance(seed, bytes) or len(seed) != 32:
        raise ValueError("seed must be 32 bytes")
    args = ["sign-presentation", "--suite", suite, "--seed", seed.hex(), "--challenge", challenge]
    if domain is not None:
        args += ["--domain", domain]
    if created is not None:
        args += ["--created", created]
    signed = _run(args, presentation)
    if not isinstance(signed, dict):
        raise NodeHarnessError(f"dbvc sign-presentation returned {type(signed).__name__}, not a JSON object")
    return signed


def js_verify(
    signed: dict[str, Any],
    *,
    purpose: str = "issuance",
    now: str | None = None,
    did_documents: dict[str, Any] | None = None,
) -> tuple[bool, str | None]:
    """Verify with ``vc.verifyCredential``: ``(verified, error message or None)``.

    ``purpose="issuance"`` (vc's default) also requires the issuer to be the key's controller;
    ``"assertion"`` checks only that the key may make assertions. Status is never checked.
    """
    args = ["verify", "--purpose", purpose]
    if now is not None:
        args += ["--now", now]
    with tempfile.TemporaryDirectory() as folder:
        if did_documents:
            path = Path(folder) / "did-documents.json"
            path.write_text(json.dumps(did_documents), "utf-8")
            args += ["--did-documents", str(path)]
        result = _run(args, signed)
    if not isinstance(result, dict) or not isinstance(result.get("verified"), bool):
        raise NodeHarnessError(f"dbvc verify gave an unexpected answer: {result!r}")
    return result["verified"], result.get("error")


def js_check_status(signed: dict[str, Any], *, did_documents: dict[str, Any], allow_origin: str) -> dict[str, Any]:
    """Verify as :func:`js_verify` does, then check every status purpose with
    vc-bitstring-status-list's ``checkStatus``.

    Status lists are fetched over HTTP from ``allow_origin`` (e.g. ``"http://localhost:8123"``)
    and from nowhere else. The answer is ``{"verified", "error", "status", "statusErrors"}``:
    ``status["revocation"]`` (and ``"suspension"``, and any other purpose present) is True when
    the bit is set, False when it is clear, None when there is no entry or it could not be
    checked, with the reason in ``statusErrors``.
    """
    args = ["status", "--allow-origin", allow_origin]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "did-documents.json"
        path.write_text(json.dumps(did_documents), "utf-8")
        args += ["--did-documents", str(path)]
        result = _run(args, signed)
    if (
        not isinstance(result, dict)
        or not isinstance(result.get("verified"), bool)
        or not isinstance(result.get("status"), dict)
        or not isinstance(result.get("statusErrors"), dict)
        or not all(value is None or isinstance(value, bool) for value in result["status"].values())
    ):
        raise NodeHarnessError(f"dbvc status gave an unexpected answer: {result!r}")
    return result


def _run(args: list[str], document: dict[str, Any], *, script: Path = SCRIPT) -> Any:
    """Run ``script`` (dbvc.mjs unless named) with ``document`` on stdin; its stdout, as JSON."""
    ensure_installed()
    name = script.stem
    try:
        completed = subprocess.run(
            ["node", str(script), *args],
            input=json.dumps(document, ensure_ascii=False).encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise NodeHarnessError(f"{name} {args[0]} took longer than {TIMEOUT_SECONDS}s") from exc
    stderr = completed.stderr.decode("utf-8", "replace").strip()
    if completed.returncode != 0:
        raise NodeHarnessError(f"{name} {args[0]} exited with {completed.returncode}: {stderr}")
    try:
        return json.loads(completed.stdout.decode("utf-8"))
    except ValueError as exc:
        raise NodeHarnessError(f"{name} {args[0]} printed no JSON (stderr: {stderr})") from exc


STOCK_SCRIPT = JS_DIR / "stockverify.mjs"


def js_stock_verify(credential: dict[str, Any], *, origin: str) -> dict[str, Any]:
    """Verify ``credential`` as stock verifiers do (``js/stockverify.mjs``): DCC's verifier-core
    and Digital Bazaar's ``vc`` with the stock DCC security loader, neither handed any context.

    Node's network is ``origin`` (the service under test; a did:web on its host resolves there)
    and nothing else. The answer is ``{"verifierCore": {"verified", "errors", "log"},
    "digitalBazaar": {"verified", "errors"}, "refused": [url, ...], "logged": [line, ...]}``.
    """
    result = _run(["--origin", origin], credential, script=STOCK_SCRIPT)
    if not isinstance(result, dict) or not all(isinstance(result.get(k), dict) for k in ("verifierCore", "digitalBazaar")):
        raise NodeHarnessError(f"stockverify gave an unexpected answer: {result!r}")
    return result


class JsSession:
    """One long-lived Node process (dbvc-serve.mjs) signing and verifying with Digital Bazaar's
    libraries, a JSON line per request: what ``js_sign`` and ``js_verify`` do, without starting
    Node each time (hundreds of property-test examples). Use as a context manager."""

    def __init__(self) -> None:
        ensure_installed()
        self._process = subprocess.Popen(
            ["node", str(SERVE_SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._lock = threading.Lock()

    def __enter__(self) -> JsSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()

    def _ask(self, request: dict[str, Any]) -> Any:
        assert self._process.stdin is not None and self._process.stdout is not None
        with self._lock:
            self._process.stdin.write(json.dumps(request, ensure_ascii=False).encode("utf-8") + b"\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            stderr = self._process.stderr.read().decode("utf-8", "replace") if self._process.stderr else ""
            raise NodeHarnessError(f"dbvc-serve ended: {stderr.strip()}")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise NodeHarnessError(f"dbvc-serve {request['command']}: {reply.get('error')}")
        return reply["result"]

    def sign(self, unsigned: dict[str, Any], *, suite: str, seed: bytes, created: str) -> dict[str, Any]:
        """As :func:`js_sign`."""
        if suite not in SUITES:
            raise ValueError(f"suite must be one of {', '.join(SUITES)}, not {suite!r}")
        signed = self._ask({"command": "sign", "suite": suite, "seed": seed.hex(), "created": created, "document": unsigned})
        if not isinstance(signed, dict):
            raise NodeHarnessError(f"dbvc-serve sign returned {type(signed).__name__}, not a JSON object")
        return signed

    def verify(self, signed: dict[str, Any]) -> tuple[bool, str | None]:
        """As :func:`js_verify` (issuance purpose, no DID documents)."""
        result = self._ask({"command": "verify", "document": signed})
        if not isinstance(result, dict) or not isinstance(result.get("verified"), bool):
            raise NodeHarnessError(f"dbvc-serve verify gave an unexpected answer: {result!r}")
        return result["verified"], result.get("error")
