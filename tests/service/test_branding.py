"""Issuer branding through the service: an owner uploads a logo and sets colours in the console;
the logo is served from our origin with its content hash in the URL, a year's cache and the
sandbox CSP (an SVG opened on its own runs nothing); a hostile SVG or a pale accent is refused and
nothing is saved; a viewer cannot save and another issuer's owner gets 404; the credential page
links the issuer's stylesheet and logo, and the PDF carries the logo."""

from __future__ import annotations

import base64
import io
import re

import httpx
import pytest
import pytest_asyncio
from PIL import Image
from pypdf import PdfReader

from microcred.runtime import Runtime

from ..factories.service import ServiceClient
from .conftest import is_problem
from .console_helpers import LOCAL, add_staff, csrf_of, http, settings, sign_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#c81e1e"/></svg>'


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest_asyncio.fixture
async def api(http: httpx.AsyncClient, runtime: Runtime) -> ServiceClient:
    api = await ServiceClient.start(http, runtime)
    await api.create_issuer("spe", name="Society of Precision Engineers")
    await api.create_issuer("other", name="Other Society")
    return api


async def _save(http: httpx.AsyncClient, issuer: str, logo: tuple[str, bytes, str] | None, **fields: str) -> httpx.Response:
    page = await http.get(f"/console/{issuer}/branding")
    data = {"csrf_token": csrf_of(page.text), "brand": "#19487a", "accent": "#0b57d0", **fields}
    return await http.post(f"/console/{issuer}/branding", data=data, files={"logo": logo} if logo else {"logo": ("", b"", "application/octet-stream")})


async def test_an_owner_brands_the_issuer_and_the_page_and_pdf_show_it(http: httpx.AsyncClient, runtime: Runtime, api: ServiceClient) -> None:
    await sign_in(http, runtime, await add_staff(runtime, "olga@spe.example", {"spe": "owner"}))
    saved = await _save(http, "spe", ("logo.svg", SVG, "image/svg+xml"), brand="#ffd400")
    assert saved.status_code == 200 and "dark instead" in saved.text, saved.text  # saved, and told of the adjustment
    logo = re.search(r'src="(http://localhost:8000/issuers/spe/logo/[0-9a-f]{20})"', saved.text)
    assert logo, saved.text
    served = await http.get(logo.group(1))
    assert served.status_code == 200 and served.content == SVG
    assert served.headers["content-type"] == "image/svg+xml"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "sandbox" in served.headers["content-security-policy"] and "default-src 'none'" in served.headers["content-security-policy"]
    assert (await http.get("/issuers/spe/logo/0000000000")).status_code == 404

    achievement = await api.create_achievement("spe")
    awarded = await api.award("spe", achievement["id"])
    url = awarded.json()["credential"]["id"]
    page = await http.get(url, headers={"Accept": "text/html"})
    assert logo.group(1) in page.text
    css = re.search(r'<link rel="stylesheet" href="(http://localhost:8000/issuers/spe/brand/[0-9a-f]{16}\.css)">', page.text)
    assert css, page.text
    assert "'self'" in page.headers["content-security-policy"].split("style-src")[1].split(";")[0]
    sheet = await http.get(css.group(1))
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
    assert sheet.text == ":root{--brand:#ffd400;--on-brand:#1b1f24;--accent:#0b57d0}\n"
    assert 'src="http://localhost:8000/badges/default.png"' in page.text

    # A PNG logo replaces the SVG; the PDF draws it (and the badge).
    assert (await _save(http, "spe", ("logo.png", _png(), "image/png"))).status_code == 303
    pdf = await http.get(url, params={"format": "pdf"})
    assert pdf.status_code == 200
    sizes = sorted((i.image.width, i.image.height) for i in PdfReader(io.BytesIO(pdf.content)).pages[0].images if i.image is not None)
    assert sizes == [(64, 32), (256, 256)]

    # Back to no logo and the service's own colours: the page links neither.
    assert (await _save(http, "spe", None, remove_logo="yes", default_colours="yes")).status_code == 303
    plain = await http.get(url, headers={"Accept": "text/html"})
    assert "/issuers/spe/logo/" not in plain.text and "/issuers/spe/brand/" not in plain.text
    assert (await http.get(css.group(1))).status_code == 404


