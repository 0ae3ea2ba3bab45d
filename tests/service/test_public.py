"""The public side of a credential: its URL for people and machines, and its issuer's keys."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from microcred.credentials import CONTEXTS, eu_elements, issue, verify
from microcred.db.models import AchievementVersion, Credential
from microcred.documents import embedded_credential

from ..conftest import VECTORS
from ..factories.service import ServiceClient, resolver
from .conftest import is_problem

pytestmark = pytest.mark.asyncio


class _Page(HTMLParser):
    """What a person sees: the text, the status banner, and the links."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.status: str | None = None
        self.links: dict[str, str] = {}
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("role") == "status" and a.get("data-status"):
            self.status = a["data-status"]
        if tag == "a" and a.get("id") and a.get("href"):
            self.links[str(a["id"])] = str(a["href"])
        if tag == "meta" and a.get("property") and a.get("content"):
            self.meta[str(a["property"])] = str(a["content"])

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @classmethod
    def of(cls, html: str) -> _Page:
        page = cls()
        page.feed(html)
        return page

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


async def _award(service: ServiceClient, **award: Any) -> tuple[str, dict[str, Any]]:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    response = await service.award(issuer["id"], achievement["id"], recipient={"email": "zoe@example.org", "name": "Zoë Jansen"}, **award)
    assert response.status_code == 201, response.text
    return issuer["id"], response.json()


def _path(service: ServiceClient, url: str) -> str:
    return url.removeprefix(service.runtime.settings.base_url)


async def _linkedin(service: ServiceClient, page: _Page) -> str:
    """Where the page's LinkedIn link leads: through our own URL (which counts the click) to
    LinkedIn's prefilled form."""
    response = await service.http.get(_path(service, page.links["linkedin-add"]))
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def test_machines_get_the_signed_credential_in_the_type_they_ask_for(service: ServiceClient) -> None:
    _, award = await _award(service)
    path = _path(service, award["url"])
    for accept in ("application/ld+json", "application/vc+ld+json", "application/json", "*/*"):
        response = await service.http.get(path, headers={"Accept": accept})
        assert response.status_code == 200
        assert response.json() == award["credential"]
        assert response.headers["vary"] == "Accept"
    jwt = await service.http.get(path, headers={"Accept": "application/vc+jwt"})
    assert jwt.headers["content-type"].startswith("application/vc+jwt") and jwt.text.count(".") == 2
    report = verify(jwt.text, resolve_key=resolver(service.runtime))
    assert report.format == "jwt" and report.check("proof") is not None and report.check("proof").outcome == "passed"  # type: ignore[union-attr]
    is_problem(await service.http.get("/credentials/does-not-exist", headers={"Accept": "application/json"}), 404)


async def test_a_person_sees_who_what_and_that_it_is_valid_and_can_add_it_to_linkedin(service: ServiceClient) -> None:
    _, award = await _award(service)
    response = await service.http.get(_path(service, award["url"]), headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = _Page.of(response.text)
    assert page.status == "valid"
    credential = award["credential"]
    achievement = credential["credentialSubject"]["achievement"]
    assert "Zoë Jansen" in page.words and achievement["name"] in page.words and credential["issuer"]["name"] in page.words
    assert "zoe@example.org" not in response.text  # the email went into the credential hashed
    assert page.meta["og:title"] and page.meta["og:url"] == award["url"]
    query = parse_qs(urlsplit(await _linkedin(service, page)).query)
    completed = datetime.fromisoformat(credential["awardedDate"].replace("Z", "+00:00"))
    assert query == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": [achievement["name"]],
        "organizationName": [credential["issuer"]["name"]],
        "issueYear": [str(completed.year)],
        "issueMonth": [str(completed.month)],
        "certUrl": [award["url"]],
        "certId": [award["id"]],
    }


async def test_the_linkedin_link_carries_the_expiry_and_the_organization_id_when_there_are_some(service: ServiceClient) -> None:
    issuer = await service.create_issuer(linkedin_organization_id="1337")
    achievement = await service.create_achievement(issuer["id"])
    until = (datetime.now(UTC) + timedelta(days=800)).date()
    award = (await service.award(issuer["id"], achievement["id"], valid_until=until.isoformat())).json()
    page = _Page.of((await service.http.get(_path(service, award["url"]), headers={"Accept": "text/html"})).text)
    query = parse_qs(urlsplit(await _linkedin(service, page)).query)
    assert query["organizationId"] == ["1337"] and "organizationName" not in query
    assert query["expirationYear"] == [str(until.year)] and query["expirationMonth"] == [str(until.month)]


