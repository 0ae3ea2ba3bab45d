"""The 1EdTech OB 3.0 API with OAuth 2.0, as a host and a learner's browser use it: discovery,
dynamic client registration, authorization with PKCE after signing in by an emailed link (a
real SMTP server on loopback receives it), tokens that expire, refresh once and revoke, and the
learner's credentials and profile, never another learner's."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from jsonschema import Draft201909Validator
from sqlalchemy import select, update

from microcred.app import create_app
from microcred.config import Settings
from microcred.credentials import DocumentLoader, Ed25519KeyPair, issue
from microcred.credentials.schema import FORMAT_CHECKER, bundled_schema
from microcred.credentials.vc_jwt import encode_vc_jwt
from microcred.db.models import LearnerSession, OAuthClient, OAuthToken, SignInLink
from microcred.runtime import Runtime, build_runtime

from ..factories.service import ServiceClient
from .conftest import BASE_URL, PASSPHRASE

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "microcredential.json"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
READ, UPSERT, PROFILE_READ, PROFILE_UPDATE = (OB + s for s in ("credential.readonly", "credential.upsert", "profile.readonly", "profile.update"))
ALL_SCOPES = f"{READ} {UPSERT} {PROFILE_READ} {PROFILE_UPDATE}"
SCHEMAS = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
REDIRECT = "https://host.example/ob3/callback"
LEARNER = "zoe.jansen@example.org"
OTHER = "piet.de.vries@example.org"


# --- a real SMTP server on loopback ---------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def sign_in_link(self, address: str) -> str:
        """The link in the newest sign-in email to ``address``."""
        body = self.to(address)[-1].get_content()
        links = re.findall(r"https://\S+", body)
        assert len(links) == 1, body
        return str(links[0])


@dataclass
class Smtp:
    mailbox: Mailbox
    port: int


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(mailbox, port)
    finally:
        controller.stop()


@pytest.fixture
def settings(database_url: str, keys_dir: Path, tmp_path: Path, smtp: Smtp) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        keys_dir=keys_dir,
        data_dir=tmp_path,
        key_passphrase=PASSPHRASE,  # type: ignore[arg-type]
        run_jobs=False,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="badges@badges.example.org",
        smtp_starttls=False,
        privacy_policy_url="https://badges.example.org/privacy",
    )


# --- a browser and a host, both talking to the app at its public https URL -------------------------


@pytest_asyncio.fixture
async def app_transport(settings: Settings, runtime: Runtime) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(settings, runtime=runtime, migrate=False))


def client_for(transport: httpx.ASGITransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


@pytest_asyncio.fixture
async def host(app_transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    """The host (a backpack, an LMS) calling the API server to server: no cookies."""
    async with client_for(app_transport) as http:
        yield http


def hidden_fields(page: str) -> dict[str, str]:
    return {html.unescape(n): html.unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)}


def form_action(page: str) -> str:
    actions = re.findall(r'<form method="post" action="([^"]*)"', page)
    assert actions, page
    return html.unescape(actions[-1])


async def browse(browser: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send, then follow redirects within the service as a browser would; stop at a redirect to
    another site (the client's redirect URI)."""
    response = await browser.request(method, url, **kwargs)
    for _ in range(10):
        if response.status_code not in (302, 303) or urlsplit(response.headers["location"]).netloc not in ("", urlsplit(BASE_URL).netloc):
            return response
        response = await browser.get(response.headers["location"])
    raise AssertionError("too many redirects")


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def basic(client: dict[str, Any]) -> dict[str, str]:
    raw = f"{client['client_id']}:{client['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def register(host: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    body = {
        "client_name": "Zoë's Backpack",
        "client_uri": "https://host.example/",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": ALL_SCOPES + " offline_access",
        "software_id": "c88b6ed8-269e-448e-99be-7e2ff47167d1",
        "software_version": "4.0",
    } | overrides
    response = await host.post("/oauth/register", json=body)
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


@dataclass
class Authorized:
    client: dict[str, Any]
    code: str
    state: str
    verifier: str
    browser: httpx.AsyncClient
    redirect: dict[str, list[str]] = field(default_factory=dict)


async def sign_in(browser: httpx.AsyncClient, mailbox: Mailbox, email: str, page: httpx.Response) -> httpx.Response:
    """From the sign-in page: ask for a link, read it from the email, open it, continue."""
    assert page.status_code == 200 and "Email me a sign-in link" in page.text, page.text
    sent = await browse(browser, "POST", form_action(page.text), data={**hidden_fields(page.text), "email": email})
    assert sent.status_code == 200 and "Check your email" in sent.text, sent.text
    link = mailbox.sign_in_link(email)
    assert link.startswith(f"{BASE_URL}/learners/sign-in/confirm?token=")
    confirm = await browser.get(link)
    assert confirm.status_code == 200 and confirm.headers["referrer-policy"] == "no-referrer"
    return await browse(browser, "POST", form_action(confirm.text), data=hidden_fields(confirm.text))


