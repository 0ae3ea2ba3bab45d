"""What the console's credential pages stand on, on SQLite and PostgreSQL: searching an issuer's
credentials, usage counted by the service itself, a credential's timeline, suspensions with a
private reason, correct-and-reissue, and the dashboard's figures."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from microcred.auth.principal import Principal
from microcred.awards.reissue import SUPERSEDED, correct_and_reissue, replacement_of
from microcred.awards.service import Signing, list_credentials
from microcred.credentials.schema import validate
from microcred.dashboard.service import dashboard
from microcred.db.models import AuditEntry, Credential, WebhookDelivery
from microcred.problems import Conflict, NotFound
from microcred.runtime import Runtime
from microcred.status.service import change_status, list_signing
from microcred.timeline.service import credential_timeline
from microcred.usage.service import credential_usage, record_use
from microcred.verification.service import Verification

from ..factories.service import ServiceClient

pytestmark = pytest.mark.asyncio

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36", "Accept": "text/html"}


def staff(issuer_id: str) -> Principal:
    return Principal(client_id="staff:test-awarder", issuer_id=issuer_id, scopes=frozenset({"award", "revoke"}))


async def _awarded(service: ServiceClient, issuer_id: str, achievement_id: str, **overrides: Any) -> dict[str, Any]:
    response = await service.award(issuer_id, achievement_id, **overrides)
    assert response.status_code == 201, response.text
    award: dict[str, Any] = response.json()
    return award


def _path(service: ServiceClient, url: str) -> str:
    return url.removeprefix(service.runtime.settings.base_url)


# --- search ---------------------------------------------------------------------------------------


async def test_staff_find_credentials_by_part_of_a_name_or_address_achievement_dates_and_status(service: ServiceClient) -> None:
    runtime = service.runtime
    issuer = (await service.create_issuer())["id"]
    turning = (await service.create_achievement(issuer))["id"]
    milling = (await service.create_achievement(issuer, name="Milling"))["id"]
    zoe = await _awarded(service, issuer, turning, recipient={"email": "zoe.jansen@example.org", "name": "Zoë Jansen"})
    unal = await _awarded(service, issuer, milling, recipient={"email": "unal@example.org", "name": "Ünal Yılmaz"})
    pieter = await _awarded(service, issuer, turning, recipient={"email": "p.janssens@example.org", "name": "Pieter Janssens"})
    wildcard = await _awarded(service, issuer, turning, recipient={"email": "x@example.org", "name": "100%_sure"})
    other = (await service.create_issuer())["id"]
    await _awarded(service, other, (await service.create_achievement(other))["id"], recipient={"email": "zoe2@example.org", "name": "Zoë Jansen"})
    now = datetime.now(UTC)

    async def found(**filters: Any) -> list[str]:
        async with runtime.sessions() as session:
            page = await list_credentials(session, principal=staff(issuer), issuer_id=issuer, base_url=runtime.settings.base_url, now=now, **filters)
        return [item.id for item in page.items]

    assert await found(learner="jans") == [pieter["id"], zoe["id"]]  # newest first; never the other issuer's Zoë
    assert await found(learner="JANSEN") == [zoe["id"]]
    assert await found(learner="unal@exa") == [unal["id"]]
    assert await found(learner="%_") == [wildcard["id"]]  # the search's own wildcards are taken literally
    assert await found(learner="jans", achievement_id=milling) == []
    assert await found(achievement_id=milling) == [unal["id"]]
    assert await found(issued_after=now + timedelta(minutes=1)) == []
    assert set(await found(issued_before=now + timedelta(minutes=1))) == {zoe["id"], unal["id"], pieter["id"], wildcard["id"]}

    async with runtime.sessions() as session, session.begin():
        await change_status(session, principal=staff(issuer), signing=list_signing(runtime), issuer_id=issuer, credential_id=pieter["id"], change="revoke")
    assert await found(state="revoked") == [pieter["id"]]
    assert await found(learner="jans", state="active") == [zoe["id"]]

    async with runtime.sessions() as session:
        first = await list_credentials(session, principal=staff(issuer), issuer_id=issuer, base_url=runtime.settings.base_url, now=now, limit=3)
        assert len(first.items) == 3 and first.next_cursor
        rest = await list_credentials(
            session, principal=staff(issuer), issuer_id=issuer, base_url=runtime.settings.base_url, now=now, limit=3, cursor=first.next_cursor
        )
    assert [i.id for i in first.items + rest.items] == await found() and rest.next_cursor is None


# --- usage ----------------------------------------------------------------------------------------


async def _usage(runtime: Runtime, credential_id: str) -> dict[str, int]:
    async with runtime.sessions() as session:
        summary = await credential_usage(session, credential_id)
    return {kind: n for kind, _, n in summary.totals if n}


async def test_views_downloads_linkedin_clicks_and_verifications_are_counted_and_bots_are_not(service: ServiceClient) -> None:
    issuer = (await service.create_issuer())["id"]
    award = await _awarded(service, issuer, (await service.create_achievement(issuer))["id"])
    page = _path(service, award["url"])
    for _ in range(2):
        assert (await service.http.get(page, headers=BROWSER)).status_code == 200
    assert (await service.http.get(page, headers={**BROWSER, "User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"})).status_code == 200
    assert (await service.http.get(page, headers={**BROWSER, "Sec-Purpose": "prefetch"})).status_code == 200
    assert (await service.http.get(page, headers={"Accept": "application/ld+json"})).status_code == 200  # a verifier: no use counted
    assert (await service.http.get(page + "?format=pdf", headers=BROWSER)).status_code == 200
    assert (await service.http.get(page + "?format=json", headers=BROWSER)).status_code == 200
    linkedin = await service.http.get(page + "/linkedin", headers=BROWSER)
    assert linkedin.status_code == 303 and linkedin.headers["location"].startswith("https://www.linkedin.com/profile/add?")
    verified = await service.http.post("/api/v1/verify", json=award["credential"], headers={"User-Agent": BROWSER["User-Agent"]})
    assert verified.status_code == 200 and verified.json()["verdict"] == "valid"

    assert await _usage(service.runtime, award["id"]) == {"view": 2, "download_pdf": 1, "download_json": 1, "linkedin": 1, "verification": 1}


async def test_a_revoked_credentials_linkedin_link_leads_back_to_its_page_uncounted(service: ServiceClient) -> None:
    issuer = (await service.create_issuer())["id"]
    award = await _awarded(service, issuer, (await service.create_achievement(issuer))["id"])
    revoked = await service.http.post(f"/api/v1/issuers/{issuer}/credentials/{award['id']}/revoke", headers=service.admin)
    assert revoked.status_code == 200
    linkedin = await service.http.get(_path(service, award["url"]) + "/linkedin", headers=BROWSER)
    assert linkedin.status_code == 303 and linkedin.headers["location"] == award["url"]
    assert await _usage(service.runtime, award["id"]) == {}


async def test_a_count_that_fails_is_logged_and_never_raised(service: ServiceClient, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Any:
        raise ConnectionError("the database is gone")

    with caplog.at_level(logging.WARNING, logger="microcred.usage.service"):
        await record_use(broken, "some-credential", "view")  # type: ignore[arg-type]
    assert "not counted" in caplog.text
    await record_use(service.runtime.sessions, "no-such-credential", "view")  # counts nothing, raises nothing
    assert await _usage(service.runtime, "no-such-credential") == {}


# --- timeline, suspension reasons -----------------------------------------------------------------


async def test_the_timeline_tells_issued_used_suspended_with_its_private_reason_and_webhooks_sent(service: ServiceClient) -> None:
    runtime = service.runtime
    issuer = (await service.create_issuer(offers_suspension=True))["id"]
    hook = await service.http.post(
        f"/api/v1/issuers/{issuer}/webhooks", json={"url": "https://lms.example/hooks", "events": ["credential.issued", "credential.suspended"]},
        headers=service.admin,
    )
    assert hook.status_code == 201, hook.text
    award = await _awarded(service, issuer, (await service.create_achievement(issuer))["id"])
    assert (await service.http.get(_path(service, award["url"]), headers=BROWSER)).status_code == 200
    async with runtime.sessions() as session, session.begin():
        await change_status(
            session, principal=staff(issuer), signing=list_signing(runtime), issuer_id=issuer, credential_id=award["id"], change="suspend",
            reason="exam under review",
        )
    async with runtime.sessions() as session:
        timeline = await credential_timeline(session, principal=staff(issuer), issuer_id=issuer, credential_id=award["id"])
        bodies = (await session.scalars(select(WebhookDelivery.body))).all()
    kinds = [e.kind for e in timeline.entries]
    assert kinds[0] == "issued" and "suspended" in kinds and "used" in kinds and kinds.count("webhook") == 2, kinds
    suspended = next(e for e in timeline.entries if e.kind == "suspended")
    assert suspended.detail == "exam under review" and suspended.actor == "staff:test-awarder"
    assert all("https://lms.example/hooks" in e.title for e in timeline.entries if e.kind == "webhook")
    assert timeline.usage.total("view") == 1
    assert not any("exam under review" in body for body in bodies)  # the reason is never sent
    page = await service.http.get(_path(service, award["url"]), headers=BROWSER)
    assert "Suspended" in page.text and "exam under review" not in page.text

    with pytest.raises(NotFound):
        async with runtime.sessions() as session:
            await credential_timeline(session, principal=staff("another-issuer"), issuer_id=issuer, credential_id=award["id"])


# --- correct and reissue --------------------------------------------------------------------------


async def test_correct_and_reissue_revokes_the_old_as_superseded_and_signs_the_corrected_name(service: ServiceClient) -> None:
    runtime = service.runtime
    issuer = (await service.create_issuer())["id"]
    achievement = (await service.create_achievement(issuer))["id"]
    old = await _awarded(service, issuer, achievement, recipient={"email": "zoe@example.org", "name": "Zoë Jnasen"}, external_id="lms-42")
    signing = Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses)
    async with runtime.sessions() as session, session.begin():
        done = await correct_and_reissue(
            session, principal=staff(issuer), signing=signing, list_signing=list_signing(runtime), issuer_id=issuer,
            credential_id=old["id"], recipient_name="Zoë Jansen", note="typo in the LMS", now=datetime.now(UTC),
        )
    new = done.new.document
    assert [i["identityHash"] for i in new["credentialSubject"]["identifier"] if i["identityType"] == "name"] == ["Zoë Jansen"]
    assert f"replaces {old['url']}" in new["description"]
    assert new["credentialSubject"]["achievement"] == old["credential"]["credentialSubject"]["achievement"]
    assert validate(new) == []  # the OB 3.0 JSON schema
    report = await Verification(runtime, runtime.fetcher).of_credential(new)
    assert report.valid and report.verdict == "valid", report.to_dict()

    new_page = await service.http.get(_path(service, new["id"]), headers=BROWSER)
    old_page = await service.http.get(_path(service, old["url"]), headers=BROWSER)
    assert 'data-status="valid"' in new_page.text and "Zoë Jansen" in new_page.text
    assert 'data-status="revoked"' in old_page.text and SUPERSEDED not in old_page.text.lower()  # the reason stays private
    assert f'A corrected credential replaces this one: <a href="{new["id"]}">' in old_page.text

    async with runtime.sessions() as session:
        stored = await session.get(Credential, old["id"])
        assert stored is not None and stored.revocation_reason == SUPERSEDED and stored.external_id is None
        assert (replaced := await replacement_of(session, stored)) is not None and replaced.id == done.new.id
        assert replaced.external_id == "lms-42"
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.subject.in_([old["id"], done.new.id])).order_by(AuditEntry.seq))).all()
    assert [(e.action, e.subject) for e in audit][-2:] == [("credential.revoked", old["id"]), ("credential.issued", done.new.id)]
    assert audit[-2].data["reason"] == SUPERSEDED and audit[-2].data["note"] == "typo in the LMS" and audit[-2].data["superseded_by"] == done.new.id
    assert audit[-1].data["replaces"] == old["id"] and audit[-1].actor == "staff:test-awarder"

    with pytest.raises(Conflict):  # the old one is revoked now: it cannot be corrected again
        async with runtime.sessions() as session, session.begin():
            await correct_and_reissue(
                session, principal=staff(issuer), signing=signing, list_signing=list_signing(runtime), issuer_id=issuer,
                credential_id=old["id"], recipient_name="Zoë Jansen-Smit", now=datetime.now(UTC),
            )


# --- dashboard ------------------------------------------------------------------------------------


async def test_the_dashboard_counts_awards_revocations_jobs_failing_webhooks_usage_and_lists_recent_entries(service: ServiceClient) -> None:
    runtime = service.runtime
    issuer = (await service.create_issuer())["id"]
    achievement = (await service.create_achievement(issuer))["id"]
    hook = await service.http.post(f"/api/v1/issuers/{issuer}/webhooks", json={"url": "https://lms.example/hooks", "events": ["credential.issued"]}, headers=service.admin)
    assert hook.status_code == 201
    awards = [await _awarded(service, issuer, achievement) for _ in range(3)]
    now = datetime.now(UTC)
    async with runtime.sessions() as session, session.begin():
        # one award from before this month (and week), one delivery that gave up
        await session.execute(update(Credential).where(Credential.id == awards[0]["id"]).values(issued_at=now - timedelta(days=40)))
        delivery = (await session.scalars(select(WebhookDelivery).limit(1))).one()
        delivery.status, delivery.attempts = "failed", 5
        await change_status(session, principal=staff(issuer), signing=list_signing(runtime), issuer_id=issuer, credential_id=awards[1]["id"], change="revoke")
    await service.http.get(_path(service, awards[2]["url"]), headers=BROWSER)
    async with runtime.sessions() as session:
        figures = await dashboard(session, principal=staff(issuer), issuer_id=issuer, now=now)
    assert figures.awards_this_month == 2 and figures.awards_this_week == 2
    assert figures.revoked_total == 1 and figures.revoked_this_month == 1 and figures.suspended_now == 0
    assert figures.webhooks_failed == 1 and figures.jobs_running == 0
    assert [e.action for e in figures.recent_audit][:4] == ["credential.revoked"] + ["credential.issued"] * 3
    assert figures.usage.total("view") == 1


async def test_the_api_suspends_and_reinstates_with_a_private_reason(service: ServiceClient) -> None:
    issuer = (await service.create_issuer(offers_suspension=True))["id"]
    award = await _awarded(service, issuer, (await service.create_achievement(issuer))["id"])
    path = f"/api/v1/issuers/{issuer}/credentials/{award['id']}"
    suspended = await service.http.post(f"{path}/suspend", json={"reason": "certificate under appeal"}, headers=service.admin)
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    back = await service.http.post(f"{path}/unsuspend", headers=service.admin)  # no body: no reason
    assert back.status_code == 200 and back.json()["status"] == "active"
    async with service.runtime.sessions() as session:
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.subject == award["id"]).order_by(AuditEntry.seq))).all()
    assert [(e.action, e.data.get("reason")) for e in audit] == [
        ("credential.issued", None), ("credential.suspended", "certificate under appeal"), ("credential.unsuspended", None),
    ]
    page = await service.http.get(_path(service, award["url"]), headers=BROWSER)
    assert "under appeal" not in page.text