async def test_a_revoked_credential_says_so_without_the_reason_and_offers_no_linkedin_link(service: ServiceClient) -> None:
    issuer_id, award = await _award(service)
    revoked = await service.http.post(
        f"/api/v1/issuers/{issuer_id}/credentials/{award['id']}/revoke", json={"reason": "exam fraud by the learner"}, headers=service.admin
    )
    assert revoked.status_code == 200
    response = await service.http.get(_path(service, award["url"]), headers={"Accept": "text/html"})
    page = _Page.of(response.text)
    assert page.status == "revoked" and "linkedin-add" not in page.links
    assert "exam fraud" not in response.text


async def test_verifiers_find_the_issuer_keys_at_its_did_web_url_and_its_profile(service: ServiceClient) -> None:
    issuer_id, award = await _award(service)
    did_doc = (await service.http.get(f"/issuers/{issuer_id}/did.json")).json()
    credential = award["credential"]
    assert did_doc["id"] == credential["issuer"]["id"]
    assert credential["proof"]["verificationMethod"] in did_doc["assertionMethod"]
    profile = (await service.http.get(f"/issuers/{issuer_id}/profile")).json()
    assert profile["id"] == did_doc["id"] and profile["type"] == ["Profile"] and profile["name"] == credential["issuer"]["name"]
    is_problem(await service.http.get("/issuers/nobody/did.json"), 404)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_downloads_carry_the_signed_credential_and_verify_anywhere_we_accept_files(service: ServiceClient) -> None:
    issuer_id, award = await _award(service)
    path = _path(service, award["url"])
    for fmt, media in (("png", "image/png"), ("svg", "image/svg+xml"), ("pdf", "application/pdf")):
        download = await service.http.get(path, params={"format": fmt})
        assert download.status_code == 200 and download.headers["content-type"].startswith(media)
        assert f'filename="credential-{award["id"]}.{fmt}"' in download.headers["content-disposition"]
        report = await service.http.post("/api/v1/verify", content=download.content, headers={"Content-Type": media})
        assert report.status_code == 200, report.text
        assert report.json()["verdict"] == "valid", (fmt, report.json())
        assert report.json()["summary"]["learner"] == "Zoë Jansen" if "learner" in report.json()["summary"] else True
    await service.http.post(f"/api/v1/issuers/{issuer_id}/credentials/{award['id']}/revoke", headers=service.admin)
    pdf = (await service.http.get(path, params={"format": "pdf"})).content
    as_file = await service.http.post("/api/v1/verify", files={"file": ("certificate.pdf", pdf, "application/pdf")})
    assert as_file.status_code == 200 and as_file.json()["verdict"] == "revoked", as_file.text
    jwt = (await service.http.get(path, headers={"Accept": "application/vc+jwt"})).text
    assert (await service.http.post("/api/v1/verify", content=jwt, headers={"Content-Type": "application/vc+jwt"})).json()["verdict"] == "revoked"


async def test_a_vc_jwt_posted_as_a_json_string_is_verified(service: ServiceClient) -> None:
    _, award = await _award(service)
    jwt = (await service.http.get(_path(service, award["url"]), headers={"Accept": "application/vc+jwt"})).text
    report = await service.http.post("/api/v1/verify", json=jwt)
    assert report.status_code == 200 and report.json()["verdict"] == "valid", report.text
    assert report.json()["format"] == "jwt"
    problem = is_problem(await service.http.post("/api/v1/verify", json="not a token"), 422)
    assert "VC-JWT" in problem["detail"]