async def authorize(
    transport: httpx.ASGITransport, mailbox: Mailbox, client: dict[str, Any], *, email: str = LEARNER, scope: str = ALL_SCOPES
) -> Authorized:
    """A learner's browser through the authorization endpoint: sign in by email, allow."""
    browser = client_for(transport)
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(12)
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = await browse(browser, "GET", "/oauth/authorize?" + urlencode(query))
    if "Email me a sign-in link" in page.text:
        page = await sign_in(browser, mailbox, email, page)
    assert page.status_code == 200 and "Allow" in page.text, page.text
    assert client["client_name"] in html.unescape(page.text) and email in page.text
    assert page.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    decision = await browse(browser, "POST", form_action(page.text), data={**hidden_fields(page.text), "decision": "allow"})
    assert decision.status_code == 303, decision.text
    location = urlsplit(decision.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    redirect = parse_qs(location.query)
    assert redirect["state"] == [state]
    return Authorized(client, redirect["code"][0], state, verifier, browser, redirect)


async def exchange(host: httpx.AsyncClient, authorized: Authorized, *, verifier: str | None = None) -> httpx.Response:
    return await host.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": authorized.code, "redirect_uri": REDIRECT, "code_verifier": verifier or authorized.verifier},
        headers=basic(authorized.client),
    )


async def tokens(host: httpx.AsyncClient, transport: httpx.ASGITransport, mailbox: Mailbox, **kwargs: Any) -> dict[str, Any]:
    client = kwargs.pop("client", None) or await register(host)
    authorized = await authorize(transport, mailbox, client, **kwargs)
    await authorized.browser.aclose()
    response = await exchange(host, authorized)
    assert response.status_code == 200, response.text
    issued: dict[str, Any] = response.json() | {"client": client}
    return issued


def bearer(token: dict[str, Any] | str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token if isinstance(token, str) else token['access_token']}"}


# --- credentials from elsewhere -------------------------------------------------------------------


def did_key_credential(email: str, *, jwt: bool = False, credential_id: str | None = None) -> Any:
    """The sample microcredential, issued by a fresh did:key to ``email`` (in plain text)."""
    seed = secrets.token_bytes(32)
    fingerprint = Ed25519KeyPair.from_seed(seed).public_key_multibase
    did = f"did:key:{fingerprint}"
    key = Ed25519KeyPair.from_seed(seed, id=f"{did}#{fingerprint}", controller=did)
    credential = json.loads(SAMPLE.read_text(encoding="utf-8"))
    credential["id"] = credential_id or f"urn:uuid:{uuid.uuid4()}"
    credential["issuer"] = {"id": did, **credential["issuer"]}
    subject = credential["credentialSubject"]
    subject["identifier"] = [
        {"type": "IdentityObject", "identityType": "emailAddress", "hashed": False, "identityHash": email},
        *[i for i in subject["identifier"] if i["identityType"] != "emailAddress"],
    ]
    if jwt:
        return encode_vc_jwt(credential, signer=key.signer())
    return issue(credential, signer=key.signer(), loader=DocumentLoader())


def schema_errors(document: Any, name: str) -> list[str]:
    schema = bundled_schema(SCHEMAS + name)
    assert schema is not None
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"[:300] for e in Draft201909Validator(schema, format_checker=FORMAT_CHECKER).iter_errors(document)]


