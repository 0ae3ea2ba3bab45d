"""The signing pool's processes die with the service, however the service goes: after
``kill -9`` (or a SIGTERM that skips the shutdown) none stays behind, holding memory and the key
store open. The service here is a real process signing a real credential in its pool."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

#: Bounds on waiting for the processes to go (polled; the test asserts that they go, not when).
_WAIT_SECONDS = 30

_SERVICE = textwrap.dedent(
    """
    import asyncio, multiprocessing, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from microcred.awards.signing_pool import SigningPool
    from microcred.keystore import FileKeyStore

    keys, passphrase = Path(sys.argv[1]), "orphan-test-passphrase"
    key = FileKeyStore(keys, passphrase=passphrase).generate("did:web:issuer.example", now=datetime.now(UTC))
    pool = SigningPool(keys_dir=keys, passphrase=passphrase, base_url="https://issuer.example", processes=2)
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:6a2f41a3-0f6c-4c9c-8f43-0d3b2f1f6b1e",
        "type": ["VerifiableCredential"],
        "issuer": "did:web:issuer.example",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
    [signed] = asyncio.run(pool.sign([document], verification_method=key.id, suite="eddsa-rdfc-2022", created=datetime.now(UTC)))
    assert isinstance(signed, dict) and "proof" in signed, signed
    print(" ".join(str(child.pid) for child in multiprocessing.active_children()), flush=True)
    sys.stdin.read()  # serve until killed
    """
)


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for a reaper has ended its work: not alive)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill -9", "SIGTERM"])
def test_the_signing_processes_die_with_the_service(tmp_path: Path, how: signal.Signals) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _SERVICE, str(tmp_path / "keys")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the killed service's resource tracker complains of its semaphores
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ) as service:
        try:
            assert service.stdout is not None
            children = [int(pid) for pid in service.stdout.readline().split()]
            assert children and all(_alive(pid) for pid in children), children  # the pool is signing
            service.send_signal(how)
            service.wait(timeout=_WAIT_SECONDS)
        finally:
            if service.poll() is None:
                service.kill()
    deadline = time.monotonic() + _WAIT_SECONDS
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in children if _alive(pid)] == [], "signing processes outlived the service"