async def test_the_verify_endpoints_refuse_what_is_not_a_credential_with_a_clear_error(service: ServiceClient) -> None:
    for body in (b"", b"hello", b"\x89PNG\r\n\x1a\n garbage", b"%PDF-1.7 nothing"):
        problem = is_problem(await service.http.post("/api/v1/verify", content=body), 422)
        assert problem["errors"][0]["pointer"] == "#"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.org/credential", "scheme"),
        ("https://127.0.0.1/credential", "address"),
        ("https://[::1]/credential", "address"),
        ("https://10.0.0.7/credential", "address"),
        ("https://169.254.169.254/latest/meta-data/", "address"),
        ("https://2130706433/credential", "address"),
        ("https://user:secret@192.168.1.1/", "credentials"),
    ],
)
async def test_verifying_by_url_never_reaches_into_the_operators_network(service: ServiceClient, url: str, reason: str) -> None:
    """Refused before any connection: each of these fails on the address or the URL alone."""
    problem = is_problem(await service.http.get("/api/v1/verify", params={"url": url}), 422)
    assert problem["errors"][0]["parameter"] == "url" and problem["errors"][0]["reason"] == reason
    assert "secret" not in str(problem)


async def test_each_key_is_also_at_a_plain_https_url_and_matches_the_did_document(service: ServiceClient) -> None:
    issuer_id, award = await _award(service)
    did_doc = (await service.http.get(f"/issuers/{issuer_id}/did.json")).json()
    method = did_doc["verificationMethod"][0]
    name = method["id"].split("#", 1)[1]
    key = (await service.http.get(f"/issuers/{issuer_id}/keys/{name}")).json()
    assert {k: key[k] for k in ("id", "type", "controller", "publicKeyMultibase")} == {
        k: method[k] for k in ("id", "type", "controller", "publicKeyMultibase")
    }
    assert key["id"] == award["credential"]["proof"]["verificationMethod"]
    is_problem(await service.http.get(f"/issuers/{issuer_id}/keys/z6MkNotAKey"), 404)


async def test_the_achievement_a_credential_names_answers_at_its_id(service: ServiceClient) -> None:
    _, award = await _award(service)
    embedded = award["credential"]["credentialSubject"]["achievement"]
    served = (await service.http.get(_path(service, embedded["id"]))).json()
    assert {k: v for k, v in served.items() if k != "@context"} == embedded


async def test_one_issuer_may_be_the_host_itself_with_its_document_at_the_well_known_url(service: ServiceClient) -> None:
    is_problem(await service.http.get("/.well-known/did.json"), 404)
    issuer = await service.create_issuer(host_did=True)
    assert issuer["did"].count(":") == 2  # did:web:<host>, no path
    achievement = await service.create_achievement(issuer["id"])
    award = (await service.award(issuer["id"], achievement["id"])).json()
    document = (await service.http.get("/.well-known/did.json")).json()
    assert document["id"] == issuer["did"] == award["credential"]["issuer"]["id"]
    assert award["credential"]["proof"]["verificationMethod"] in document["assertionMethod"]
    assert verify(award["credential"], resolve_key=resolver(service.runtime)).verdict == "valid"
    second = await service.http.post("/api/v1/issuers", json={"name": "Second Body", "host_did": True}, headers=service.admin)
    assert is_problem(second, 409)["errors"][0]["pointer"] == "#/host_did"


async def test_the_eu_elements_show_on_page_and_pdf_whether_issued_now_or_before_issue_11(service: ServiceClient) -> None:
    issuer_id, award = await _award(service)
    path = _path(service, award["url"])
    html = {"Accept": "text/html"}
    shown = ("Type of assessment", "Practical examination", "Form of participation", "On site", "Notional workload", "84 hours")

    async def seen() -> tuple[str, str]:
        page = _Page.of((await service.http.get(path, headers=html)).text).words
        pdf = (await service.http.get(path, params={"format": "pdf"})).content
        text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())
        return page, text

    for words in await seen():
        assert all(w in words for w in shown), words
        assert "Type of assessment: Practical examination" not in words  # an element is not listed as a level

    # the same credential as main issued it before: elements in microCredential, its own context
    achievement = award["credential"]["credentialSubject"]["achievement"]
    legacy = {k: v for k, v in award["credential"].items() if k != "proof"}
    legacy["@context"] = [*legacy["@context"], CONTEXTS.MICROCRED_V1]
    old_achievement = {**achievement, "alignment": [a for a in achievement["alignment"] if not eu_elements.is_element(a)]}
    old_achievement["microCredential"] = {"type": ["MicroCredentialElements"], **eu_elements.read(achievement)}
    legacy["credentialSubject"] = {**legacy["credentialSubject"], "achievement": old_achievement}
    signed = issue(legacy, signer=service.runtime.keystore.signer(award["credential"]["issuer"]["id"]), loader=service.runtime.loader)
    async with service.runtime.sessions() as session, session.begin():
        row = await session.get(Credential, award["id"])
        assert row is not None
        row.document = signed
    for words in await seen():
        assert all(w in words for w in shown), words
    assert _Page.of((await service.http.get(path, headers=html)).text).status == "valid"


