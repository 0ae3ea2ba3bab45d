"""The console's award form, API keys, webhooks and audit pages over HTTP (the ASGI client):
what each page shows and refuses, field by field, and who may use it. The browser flows are in
test_console_integrations_browser.py."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import update

from microcred.app import create_app
from microcred.config import Settings
from microcred.db.models import WebhookDelivery
from microcred.runtime import Runtime

from ..factories.service import ServiceClient
from .console_helpers import add_staff, csrf_of, sign_in

pytestmark = pytest.mark.asyncio
LOCAL = "http://localhost:8000"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"base_url": LOCAL, "webhook_allow_loopback": True})


@pytest_asyncio.fixture
async def api(settings: Settings, runtime: Runtime) -> AsyncIterator[ServiceClient]:
    app = create_app(settings, runtime=runtime, migrate=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=LOCAL) as http:
        yield await ServiceClient.start(http, runtime)


@pytest_asyncio.fixture
async def issuer(api: ServiceClient) -> dict[str, Any]:
    made = await api.create_issuer("spe", name="Society of Precision Engineers")
    made["achievement"] = await api.create_achievement("spe", name="Precision Welding")
    await api.create_issuer("other", name="Other Society")
    return made


async def staff_client(api: ServiceClient, runtime: Runtime, email: str, roles: dict[str, str]) -> httpx.AsyncClient:
    app = create_app(api.runtime.settings, runtime=runtime, migrate=False)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=LOCAL)
    await sign_in(http, runtime, await add_staff(runtime, email, roles))
    return http


async def post_form(http: httpx.AsyncClient, page: str, action: str, data: dict[str, Any]) -> httpx.Response:
    token = csrf_of((await http.get(page)).text)
    return await http.post(action, data={"csrf_token": token, **data})


def error_of(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', html)
    assert found, f"no error shown for {field}"
    assert re.search(rf'id="f-{field}"[^>]*aria-describedby="[^"]*e-{field}', html) or re.search(
        rf'aria-describedby="[^"]*e-{field}[^"]*"[^>]*aria-invalid="true"', html
    ), f"the error of {field} is not tied to its input"
    return found.group(1)


async def test_the_award_form_names_each_field_at_fault_then_awards(api: ServiceClient, runtime: Runtime, issuer: dict[str, Any]) -> None:
    http = await staff_client(api, runtime, "awarder@example.org", {"spe": "awarder"})
    page = "/console/spe/award"
    shown = await http.get(page)
    assert shown.status_code == 200 and "Precision Welding" in shown.text
    bad = await post_form(http, page, page, {"email": "not an address", "name": "", "achievement_id": issuer["achievement"]["id"], "completion_date": "31-12-2026"})
    assert bad.status_code == 422
    assert error_of(bad.text, "name") and error_of(bad.text, "email") and "YYYY-MM-DD" in error_of(bad.text, "completion_date")
    unknown = await post_form(http, page, page, {"email": "zoe@example.org", "name": "Zoë", "achievement_id": "nope", "completion_date": "2026-11-30"})
    assert unknown.status_code == 422 and error_of(unknown.text, "achievement_id")
    ok = await post_form(
        http, page, page, {"email": "zoe@example.org", "name": "Zoë Jansen", "achievement_id": issuer["achievement"]["id"], "completion_date": "2026-11-30"}
    )
    assert ok.status_code == 201, ok.text
    link = re.search(r'href="(http://localhost:8000/credentials/[^"]+)"', ok.text)
    assert link
    public = await api.http.get(link.group(1).removeprefix(LOCAL), headers={"Accept": "text/html"})
    assert public.status_code == 200 and "Zoë Jansen" in public.text
    again = await post_form(
        http, page, page, {"email": "zoe@example.org", "name": "Zoë Jansen", "achievement_id": issuer["achievement"]["id"], "completion_date": "2026-11-30"}
    )
    assert again.status_code == 200 and link.group(1) in again.text and "already had" in again.text
    viewer = await staff_client(api, runtime, "viewer@example.org", {"spe": "viewer"})
    assert (await viewer.get(page)).status_code == 403
    assert (await http.get("/console/other/award")).status_code == 404


async def test_api_keys_made_shown_once_listed_revoked_and_rotated(api: ServiceClient, runtime: Runtime, issuer: dict[str, Any]) -> None:
    http = await staff_client(api, runtime, "owner@example.org", {"spe": "owner"})
    page = "/console/spe/api-keys"
    refused = await post_form(http, page, page, {"name": "", "scopes": ["award"], "expires_on": "2020-01-01"})
    assert refused.status_code == 422 and error_of(refused.text, "name")
    past = await post_form(http, page, page, {"name": "Moodle", "scopes": ["award"], "expires_on": "2020-01-01"})
    assert past.status_code == 422 and "future" in error_of(past.text, "expires_on")
    made = await post_form(http, page, page, {"name": "Moodle", "scopes": ["award", "revoke"], "expires_on": "2099-12-31"})
    assert made.status_code == 201, made.text
    key = re.search(r'value="(mc_[0-9a-f]{16}_[A-Za-z0-9_-]{43})"', made.text)
    assert key
    assert (await api.http.get("/api/v1/issuers/spe", headers=api.auth(key.group(1)))).status_code == 200
    listing = await http.get(page)
    assert key.group(1) not in listing.text and "Moodle" in listing.text and "2100-01-01" in listing.text
    assert re.search(r'<td class="last-used"><time[^>]*>\d{4}-\d\d-\d\d \d\d:\d\d UTC</time></td>', listing.text)  # it was used just now
    client_id = re.search(r'/api-keys/([0-9a-f-]{36})/revoke', listing.text)
    assert client_id
    rotated = await post_form(http, page, f"{page}/{client_id.group(1)}/rotate", {})
    new_key = re.search(r'value="(mc_[0-9a-f]{16}_[A-Za-z0-9_-]{43})"', rotated.text)
    assert rotated.status_code == 200 and new_key and new_key.group(1) != key.group(1)
    assert (await api.http.get("/api/v1/issuers/spe", headers=api.auth(key.group(1)))).status_code == 401
    revoked = await post_form(http, page, f"{page}/{client_id.group(1)}/revoke", {})
    assert revoked.status_code == 200 and "revoked" in revoked.text
    assert (await api.http.get("/api/v1/issuers/spe", headers=api.auth(new_key.group(1)))).status_code == 401
    entries = (await api.http.get("/api/v1/issuers/spe/audit", params={"action": "client.*"}, headers=api.admin)).json()["items"]
    assert [e["action"] for e in entries] == ["client.revoked", "client.rotated", "client.created"]
    assert {e["actor"] for e in entries} == {f"staff:{(await _member_id(runtime, 'owner@example.org'))}"}
    manager = await staff_client(api, runtime, "manager@example.org", {"spe": "manager"})
    assert (await manager.get(page)).status_code == 403
    assert (await http.get("/console/other/api-keys")).status_code == 404


async def _member_id(runtime: Runtime, email: str) -> str:
    from sqlalchemy import select

    from microcred.db.models import StaffMember

    async with runtime.sessions() as session:
        return str((await session.scalars(select(StaffMember.id).where(StaffMember.email == email))).one())


async def test_webhooks_added_and_deleted_with_field_errors(api: ServiceClient, runtime: Runtime, issuer: dict[str, Any]) -> None:
    http = await staff_client(api, runtime, "manager@example.org", {"spe": "manager"})
    page = "/console/spe/webhooks"
    none = await post_form(http, page, page, {"url": "https://hooks.example.org/x"})
    assert none.status_code == 422 and error_of(none.text, "events")
    bad = await post_form(http, page, page, {"url": "ftp://hooks.example.org/x", "events": ["credential.issued"]})
    assert bad.status_code == 422 and error_of(bad.text, "url")
    made = await post_form(http, page, page, {"url": "http://127.0.0.1:9/hook", "events": ["credential.issued"]})
    assert made.status_code == 201 and re.search(r'value="whsec_[^"]+"', made.text), made.text
    hook_id = re.search(r'/webhooks/([0-9a-f-]{36})"', made.text)
    assert hook_id
    log = await http.get(f"{page}/{hook_id.group(1)}")
    assert log.status_code == 200 and "No deliveries" in log.text
    assert (await http.get(f"{page}/{hook_id.group(1)}?status=")).status_code == 200
    tested = await post_form(http, page, f"{page}/{hook_id.group(1)}/test", {})
    assert tested.status_code == 200 and "webhook.test" in tested.text and "Retry" not in tested.text  # waiting, not failed
    async with runtime.sessions() as session, session.begin():  # as the dispatcher leaves it after its last attempt
        await session.execute(update(WebhookDelivery).values(status="failed", attempts=12, last_error="gave up after 12 attempts; last: HTTP 503"))
    log = await http.get(f"{page}/{hook_id.group(1)}", params={"status": "failed"})
    assert "gave up after 12 attempts" in log.text
    retry = re.search(r'action="(/console/spe/webhooks/[^"]+/retry)"', log.text)
    assert retry
    retried = await post_form(http, page, retry.group(1), {})
    assert retried.status_code == 200 and "queued to be sent again" in retried.text and ">waiting" in retried.text
    again = await http.post(retry.group(1), data={"csrf_token": csrf_of(retried.text)})
    assert again.status_code == 409 and "only a failed delivery is retried" in again.text
    [entry] = (await api.http.get("/api/v1/issuers/spe/audit", params={"action": "webhook.delivery_retried"}, headers=api.admin)).json()["items"]
    assert entry["actor"] == f"staff:{await _member_id(runtime, 'manager@example.org')}"
    paused = await post_form(http, page, f"{page}/{hook_id.group(1)}/pause", {})
    assert paused.status_code == 200 and "is paused" in paused.text and ">paused<" in paused.text
    resumed = await post_form(http, page, f"{page}/{hook_id.group(1)}/resume", {})
    assert "is resumed" in resumed.text and ">sending<" in resumed.text
    gone = await post_form(http, page, f"{page}/{hook_id.group(1)}/delete", {})
    assert gone.status_code == 200 and "No endpoints yet" in gone.text
    awarder = await staff_client(api, runtime, "awarder@example.org", {"spe": "awarder"})
    assert (await awarder.get(page)).status_code == 403


def rows(html: str) -> list[str]:
    """The actions of the audit table's rows, top to bottom."""
    return re.findall(r'<th scope="row">([a-z_.]+)</th>', html)


