"""What one running service holds: settings, database, key store and the document loader.

Built once by :func:`microcred.app.create_app` (or a CLI command) and passed explicitly; nothing
here exists at import time. This is the composition root: it wires which concerns hear of every
recorded event (:data:`EVENT_SUBSCRIBERS`), so the features that record events and those that
act on them never import each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .audit.service import append as audit
from .config import Settings
from .credentials import DocumentLoader, eu_elements
from .db.engine import create_engine, create_sessionmaker
from .delivery.outbox import enqueue as email_outbox
from .events import SUBSCRIBERS, Subscriber
from .fetch import FetchPolicy, SafeFetcher
from .keystore import FileKeyStore, KeyStore
from .operations.issued import count_issued
from .status.allocator import StatusAllocator
from .webhooks.outbox import enqueue as webhook_outbox

__all__ = ["EVENT_SUBSCRIBERS", "Runtime", "build_runtime"]

#: Who hears of every recorded event, in order: the outboxes, the count of credentials issued
#: (/metrics, on commit), then the audit log, last because it locks its chain's head until the
#: transaction commits.
EVENT_SUBSCRIBERS: tuple[Subscriber, ...] = (webhook_outbox, email_outbox, count_issued, audit)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keystore: KeyStore
    loader: DocumentLoader
    #: Hands out status list indexes; one per process, it keeps the blocks it reserved.
    statuses: StatusAllocator
    #: Everything fetched from another host goes through this one (see fetch.py).
    fetcher: SafeFetcher
    #: The allocator's own engine (PostgreSQL): it commits reservations beside the requests'
    #: transactions, so it must never wait for a connection that a request holds.
    status_engine: AsyncEngine | None = None

    @property
    def client_secret(self) -> bytes:
        """The key of the hashes that count requests per client or address (rate limits) without
        keeping the IP address or the email: derived from the key passphrase, so it is not in
        the database and differs between deployments."""
        return hashlib.sha256(b"microcred client hash\x00" + self.settings.key_passphrase.get_secret_value().encode()).digest()

    async def close(self) -> None:
        await self.engine.dispose()
        if self.status_engine is not None:
            await self.status_engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    if settings.is_sqlite and not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.sqlalchemy_url, pool_size=settings.db_pool_size)
    sessions = create_sessionmaker(engine, info={SUBSCRIBERS: EVENT_SUBSCRIBERS})
    # On SQLite the allocator works inside the award's own transaction and needs no engine. On
    # PostgreSQL a few connections: reservations for different issuers' lists (each issuer's
    # first award, then one per block) go on side by side, and one waiting for its list's row
    # (a revocation of that issuer holds it) does not hold up every other issuer's.
    status_engine = None if settings.is_sqlite else create_engine(settings.sqlalchemy_url, pool_size=4)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        statuses=StatusAllocator(create_sessionmaker(status_engine) if status_engine else sessions),
        status_engine=status_engine,
        fetcher=SafeFetcher(
            FetchPolicy(
                allow_http=settings.verify_allow_loopback,
                allow_loopback=settings.verify_allow_loopback,
                max_body_bytes=settings.verify_max_bytes,
            )
        ),
        keystore=FileKeyStore(settings.keys_dir, passphrase=settings.key_passphrase.get_secret_value()),
        # an issuer may opt into the extension context, named at this installation's own URL
        loader=DocumentLoader(extra=eu_elements.served_contexts(settings.base_url)),
    )