async def test_an_achievement_version_published_before_issue_11_is_awarded_and_served_with_alignments(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    current = achievement["document"]
    legacy = {**current, "alignment": [a for a in current["alignment"] if not eu_elements.is_element(a)]}
    legacy["microCredential"] = {"type": ["MicroCredentialElements"], **eu_elements.read(current)}
    async with service.runtime.sessions() as session, session.begin():
        [row] = (await session.scalars(select(AchievementVersion).where(AchievementVersion.achievement_id == achievement["id"]))).all()
        row.document = legacy  # as main published it

    response = await service.award(issuer["id"], achievement["id"])
    assert response.status_code == 201, response.text
    credential = response.json()["credential"]
    assert credential["@context"] == [CONTEXTS.VC_V2, CONTEXTS.OB_V3]
    embedded = credential["credentialSubject"]["achievement"]
    assert "microCredential" not in embedded and eu_elements.read(embedded) == eu_elements.read(current)
    served = (await service.http.get(_path(service, embedded["id"]))).json()
    assert {k: v for k, v in served.items() if k != "@context"} == embedded


async def test_an_ob3_credential_on_vc_1_1_signed_by_digital_bazaar_is_valid_in_the_api_and_on_the_page(service: ServiceClient) -> None:
    """OB 3.0.0-3.0.2 credentials (VC 1.1: issuanceDate, OB context 3.0.2), as issued in 2023-2024."""
    signed = (VECTORS / "ob3-vc11-digitalbazaar" / "signed.json").read_bytes()
    report = await service.http.post("/api/v1/verify", content=signed, headers={"Content-Type": "application/ld+json"})
    assert report.status_code == 200 and report.json()["verdict"] == "valid", report.text
    assert report.json()["summary"]["validFrom"] == "2025-01-15T09:00:00Z"
    page = await service.http.post("/verify", files={"file": ("badge.json", signed, "application/ld+json")})
    assert page.status_code == 200
    assert 'data-status="valid"' in page.text and "Valid" in _Page.of(page.text).words


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_page_and_the_pdf_show_completion_grade_and_country_in_words(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(
        issuer["id"], supervision="supervised-with-identity-verification", stackability="stackable", in_language="nl"
    )
    award = (await service.award(issuer["id"], achievement["id"], completion_date="2024-06-28", result={"value": "8.5"})).json()
    page = _Page.of((await service.http.get(_path(service, award["url"]), headers={"Accept": "text/html"})).text).words
    for shown in (
        "Completed on 28 June 2024",
        "Final grade 8.5 (on a scale of 1 to 10)",
        "Issued by Society of Precision Engineers Country Netherlands",
        "Form of participation On site",
        "Supervision and identity verification Supervised, with identity verification",
        "Language Dutch",
        "Type Diploma",
    ):
        assert shown in page, shown
    assert "supervised-with-identity-verification" not in page and "Language nl" not in page
    pdf = (await service.http.get(_path(service, award["url"]), params={"format": "pdf"})).content
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    for shown in ("Completed on 28 June 2024", "Final grade: 8.5 (on a scale of 1 to 10)", "Netherlands", "On site", "Dutch"):
        assert shown in text, (shown, text)
    assert embedded_credential(pdf)  # still carries the signed credential


async def test_a_retroactive_award_shows_when_it_was_completed_and_lists_that_date_on_linkedin(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    award = (await service.award(issuer["id"], achievement["id"], completion_date="2019-09-01")).json()
    issued = datetime.fromisoformat(award["credential"]["validFrom"].replace("Z", "+00:00"))
    assert issued.year > 2019
    page = _Page.of((await service.http.get(_path(service, award["url"]), headers={"Accept": "text/html"})).text)
    assert "Completed on 1 September 2019" in page.words
    assert f"Issued on {issued.day} {issued:%B} {issued.year}" in page.words
    query = parse_qs(urlsplit(await _linkedin(service, page)).query)
    assert (query["issueYear"], query["issueMonth"]) == (["2019"], ["9"])
