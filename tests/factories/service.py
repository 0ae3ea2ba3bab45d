"""Factories that go through the real API (and the real client-creation service)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from microcred.auth.principal import SCOPES, Principal
from microcred.auth.service import create_client
from microcred.awards.schemas import AwardIn
from microcred.awards.service import Signing, award
from microcred.runtime import Runtime

EU_ELEMENTS: dict[str, Any] = {
    "description": "Sets up and operates a CNC lathe to turn instrument parts to ±5 µm.",
    "learning_outcomes": ["plan a turning operation from a drawing", "measure parts to ±5 µm"],
    "assessed": True,
    "credits_available": 3,
    "eqf_level": 4,
    "assessment_type": "Practical examination",
    "participation_form": "Onsite",
    "quality_assurance": "Accredited by the society's accreditation board",
    "notional_workload_hours": 84,
}


def achievement_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Precision Turning for Instrument Makers",
        **EU_ELEMENTS,
        "result_descriptions": [{"name": "Final grade", "result_type": "GradePointAverage", "value_min": "1", "value_max": "10"}],
        "provider": {"id": "https://turning-academy.example", "name": "Turning Academy Eindhoven"},
        "status": "published",
    }
    body.update(overrides)
    return body


def award_body(achievement_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "achievement_id": achievement_id,
        "recipient": {"email": f"learner-{uuid.uuid4().hex[:8]}@example.org", "name": "Zoë Jansen"},
        "completion_date": "2024-06-28",
        "result": {"value": "8.5"},
    }
    body.update(overrides)
    return body


@dataclass
class ServiceClient:
    http: httpx.AsyncClient
    runtime: Runtime
    admin_key: str

    @classmethod
    async def start(cls, http: httpx.AsyncClient, runtime: Runtime) -> ServiceClient:
        return cls(http, runtime, await cls._key(runtime, issuer_id=None, scopes=()))

    @staticmethod
    async def _key(runtime: Runtime, *, issuer_id: str | None, scopes: tuple[str, ...]) -> str:
        async with runtime.sessions() as session, session.begin():
            created = await create_client(session, name="test", issuer_id=issuer_id, scopes=scopes)
        return created.api_key

    async def issuer_key(self, issuer_id: str, *scopes: str) -> str:
        return await self._key(self.runtime, issuer_id=issuer_id, scopes=scopes or ("award", "revoke", "manage"))

    @staticmethod
    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.auth(self.admin_key)

    async def create_issuer(self, issuer_id: str | None = None, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": issuer_id or f"issuer-{uuid.uuid4().hex[:8]}",
            "name": "Society of Precision Engineers",
            "url": "https://precision-engineers.example",
            "address": {"country": "Netherlands", "country_code": "NL", "region": "Noord-Brabant"},
        }
        body.update(overrides)
        response = await self.http.post("/api/v1/issuers", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def create_achievement(self, issuer_id: str, **overrides: Any) -> dict[str, Any]:
        response = await self.http.post(f"/api/v1/issuers/{issuer_id}/achievements", json=achievement_body(**overrides), headers=self.admin)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def award(self, issuer_id: str, achievement_id: str, *, key: str | None = None, **overrides: Any) -> httpx.Response:
        headers = self.admin if key is None else self.auth(key)
        return await self.http.post(f"/api/v1/issuers/{issuer_id}/awards", json=award_body(achievement_id, **overrides), headers=headers)


def resolver(runtime: Runtime) -> Any:
    """The core verifier's key resolver, fed with the service's published keys (current and
    retired), as a verifier that resolved the issuer's did:web would be."""
    from microcred.credentials import Resolver
    from microcred.credentials.did import controller_document

    store = runtime.keystore

    def did_document(did: str) -> dict[str, Any]:
        # One issuer's keys, read when asked for: the test session's key store holds every
        # issuer the suite has made, and reading them all for each verification grows with it.
        return controller_document(did, store.published_keys(did))

    return Resolver(fetch_did_document=did_document)


async def count(runtime: Runtime, model: Any) -> int:
    """Rows of ``model``'s table, read in a fresh session (what other connections see)."""
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def award_then_roll_back(runtime: Runtime, issuer_id: str, achievement_id: str, *, written_with_it: Any) -> None:
    """Award through the service in a transaction that then fails, after checking that the award
    wrote one ``written_with_it`` row (an outbox row) inside that transaction: the caller checks
    what is left once it has rolled back."""
    signing = Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses)

    class Abandoned(Exception):
        pass

    try:
        async with runtime.sessions() as session, session.begin():
            result = await award(
                session,
                principal=Principal("lms", None, frozenset(SCOPES)),
                signing=signing,
                issuer_id=issuer_id,
                data=AwardIn.model_validate(award_body(achievement_id)),
                idempotency_key=None,
                now=datetime.now(UTC),
            )
            assert result.created
            assert await session.scalar(select(func.count()).select_from(written_with_it)) == 1  # written with the award...
            raise Abandoned  # ...and rolled back with it
    except Abandoned:
        return
    raise AssertionError("the transaction was not abandoned")


async def metric_samples(http: httpx.AsyncClient) -> defaultdict[tuple[str, str], float]:
    """What Prometheus would scrape from /metrics: each sample of one label by its name and that
    label's value (0 for a sample not there yet, as a counter not yet incremented)."""
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    samples: defaultdict[tuple[str, str], float] = defaultdict(float)
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if len(sample.labels) == 1:
                samples[sample.name, next(iter(sample.labels.values()))] = sample.value
    return samples
