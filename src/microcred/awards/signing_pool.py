"""Signing on every core for bulk awards.

Signing is CPU-bound Python, so one process signs on one core whatever its threads do. A bulk
job's chunk is split across worker processes, each with its own key store opened with the same
passphrase (keys never travel between processes: each reads its own copy from the key store
folder). Single awards are signed in the request's own process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from ..credentials import CredentialError, DocumentLoader, eu_elements, issue
from ..keystore import FileKeyStore

__all__ = ["SigningPool"]

_store: FileKeyStore | None = None
_loader: DocumentLoader | None = None


def _start(keys_dir: str, passphrase: str, base_url: str) -> None:
    global _store, _loader
    # Ctrl-C reaches the whole process group; the service shuts the pool down itself, so the
    # signing processes need not print a KeyboardInterrupt traceback each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _store = FileKeyStore(Path(keys_dir), passphrase=passphrase)
    _loader = DocumentLoader(extra=eu_elements.served_contexts(base_url))


def _sign(documents: list[dict[str, Any]], verification_method: str, suite: str, created: datetime) -> list[dict[str, Any] | str]:
    assert _store is not None and _loader is not None
    signer = _store.signer_for(verification_method)
    out: list[dict[str, Any] | str] = []
    for document in documents:
        try:
            out.append(issue(document, signer=signer, loader=_loader, suite=suite, created=created))
        except CredentialError as exc:
            out.append(exc.message)
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
                self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start, initargs=self._args
            )
        loop = asyncio.get_running_loop()
        size = -(-len(documents) // self.processes)
        parts = [documents[i : i + size] for i in range(0, len(documents), size)]
        results = await asyncio.gather(
            *[loop.run_in_executor(self._executor, _sign, part, verification_method, suite, created) for part in parts]
        )
        return [item for part in results for item in part]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None