async def test_the_audit_page_filters_names_staff_and_verifies_the_chain(api: ServiceClient, runtime: Runtime, issuer: dict[str, Any]) -> None:
    owner = await staff_client(api, runtime, "owner@example.org", {"spe": "owner"})
    await post_form(owner, "/console/spe/api-keys", "/console/spe/api-keys", {"name": "Moodle", "scopes": ["award"]})
    viewer = await staff_client(api, runtime, "viewer@example.org", {"spe": "viewer"})
    page = await viewer.get("/console/spe/audit")
    assert page.status_code == 200 and rows(page.text)[0] == "client.created" and '<td class="actor">owner@example.org</td>' in page.text
    mine = await viewer.get("/console/spe/audit", params={"actor": "owner@example.org"})
    assert rows(mine.text) == ["client.created"]
    unknown = await viewer.get("/console/spe/audit", params={"actor": "nobody@example.org"})
    assert unknown.status_code == 422 and error_of(unknown.text, "actor")
    dates = await viewer.get("/console/spe/audit", params={"since": "2026-13-01"})
    assert dates.status_code == 422 and error_of(dates.text, "since")
    family = await viewer.get("/console/spe/audit", params={"action": "achievement.*"})
    assert "achievement.created" in rows(family.text) and all(a.startswith("achievement.") for a in rows(family.text))
    verified = await post_form(viewer, "/console/spe/audit", "/console/spe/audit/verify", {})
    assert verified.status_code == 200 and "The chain holds." in verified.text
    assert (await viewer.get("/console/other/audit")).status_code == 404


