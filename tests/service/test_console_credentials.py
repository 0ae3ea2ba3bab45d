"""The console's dashboard and credentials pages through HTTP, as a signed-in staff member:
what each role may do, the search, a revocation with its private reason, correct-and-reissue."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import pytest_asyncio

from microcred.runtime import Runtime

from ..factories.service import ServiceClient
from .console_helpers import LOCAL, add_staff, csrf_of, sign_in, http, settings  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio




@pytest_asyncio.fixture
async def awarded(http: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    api = await ServiceClient.start(http, runtime)
    await api.create_issuer("spe", name="Society of Precision Engineers")
    await api.create_issuer("other", name="Other Society")
    achievement = await api.create_achievement("spe")
    response = await api.award("spe", achievement["id"], recipient={"email": "zoe@example.org", "name": "Zoë Jnasen"})
    assert response.status_code == 201, response.text
    award: dict[str, Any] = response.json()
    return award


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_a_viewer_sees_the_dashboard_and_finds_a_credential_but_may_not_revoke_it(http: httpx.AsyncClient, runtime: Runtime, awarded: dict[str, Any]) -> None:
    await sign_in(http, runtime, await add_staff(runtime, "vera@spe.example", {"spe": "viewer"}))
    home = await http.get("/console/spe/")
    assert home.status_code == 200
    assert re.search(r'id="awards-week">1<', home.text) and "credential.issued" in home.text
    found = await http.get("/console/spe/credentials", params={"q": "jnas", "status": "active"})
    assert found.status_code == 200 and f"/console/spe/credentials/{awarded['id']}" in found.text
    assert "Zoë Jnasen" in found.text
    none = await http.get("/console/spe/credentials", params={"q": "nobody"})
    assert "No credential matches these filters" in _text(none.text)
    bad = await http.get("/console/spe/credentials", params={"from": "03-12-2026"})
    assert bad.status_code == 422 and "Enter a date as year-month-day" in bad.text
    page = await http.get(f"/console/spe/credentials/{awarded['id']}")
    assert page.status_code == 200 and "Timeline" in page.text and "Issued" in _text(page.text)
    assert "/revoke" not in page.text  # no action offered to a viewer
    assert (await http.get(f"/console/spe/credentials/{awarded['id']}/revoke")).status_code == 403
    refused = await http.post(f"/console/spe/credentials/{awarded['id']}/revoke", data={"csrf_token": csrf_of(page.text), "reason": "x"})
    assert refused.status_code == 403
    assert (await http.get(f"/console/other/credentials/{awarded['id']}")).status_code == 404


async def test_an_awarder_revokes_with_a_private_reason_and_corrects_a_misspelt_name(http: httpx.AsyncClient, runtime: Runtime, awarded: dict[str, Any]) -> None:
    await sign_in(http, runtime, await add_staff(runtime, "awa@spe.example", {"spe": "awarder"}))
    page = await http.get(f"/console/spe/credentials/{awarded['id']}/correct")
    assert page.status_code == 200
    same = await http.post(f"/console/spe/credentials/{awarded['id']}/correct", data={"csrf_token": csrf_of(page.text), "recipient_name": "Zoë Jnasen"})
    assert same.status_code == 422 and "The name is the same" in same.text
    done = await http.post(
        f"/console/spe/credentials/{awarded['id']}/correct", data={"csrf_token": csrf_of(page.text), "recipient_name": "Zoë Jansen", "note": "typo"}
    )
    assert done.status_code == 303, done.text
    new_page = await http.get(done.headers["location"])
    assert 'id="learner-name">Zoë Jansen<' in new_page.text and "corrected replacement" in new_page.text
    new_id = done.headers["location"].split("/")[-1].split("?")[0]

    form = await http.get(f"/console/spe/credentials/{new_id}/revoke")
    assert "Revoking is final" in form.text
    empty = await http.post(f"/console/spe/credentials/{new_id}/revoke", data={"csrf_token": csrf_of(form.text), "reason": ""})
    assert empty.status_code == 422 and "Give the reason" in empty.text
    revoked = await http.post(f"/console/spe/credentials/{new_id}/revoke", data={"csrf_token": csrf_of(form.text), "reason": "exam fraud"})
    assert revoked.status_code == 303
    after = await http.get(revoked.headers["location"])
    assert 'id="credential-status" class="status-revoked">Revoked<' in after.text and "exam fraud" in after.text
    public = await http.get(f"/credentials/{new_id}", headers={"Accept": "text/html"})
    assert 'data-status="revoked"' in public.text and "exam fraud" not in public.text
    old = await http.get(f"/console/spe/credentials/{awarded['id']}")
    assert "superseded" in old.text.lower() and "Superseded: a corrected credential replaces it" in old.text
