"""The console's achievement and issuer profile pages, through the real sign-in on the ASGI
client: what a manager, a viewer and an owner see and can do."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from typing import Any

import httpx
import pytest
import pytest_asyncio

from microcred.app import create_app
from microcred.config import Settings
from microcred.runtime import Runtime

from ..factories.service import EU_ELEMENTS, ServiceClient
from .console_helpers import add_staff, csrf_of, sign_in

pytestmark = pytest.mark.asyncio
LOCAL = "http://localhost:8000"

COMPLETE_FORM: dict[str, str] = {
    "name": "Precision Turning",
    "description": str(EU_ELEMENTS["description"]),
    "learning_outcomes": "\n".join(EU_ELEMENTS["learning_outcomes"]),
    "assessed": "yes",
    "credits_available": "3",
    "eqf_level": "4",
    "assessment_type": "Practical examination",
    "participation_form": "Onsite",
    "quality_assurance": "Accredited by the society's board",
    "human_code": "PT-101",
    "result_0_name": "Final grade",
    "result_0_result_type": "GradePointAverage",
    "result_0_value_min": "1",
    "result_0_value_max": "10",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"base_url": LOCAL})


@pytest_asyncio.fixture
async def app(settings: Settings, runtime: Runtime) -> Any:
    return create_app(settings, runtime=runtime, migrate=False)


@pytest_asyncio.fixture
async def api(app: Any, runtime: Runtime) -> AsyncIterator[ServiceClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=LOCAL) as client:
        yield await ServiceClient.start(client, runtime)


async def _member(app: Any, runtime: Runtime, email: str, roles: dict[str, str]) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=LOCAL)
    await sign_in(client, runtime, await add_staff(runtime, email, roles))
    return client


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def _post(client: httpx.AsyncClient, page: str, action: str, form: dict[str, str]) -> httpx.Response:
    got = await client.get(page)
    assert got.status_code == 200, got.text
    return await client.post(action, data={"csrf_token": csrf_of(got.text), **form})


async def test_a_manager_drafts_sees_what_is_missing_publishes_edits_and_compares(api: ServiceClient, app: Any, runtime: Runtime) -> None:
    issuer = await api.create_issuer("spe")
    manager = await _member(app, runtime, "manager@example.org", {"spe": "manager"})
    base = "/console/spe/achievements"

    draft = await _post(manager, f"{base}/new", f"{base}/new", {"name": "Precision Turning", "description": "Turns parts."})
    assert draft.status_code == 303, draft.text
    detail_url = draft.headers["location"]
    detail = await manager.get(detail_url)
    text = _text(detail.text)
    assert "Status: Draft" in text
    assert "learning outcomes (or a criteria narrative)" in text and "type of assessment" in text
    assert "description of the achievement" not in text

    # The checklist fragment (htmx posts the form on every change) follows the form.
    token = csrf_of(detail.text)
    fragment = await manager.post(f"{base}/checklist", data={"csrf_token": token, **COMPLETE_FORM, "quality_assurance": ""})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "1 EU element missing" in _text(fragment.text) and "type of quality assurance" in fragment.text
    complete = await manager.post(f"{base}/checklist", data={"csrf_token": token, **COMPLETE_FORM})
    assert "Every EU element is present" in _text(complete.text)

    # Publishing the incomplete draft is refused, naming what is missing; nothing changes.
    refused = await manager.post(f"{detail_url}/publish", data={"csrf_token": token})
    assert refused.status_code == 422 and "cannot publish" in _text(refused.text)
    # A form error lands on its field, tied by aria-describedby.
    bad = await _post(manager, f"{detail_url}/edit", f"{detail_url}/edit", {**COMPLETE_FORM, "eqf_level": "9"})
    assert bad.status_code == 422
    assert re.search(r'id="f-eqf_level"[^>]*aria-describedby="hint-eqf_level error-eqf_level"[^>]*aria-invalid="true"', bad.text), bad.text
    assert 'id="error-eqf_level"' in bad.text

    saved = await _post(manager, f"{detail_url}/edit", f"{detail_url}/edit", {**COMPLETE_FORM, "action": "publish"})
    assert saved.status_code == 303, _text(saved.text)
    published = _text((await manager.get(detail_url)).text)
    assert "Status: Published · version 1" in published and "Every EU element is present" in published

    listing = _text((await manager.get(base)).text)
    assert "Precision Turning PT-101 Published 1 Complete" in listing

    # An edit that drops an EU element of a published achievement is refused whole.
    dropped = await _post(manager, f"{detail_url}/edit", f"{detail_url}/edit", {**COMPLETE_FORM, "quality_assurance": ""})
    assert dropped.status_code == 422 and "Nothing was saved" in _text(dropped.text)
    assert "Status: Published · version 1" in _text((await manager.get(detail_url)).text)

    # Edit: a new version, and the two side by side.
    edited = await _post(manager, f"{detail_url}/edit", f"{detail_url}/edit", {**COMPLETE_FORM, "assessment_type": "Written exam"})
    assert edited.status_code == 303
    diff = await manager.get(f"{detail_url}/diff", params={"from": 1, "to": 2})
    assert diff.status_code == 200
    row = re.search(r'<tr data-key="alignment:assessmentType" class="changed">(.*?)</tr>', diff.text, re.S)
    assert row is not None and "Practical examination" in row.group(1) and "Written exam" in row.group(1)
    assert "1 field changed." in _text(diff.text)

    # Retire, behind a confirmation page that says what happens.
    confirm = await manager.get(f"{detail_url}/retire")
    assert "Every credential already awarded stays valid" in _text(confirm.text)
    retired = await manager.post(f"{detail_url}/retire", data={"csrf_token": csrf_of(confirm.text)})
    assert retired.status_code == 303
    assert "Status: Retired" in _text((await manager.get(detail_url)).text)
    achievement_id = detail_url.rsplit("/", 1)[1]
    refused_award = await api.award(issuer["id"], achievement_id)
    assert refused_award.status_code == 422 and "retired" in refused_award.json()["detail"]
    await manager.aclose()


async def test_the_preview_is_marked_and_signs_nothing(api: ServiceClient, app: Any, runtime: Runtime) -> None:
    await api.create_issuer("spe")
    manager = await _member(app, runtime, "manager@example.org", {"spe": "manager"})
    created = await _post(manager, "/console/spe/achievements/new", "/console/spe/achievements/new", COMPLETE_FORM)
    detail_url = created.headers["location"]
    preview = await manager.get(f"{detail_url}/preview")
    assert preview.status_code == 200
    assert "Preview: not a credential" in _text(preview.text) and '"proof"' not in preview.text
    page = await manager.get(f"{detail_url}/preview/page")
    assert page.status_code == 200 and "Preview: not a credential" in page.text and "Sample Learner" in page.text
    assert "script-src" not in page.headers["content-security-policy"] and page.headers["x-robots-tag"] == "noindex"
    badge = await manager.get(f"{detail_url}/preview/badge.svg")
    assert badge.headers["content-type"].startswith("image/svg+xml") and "Precision Turning" in badge.text
    listed = (await api.http.get("/api/v1/issuers/spe/credentials", headers=api.admin)).json()
    assert listed["items"] == []
    await manager.aclose()


async def test_a_viewer_reads_but_cannot_change_and_another_issuers_staff_gets_404(api: ServiceClient, app: Any, runtime: Runtime) -> None:
    await api.create_issuer("spe")
    await api.create_issuer("other")
    achievement = await api.create_achievement("spe")
    viewer = await _member(app, runtime, "viewer@example.org", {"spe": "viewer"})
    assert (await viewer.get("/console/spe/achievements")).status_code == 200
    detail = await viewer.get(f"/console/spe/achievements/{achievement['id']}")
    assert detail.status_code == 200 and "Retire" not in detail.text and "/edit" not in detail.text
    assert (await viewer.get("/console/spe/achievements/new")).status_code == 403
    assert (await viewer.get(f"/console/spe/achievements/{achievement['id']}/retire")).status_code == 403
    profile = await viewer.get("/console/spe/profile")
    assert profile.status_code == 200 and "<input" not in profile.text.split("Signing keys")[0].split("Profile</h2>")[1]
    assert (await viewer.get("/console/spe/profile/rotate-key")).status_code == 403
    outsider = await _member(app, runtime, "outsider@example.org", {"other": "owner"})
    for path in ("/console/spe/achievements", f"/console/spe/achievements/{achievement['id']}", "/console/spe/profile"):
        assert (await outsider.get(path)).status_code == 404, path
    assert (await outsider.get(f"/console/other/achievements/{achievement['id']}")).status_code == 404
    await viewer.aclose()
    await outsider.aclose()


async def test_an_owner_edits_the_profile_but_cannot_drop_the_country_and_rotates_the_key(
    api: ServiceClient, app: Any, runtime: Runtime
) -> None:
    await api.create_issuer("spe")
    old_credential = (await api.award("spe", (await api.create_achievement("spe"))["id"])).json()["credential"]
    owner = await _member(app, runtime, "owner@example.org", {"spe": "owner"})
    page = await owner.get("/console/spe/profile")
    assert "did:web:" in page.text and "Current" in page.text
    form = {"name": "Society of Precision Engineers", "url": "https://spe.example", "address_country": "", "address_country_code": "", "address_region": ""}
    refused = await owner.post("/console/spe/profile", data={"csrf_token": csrf_of(page.text), **form})
    assert refused.status_code == 422
    assert "EU mandatory element" in _text(refused.text)
    assert re.search(r'id="f-address_country"[^>]*aria-describedby="error-address_country"', refused.text), refused.text
    moved = await owner.post("/console/spe/profile", data={"csrf_token": csrf_of(page.text), **form, "address_country_code": "be"})
    assert moved.status_code == 303
    issuer = (await api.http.get("/api/v1/issuers/spe", headers=api.admin)).json()
    assert issuer["address"]["country_code"] == "BE" and issuer["url"] == "https://spe.example"
    assert issuer["default_language"] == "en"  # a form without the field leaves it as it was
    assert re.search(r'<option value="en" lang="en" selected>English</option>', (await owner.get("/console/spe/profile")).text)
    dutch = await owner.post("/console/spe/profile", data={"csrf_token": csrf_of(page.text), **form, "address_country_code": "BE", "default_language": "nl"})
    assert dutch.status_code == 303
    assert (await api.http.get("/api/v1/issuers/spe", headers=api.admin)).json()["default_language"] == "nl"
    unknown = await owner.post("/console/spe/profile", data={"csrf_token": csrf_of(page.text), **form, "address_country_code": "BE", "default_language": "fr"})
    assert unknown.status_code == 422
    assert re.search(r'id="f-default_language"[^>]*aria-describedby="hint-default_language error-default_language"', unknown.text), unknown.text

    confirm = await owner.get("/console/spe/profile/rotate-key")
    words = _text(confirm.text)
    assert "Credentials already issued stay valid and keep verifying" in words and "stays in the issuer's DID document" in words
    before = issuer["verification_method"]
    rotated = await owner.post("/console/spe/profile/rotate-key", data={"csrf_token": csrf_of(confirm.text)})
    assert rotated.status_code == 303
    after = (await api.http.get("/api/v1/issuers/spe", headers=api.admin)).json()["verification_method"]
    assert after != before
    shown = (await owner.get(rotated.headers["location"])).text
    assert "The key was rotated." in shown and "Retired" in shown and before.rpartition("#")[2] in shown
    report = (await api.http.post("/api/v1/verify", json=old_credential)).json()
    assert report["verdict"] == "valid", report
    await owner.aclose()


async def test_a_taken_course_code_is_named_on_its_field_and_a_refused_publication_keeps_the_draft(
    api: ServiceClient, app: Any, runtime: Runtime
) -> None:
    await api.create_issuer("spe")
    await api.create_achievement("spe", human_code="PT-101")
    manager = await _member(app, runtime, "manager@example.org", {"spe": "manager"})
    taken = await _post(manager, "/console/spe/achievements/new", "/console/spe/achievements/new", {**COMPLETE_FORM, "human_code": "pt-101"})
    assert taken.status_code == 409
    assert re.search(r'id="f-human_code"[^>]*aria-describedby="hint-human_code error-human_code"', taken.text), taken.text
    # "Save and publish" on an incomplete draft: saved as a draft, the missing elements named.
    draft = await _post(manager, "/console/spe/achievements/new", "/console/spe/achievements/new", {"name": "Half done"})
    url = draft.headers["location"]
    half = await _post(manager, f"{url}/edit", f"{url}/edit", {"name": "Half done", "description": "Now described.", "action": "publish"})
    assert half.status_code == 422 and "Saved as a draft, not published" in _text(half.text)
    listed = (await api.http.get(f"/api/v1/issuers/spe/achievements/{url.rsplit('/', 1)[1]}", headers=api.admin)).json()
    assert (listed["status"], listed["definition"]["description"]) == ("draft", "Now described.")
    await manager.aclose()


async def test_office_staff_enter_the_dutch_name_description_and_criteria(api: ServiceClient, app: Any, runtime: Runtime) -> None:
    await api.create_issuer("spe")
    manager = await _member(app, runtime, "manager@example.org", {"spe": "manager"})
    base = "/console/spe/achievements"
    form = (await manager.get(f"{base}/new")).text
    # The texts are in the issuer's default language (English); Dutch is the other one offered.
    assert re.search(r'<option value="en" selected>English</option>', form) and "In Dutch (optional)" in form
    assert 'name="translation_nl_name"' in form and 'name="translation_en_name"' not in form

    dutch = {
        "translation_nl_name": "Precisiedraaien",
        "translation_nl_description": "Draait instrumentonderdelen tot op ±5 µm.",
        "translation_nl_criteria_narrative": "Een praktijkexamen aan de draaibank.",
    }
    # Publishing needs the Dutch description too, since the achievement has one: named on its field.
    incomplete = await _post(
        manager, f"{base}/new", f"{base}/new",
        {**COMPLETE_FORM, "language": "en", "translation_nl_name": "Precisiedraaien", "action": "publish"},
    )
    assert incomplete.status_code == 422 and "Nothing was saved" in _text(incomplete.text)
    assert re.search(r'id="f-translation_nl_description"[^>]*aria-invalid="true"', incomplete.text), incomplete.text
    # A translation without its name is refused on the name's field.
    nameless = await _post(manager, f"{base}/new", f"{base}/new", {**COMPLETE_FORM, "translation_nl_description": "Alleen dit."})
    assert nameless.status_code == 422 and 'id="error-translation_nl_name"' in nameless.text

    saved = await _post(manager, f"{base}/new", f"{base}/new", {**COMPLETE_FORM, "language": "en", **dutch, "action": "publish"})
    assert saved.status_code == 303, _text(saved.text)
    achievement_id = saved.headers["location"].rsplit("/", 1)[1]
    stored = (await api.http.get(f"/api/v1/issuers/spe/achievements/{achievement_id}", headers=api.admin)).json()
    assert stored["definition"]["language"] == "en"
    assert stored["definition"]["translations"] == {
        "nl": {"name": dutch["translation_nl_name"], "description": dutch["translation_nl_description"],
               "criteria_narrative": dutch["translation_nl_criteria_narrative"]},
    }
    edit = (await manager.get(f"{saved.headers['location']}/edit")).text
    assert 'value="Precisiedraaien"' in edit and "Een praktijkexamen aan de draaibank." in edit

    # A credential for a learner the LMS says reads Dutch carries the Dutch text.
    credential = (await api.award("spe", achievement_id, language="nl")).json()["credential"]
    assert credential["credentialSubject"]["achievement"]["name"] == "Precisiedraaien"
    await manager.aclose()