async def test_pathways_created_and_edited_by_a_manager_listed_for_a_viewer(api: ServiceClient, runtime: Runtime, issuer: dict[str, Any]) -> None:
    first = issuer["achievement"]
    second = await api.create_achievement("spe", name="Precision Grinding")
    master = await api.create_achievement("spe", name="Master Machinist")
    http = await staff_client(api, runtime, "manager@example.org", {"spe": "manager"})
    page = "/console/spe/pathways/new"
    refused = await post_form(http, page, "/console/spe/pathways", {"name": "", "achievement_id": master["id"], "components": [first["id"]], "rule": "at_least"})
    assert refused.status_code == 422 and error_of(refused.text, "name")
    too_many = await post_form(
        http, page, "/console/spe/pathways",
        {"name": "Master", "achievement_id": master["id"], "components": [first["id"], second["id"]], "rule": "at_least", "min_count": "3"},
    )
    assert too_many.status_code == 422 and error_of(too_many.text, "min_count"), too_many.text
    made = await post_form(
        http, page, "/console/spe/pathways", {"name": "Master", "achievement_id": master["id"], "components": [first["id"], second["id"]], "rule": "all"}
    )
    assert made.status_code == 201, made.text
    pathway_id = re.search(r'action="/console/spe/pathways/([0-9a-f-]{36})"', made.text)
    assert pathway_id
    edit = f"/console/spe/pathways/{pathway_id.group(1)}"
    saved = await post_form(http, edit, edit, {"name": "Master machinist", "components": [first["id"], second["id"]], "rule": "at_least", "min_count": "1", "status": "active"})
    assert saved.status_code == 200 and "is saved" in saved.text
    viewer = await staff_client(api, runtime, "viewer@example.org", {"spe": "viewer"})
    listing = await viewer.get("/console/spe/pathways")
    assert listing.status_code == 200 and "Master machinist" in listing.text and "at least 1 of" in listing.text and "Precision Grinding" in listing.text
    assert "New pathway" not in listing.text and (await viewer.get(edit)).status_code == 403
    assert (await http.get("/console/other/pathways")).status_code == 404