@pytest.mark.parametrize(
    ("logo", "fields", "says"),
    [
        (("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"), {}, "event handler"),
        (("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"), {}, "&lt;script&gt;"),
        (("x.gif", b"GIF89a" + b"\0" * 20, "image/gif"), {}, "PNG, JPEG or SVG"),
        (("x.png", b"\0" * (300 * 1024), "image/png"), {}, "largest accepted is 256 KB"),
        (None, {"accent": "#cccccc"}, "4.5:1"),
    ],
)
async def test_a_hostile_logo_or_an_unreadable_colour_is_refused_and_nothing_saved(
    http: httpx.AsyncClient, runtime: Runtime, api: ServiceClient, logo: tuple[str, bytes, str] | None, fields: dict[str, str], says: str
) -> None:
    await sign_in(http, runtime, await add_staff(runtime, "olga@spe.example", {"spe": "owner"}))
    refused = await _save(http, "spe", logo, **fields)
    assert refused.status_code == 422 and says in refused.text and 'aria-invalid="true"' in refused.text, refused.text
    assert "No logo yet." in (await http.get("/console/spe/branding")).text
    async with runtime.sessions() as session:
        from microcred.db.models import Issuer

        issuer = await session.get(Issuer, "spe")
        assert issuer is not None and issuer.logo_digest is None and issuer.brand_colour is None


async def test_only_an_owner_of_this_issuer_saves(http: httpx.AsyncClient, runtime: Runtime, api: ServiceClient) -> None:
    await sign_in(http, runtime, await add_staff(runtime, "vera@spe.example", {"spe": "viewer", "other": "owner"}))
    page = await http.get("/console/spe/branding")
    assert page.status_code == 200 and "Save the branding" not in page.text
    refused = await http.post("/console/spe/branding", data={"csrf_token": csrf_of(page.text), "brand": "#000000", "accent": "#0b57d0"})
    assert refused.status_code == 403
    assert (await http.get("/console/nobody/branding")).status_code == 404


async def test_an_lms_sets_and_reads_the_branding_through_the_api(api: ServiceClient) -> None:
    issuer = await api.create_issuer()
    url = f"/api/v1/issuers/{issuer['id']}/branding"
    logo = "data:image/png;base64," + base64.b64encode(_png()).decode()
    saved = await api.http.put(url, json={"logo": logo, "colours": {"brand": "#19487a", "accent": "#0b57d0"}}, headers=api.admin)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["brand_colour"] == "#19487a" and body["accent_colour"] == "#0b57d0" and body["logo_media_type"] == "image/png"
    served = await api.http.get(body["logo_url"].removeprefix(api.runtime.settings.base_url))
    assert served.status_code == 200 and served.content == _png()
    assert (await api.http.get(url, headers=api.admin)).json() == {**body, "notes": []}

    # refused, naming the field, and nothing changed
    for payload, pointer in (
        ({"colours": {"brand": "#19487a", "accent": "#ffff00"}}, "#/colours/accent"),
        ({"colours": {"brand": "blue", "accent": "#0b57d0"}}, "#/colours/brand"),
        ({"logo": "data:image/png;base64," + base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>').decode()}, "#/logo"),
        ({"logo": "https://elsewhere.example/logo.png"}, "#/logo"),
    ):
        refused = is_problem(await api.http.put(url, json=payload, headers=api.admin), 422)
        assert refused["errors"][0]["pointer"] == pointer, refused
    assert (await api.http.get(url, headers=api.admin)).json()["logo_url"] == body["logo_url"]

    # absent keeps the logo, null removes it; another issuer's key reads nothing
    kept = await api.http.put(url, json={"colours": None}, headers=api.admin)
    assert kept.json()["logo_url"] == body["logo_url"] and kept.json()["brand_colour"] is None
    removed = await api.http.put(url, json={"logo": None}, headers=api.admin)
    assert removed.json()["logo_url"] is None
    other = await api.create_issuer()
    stranger = api.auth(await api.issuer_key(other["id"]))
    is_problem(await api.http.get(url, headers=stranger), 404)  # as for any other issuer's resource: not even that it exists
