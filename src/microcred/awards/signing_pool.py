"""Signing on every core for bulk awards.

Signing is CPU-bound Python, so one process signs on one core whatever its threads do. A bulk
job's chunk is split across worker processes, each with its own key store opened with the same
passphrase (keys never travel between processes: each reads its own copy from the key store
folder). Single awards are signed in the request's own process.

A signing process dies with the service: each watches its parent and exits once the parent is
gone, however it went (``kill -9`` included). Without that, the processes of a killed service
stay behind for good: each holds the pool's task queue open for the others, so none ever sees
it close.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from ..credentials import CredentialError, DocumentLoader, eu_elements, issue
from ..keystore import FileKeyStore
from ..operations.metrics import SIGNING_SECONDS

__all__ = ["SigningPool"]

_store: FileKeyStore | None = None
_loader: DocumentLoader | None = None
#: How often a signing process looks whether its parent is still there.
_PARENT_CHECK_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:
    """Exit this process once ``parent`` is gone (it is then adopted: its parent id changes).
    A thread rather than Linux's parent-death signal, which fires when the *thread* that
    started the process ends, and the executor starts processes from whichever thread submits."""
    while os.getppid() == parent:
        time.sleep(_PARENT_CHECK_SECONDS)
    os._exit(1)


def _start(keys_dir: str, passphrase: str, base_url: str, parent: int) -> None:
    global _store, _loader
    # Ctrl-C reaches the whole process group; the service shuts the pool down itself, so the
    # signing processes need not print a KeyboardInterrupt traceback each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="exit-with-parent", daemon=True).start()
    _store = FileKeyStore(Path(keys_dir), passphrase=passphrase)
    _loader = DocumentLoader(extra=eu_elements.served_contexts(base_url))


def _sign(documents: list[dict[str, Any]], verification_method: str, suite: str, created: datetime) -> list[tuple[dict[str, Any] | str, float]]:
    """Each document signed (or why not) and the seconds it took, which the service process
    records (this process has no metrics of its own)."""
    assert _store is not None and _loader is not None
    signer = _store.signer_for(verification_method)
    out: list[tuple[dict[str, Any] | str, float]] = []
    for document in documents:
        started = time.perf_counter()
        try:
            out.append((issue(document, signer=signer, loader=_loader, suite=suite, created=created), time.perf_counter() - started))
        except CredentialError as exc:
            out.append((exc.message, time.perf_counter() - started))
    return out


class SigningPool:
    """A pool of signing processes, started on first use and shut down with the service."""

    def __init__(self, *, keys_dir: Path, passphrase: str, base_url: str, processes: int | None = None) -> None:
        self._args = (str(keys_dir), passphrase, base_url)
        self.processes = processes or os.cpu_count() or 1
        self._executor: ProcessPoolExecutor | None = None

    def __repr__(self) -> str:  # never print the passphrase
        return f"SigningPool(processes={self.processes})"

    async def sign(
        self, documents: list[dict[str, Any]], *, verification_method: str, suite: str, created: datetime
    ) -> list[dict[str, Any] | str]:
        """Each document signed, or the reason it could not be (a string), in order."""
        if not documents:
            return []
        if self._executor is None:
            # spawn, not fork: the parent holds an event loop, database connections and threads.
            self._executor = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start, initargs=(*self._args, os.getpid())
            )
        loop = asyncio.get_running_loop()
        size = -(-len(documents) // self.processes)
        parts = [documents[i : i + size] for i in range(0, len(documents), size)]
        results = await asyncio.gather(
            *[loop.run_in_executor(self._executor, _sign, part, verification_method, suite, created) for part in parts]
        )
        signing_time = SIGNING_SECONDS.labels("credential")
        for part in results:
            for _, seconds in part:
                signing_time.observe(seconds)
        return [item for part in results for item, _ in part]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None
