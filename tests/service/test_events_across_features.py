"""The features of one release speak to each other: a pathway completed by an award reaches the
issuer's webhook receiver, and every kind of change (awards, pathways, endorsements, VC-API
status changes) lands in the issuer's audit chain, which `microcred audit verify` accepts."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from microcred.audit.service import verify_chain
from microcred.config import Settings
from microcred.db.models import AuditEntry

from ..factories.service import ServiceClient
from .test_pathways import _complete, _pathway, _school
from .test_webhooks import Clock, Receiver, dispatcher, receiver, register, signature_holds

pytestmark = pytest.mark.asyncio

__all__ = ["receiver"]  # the fixture, imported for this module's tests


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_loopback": True, "webhook_timeout_seconds": 5.0})


async def test_a_completed_pathway_reaches_the_webhook_receiver(service: ServiceClient, receiver: Receiver) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=2)
    pathway = await _pathway(service, issuer_id, achievement_id, courses)
    hook = await register(service, issuer_id, receiver.url, events=["credential.issued", "pathway.completed"])
    await _complete(service, issuer_id, courses[0])
    last = await _complete(service, issuer_id, courses[1])

    await receiver.start()
    receiver.status = 200
    assert await dispatcher(service.runtime, Clock()).run_once() == 4  # two courses, the pathway credential, the completion
    events = [r.event for r in receiver.delivered()]
    assert all(signature_holds(hook["secret"], r) for r in receiver.delivered())
    [completed] = [e for e in events if e["type"] == "pathway.completed"]
    assert completed["issuer_id"] == issuer_id and completed["data"]["pathway_id"] == pathway["id"]
    issued = {e["subject"]: e for e in events if e["type"] == "credential.issued"}
    assert completed["subject"] in issued and last["id"] in issued
    # The pathway credential's event says what any credential's does, and which pathway issued it.
    pathway_issued, course_issued = issued[completed["subject"]]["data"], issued[last["id"]]["data"]
    assert set(course_issued) < set(pathway_issued) and pathway_issued["pathway_id"] == pathway["id"]
    assert (pathway_issued["recipient_name"], pathway_issued["achievement_version"]) == ("Ada Lovelace", 1)
    # The pathway credential the event names is the one the learner can open.
    page = await service.http.get(completed["data"]["url"].removeprefix(service.runtime.settings.base_url), headers={"Accept": "application/ld+json"})
    assert page.status_code == 200 and page.json()["credentialSubject"]["achievement"]["name"] == "Certified Instrument Maker"


async def _post(service: ServiceClient, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await service.http.post(path, json=body, headers=headers or service.admin)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def test_the_issuers_audit_chain_holds_every_kind_of_change(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=1, vc_api={"enabled": True, "status": True})
    provider = (await service.create_issuer())["id"]
    await _pathway(service, issuer_id, achievement_id, courses)
    await _complete(service, issuer_id, courses[0])  # the course and, at once, the pathway credential
    await _post(service, f"/api/v1/issuers/{issuer_id}/endorsements", {"subject_issuer_id": provider, "endorsement_comment": "Assessed by us"})
    lms = service.auth(await service.issuer_key(issuer_id, "award", "revoke"))
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:zoe"}}
    await _post(service, "/credentials/issue", {"credential": credential, "options": {"credentialId": "urn:example:zoe-1"}}, lms)
    status = {"credentialId": "urn:example:zoe-1", "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": True}
    await _post(service, "/credentials/status", status, lms)

    async with service.runtime.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.chain == f"issuer:{issuer_id}")))
        result = await verify_chain(session)
        total = len(list(await session.scalars(select(AuditEntry.seq))))
    for action in ("issuer.created", "achievement.published", "pathway.created", "credential.issued", "pathway.completed", "endorsement.issued", "credential.revoked"):
        assert action in actions, (action, actions)
    assert actions.count("credential.issued") >= 3  # the course, the pathway credential, the VC-API credential
    assert result.intact and result.checked == total, result