async def test_endorsements_signed_and_revoked_by_a_manager(api: ServiceClient, runtime: Runtime, issuer: dict[str, Any]) -> None:
    http = await staff_client(api, runtime, "manager@example.org", {"spe": "manager"})
    page = "/console/spe/endorsements"
    itself = await post_form(http, page, page, {"subject_issuer_id": "spe"})
    assert itself.status_code == 422 and error_of(itself.text, "subject_issuer_id")
    bad_day = await post_form(http, page, page, {"subject_issuer_id": "other", "valid_until": "tomorrow"})
    assert bad_day.status_code == 422 and error_of(bad_day.text, "valid_until")
    made = await post_form(http, page, page, {"subject_issuer_id": "other", "endorsement_comment": "Sound assessment."})
    assert made.status_code == 201 and "Sound assessment." in made.text and ">active<" in made.text, made.text
    endorsement = re.search(r'/endorsements/([0-9a-f-]{36})/revoke', made.text)
    assert endorsement
    revoked = await post_form(http, page, f"{page}/{endorsement.group(1)}/revoke", {})
    assert revoked.status_code == 200 and ">revoked<" in revoked.text
    viewer = await staff_client(api, runtime, "viewer@example.org", {"spe": "viewer"})
    listing = await viewer.get(page)
    assert listing.status_code == 200 and "Sound assessment." in listing.text and "Sign the endorsement" not in listing.text
    token = csrf_of(listing.text)
    assert (await viewer.post(page, data={"csrf_token": token, "subject_issuer_id": "other"})).status_code == 403


async def test_every_page_of_the_area_refuses_lower_roles_with_403_and_other_issuers_staff_with_404(
    api: ServiceClient, runtime: Runtime, issuer: dict[str, Any]
) -> None:
    from fastapi.routing import APIRoute

    from microcred.console import api_keys, audit, awarding, endorsements, pathways, webhooks
    from microcred.console.web import route_role
    from microcred.staff.roles import ROLES

    routes = [r for m in (awarding, pathways, endorsements, webhooks, api_keys, audit) for r in m.router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 20
    clients = {role: await staff_client(api, runtime, f"{role}@example.org", {"spe": role}) for role in ROLES}
    stranger = await staff_client(api, runtime, "stranger@example.org", {"other": "owner"})
    tokens = {}
    for name, http in (*clients.items(), ("stranger", stranger)):
        tokens[name] = csrf_of((await http.get("/console/other/audit" if name == "stranger" else "/console/spe/audit")).text)
    some_id = "00000000-0000-4000-8000-000000000000"
    tried = 0
    for route in routes:
        needed = route_role(route)
        assert needed in ROLES, route.path
        path = route.path.replace("{issuer_id}", "spe")
        path = re.sub(r"\{[a-z_]+\}", some_id, path)
        for method in route.methods:
            below = ROLES[: ROLES.index(needed)]
            for role in below:
                answer = await clients[role].request(method, path, headers={"X-CSRF-Token": tokens[role]})
                assert answer.status_code == 403, (method, path, role, answer.status_code)
                tried += 1
            answer = await stranger.request(method, path, headers={"X-CSRF-Token": tokens["stranger"]})
            assert answer.status_code == 404, (method, path, "stranger", answer.status_code)
            tried += 1
    assert tried > len(routes)


async def test_a_broken_chain_is_reported_without_another_issuers_details(api: ServiceClient, runtime: Runtime, issuer: dict[str, Any]) -> None:
    from sqlalchemy import select

    from microcred.db.models import AuditEntry

    async with runtime.sessions() as session, session.begin():
        theirs = (await session.scalars(select(AuditEntry).where(AuditEntry.issuer_id == "other"))).first()
        assert theirs is not None
        theirs.data = {**theirs.data, "name": "Changed Society"}
    viewer = await staff_client(api, runtime, "viewer@example.org", {"spe": "viewer"})
    verified = await post_form(viewer, "/console/spe/audit", "/console/spe/audit/verify", {})
    result = re.search(r'<p class="notice bad" role="alert" id="chain-result">(.*?)</p>', verified.text, re.S)
    assert result, verified.text
    assert f"entry {theirs.chain_seq} of a different issuer&#39;s chain: its contents were changed" in result.group(1)
    assert "other" not in result.group(1) and theirs.action not in result.group(1)
