"""The console's staff pages and passkeys, through the ASGI app as a browser uses them: an owner
invites by email (the message read from a real SMTP server on loopback), changes roles and
removes people, all in the audit log under the owner's name; members add passkeys and sign in
with them (a software authenticator signs for real), and owners may require passkeys."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select, update

from microcred.app import create_app
from microcred.config import Settings
from microcred.db.models import AuditEntry, PasskeyChallenge, StaffMember, StaffPasskey
from microcred.runtime import Runtime
from microcred.passkeys import relying_party

from ..factories.service import ServiceClient
from .console_helpers import add_staff, csrf_of, sign_in, sign_in_with_link
from .smtp_server import Smtp, smtp, smtp_settings  # noqa: F401 (fixtures)
from .soft_authenticator import SoftAuthenticator

pytestmark = pytest.mark.asyncio
LOCAL = "http://localhost:8000"


@pytest.fixture
def settings(settings: Settings, smtp: Smtp) -> Settings:
    return smtp_settings(settings, smtp).model_copy(update={"base_url": LOCAL})


@pytest_asyncio.fixture
async def app_transport(settings: Settings, runtime: Runtime) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(settings, runtime=runtime, migrate=False))


@pytest_asyncio.fixture
async def http(app_transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as client:
        yield client


@pytest_asyncio.fixture
async def issuers(http: httpx.AsyncClient, runtime: Runtime) -> tuple[str, str]:
    api = await ServiceClient.start(http, runtime)
    await api.create_issuer("spe", name="Society of Precision Engineers")
    await api.create_issuer("other", name="Other Society")
    return "spe", "other"


async def _audit(runtime: Runtime, action: str) -> list[AuditEntry]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))).all())


async def _member(runtime: Runtime, email: str) -> StaffMember:
    async with runtime.sessions() as session:
        member = await session.scalar(select(StaffMember).where(StaffMember.email == email))
    assert member is not None
    return member


def _rows(page: str) -> dict[str, str]:
    """The staff table as email -> selected role."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        email = re.search(r"<td>([^<(]+)", row)
        role = re.search(r'<option value="(\w+)" selected>', row)
        if email and role:
            rows[email.group(1).strip()] = role.group(1)
    return rows


async def _owner(http: httpx.AsyncClient, runtime: Runtime, email: str = "olga@spe.example") -> StaffMember:
    owner = await add_staff(runtime, email, {"spe": "owner"})
    await sign_in(http, runtime, owner)
    return owner


class TestInvitations:
    async def test_an_owner_invites_an_awarder_who_signs_in_from_the_email(self, http, app_transport, runtime, smtp, issuers) -> None:
        owner = await _owner(http, runtime)
        page = await http.get("/console/spe/staff")
        assert page.status_code == 200 and _rows(page.text) == {"olga@spe.example": "owner"}
        sent = await http.post("/console/spe/staff/invite", data={"email": "Aart@SPE.example", "role": "awarder", "csrf_token": csrf_of(page.text)})
        assert sent.status_code == 303
        after = await http.get(sent.headers["location"])
        assert "Invitation sent." in after.text
        assert _rows(after.text) == {"olga@spe.example": "owner", "aart@spe.example": "awarder"}

        message = smtp.mailbox.newest("aart@spe.example")
        assert "Society of Precision Engineers" in message["Subject"] and "as awarder" in message.get_content()
        link = smtp.mailbox.link("aart@spe.example", path="/console/sign-in/confirm")
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as invitee:
            answer = await sign_in_with_link(invitee, link)
            assert answer.status_code == 303 and answer.headers["location"] == "/console/spe/"
            assert (await invitee.get("/console/spe/")).status_code == 200
            assert (await invitee.get("/console/spe/staff")).status_code == 403

        [entry] = await _audit(runtime, "staff.invited")
        invitee_member = await _member(runtime, "aart@spe.example")
        assert entry.actor == f"staff:{owner.id}" and entry.issuer_id == "spe" and entry.subject == f"staff:{invitee_member.id}"
        assert entry.data["role"] == "awarder"

    async def test_someone_already_on_the_staff_is_not_invited_twice(self, http, runtime, smtp, issuers) -> None:
        await _owner(http, runtime)
        await add_staff(runtime, "aart@spe.example", {"spe": "viewer"})
        page = await http.get("/console/spe/staff")
        answer = await http.post("/console/spe/staff/invite", data={"email": "aart@spe.example", "role": "owner", "csrf_token": csrf_of(page.text)})
        assert answer.status_code == 409 and "already on the staff" in html.unescape(answer.text)
        assert _rows(answer.text)["aart@spe.example"] == "viewer" and smtp.mailbox.to("aart@spe.example") == []

    async def test_a_member_of_another_issuer_is_invited_with_their_own_account(self, http, runtime, smtp, issuers) -> None:
        await _owner(http, runtime)
        other = await add_staff(runtime, "pim@other.example", {"other": "owner"})
        page = await http.get("/console/spe/staff")
        answer = await http.post("/console/spe/staff/invite", data={"email": "pim@other.example", "role": "viewer", "csrf_token": csrf_of(page.text)})
        assert answer.status_code == 303
        assert (await _member(runtime, "pim@other.example")).id == other.id
        assert smtp.mailbox.newest("pim@other.example")

    async def test_a_bad_address_or_role_is_named_on_the_page(self, http, runtime, issuers) -> None:
        await _owner(http, runtime)
        page = await http.get("/console/spe/staff")
        bad = await http.post("/console/spe/staff/invite", data={"email": "not-an-address", "role": "awarder", "csrf_token": csrf_of(page.text)})
        assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text and "not-an-address" in bad.text
        role = await http.post("/console/spe/staff/invite", data={"email": "a@spe.example", "role": "god", "csrf_token": csrf_of(page.text)})
        assert role.status_code == 400 and "Choose a role" in role.text


class TestRoles:
    async def test_an_owner_changes_a_role_and_removes_someone(self, http, app_transport, runtime, issuers) -> None:
        owner = await _owner(http, runtime)
        aart = await add_staff(runtime, "aart@spe.example", {"spe": "viewer"})
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as theirs:
            await sign_in(theirs, runtime, aart)
            assert (await theirs.get("/console/spe/award")).status_code in (403, 404)  # 404 until the awarding page exists
            page = await http.get("/console/spe/staff")
            changed = await http.post(f"/console/spe/staff/{aart.id}/role", data={"role": "manager", "csrf_token": csrf_of(page.text)})
            assert changed.status_code == 303
            assert _rows((await http.get("/console/spe/staff")).text)["aart@spe.example"] == "manager"
            removed = await http.post(f"/console/spe/staff/{aart.id}/remove", data={"csrf_token": csrf_of(page.text)})
            assert removed.status_code == 303
            assert "aart@spe.example" not in _rows((await http.get("/console/spe/staff")).text)
            assert (await theirs.get("/console/spe/")).status_code == 404  # at once, in the session they already have
        [change] = await _audit(runtime, "staff.role_changed")
        [removal] = await _audit(runtime, "staff.removed")
        assert change.actor == removal.actor == f"staff:{owner.id}"
        assert change.data == {"role": "manager", "previous_role": "viewer"} and removal.data == {"previous_role": "manager"}

    async def test_the_last_owner_stays_an_owner(self, http, runtime, issuers) -> None:
        owner = await _owner(http, runtime)
        page = await http.get("/console/spe/staff")
        demoted = await http.post(f"/console/spe/staff/{owner.id}/role", data={"role": "viewer", "csrf_token": csrf_of(page.text)})
        assert demoted.status_code == 409 and "only owner" in demoted.text
        removed = await http.post(f"/console/spe/staff/{owner.id}/remove", data={"csrf_token": csrf_of(page.text)})
        assert removed.status_code == 409
        assert _rows((await http.get("/console/spe/staff")).text) == {"olga@spe.example": "owner"}

    async def test_staff_of_another_issuer_cannot_be_changed_from_this_one(self, http, runtime, issuers) -> None:
        await _owner(http, runtime)
        pim = await add_staff(runtime, "pim@other.example", {"other": "viewer"})
        page = await http.get("/console/spe/staff")
        answer = await http.post(f"/console/spe/staff/{pim.id}/role", data={"role": "owner", "csrf_token": csrf_of(page.text)})
        assert answer.status_code == 404
        assert await _audit(runtime, "staff.role_changed") == []


# --- passkeys -------------------------------------------------------------------------------------


async def _add_passkey(http: httpx.AsyncClient, authenticator: SoftAuthenticator, name: str = "Work laptop") -> httpx.Response:
    page = await http.get("/console/passkeys")
    csrf = csrf_of(page.text)
    options = await http.post("/console/passkeys/options", headers={"X-CSRF-Token": csrf})
    assert options.status_code == 200, options.text
    return await http.post("/console/passkeys", json={"name": name, "credential": authenticator.create(options.json())}, headers={"X-CSRF-Token": csrf})


async def _passkey_options(http: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    page = await http.get("/console/sign-in")
    assert page.status_code == 200
    csrf = re.search(r'data-csrf="([^"]+)"', page.text)
    assert csrf, "the sign-in page offers no passkey button"
    options = await http.post("/console/sign-in/passkey/options", headers={"X-CSRF-Token": csrf.group(1)})
    assert options.status_code == 200, options.text
    return csrf.group(1), options.json()


async def _passkey_sign_in(http: httpx.AsyncClient, answer: dict[str, Any], csrf: str, next_path: str = "/console") -> httpx.Response:
    return await http.post("/console/sign-in/passkey", json={"credential": answer, "next": next_path}, headers={"X-CSRF-Token": csrf})


class TestPasskeys:
    async def test_a_member_adds_passkeys_and_signs_in_with_one(self, http, app_transport, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        laptop, phone = SoftAuthenticator(LOCAL), SoftAuthenticator(LOCAL)
        assert (await _add_passkey(http, laptop, "Work laptop")).status_code == 201
        assert (await _add_passkey(http, phone, "Phone")).status_code == 201
        page = await http.get("/console/passkeys")
        assert "Work laptop" in page.text and "Phone" in page.text

        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as browser:
            csrf, options = await _passkey_options(browser)
            assert options["rpId"] == "localhost" and options["allowCredentials"] == []
            answer = await _passkey_sign_in(browser, phone.get(options), csrf, "/console/spe/")
            assert answer.status_code == 200 and answer.json() == {"redirect": "/console/spe/"}
            cookie = answer.headers["set-cookie"]
            assert cookie.startswith("microcred_staff=") and "httponly" in cookie.lower()
            assert (await browser.get("/console/spe/")).status_code == 200
        async with runtime.sessions() as session:
            used = await session.scalar(select(StaffPasskey).where(StaffPasskey.name == "Phone"))
        assert used is not None and used.sign_count == 1 and used.last_used_at is not None
        [added, _] = await _audit(runtime, "staff.passkey_added")
        assert added.actor == f"staff:{member.id}" and added.data == {"name": "Work laptop"}

    async def test_an_answer_works_once(self, http, app_transport, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        key = SoftAuthenticator(LOCAL)
        await _add_passkey(http, key)
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as browser:
            csrf, options = await _passkey_options(browser)
            answer = key.get(options)
            assert (await _passkey_sign_in(browser, answer, csrf)).status_code == 200
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as eavesdropper:
            csrf, _ = await _passkey_options(eavesdropper)
            replay = await _passkey_sign_in(eavesdropper, answer, csrf)
            assert replay.status_code == 400 and "expired or was already used" in replay.json()["message"]
            assert "microcred_staff" not in replay.headers.get("set-cookie", "")

    async def test_a_cloned_authenticator_is_refused_by_its_counter(self, http, app_transport, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        key = SoftAuthenticator(LOCAL)
        await _add_passkey(http, key)
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as browser:
            csrf, options = await _passkey_options(browser)
            assert (await _passkey_sign_in(browser, key.get(options), csrf)).status_code == 200
            key.credentials[-1].sign_count = 0  # the clone's counter lags behind the original's
            csrf, options = await _passkey_options(browser)
            refused = await _passkey_sign_in(browser, key.get(options), csrf)
            assert refused.status_code == 400 and "not accepted" in refused.json()["message"]

    async def test_a_passkey_made_for_another_site_is_refused(self, http, app_transport, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        key = SoftAuthenticator(LOCAL)
        await _add_passkey(http, key)
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as browser:
            csrf, options = await _passkey_options(browser)
            phished = SoftAuthenticator("https://console-login.example", credentials=key.credentials)
            refused = await _passkey_sign_in(browser, phished.get(options), csrf)
            assert refused.status_code == 400
            assert "microcred_staff" not in refused.headers.get("set-cookie", "")

    async def test_an_expired_challenge_is_refused(self, http, app_transport, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        key = SoftAuthenticator(LOCAL)
        await _add_passkey(http, key)
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as browser:
            csrf, options = await _passkey_options(browser)
            async with runtime.sessions() as session, session.begin():
                await session.execute(update(PasskeyChallenge).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            refused = await _passkey_sign_in(browser, key.get(options), csrf)
            assert refused.status_code == 400 and "expired" in refused.json()["message"]

    async def test_a_removed_passkey_no_longer_signs_in(self, http, app_transport, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        key = SoftAuthenticator(LOCAL)
        await _add_passkey(http, key)
        async with runtime.sessions() as session:
            passkey = await session.scalar(select(StaffPasskey))
        assert passkey is not None
        page = await http.get("/console/passkeys")
        removed = await http.post(f"/console/passkeys/{passkey.id}/remove", data={"csrf_token": csrf_of(page.text)})
        assert removed.status_code == 303 and "no passkey yet" in (await http.get("/console/passkeys")).text
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as browser:
            csrf, options = await _passkey_options(browser)
            refused = await _passkey_sign_in(browser, key.get(options), csrf)
            assert refused.status_code == 400 and "not registered" in refused.json()["message"]

    async def test_nobody_removes_another_members_passkey(self, http, app_transport, runtime, issuers) -> None:
        ana = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, ana)
        await _add_passkey(http, SoftAuthenticator(LOCAL))
        async with runtime.sessions() as session:
            passkey = await session.scalar(select(StaffPasskey))
        assert passkey is not None
        mallory = await add_staff(runtime, "mallory@spe.example", {"spe": "owner"})
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as theirs:
            await sign_in(theirs, runtime, mallory)
            page = await theirs.get("/console/passkeys")
            answer = await theirs.post(f"/console/passkeys/{passkey.id}/remove", data={"csrf_token": csrf_of(page.text)})
            assert answer.status_code == 404
        async with runtime.sessions() as session:
            assert await session.get(StaffPasskey, passkey.id) is not None

    async def test_a_registration_answer_is_bound_to_the_member_who_asked(self, http, app_transport, runtime, issuers) -> None:
        """Mallory cannot have her authenticator registered to Ana's account with a challenge
        she obtained herself (nor the other way round)."""
        ana = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        mallory = await add_staff(runtime, "mallory@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, ana)
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as theirs:
            await sign_in(theirs, runtime, mallory)
            page = await theirs.get("/console/passkeys")
            options = await theirs.post("/console/passkeys/options", headers={"X-CSRF-Token": csrf_of(page.text)})
            answer = SoftAuthenticator(LOCAL).create(options.json())
        ana_csrf = csrf_of((await http.get("/console/passkeys")).text)
        refused = await http.post("/console/passkeys", json={"name": "x", "credential": answer}, headers={"X-CSRF-Token": ana_csrf})
        assert refused.status_code == 400
        async with runtime.sessions() as session:
            assert (await session.scalars(select(StaffPasskey))).all() == []

    async def test_garbage_answers_are_400_not_500(self, http, app_transport, runtime, issuers) -> None:
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as browser:
            csrf, _ = await _passkey_options(browser)
            for garbage in ({}, {"response": "x"}, {"id": "x", "response": {"clientDataJSON": "!!!"}}, {"response": {"clientDataJSON": "e30"}}):
                answer = await _passkey_sign_in(browser, garbage, csrf)
                assert answer.status_code == 400, (garbage, answer.text)

    async def test_the_json_routes_need_the_csrf_token(self, http, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        assert (await http.post("/console/passkeys/options")).status_code == 403
        assert (await http.post("/console/sign-in/passkey/options")).status_code == 403


class TestRequiredPasskeys:
    async def test_staff_without_a_passkey_add_one_before_the_issuers_pages(self, http, app_transport, runtime, issuers) -> None:
        owner = await _owner(http, runtime)
        await _add_passkey(http, SoftAuthenticator(LOCAL))  # or the owner would be asked for one too
        page = await http.get("/console/spe/staff")
        turned_on = await http.post("/console/spe/staff/passkeys", data={"required": "yes", "csrf_token": csrf_of(page.text)})
        assert turned_on.status_code == 303
        assert "Passkeys are now required" in (await http.get(turned_on.headers["location"])).text
        [entry] = await _audit(runtime, "issuer.passkeys_required")
        assert entry.actor == f"staff:{owner.id}" and entry.issuer_id == "spe"

        viewer = await add_staff(runtime, "vera@spe.example", {"spe": "viewer", "other": "viewer"})
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as theirs:
            await sign_in(theirs, runtime, viewer)
            sent = await theirs.get("/console/spe/?from=mail")
            assert sent.status_code == 303
            assert sent.headers["location"] == "/console/passkeys?required=spe&next=%2Fconsole%2Fspe%2F%3Ffrom%3Dmail"
            asked = await theirs.get(sent.headers["location"])
            assert "Society of Precision Engineers requires its staff to sign in with a passkey" in asked.text
            assert (await theirs.get("/console/other/")).status_code == 200  # another issuer does not require them
            assert (await _add_passkey(theirs, SoftAuthenticator(LOCAL))).status_code == 201
            assert (await theirs.get("/console/spe/")).status_code == 200

    async def test_a_member_signed_in_by_email_confirms_with_their_passkey(self, http, app_transport, runtime, issuers) -> None:
        await _owner(http, runtime)
        await _add_passkey(http, SoftAuthenticator(LOCAL))
        page = await http.get("/console/spe/staff")
        await http.post("/console/spe/staff/passkeys", data={"required": "yes", "csrf_token": csrf_of(page.text)})
        vera = await add_staff(runtime, "vera@spe.example", {"spe": "viewer"})
        key = SoftAuthenticator(LOCAL)
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as first:
            await sign_in(first, runtime, vera)
            await _add_passkey(first, key)
            assert (await first.get("/console/spe/")).status_code == 200  # the session she added it in
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as later:
            await sign_in(later, runtime, vera)  # by email: her passkey is asked for
            sent = await later.get("/console/spe/?tab=1")
            assert sent.status_code == 303
            assert sent.headers["location"] == "/console/passkeys/confirm?required=spe&next=%2Fconsole%2Fspe%2F%3Ftab%3D1"
            asked = await later.get(sent.headers["location"])
            assert "confirm with your passkey to continue" in asked.text
            csrf = re.search(r'data-csrf="([^"]+)"', asked.text).group(1)  # type: ignore[union-attr]

            someone_elses = SoftAuthenticator(LOCAL)  # Olga's authenticator cannot confirm Vera's session
            await _add_passkey(http, someone_elses)
            options = (await later.post("/console/passkeys/confirm/options", headers={"X-CSRF-Token": csrf})).json()
            assert len(options["allowCredentials"]) == 1
            refused = await later.post("/console/passkeys/confirm", json={"credential": someone_elses.get(options)}, headers={"X-CSRF-Token": csrf})
            assert refused.status_code == 400 and (await later.get("/console/spe/")).status_code == 303

            options = (await later.post("/console/passkeys/confirm/options", headers={"X-CSRF-Token": csrf})).json()
            done = await later.post("/console/passkeys/confirm", json={"credential": key.get(options), "next": "/console/spe/?tab=1"}, headers={"X-CSRF-Token": csrf})
            assert done.status_code == 200 and done.json() == {"redirect": "/console/spe/?tab=1"}
            assert (await later.get("/console/spe/")).status_code == 200

            async with runtime.sessions() as session:
                passkey = await session.scalar(select(StaffPasskey).where(StaffPasskey.staff_id == vera.id))
            assert passkey is not None
            page = await later.get("/console/passkeys")
            await later.post(f"/console/passkeys/{passkey.id}/remove", data={"csrf_token": csrf_of(page.text)})
            again = await later.get("/console/spe/")  # the passkey that confirmed the session is gone
            assert again.status_code == 303 and again.headers["location"].startswith("/console/passkeys?required=spe")

    async def test_a_passkey_sign_in_needs_no_confirmation(self, http, app_transport, runtime, issuers) -> None:
        await _owner(http, runtime)
        key = SoftAuthenticator(LOCAL)
        await _add_passkey(http, key)
        page = await http.get("/console/spe/staff")
        await http.post("/console/spe/staff/passkeys", data={"required": "yes", "csrf_token": csrf_of(page.text)})
        async with httpx.AsyncClient(transport=app_transport, base_url=LOCAL) as browser:
            csrf, options = await _passkey_options(browser)
            assert (await _passkey_sign_in(browser, key.get(options), csrf)).status_code == 200
            assert (await browser.get("/console/spe/staff")).status_code == 200

    async def test_an_owner_can_turn_it_off(self, http, runtime, issuers) -> None:
        await _owner(http, runtime)
        await _add_passkey(http, SoftAuthenticator(LOCAL))
        page = await http.get("/console/spe/staff")
        await http.post("/console/spe/staff/passkeys", data={"required": "yes", "csrf_token": csrf_of(page.text)})
        off = await http.post("/console/spe/staff/passkeys", data={"csrf_token": csrf_of(page.text)})
        assert "no longer required" in (await http.get(off.headers["location"])).text
        assert [e.action for e in await _audit(runtime, "issuer.passkeys_optional")] == ["issuer.passkeys_optional"]


async def test_the_relying_party_is_the_base_urls_host_and_origin() -> None:
    """Passkeys are bound to the host people reach the service at (MICROCRED_BASE_URL)."""
    rp = relying_party("https://Badges.Example.org:8443")
    assert (rp.id, rp.origin) == ("badges.example.org", "https://badges.example.org:8443")
    assert relying_party("http://localhost:8000").id == "localhost"