def is_status_info(response: httpx.Response, status: int) -> dict[str, Any]:
    """An OB 3.0 error: the status, and an Imsx_StatusInfo as application/json."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert schema_errors(body, "ob_v3p0_imsx_statusinfo_schema.json") == []
    assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error" and body["imsx_description"]
    return body


def is_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error"] == error and body["error_description"], body
    assert response.headers["cache-control"] == "no-store"
    return body


async def award_to(service: ServiceClient, *emails: str) -> list[str]:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    ids = []
    for day, email in enumerate(emails, start=10):
        response = await service.award(issuer["id"], achievement["id"], recipient={"email": email, "name": "A Learner"}, completion_date=f"2024-06-{day}")
        assert response.status_code == 201, response.text
        ids.append(response.json()["credential"]["id"])
    return ids


def links(response: httpx.Response) -> dict[str, dict[str, list[str]]]:
    found = {}
    for part in response.headers["link"].split(","):
        url, rel = re.fullmatch(r'\s*<([^>]*)>;\s*rel="(\w+)"\s*', part).groups()  # type: ignore[union-attr]
        assert url.startswith(f"{BASE_URL}/ims/ob/v3p0/credentials?")
        found[rel] = parse_qs(urlsplit(url).query)
    return found


# --- the flow end to end ---------------------------------------------------------------------------


async def test_the_ob3_api_end_to_end(service: ServiceClient, host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    # Credentials awarded through the normal award API: three to the learner (one under a
    # differently-cased address), one to someone else and one to a near-miss address.
    mine = await award_to(service, LEARNER, "Zoe.Jansen@Example.ORG", LEARNER)
    await award_to(service, OTHER, "x" + LEARNER)

    # 1. Discovery: public, OpenAPI 3.0, with the OAuth endpoints and the four scopes.
    discovery = await host.get("/ims/ob/v3p0/discovery")
    assert discovery.status_code == 200
    sdd = discovery.json()
    assert sdd["openapi"].startswith("3.0") and sdd["info"]["x-imssf-privacyPolicyUrl"] == "https://badges.example.org/privacy"
    assert sdd["servers"] == [{"url": f"{BASE_URL}/ims/ob/v3p0"}]
    scheme = sdd["components"]["securitySchemes"]["OAuth2ACG"]
    flow = scheme["flows"]["authorizationCode"]
    assert scheme["type"] == "oauth2" and scheme["x-imssf-registrationUrl"] == f"{BASE_URL}/oauth/register"
    assert flow["authorizationUrl"] == f"{BASE_URL}/oauth/authorize" and flow["tokenUrl"] == flow["refreshUrl"] == f"{BASE_URL}/oauth/token"
    assert set(flow["scopes"]) == set(ALL_SCOPES.split())
    assert {op["operationId"] for item in sdd["paths"].values() for op in item.values()} >= {"getCredentials", "upsertCredential", "getProfile", "putProfile"}

    # 2. Dynamic client registration (RFC 7591) at the registration URL.
    client = await register(host)
    assert client["client_secret"] and client["client_secret_expires_at"] == 0 and client["redirect_uris"] == [REDIRECT]
    assert client["scope"] == ALL_SCOPES + " offline_access"

    # 3. Authorization with PKCE: the browser signs in by the emailed link, then allows.
    authorized = await authorize(app_transport, smtp.mailbox, client)
    message = smtp.mailbox.to(LEARNER)[-1]
    assert message["From"] == "badges@badges.example.org" and "15 minutes" in message.get_content()

    # 4. The token request: a wrong verifier is refused; the right one works once.
    wrong = await exchange(host, authorized, verifier=pkce()[0])
    is_oauth_error(wrong, 400, "invalid_grant")
    granted = await exchange(host, authorized)
    assert granted.status_code == 200, granted.text
    token = granted.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600 and token["refresh_token"] and token["scope"] == ALL_SCOPES
    assert granted.headers["cache-control"] == "no-store"
    is_oauth_error(await exchange(host, authorized), 400, "invalid_grant")
    # ...and replaying the code revoked what it had yielded.
    is_status_info(await host.get("/ims/ob/v3p0/credentials", headers=bearer(token)), 401)
    token = await tokens(host, app_transport, smtp.mailbox, client=client)

    # 5. getCredentials: the learner's three, not the others', paged with X-Total-Count and Link.
    first = await host.get("/ims/ob/v3p0/credentials", params={"limit": 2}, headers=bearer(token))
    assert first.status_code == 200, first.text
    assert first.headers["x-total-count"] == "3"
    assert schema_errors(first.json(), "ob_v3p0_getopenbadgecredentialsresponse_schema.json") == []
    assert {"next", "last", "first"} <= set(links(first)) and "prev" not in links(first)
    assert links(first)["next"]["offset"] == ["2"] and links(first)["last"]["offset"] == ["2"]
    second = await host.get("/ims/ob/v3p0/credentials", params={"limit": 2, "offset": 2}, headers=bearer(token))
    assert "next" not in links(second) and links(second)["prev"]["offset"] == ["0"]
    listed = [c["id"] for c in first.json()["credential"] + second.json()["credential"]]
    assert sorted(listed) == sorted(mine)
    assert first.json()["compactJwsString"] == []

    # 6. upsertCredential: a credential from elsewhere, verified, added (201) then replaced (200).
    outside = did_key_credential(LEARNER)
    created = await host.post("/ims/ob/v3p0/credentials", json=outside, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.json() == outside
    replaced = await host.post("/ims/ob/v3p0/credentials", json=outside, headers=bearer(token))
    assert replaced.status_code == 200 and replaced.json() == outside
    tampered = {**outside, "name": "A diploma I would rather have"}
    assert "does not verify" in is_status_info(await host.post("/ims/ob/v3p0/credentials", json=tampered, headers=bearer(token)), 400)["imsx_description"]
    duplicated = b'{"name": "A diploma I would rather have", ' + json.dumps(outside).encode()[1:]  # the last "name" is the signed one
    refused_twice = await host.post("/ims/ob/v3p0/credentials", content=duplicated, headers=bearer(token) | {"Content-Type": "application/json"})
    assert "duplicate member 'name'" in is_status_info(refused_twice, 400)["imsx_description"]
    jws = did_key_credential(LEARNER, jwt=True)
    as_jwt = await host.post("/ims/ob/v3p0/credentials", content=jws, headers=bearer(token) | {"Content-Type": "text/plain"})
    assert as_jwt.status_code == 201 and as_jwt.text == jws and as_jwt.headers["content-type"].startswith("text/plain")
    someone_elses = did_key_credential(OTHER)
    refused = await host.post("/ims/ob/v3p0/credentials", json=someone_elses, headers=bearer(token))
    assert "another email address" in is_status_info(refused, 400)["imsx_description"]

    # 7. getCredentials now holds them too; `since` keeps only the newer ones.
    everything = await host.get("/ims/ob/v3p0/credentials", headers=bearer(token))
    assert everything.headers["x-total-count"] == "5"
    body = everything.json()
    assert schema_errors(body, "ob_v3p0_getopenbadgecredentialsresponse_schema.json") == []
    assert sorted(c["id"] for c in body["credential"]) == sorted([*mine, outside["id"]]) and body["compactJwsString"] == [jws]
    newer = await host.get("/ims/ob/v3p0/credentials", params={"since": "2026-06-29T00:00:00Z"}, headers=bearer(token))
    assert newer.headers["x-total-count"] == "5"
    later = await host.get("/ims/ob/v3p0/credentials", params={"since": datetime.now(UTC).isoformat()}, headers=bearer(token))
    assert later.headers["x-total-count"] == "0" and later.json() == {"credential": [], "compactJwsString": []}

    # 8. getProfile and putProfile: the verified email stays.
    profile = await host.get("/ims/ob/v3p0/profile", headers=bearer(token))
    assert profile.status_code == 200
    document = profile.json()
    assert document["type"] == "Profile" and document["email"] == LEARNER and document["id"].startswith(f"{BASE_URL}/learners/")
    assert schema_errors(document, "ob_v3p0_profile_schema.json") == []
    updated = await host.put("/ims/ob/v3p0/profile", json={**document, "name": "Zoë Jansen", "phone": "+31 40 123 4567"}, headers=bearer(token))
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Zoë Jansen" and updated.json()["email"] == LEARNER
    assert (await host.get("/ims/ob/v3p0/profile", headers=bearer(token))).json()["phone"] == "+31 40 123 4567"
    moved = await host.put("/ims/ob/v3p0/profile", json={**document, "email": "someone@else.example"}, headers=bearer(token))
    assert "cannot be changed" in is_status_info(moved, 400)["imsx_description"]
    assert (await host.get("/ims/ob/v3p0/profile", headers=bearer(token))).json()["email"] == LEARNER

    # 9. Refresh: works once; presenting the used refresh token again revokes the whole grant.
    refresh = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    renewed = await host.post("/oauth/token", data=refresh, headers=basic(client))
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()
    assert fresh["access_token"] != token["access_token"] and fresh["refresh_token"] != token["refresh_token"]
    assert (await host.get("/ims/ob/v3p0/credentials", headers=bearer(fresh))).status_code == 200
    is_oauth_error(await host.post("/oauth/token", data=refresh, headers=basic(client)), 400, "invalid_grant")
    revoked = await host.get("/ims/ob/v3p0/credentials", headers=bearer(fresh))
    assert "revoked" in is_status_info(revoked, 401)["imsx_description"] and 'error="invalid_token"' in revoked.headers["www-authenticate"]
    again = {"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]}
    is_oauth_error(await host.post("/oauth/token", data=again, headers=basic(client)), 400, "invalid_grant")
    await authorized.browser.aclose()


async def test_an_expired_access_token_is_refused_and_its_refresh_token_renews_it(
    host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    token = await tokens(host, app_transport, smtp.mailbox)
    assert (await host.get("/ims/ob/v3p0/profile", headers=bearer(token))).status_code == 200
    async with runtime.sessions() as session, session.begin():  # an hour passes for the access token
        await session.execute(update(OAuthToken).where(OAuthToken.kind == "access").values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = await host.get("/ims/ob/v3p0/profile", headers=bearer(token))
    is_status_info(expired, 401)
    assert 'error="invalid_token"' in expired.headers["www-authenticate"] and "expired" in expired.headers["www-authenticate"]
    renewed = await host.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}, headers=basic(token["client"]))
    assert renewed.status_code == 200
    assert (await host.get("/ims/ob/v3p0/profile", headers=bearer(renewed.json()))).status_code == 200


async def test_a_token_without_the_scope_gets_403_insufficient_scope(host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    token = await tokens(host, app_transport, smtp.mailbox, scope=READ)
    assert token["scope"] == READ
    assert (await host.get("/ims/ob/v3p0/credentials", headers=bearer(token))).status_code == 200
    for method, path, kwargs in (
        ("POST", "/ims/ob/v3p0/credentials", {"json": did_key_credential(LEARNER)}),
        ("GET", "/ims/ob/v3p0/profile", {}),
        ("PUT", "/ims/ob/v3p0/profile", {"json": {"type": "Profile", "id": "x"}}),
    ):
        response = await host.request(method, path, headers=bearer(token), **kwargs)
        is_status_info(response, 403)
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    # A token request may narrow the scope, never widen it.
    client = await register(host, scope=READ)
    authorized = await authorize(app_transport, smtp.mailbox, client, scope=READ)
    widened = await host.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": authorized.code, "redirect_uri": REDIRECT, "code_verifier": authorized.verifier, "scope": UPSERT},
        headers=basic(client),
    )
    is_oauth_error(widened, 400, "invalid_scope")
    await authorized.browser.aclose()


async def test_a_learner_never_sees_another_learners_credentials(
    service: ServiceClient, host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp
) -> None:
    zoe_awarded = await award_to(service, LEARNER)
    piet_awarded = await award_to(service, OTHER)
    client = await register(host)
    zoe = await tokens(host, app_transport, smtp.mailbox, client=client)
    piet = await tokens(host, app_transport, smtp.mailbox, client=client, email=OTHER)
    piet_upserted = did_key_credential(OTHER)
    assert (await host.post("/ims/ob/v3p0/credentials", json=piet_upserted, headers=bearer(piet))).status_code == 201
    # Zoë upserts the very same credential id: it goes to her collection, not over Piet's.
    zoe_upserted = did_key_credential(LEARNER, credential_id=piet_upserted["id"])
    assert (await host.post("/ims/ob/v3p0/credentials", json=zoe_upserted, headers=bearer(zoe))).status_code == 201

    zoe_sees = (await host.get("/ims/ob/v3p0/credentials", headers=bearer(zoe))).json()["credential"]
    piet_sees = (await host.get("/ims/ob/v3p0/credentials", headers=bearer(piet))).json()["credential"]
    assert [c for c in zoe_sees if c["id"] == piet_upserted["id"]] == [zoe_upserted]
    assert sorted(c["id"] for c in zoe_sees) == sorted([*zoe_awarded, piet_upserted["id"]])
    assert sorted(c["id"] for c in piet_sees) == sorted([*piet_awarded, piet_upserted["id"]])
    assert [c for c in piet_sees if c["id"] == piet_upserted["id"]] == [piet_upserted]
    assert (await host.get("/ims/ob/v3p0/profile", headers=bearer(piet))).json()["email"] == OTHER
    # Piet's host cannot hand Zoë's credential to his collection either.
    issued_to_zoe = (await host.get("/ims/ob/v3p0/credentials", headers=bearer(zoe))).json()["credential"][0]
    assert (await host.post("/ims/ob/v3p0/credentials", json=issued_to_zoe, headers=bearer(piet))).status_code == 400


async def test_upserting_a_credential_this_service_issued_to_the_learner_keeps_one_copy(
    service: ServiceClient, host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp
) -> None:
    [awarded] = await award_to(service, LEARNER)
    token = await tokens(host, app_transport, smtp.mailbox)
    credential = (await host.get("/ims/ob/v3p0/credentials", headers=bearer(token))).json()["credential"][0]
    assert credential["id"] == awarded
    again = await host.post("/ims/ob/v3p0/credentials", json=credential, headers=bearer(token))
    assert again.status_code == 200 and again.json() == credential
    assert (await host.get("/ims/ob/v3p0/credentials", headers=bearer(token))).headers["x-total-count"] == "1"


# --- registration ----------------------------------------------------------------------------------


async def test_registration_refuses_what_rfc_7591_and_the_ob_api_do_not_allow(host: httpx.AsyncClient) -> None:
    for uri in ("http://host.example/callback", "https://host.example/cb#fragment", "ftp://host.example/cb", "/relative", "https://user:pw@host.example/cb"):
        response = await host.post("/oauth/register", json={"client_name": "x", "redirect_uris": [uri]})
        is_oauth_error(response, 400, "invalid_redirect_uri")
    for body in (
        {"client_name": "x", "redirect_uris": [REDIRECT], "scope": "https://purl.imsglobal.org/spec/ob/v3p0/scope/everything"},
        {"client_name": "x", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_post"},
        {"client_name": "x", "redirect_uris": [REDIRECT], "grant_types": ["implicit"]},
        {"client_name": "x", "redirect_uris": []},
        {"redirect_uris": [REDIRECT]},
        {"client_name": "x", "redirect_uris": [REDIRECT], "client_uri": "javascript:alert(1)"},
        {"client_name": "a\u0000b", "redirect_uris": [REDIRECT]},
    ):
        is_oauth_error(await host.post("/oauth/register", json=body), 400, "invalid_client_metadata")
    is_oauth_error(await host.post("/oauth/register", content=b"not json", headers={"Content-Type": "application/json"}), 400, "invalid_client_metadata")
    # A native app on loopback, a public client: no secret, metadata it does not know ignored.
    native = await register(host, redirect_uris=["http://127.0.0.1:8765/callback"], token_endpoint_auth_method="none", future_metadata="ignored")
    assert "client_secret" not in native and native["token_endpoint_auth_method"] == "none" and "future_metadata" not in native


async def test_client_secrets_are_stored_hashed(host: httpx.AsyncClient, runtime: Runtime) -> None:
    client = await register(host)
    async with runtime.sessions() as session:
        stored = await session.get(OAuthClient, client["client_id"])
    assert stored is not None and client["client_secret"] not in json.dumps({"h": stored.secret_hash, "r": stored.registration})
    assert stored.secret_hash == hashlib.sha256(client["client_secret"].encode()).hexdigest()


# --- the authorization endpoint --------------------------------------------------------------------


async def test_authorization_without_pkce_or_with_plain_is_refused(host: httpx.AsyncClient, app_transport: httpx.ASGITransport) -> None:
    client = await register(host)
    base = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT, "scope": READ, "state": "s-1"}
    async with client_for(app_transport) as browser:
        for extra, says in (
            ({}, "PKCE is required"),
            ({"code_challenge": pkce()[1]}, "S256"),
            ({"code_challenge": pkce()[0][:43], "code_challenge_method": "plain"}, "plain is refused"),
            ({"code_challenge": "short", "code_challenge_method": "S256"}, "43-character"),
        ):
            response = await browser.get("/oauth/authorize?" + urlencode(base | extra))
            assert response.status_code == 303, response.text
            sent = parse_qs(urlsplit(response.headers["location"]).query)
            assert sent["error"] == ["invalid_request"] and sent["state"] == ["s-1"] and says in sent["error_description"][0]
        challenge = {"code_challenge": pkce()[1], "code_challenge_method": "S256"}
        response = await browser.get("/oauth/authorize?" + urlencode(base | challenge | {"scope": "https://purl.imsglobal.org/spec/ob/v3p0/scope/other"}))
        assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_scope"]
        # An unknown client or a redirect URI it did not register: told to the learner, never redirected.
        for changed in ({"client_id": "unknown"}, {"redirect_uri": "https://attacker.example/cb"}, {"redirect_uri": REDIRECT + "/more"}):
            response = await browser.get("/oauth/authorize?" + urlencode(base | challenge | changed))
            assert response.status_code == 400 and "location" not in response.headers
            assert response.headers["content-type"].startswith("text/html")


async def test_the_consent_form_needs_its_csrf_token_and_can_be_denied(host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    client = await register(host)
    _, challenge = pkce()
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT, "scope": READ, "state": "st", "code_challenge": challenge, "code_challenge_method": "S256"}
    async with client_for(app_transport) as browser:
        page = await sign_in(browser, smtp.mailbox, LEARNER, await browse(browser, "GET", "/oauth/authorize?" + urlencode(query)))
        fields = hidden_fields(page.text)
        assert fields["csrf_token"]
        for forged in ({k: v for k, v in fields.items() if k != "csrf_token"}, fields | {"csrf_token": "forged"}):
            response = await browser.post("/oauth/authorize", data=forged | {"decision": "allow"})
            assert response.status_code == 403 and "location" not in response.headers
        # Another browser (its own session, the same learner) cannot use this page's token.
        async with client_for(app_transport) as other:
            other_page = await sign_in(other, smtp.mailbox, LEARNER, await browse(other, "GET", "/oauth/authorize?" + urlencode(query)))
            assert hidden_fields(other_page.text)["csrf_token"] != fields["csrf_token"]
            assert (await other.post("/oauth/authorize", data=fields | {"decision": "allow"})).status_code == 403
        denied = await browser.post("/oauth/authorize", data=fields | {"decision": "deny"})
        assert denied.status_code == 303
        assert parse_qs(urlsplit(denied.headers["location"]).query) == {
            "error": ["access_denied"], "error_description": ["the learner did not allow access"], "state": ["st"]
        }


async def test_a_public_client_uses_pkce_without_a_secret(host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    native = await register(host, redirect_uris=[REDIRECT], token_endpoint_auth_method="none")
    authorized = await authorize(app_transport, smtp.mailbox, native)
    await authorized.browser.aclose()
    form = {"grant_type": "authorization_code", "code": authorized.code, "redirect_uri": REDIRECT, "code_verifier": authorized.verifier}
    is_oauth_error(await host.post("/oauth/token", data=form), 401, "invalid_client")
    is_oauth_error(await host.post("/oauth/token", data=form | {"redirect_uri": REDIRECT + "x", "client_id": native["client_id"]}), 400, "invalid_grant")
    granted = await host.post("/oauth/token", data=form | {"client_id": native["client_id"]})
    assert granted.status_code == 200, granted.text
    # A confidential client must authenticate; a wrong secret is refused.
    confidential = await register(host)
    refresh = {"grant_type": "refresh_token", "refresh_token": granted.json()["refresh_token"]}
    is_oauth_error(await host.post("/oauth/token", data=refresh | {"client_id": confidential["client_id"]}), 401, "invalid_client")
    wrong = basic(confidential | {"client_secret": "wrong"})
    response = await host.post("/oauth/token", data=refresh, headers=wrong)
    is_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")
    # Another client cannot use this client's refresh token.
    is_oauth_error(await host.post("/oauth/token", data=refresh, headers=basic(confidential)), 400, "invalid_grant")


async def test_token_requests_name_what_is_wrong(host: httpx.AsyncClient) -> None:
    client = await register(host)
    auth = basic(client)
    is_oauth_error(await host.post("/oauth/token", data={"grant_type": "password", "username": "a"}, headers=auth), 400, "unsupported_grant_type")
    is_oauth_error(await host.post("/oauth/token", data={}, headers=auth), 400, "invalid_request")
    is_oauth_error(await host.post("/oauth/token", data={"grant_type": "authorization_code", "code_verifier": "v" * 43}, headers=auth), 400, "invalid_request")
    is_oauth_error(await host.post("/oauth/token", data={"grant_type": "authorization_code", "code": "x", "code_verifier": "v" * 43}, headers=auth), 400, "invalid_grant")
    is_oauth_error(await host.post("/oauth/token", json={"grant_type": "authorization_code"}, headers=auth), 400, "invalid_request")
    is_oauth_error(await host.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "a\x00b"}, headers=auth), 400, "invalid_request")
    is_oauth_error(await host.post("/oauth/token", data={"grant_type": "refresh_token"}, headers={"Authorization": "Basic !!!"}), 401, "invalid_client")


async def test_an_expired_or_replayed_code_gets_no_token(host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime) -> None:
    from microcred.db.models import AuthorizationCode

    client = await register(host)
    authorized = await authorize(app_transport, smtp.mailbox, client)
    await authorized.browser.aclose()
    async with runtime.sessions() as session, session.begin():  # eleven minutes pass
        await session.execute(update(AuthorizationCode).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    assert "expired" in is_oauth_error(await exchange(host, authorized), 400, "invalid_grant")["error_description"]


async def test_revoking_a_refresh_token_revokes_its_access_tokens(host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    token = await tokens(host, app_transport, smtp.mailbox)
    client = token["client"]
    assert (await host.post("/oauth/revoke", data={"token": "not-a-token"}, headers=basic(client))).status_code == 200
    is_oauth_error(await host.post("/oauth/revoke", data={"token": token["refresh_token"]}), 401, "invalid_client")
    assert (await host.get("/ims/ob/v3p0/profile", headers=bearer(token))).status_code == 200
    revoked = await host.post("/oauth/revoke", data={"token": token["refresh_token"], "token_type_hint": "refresh_token"}, headers=basic(client))
    assert revoked.status_code == 200
    is_status_info(await host.get("/ims/ob/v3p0/profile", headers=bearer(token)), 401)
    refresh = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    is_oauth_error(await host.post("/oauth/token", data=refresh, headers=basic(client)), 400, "invalid_grant")
    # An access token alone can be revoked too.
    other = await tokens(host, app_transport, smtp.mailbox, client=client)
    assert (await host.post("/oauth/revoke", data={"token": other["access_token"]}, headers=basic(client))).status_code == 200
    is_status_info(await host.get("/ims/ob/v3p0/profile", headers=bearer(other)), 401)


# --- signing in --------------------------------------------------------------------------------------


async def test_a_sign_in_link_works_once_and_sets_a_safe_session_cookie(app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime) -> None:
    async with client_for(app_transport) as browser:
        page = await browser.get("/learners/sign-in")
        sent = await browser.post(form_action(page.text), data={"email": "  Zoe.Jansen@Example.org ", "next": "https://evil.example/"})
        assert sent.status_code == 200 and LEARNER in sent.text
        link = smtp.mailbox.sign_in_link(LEARNER)
        token = parse_qs(urlsplit(link).query)["token"][0]
        assert (await browser.get(link)).status_code == 200  # opening (or a mail filter scanning) the link uses nothing
        confirm = await browser.get(link)
        signed_in = await browser.post("/learners/sign-in/confirm", data=hidden_fields(confirm.text))
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/learners/sign-in"  # never another site
        cookie = signed_in.headers.get_list("set-cookie")[0]
        assert cookie.startswith("__Host-microcred_learner=") and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert LEARNER in (await browser.get("/learners/sign-in")).text
        assert (await browser.get(link)).status_code == 400  # once
    async with runtime.sessions() as session:
        stored = json.dumps([[r.token_hash, r.email, r.next_path] for r in (await session.scalars(select(SignInLink))).all()])
        sessions = (await session.scalars(select(LearnerSession))).all()
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored
    session_token = cookie.split("=", 1)[1].split(";", 1)[0]
    assert [s.token_hash for s in sessions] == [hashlib.sha256(session_token.encode()).hexdigest()]


async def test_another_site_cannot_sign_a_browser_in_with_its_own_link(app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    """Login CSRF: a page of another site posts the attacker's own sign-in link (and the CSRF
    token of the attacker's own Continue page) from the victim's browser."""
    attacker, victim = "mallory@example.org", LEARNER
    async with client_for(app_transport) as mallory, client_for(app_transport) as browser:
        await mallory.post("/learners/sign-in", data={"email": attacker})
        link = smtp.mailbox.sign_in_link(attacker)
        forged = hidden_fields((await mallory.get(link)).text)  # the attacker's token and CSRF token
        assert attacker in (await mallory.get(link)).text  # the Continue page names the address it signs in as
        await browser.post("/learners/sign-in", data={"email": victim})
        await browser.get(smtp.mailbox.sign_in_link(victim))  # the victim's browser has a Continue page of its own open
        for data in ({"token": forged["token"]}, forged):
            refused = await browser.post("/learners/sign-in/confirm", data=data)
            assert refused.status_code == 403 and "set-cookie" not in refused.headers
        assert victim not in (page := (await browser.get("/learners/sign-in")).text) and attacker not in page
        assert (await mallory.post("/learners/sign-in/confirm", data=forged)).status_code == 303  # the link was not used up


async def test_an_expired_sign_in_link_does_not_sign_in(app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime) -> None:
    async with client_for(app_transport) as browser:
        await browser.post("/learners/sign-in", data={"email": LEARNER})
        token = parse_qs(urlsplit(smtp.mailbox.sign_in_link(LEARNER)).query)["token"][0]
        async with runtime.sessions() as session, session.begin():  # sixteen minutes pass
            await session.execute(update(SignInLink).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        response = await browser.get(f"/learners/sign-in/confirm?token={token}")
        assert response.status_code == 400 and "15 minutes" in response.text and "set-cookie" not in response.headers
        for address in ("not an address", "zoe\x00@example.org", "zoe@example.org\r\nBcc: all@example.org"):
            bad = await browser.post("/learners/sign-in", data={"email": address})
            assert bad.status_code == 400 and "Enter your email address" in bad.text


async def test_sign_in_asks_for_at_most_five_links_at_a_time(app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    async with client_for(app_transport) as browser:
        for _ in range(7):
            assert (await browser.post("/learners/sign-in", data={"email": LEARNER})).status_code == 200
    assert len(smtp.mailbox.to(LEARNER)) == 5


async def test_signing_out_needs_the_page_token(app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    async with client_for(app_transport) as browser:
        page = await sign_in(browser, smtp.mailbox, LEARNER, await browser.get("/learners/sign-in"))
        assert "Sign out" in page.text
        assert (await browser.post("/learners/sign-out", data={"csrf_token": "forged"})).status_code == 403
        out = await browse(browser, "POST", "/learners/sign-out", data=hidden_fields(page.text))
        assert out.status_code == 200 and "Email me a sign-in link" in out.text


async def test_a_development_service_on_localhost_writes_the_email_to_a_file_and_sets_a_cookie_for_http(
    settings: Settings, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    local = settings.model_copy(update={"smtp_host": "", "smtp_from": "", "base_url": "http://localhost:8000"})
    served = build_runtime(local)
    try:
        app = create_app(local, runtime=served, migrate=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as browser:
            with caplog.at_level(logging.WARNING, logger="microcred"):
                assert (await browser.post("/learners/sign-in", data={"email": LEARNER})).status_code == 200
            assert "MICROCRED_SMTP_HOST" in caplog.text and "token=" not in caplog.text  # the log says where the email is, not what
            (written,) = (local.data_dir / "mail").glob("*.eml")
            assert str(written) in caplog.text
            sent = message_from_bytes(written.read_bytes(), policy=policy.default)
            found = re.search(r"http://localhost:8000/learners/sign-in/confirm\?token=(\S+)", sent.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            assert found is not None
            confirm = await browser.get(f"/learners/sign-in/confirm?token={found.group(1)}")
            signed_in = await browser.post("/learners/sign-in/confirm", data=hidden_fields(confirm.text))
            cookie = signed_in.headers.get_list("set-cookie")[0]
            assert cookie.startswith("microcred_learner=") and "Secure" not in cookie and "HttpOnly" in cookie
            assert LEARNER in (await browser.get("/learners/sign-in")).text
    finally:
        await served.close()


async def test_without_smtp_email_sign_in_says_it_is_not_configured(settings: Settings, runtime: Runtime) -> None:
    unmailed = settings.model_copy(update={"smtp_host": "", "smtp_from": ""})
    runtime = build_runtime(unmailed)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(unmailed, runtime=runtime, migrate=False)), base_url=BASE_URL) as browser:
            response = await browser.post("/learners/sign-in", data={"email": LEARNER})
        assert response.status_code == 503 and "not configured" in response.text and "MICROCRED_SMTP_HOST" in response.text
    finally:
        await runtime.close()


# --- bad input never breaks the API ----------------------------------------------------------------


async def test_bad_tokens_and_bad_input_get_imsx_status_info(host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    bare = await host.get("/ims/ob/v3p0/credentials")
    is_status_info(bare, 401)
    assert bare.headers["www-authenticate"] == 'Bearer realm="microcred"'  # no token, no error code (RFC 6750 §3.1)
    for header in ("Bearer nope", "Basic abc", "Bearer", "Bearer " + "x" * 5000):
        response = await host.get("/ims/ob/v3p0/profile", headers={"Authorization": header})
        is_status_info(response, 401)
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    token = await tokens(host, app_transport, smtp.mailbox)
    auth = bearer(token)
    for params in ({"limit": 0}, {"limit": "many"}, {"offset": -1}, {"offset": 2**40}, {"since": "yesterday"}, {"since": "2024-02-30T00:00:00Z"}, {"limit": "1\x00"}):
        body = is_status_info(await host.get("/ims/ob/v3p0/credentials", params=params, headers=auth), 400)
        assert body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] in ("invalid_query_parameter", "invalid_data")
    huge = await host.get("/ims/ob/v3p0/credentials", params={"limit": 10**30, "since": "0001-01-01T00:00:00Z"}, headers=auth)
    assert huge.status_code == 200 and links(huge)["first"]["limit"] == ["100"]
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    for content, media in (
        (b"not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"id": "a", "id": "b"}', "application/json"),
        (b'{"name": "\\u0000"}', "application/json"),
        (deep, "application/json"),
        (b"{}", "application/json"),
        (b"{}", "application/xml"),
        (b"not.a jws", "text/plain"),
        (b"eyJhbGciOiJub25lIn0.e30.c2ln", "text/plain"),
        (b"\xff\xfe", "text/plain"),
        (json.dumps(did_key_credential(LEARNER) | {"type": ["VerifiableCredential"]}).encode(), "application/json"),
    ):
        is_status_info(await host.post("/ims/ob/v3p0/credentials", content=content, headers=auth | {"Content-Type": media}), 400)
    for content in (b"[]", b"null", deep, b'{"type": "Profile", "id": "https://elsewhere.example/me"}', b'{"type": "Issuer"}', b'{"name": "\\u0000"}'):
        is_status_info(await host.put("/ims/ob/v3p0/profile", content=content, headers=auth | {"Content-Type": "application/json"}), 400)
    is_status_info(await host.delete("/ims/ob/v3p0/profile", headers=auth), 405)
