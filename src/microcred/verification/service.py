"""Verification for anyone, with the core verifier.

The core verifier is synchronous and takes its fetchers as callables; it runs in a worker thread
here, and each fetch it asks for is carried out on the event loop. Our own issuers' keys and
status lists are read at the source (the key store, the database); anything else is fetched over
the network through the one SSRF-safe fetcher, so this endpoint cannot be turned into a way into
the operator's network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ..credentials import MalformedError, strict_json, PresentationReport, Resolver, VerificationReport, verify, verify_presentation
from ..credentials.did import controller_document, did_web_to_url
from ..credentials.verify import Profile
from ..fetch import SafeFetcher
from .components import ComponentBudget, check_components
from ..runtime import Runtime
from ..status.service import list_signing, public_list, status_list_url
from .uploads import credential_from_bytes

__all__ = ["Verification"]

T = TypeVar("T")

_JSON_LD = "application/vc+ld+json, application/ld+json, application/json;q=0.9"


class Verification:
    def __init__(self, runtime: Runtime, fetcher: SafeFetcher, *, session: AsyncSession | None = None) -> None:
        """``session``: the request's own, when it has one (on SQLite a second transaction would
        wait for the first); it must not be used elsewhere while a verification runs."""
        self.runtime, self.fetcher, self.session = runtime, fetcher, session
        self._lists_prefix = status_list_url(runtime.settings.base_url, "")
        self._signing = list_signing(runtime)

    async def of_url(self, url: str) -> VerificationReport:
        """Fetch a credential URL (as a verifier would, asking for JSON-LD) and verify it."""
        fetched = await self.fetcher.fetch(url, accept=_JSON_LD + ", application/vc+jwt;q=0.8")
        return await self.of_bytes(fetched.body)

    async def of_bytes(self, data: bytes) -> VerificationReport:
        """Verify a file: JSON-LD, a VC-JWT, a baked PNG or SVG, or our PDF certificate."""
        return await self.of_credential(await asyncio.to_thread(credential_from_bytes, data))

    async def of_credential(
        self, credential: Mapping[str, Any] | str, *, profile: Profile = "ob3", components: ComponentBudget | None = None
    ) -> VerificationReport:
        """Verify a credential (``profile`` "vc": held to the VC data model, not to OB 3.0).
        ``components``: how far to go retrieving and verifying related credentials (a pathway's)."""
        resolver, status_list = self._collaborators(asyncio.get_running_loop())
        data = dict(credential) if isinstance(credential, Mapping) else credential
        report = await asyncio.to_thread(
            verify, data, loader=self.runtime.loader, resolve_key=resolver, fetch_status_list=status_list, profile=profile
        )
        return await check_components(self, report, budget=components or ComponentBudget())  # a pathway credential's components

    async def of_presentation(
        self, presentation: Mapping[str, Any], *, challenge: str | None, domain: str | None, unsigned: bool
    ) -> PresentationReport:
        """Verify a presentation's proof (made for ``challenge`` and ``domain``) and each credential in it."""
        resolver, status_list = self._collaborators(asyncio.get_running_loop())
        return await asyncio.to_thread(
            verify_presentation,
            dict(presentation),
            loader=self.runtime.loader,
            resolve_key=resolver,
            fetch_status_list=status_list,
            challenge=challenge,
            domain=domain,
            unsigned=unsigned,
        )

    def _collaborators(self, loop: asyncio.AbstractEventLoop) -> tuple[Resolver, Callable[[str], Mapping[str, Any]]]:
        """The key resolver and status list fetcher the core verifier calls from its worker
        thread; each fetch runs on ``loop``."""

        def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
            return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

        keystore = self.runtime.keystore

        def did_document(did: str) -> Mapping[str, Any]:
            keys = keystore.published_keys(did)  # ours: read at the source (one folder, not all)
            if keys:
                return controller_document(did, keys)
            return on_loop(self._fetch_json(did_web_to_url(did), "application/did+json, application/json"))

        def status_list(url: str) -> Mapping[str, Any]:
            if url.startswith(self._lists_prefix):
                return on_loop(self._local_list(url.removeprefix(self._lists_prefix)))
            return on_loop(self._fetch_json(url, _JSON_LD))

        resolver = Resolver(fetch_did_document=did_document, fetch_key_document=lambda url: on_loop(self._fetch_json(url, _JSON_LD)))
        return resolver, status_list

    async def _local_list(self, list_id: str) -> dict[str, Any]:
        if self.session is not None:
            found = await public_list(self.session, signing=self._signing, list_id=list_id)
        else:
            async with self.runtime.sessions() as session, session.begin():
                found = await public_list(session, signing=self._signing, list_id=list_id)
        assert found.document is not None
        return found.document

    async def _fetch_json(self, url: str, accept: str) -> dict[str, Any]:
        fetched = await self.fetcher.fetch(url, accept=accept)
        try:
            document = strict_json.loads(fetched.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedError(f"{url} did not answer with JSON") from exc
        if not isinstance(document, dict):
            raise MalformedError(f"{url} did not answer with a JSON object")
        return document


