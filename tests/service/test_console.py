"""The console's foundation: signing in by emailed link, sessions, CSRF, and who may see which
issuer's pages. Email goes through the development mailer (the base URL is on localhost), which
writes each message to a file, so the tests read the link from the message as a person would."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import update

from microcred.config import Settings
from microcred.db.models import StaffSession
from microcred.runtime import Runtime

from ..factories.service import ServiceClient
from .console_helpers import LOCAL, add_staff, csrf_of, sign_in, sign_in_with_link, http, settings  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio




@pytest_asyncio.fixture
async def issuers(http: httpx.AsyncClient, runtime: Runtime) -> tuple[str, str]:
    api = await ServiceClient.start(http, runtime)
    first = await api.create_issuer("spe", name="Society of Precision Engineers")
    second = await api.create_issuer("other", name="Other Society")
    return first["id"], second["id"]


def _mail(settings: Settings) -> list[email.message.Message]:
    folder = Path(settings.data_dir) / "mail"
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def _body(message: email.message.Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _link(message: email.message.Message) -> str:
    body = _body(message)
    found = re.search(r"^(http\S+)$", body, re.M)
    assert found, body
    return found.group(1)


async def _ask_for_link(http: httpx.AsyncClient, address: str, next_path: str = "/console") -> httpx.Response:
    page = await http.get("/console/sign-in")
    return await http.post("/console/sign-in", data={"email": address, "next": next_path, "csrf_token": csrf_of(page.text)})


class TestSignIn:
    async def test_a_page_asks_for_sign_in_and_comes_back_after_it(self, http, settings, runtime, issuers) -> None:
        await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        first = await http.get("/console/spe/?tab=x")
        assert first.status_code == 303 and first.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fspe%2F%3Ftab%3Dx"
        sent = await _ask_for_link(http, "Ana@SPE.example", "/console/spe/?tab=x")
        assert sent.status_code == 200 and "sign-in link is on its way" in sent.text
        [message] = _mail(settings)
        assert message["To"] == "ana@spe.example" and "staff console" in _body(message)
        answer = await sign_in_with_link(http, _link(message))
        assert answer.status_code == 303 and answer.headers["location"] == "/console/spe/?tab=x"
        page = await http.get("/console/spe/")
        assert page.status_code == 200 and "Society of Precision Engineers" in page.text and "ana@spe.example" in page.text

    async def test_an_address_without_an_account_gets_the_same_answer_and_no_email(self, http, settings, issuers) -> None:
        sent = await _ask_for_link(http, "stranger@example.org")
        assert sent.status_code == 200 and "sign-in link is on its way" in sent.text
        assert _mail(settings) == []

    async def test_a_link_works_once(self, http, settings, runtime, issuers) -> None:
        await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await _ask_for_link(http, "ana@spe.example")
        link = _link(_mail(settings)[0])
        assert (await sign_in_with_link(http, link)).status_code == 303
        http.cookies.clear()
        again = await http.get(link.removeprefix(LOCAL))
        assert again.status_code == 400 and "does not work any more" in again.text

    async def test_signing_in_gives_a_new_session_id(self, http, settings, runtime, issuers) -> None:
        """Session fixation: a session id planted in the browser before sign-in is never the one
        it gets, and each sign-in gets another."""
        await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        planted = "planted-by-someone-else-0000000000000000"
        http.cookies.set("microcred_staff", planted)
        given = []
        for _ in range(2):
            await _ask_for_link(http, "ana@spe.example")
            answer = await sign_in_with_link(http, _link(_mail(settings)[-1]))
            cookie = answer.headers["set-cookie"]
            assert cookie.startswith("microcred_staff=")
            given.append(cookie.split(";")[0].split("=", 1)[1])
        assert planted not in given and given[0] != given[1]
        assert (await http.get("/console/spe/")).status_code == 200

    async def test_requests_for_one_address_are_limited_quietly(self, http, settings, runtime, issuers) -> None:
        await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        for _ in range(7):
            assert (await _ask_for_link(http, "ana@spe.example")).status_code == 200
        assert len(_mail(settings)) == 5

    async def test_requests_from_one_client_are_limited_with_429(self, http, settings, issuers) -> None:
        answers = [(await _ask_for_link(http, f"guess{i}@spe.example")).status_code for i in range(21)]
        assert answers[:20] == [200] * 20 and answers[20] == 429
        last = await _ask_for_link(http, "guess-last@spe.example")
        assert last.status_code == 429 and int(last.headers["retry-after"]) > 0 and "Too many" in last.text

    async def test_an_idle_session_ends(self, http, runtime, settings, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        long_ago = datetime.now(UTC) - timedelta(seconds=settings.staff_idle_seconds + 5)
        async with runtime.sessions() as session, session.begin():
            await session.execute(update(StaffSession).values(last_seen_at=long_ago))
        answer = await http.get("/console/spe/")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/console/sign-in")

    async def test_sign_out_needs_the_csrf_token_and_ends_the_session(self, http, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        refused = await http.post("/console/sign-out", data={})
        assert refused.status_code == 403 and "did not come from this console page" in refused.text
        page = await http.get("/console/spe/")
        answer = await http.post("/console/sign-out", data={"csrf_token": csrf_of(page.text)})
        assert answer.status_code == 303
        assert (await http.get("/console/spe/")).status_code == 303

    async def test_a_sign_in_form_from_another_site_is_refused(self, http, runtime, settings, issuers) -> None:
        """Login CSRF: the confirmation form is bound to the browser that opened the link."""
        await add_staff(runtime, "mallory@spe.example", {"spe": "viewer"})
        await _ask_for_link(http, "mallory@spe.example")
        token = _link(_mail(settings)[0]).split("token=")[1].split("&")[0]
        async with httpx.AsyncClient(transport=http._transport, base_url=LOCAL) as victim:
            answer = await victim.post("/console/sign-in/confirm", data={"token": token, "csrf_token": "forged"})
        assert answer.status_code == 403


class TestIssuerAccess:
    async def test_a_member_sees_only_their_issuers(self, http, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        home = await http.get("/console")
        assert home.status_code == 303 and home.headers["location"] == "/console/spe/"
        other = await http.get("/console/other/")
        assert other.status_code == 404 and "not on its staff" in other.text
        missing = await http.get("/console/no-such-issuer/")
        assert missing.status_code == 404 and missing.text == other.text  # the same page: nothing to learn

    async def test_an_admin_works_for_every_issuer(self, http, runtime, issuers) -> None:
        member = await add_staff(runtime, "root@spe.example", admin=True)
        await sign_in(http, runtime, member)
        home = await http.get("/console")
        assert home.status_code == 200 and "Society of Precision Engineers" in home.text and "Other Society" in home.text
        assert (await http.get("/console/other/")).status_code == 200

    async def test_the_navigation_offers_what_the_role_may_do(self, http, runtime, issuers) -> None:
        viewer = await add_staff(runtime, "viewer@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, viewer)
        page = (await http.get("/console/spe/")).text
        assert "/console/spe/credentials" in page and "/console/spe/bulk" not in page and "/console/spe/api-keys" not in page

    async def test_pages_carry_the_console_headers(self, http, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        page = await http.get("/console/spe/")
        assert page.headers["cache-control"] == "no-store"
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        css = await http.get("/console/static/console.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert (await http.get("/console/static/htmx.min.js")).status_code == 200
