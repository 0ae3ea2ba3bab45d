"""The public credential page, the verify page and the LinkedIn link, read the way a person would:
the HTML is parsed (stdlib html.parser) and we look at what is shown, not at template source."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from microcred.credentials import DocumentLoader, Ed25519KeyPair, issue, verify
from microcred.public.linkedin import add_to_profile_url
from microcred.public.page import EndorsementView, PageView, render_credential_page, render_verify_page, style_csp_source

HOSTILE = "<script>alert(1)</script>"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# --- a tiny DOM over html.parser -----------------------------------------------------------------


@dataclasses.dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = dataclasses.field(default_factory=list)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Descendants by tag and attribute values (``class_`` for class, ``_`` for ``-``)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            el for el in self.iter()
            if (tag is None or el.tag == tag) and all(el.attrs.get(k) == v for k, v in wanted.items())
        ]

    def find(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]

    @property
    def text(self) -> str:
        """The text as shown, whitespace collapsed (a <br> counts as a space)."""
        return self._text(spoken=False)

    @property
    def spoken(self) -> str:
        """The text a screen reader announces: as shown, less anything aria-hidden."""
        return self._text(spoken=True)

    def _text(self, *, spoken: bool) -> str:
        parts: list[str] = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag == "br":
                parts.append(" ")
            elif not (spoken and child.attrs.get("aria-hidden") == "true"):
                parts.append(child._text(spoken=spoken))
        return " ".join("".join(parts).split())

    def meta(self, key: str) -> str | None:
        """The content of <meta property=key> or <meta name=key>, None when absent."""
        found = [m for m in self.find_all("meta") if key in (m.attrs.get("property"), m.attrs.get("name"))]
        assert len(found) <= 1, f"{key} appears {len(found)} times"
        return found[0].attrs.get("content") if found else None


class Document(HTMLParser):
    """Parses strictly: every non-void element must be closed, in order, or the test fails."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.doctype: str | None = None
        self.root = Element("#document", {})
        self._stack = [self.root]
        self.feed(html)
        self.close()
        assert [el.tag for el in self._stack] == ["#document"], f"unclosed: {[e.tag for e in self._stack]}"

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self._stack[-1].children.append(element)
        if tag not in VOID:
            self._stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self._stack[-1].tag == tag, f"</{tag}> closes <{self._stack[-1].tag}>"
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)


def page(**changes: Any) -> Element:
    return Document(render_credential_page(dataclasses.replace(VIEW, **changes))).root


def banner(root: Element) -> Element:
    return root.find(role="status")


def section(root: Element, heading: str) -> Element:
    """The <section> whose h2 says ``heading``."""
    matches = [s for s in root.find_all("section") if any(h.text == heading for h in s.find_all("h2"))]
    assert len(matches) == 1, f"no single section headed {heading!r}"
    return matches[0]


def definitions(dl: Element) -> list[tuple[str, str]]:
    terms = [el for el in dl.children if isinstance(el, Element) and el.tag in ("dt", "dd")]
    assert [el.tag for el in terms] == ["dt", "dd"] * (len(terms) // 2)
    return [(terms[i].text, terms[i + 1].text) for i in range(0, len(terms), 2)]


LINKEDIN = add_to_profile_url(
    name="Data stewardship",
    organization_id=None,
    organization_name="Université de Lyon",
    issued=date(2026, 3, 3),
    expires=date(2028, 3, 3),
    cert_url="https://cred.example.org/credentials/abc",
    cert_id="urn:uuid:abc",
)

VIEW = PageView(
    credential_id="urn:uuid:abc",
    public_url="https://cred.example.org/credentials/abc",
    title="Data stewardship",
    kind="Diploma",
    description="Plans, documents and shares research data under the FAIR principles.",
    image_url="https://cred.example.org/achievements/1/image.png",
    learner_name="Ana Müller",
    issuer_name="Université de Lyon",
    issuer_url="https://www.univ-lyon.example",
    provider_name="Open Data Academy",
    issued_on=date(2026, 3, 3),
    valid_until=date(2028, 3, 3),
    status="valid",
    status_detail="Checked on 4 March 2026.",
    checks=[
        ("Signature", "passed", "eddsa-rdfc-2022 proof verified"),
        ("Status", "skipped", "no status list entry"),
    ],
    elements=[("Level (EQF)", "6"), ("Workload", "5 ECTS credits"), ("Assessment", "Written exam, supervised")],
    downloads=[
        ("Signed credential (JSON-LD)", "https://cred.example.org/credentials/abc?format=json"),
        ("Certificate (PDF)", "https://cred.example.org/credentials/abc?format=pdf"),
    ],
    linkedin_url=LINKEDIN,
    verify_url="https://cred.example.org/verify?url=https%3A%2F%2Fcred.example.org%2Fcredentials%2Fabc",
    json_ld_url="https://cred.example.org/credentials/abc?format=json",
)


# --- LinkedIn -------------------------------------------------------------------------------------


def query(url: str) -> dict[str, str]:
    """The query as a flat dict, failing if any parameter repeats."""
    params = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    assert all(len(v) == 1 for v in params.values()), params
    return {k: v[0] for k, v in params.items()}


class TestAddToProfileUrl:
    def test_with_expiry_carries_every_field(self) -> None:
        url = add_to_profile_url(
            name="Data stewardship",
            organization_id="1337",
            organization_name=None,
            issued=date(2026, 9, 3),
            expires=date(2028, 11, 30),
            cert_url="https://cred.example.org/credentials/abc",
            cert_id="urn:uuid:abc",
        )
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
        assert query(url) == {
            "startTask": "CERTIFICATION_NAME",
            "name": "Data stewardship",
            "organizationId": "1337",
            "issueYear": "2026",
            "issueMonth": "9",
            "expirationYear": "2028",
            "expirationMonth": "11",
            "certUrl": "https://cred.example.org/credentials/abc",
            "certId": "urn:uuid:abc",
        }

    def test_without_expiry_has_no_expiration_fields(self) -> None:
        params = query(
            add_to_profile_url(
                name="Data stewardship",
                organization_id=None,
                organization_name="Université de Lyon",
                issued=date(2026, 3, 3),
                expires=None,
                cert_url="https://cred.example.org/credentials/abc",
                cert_id="urn:uuid:abc",
            )
        )
        assert "expirationYear" not in params and "expirationMonth" not in params
        assert params["issueYear"] == "2026" and params["issueMonth"] == "3"
        assert params["certUrl"] == "https://cred.example.org/credentials/abc"

    def test_organization_id_is_preferred_over_the_name(self) -> None:
        params = query(
            add_to_profile_url(
                name="X", organization_id="1337", organization_name="Université de Lyon",
                issued=date(2026, 1, 1), expires=None, cert_url="https://e.org/c", cert_id="c",
            )
        )
        assert params["organizationId"] == "1337"
        assert "organizationName" not in params

    def test_organization_name_when_there_is_no_id(self) -> None:
        params = query(LINKEDIN)
        assert params["organizationName"] == "Université de Lyon"
        assert "organizationId" not in params

    def test_non_ascii_name_round_trips_with_spaces_as_percent_20(self) -> None:
        name = "Gestion de données – niveau 2"
        url = add_to_profile_url(
            name=name, organization_id=None, organization_name="École & Co",
            issued=date(2026, 1, 1), expires=None, cert_url="https://e.org/c?a=1&b=2", cert_id="c",
        )
        params = query(url)
        assert params["name"] == name
        assert params["organizationName"] == "École & Co"
        assert params["certUrl"] == "https://e.org/c?a=1&b=2"
        assert "%20" in url and "+" not in url
        assert url.isascii()

    def test_months_have_no_leading_zero(self) -> None:
        assert "&issueMonth=3&" in LINKEDIN and "&expirationMonth=3&" in LINKEDIN

    def test_empty_parameters_are_left_out(self) -> None:
        params = query(
            add_to_profile_url(
                name="X", organization_id="", organization_name="Org",
                issued=date(2026, 1, 1), expires=None, cert_url="https://e.org/c", cert_id="",
            )
        )
        assert "certId" not in params and "organizationId" not in params
        assert params["organizationName"] == "Org"

    @pytest.mark.parametrize("org_id, org_name", [(None, None), ("", ""), (None, "")])
    def test_an_organization_is_required(self, org_id: str | None, org_name: str | None) -> None:
        with pytest.raises(ValueError, match="organization"):
            add_to_profile_url(
                name="X", organization_id=org_id, organization_name=org_name,
                issued=date(2026, 1, 1), expires=None, cert_url="https://e.org/c", cert_id="c",
            )


# --- the credential page --------------------------------------------------------------------------


class TestDocument:
    def test_is_a_complete_html5_document_in_english(self) -> None:
        document = Document(render_credential_page(VIEW))
        assert document.doctype is not None and document.doctype.lower() == "doctype html"
        html = document.root.find("html")
        assert html.attrs["lang"] == "en"
        assert html.find("head") and html.find("body")
        assert html.find("meta", charset="utf-8")

    def test_fits_a_phone_screen(self) -> None:
        viewport = page().meta("viewport")
        assert viewport is not None and "width=device-width" in viewport

    def test_window_title_names_the_achievement(self) -> None:
        assert "Data stewardship" in page().find("title").text

    def test_needs_no_script_and_loads_nothing_from_elsewhere(self) -> None:
        root = page()
        assert root.find_all("script") == []
        assert [link for link in root.find_all("link") if link.attrs.get("rel") == "stylesheet"] == []
        assert [img.attrs["src"] for img in root.find_all("img")] == [VIEW.image_url]
        style = root.find("style")
        assert "font-family" in style.text and "@media" in style.text

    def test_csp_hash_allows_exactly_the_inline_style(self) -> None:
        """A Content-Security-Policy built from style_csp_source() must not block the page's CSS."""
        for html in (render_credential_page(VIEW), render_verify_page(None, None, "/verify")):
            styles = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
            assert len(styles) == 1
            digest = base64.b64encode(hashlib.sha256(styles[0].encode("utf-8")).digest()).decode()
            assert style_csp_source() == f"'sha256-{digest}'"

    def test_headings_go_down_one_level_at_a_time(self) -> None:
        levels = [int(el.tag[1]) for el in page().iter() if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6")]
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))

    def test_every_link_says_where_it_goes(self) -> None:
        links = page().find_all("a")
        assert links
        for link in links:
            assert link.attrs.get("href")
            assert link.text and link.text.lower() not in {"here", "click here", "link", "more", "download"}


class TestWhatThePageSays:
    def test_shows_the_achievement_kind_description_and_image(self) -> None:
        root = page()
        assert root.find("h1").text == "Data stewardship"
        assert "Diploma" in root.find("body").text
        assert VIEW.description in root.find("body").text
        assert root.find("img").attrs["alt"] == "Data stewardship"

    def test_shows_learner_issuer_provider_and_dates(self) -> None:
        facts = dict(definitions(section(page(), "About this credential").find("dl")))
        assert facts["Awarded to"] == "Ana Müller"
        assert facts["Issued by"] == "Université de Lyon"
        assert facts["Training provider"] == "Open Data Academy"
        assert facts["Issued on"] == "3 March 2026"
        assert facts["Valid until"] == "3 March 2028"

    def test_dates_are_machine_readable_too(self) -> None:
        times = {t.attrs["datetime"] for t in page().find_all("time")}
        assert {"2026-03-03", "2028-03-03"} <= times

    def test_a_credential_without_expiry_says_so(self) -> None:
        facts = dict(definitions(section(page(valid_until=None), "About this credential").find("dl")))
        assert facts["Valid until"] == "No expiry date"

    def test_no_provider_row_and_no_learner_when_not_given(self) -> None:
        root = page(provider_name=None, learner_name=None)
        facts = dict(definitions(section(root, "About this credential").find("dl")))
        assert "Training provider" not in facts and "Awarded to" not in facts
        assert "Awarded to" not in root.find("body").text

    def test_issuer_links_to_its_website(self) -> None:
        link = [a for a in page().find_all("a") if a.text == "Université de Lyon"]
        assert [a.attrs["href"] for a in link] == ["https://www.univ-lyon.example"]

    def test_eu_elements_are_a_definition_list(self) -> None:
        dl = section(page(), "Micro-credential details").find("dl")
        assert definitions(dl) == VIEW.elements

    def test_verifier_checks_are_listed_with_their_outcome_in_words(self) -> None:
        items = section(page(), "Verification checks").find("ul").find_all("li")
        assert len(items) == 2
        assert "Passed" in items[0].text and "Signature" in items[0].text
        assert "eddsa-rdfc-2022 proof verified" in items[0].text
        assert "Skipped" in items[1].text and "no status list entry" in items[1].text

    def test_endorsements_name_the_endorser_the_comment_and_the_state_in_words(self) -> None:
        root = page(
            endorsements=[
                EndorsementView("Conseil d'accréditation", "the achievement", "Meets the national criteria.", "valid"),
                EndorsementView("Open Data Guild", "the issuer", None, "revoked"),
            ]
        )
        items = section(root, "Endorsements").find("ul").find_all("li")
        assert [item.text for item in items] == [
            "Endorsed by Conseil d'accréditation — Meets the national criteria. Endorses the achievement · Status: Valid",
            "Endorsed by Open Data Guild Endorses the issuer · Status: Revoked by the endorser",
        ]
        assert [item.attrs["data-state"] for item in items] == ["valid", "revoked"]

    def test_no_endorsements_no_section(self) -> None:
        assert not any(h.text == "Endorsements" for h in page().find_all("h2"))

    def test_explains_how_to_verify_independently(self) -> None:
        how = section(page(), "How to verify this independently")
        for phrase in ("W3C Verifiable Credential", "Open Badges 3.0", "eddsa-rdfc-2022"):
            assert phrase in how.text
        hrefs = {a.attrs["href"] for a in how.find_all("a")}
        assert {VIEW.json_ld_url, VIEW.verify_url} <= hrefs

    def test_downloads_are_links(self) -> None:
        links = section(page(), "Downloads").find_all("a")
        assert [(a.text, a.attrs["href"]) for a in links] == VIEW.downloads


class TestStatusBanner:
    @pytest.mark.parametrize(
        "status, words",
        [
            ("valid", "Valid"),
            ("expired", "Expired"),
            ("suspended", "Suspended"),
            ("revoked", "Revoked"),
            ("invalid", "Not valid"),
        ],
    )
    def test_says_the_status_in_words_and_as_data(self, status: str, words: str) -> None:
        shown = banner(page(status=status, status_detail=""))
        assert shown.attrs["data-status"] == status
        assert shown.spoken == words

    def test_shows_why(self) -> None:
        shown = banner(page(status="revoked", status_detail="Revoked on 4 March 2026"))
        assert shown.spoken == "Revoked Revoked on 4 March 2026"


class TestSharing:
    def test_opengraph_and_twitter_card(self) -> None:
        root = page()
        assert root.meta("og:title") == "Data stewardship"
        assert root.meta("og:description") == VIEW.description
        assert root.meta("og:type") == "website"
        assert root.meta("og:url") == VIEW.public_url
        assert root.meta("og:image") == VIEW.image_url
        assert root.meta("twitter:card") == "summary"
        assert root.meta("twitter:title") == "Data stewardship"
        assert root.meta("twitter:description") == VIEW.description

    def test_no_image_no_og_image(self) -> None:
        root = page(image_url=None)
        assert root.meta("og:image") is None
        assert root.find_all("img") == []

    def test_embedded_image_is_shown_but_not_offered_to_link_previews(self) -> None:
        data = "data:image/png;base64,iVBORw0KGgo="
        root = page(image_url=data)
        assert root.find("img").attrs["src"] == data
        assert root.meta("og:image") is None

    def test_long_description_is_shortened_for_previews(self) -> None:
        description = "word " * 100
        root = page(description=description)
        preview = root.meta("og:description")
        assert preview is not None and preview.endswith("…") and len(preview) <= 201
        assert description.strip() in root.find("body").text

    def test_linkedin_link_when_available(self) -> None:
        link = page().find("a", id="linkedin-add")
        assert link.attrs["href"] == LINKEDIN
        assert link.text == "Add to LinkedIn profile"

    def test_no_linkedin_link_otherwise(self) -> None:
        root = page(linkedin_url=None)
        assert root.find_all(id="linkedin-add") == []
        assert "LinkedIn" not in root.find("body").text


class TestHostileInput:
    def test_learner_name_is_shown_as_text_never_run(self) -> None:
        html = render_credential_page(dataclasses.replace(VIEW, learner_name=HOSTILE))
        root = Document(html).root
        assert root.find_all("script") == []
        assert HOSTILE not in html
        facts = dict(definitions(section(root, "About this credential").find("dl")))
        assert facts["Awarded to"] == HOSTILE

    def test_quotes_and_tags_stay_inside_attributes(self) -> None:
        title = 'Data "stewardship" <b onmouseover=alert(1)>'
        root = page(title=title, description="'><img src=x onerror=alert(1)>")
        assert root.meta("og:title") == title
        assert root.find("img").attrs == {"class": "credential-image", "src": VIEW.image_url, "alt": title}
        assert root.find_all("b") == []
        assert root.find("h1").text == title

    @pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)"])
    def test_issuer_urls_that_are_not_web_links_are_not_linked(self, url: str) -> None:
        root = page(issuer_url=url, image_url=url)
        assert not any("script:" in (a.attrs.get("href") or "").lower() for a in root.find_all("a"))
        assert root.find_all("img") == []
        assert "Université de Lyon" in root.find("header").text

    def test_every_view_field_is_escaped(self) -> None:
        root = page(
            title=HOSTILE, description=HOSTILE, learner_name=HOSTILE, issuer_name=HOSTILE,
            provider_name=HOSTILE, status_detail=HOSTILE, checks=[(HOSTILE, "failed", HOSTILE)],
            elements=[(HOSTILE, HOSTILE)], downloads=[(HOSTILE, "https://e.org/x")],
            endorsements=[EndorsementView(HOSTILE, HOSTILE, HOSTILE, HOSTILE)],
        )
        assert root.find_all("script") == []
        assert root.find("h1").text == HOSTILE


# --- the verify page ------------------------------------------------------------------------------


def verify_page(result: dict[str, Any] | None = None, error: str | None = None) -> Element:
    return Document(render_verify_page(result, error, "/verify")).root


def labelled_input(form: Element, label_text: str) -> Element:
    """The control a label names, through its for= attribute, within the same form."""
    label = [lb for lb in form.find_all("label") if lb.text == label_text]
    assert len(label) == 1, f"no label {label_text!r}"
    target = label[0].attrs.get("for")
    assert target
    return form.find(id=target)


REPORT: dict[str, Any] = {
    "verdict": "valid",
    "valid": True,
    "format": "ldp",
    "summary": {
        "id": "urn:uuid:abc",
        "issuer": {"id": "did:key:z6Mk", "name": "Université de Lyon"},
        "subject": {"id": "did:example:ana", "name": "Ana Müller"},
        "achievement": {"id": "urn:uuid:ach", "name": "Data stewardship"},
        "validFrom": "2026-03-03T00:00:00Z",
        "validUntil": None,
    },
    "checks": [
        {"name": "proof", "outcome": "passed", "message": "signature verified"},
        {"name": "status", "outcome": "skipped", "message": "no credentialStatus"},
    ],
}


class TestVerifyPage:
    def test_url_form_gets_a_labelled_url_field(self) -> None:
        root = verify_page()
        form = [f for f in root.find_all("form") if f.find_all("input", name="url")]
        assert len(form) == 1
        assert form[0].attrs.get("method") == "get"
        field = labelled_input(form[0], "Credential URL")
        assert field.tag == "input" and field.attrs["name"] == "url" and field.attrs["type"] == "url"

    def test_file_form_posts_multipart_to_the_action(self) -> None:
        root = verify_page()
        form = [f for f in root.find_all("form") if f.find_all("input", name="file")]
        assert len(form) == 1
        assert form[0].attrs["method"] == "post"
        assert form[0].attrs["enctype"] == "multipart/form-data"
        assert form[0].attrs["action"] == "/verify"
        field = labelled_input(form[0], "Credential file (JSON, JWT, PNG, SVG or PDF)")
        assert field.attrs["name"] == "file" and field.attrs["type"] == "file"

    def test_every_label_points_at_a_field(self) -> None:
        root = verify_page()
        ids = {el.attrs.get("id") for el in root.iter()}
        labels = root.find_all("label")
        assert len(labels) == 2 and all(lb.attrs.get("for") in ids for lb in labels)

    def test_no_result_no_banner(self) -> None:
        root = verify_page()
        assert root.find_all(role="status") == []
        assert root.find("h1").text == "Verify a credential"
        assert root.find("html").attrs["lang"] == "en"

    @pytest.mark.parametrize(
        "verdict, status, words",
        [
            ("valid", "valid", "Valid"),
            ("expired", "expired", "Expired"),
            ("suspended", "suspended", "Suspended"),
            ("revoked", "revoked", "Revoked"),
            ("tampered", "invalid", "Not valid"),
            ("unknown_key", "invalid", "Not valid"),
            ("malformed", "invalid", "Not valid"),
            ("not_yet_valid", "invalid", "Not valid"),
        ],
    )
    def test_banner_follows_the_verdict(self, verdict: str, status: str, words: str) -> None:
        shown = banner(verify_page({**REPORT, "verdict": verdict, "valid": verdict == "valid"}))
        assert shown.attrs["data-status"] == status
        assert shown.attrs["data-verdict"] == verdict
        assert shown.find("p", class_="status-text").text == words

    def test_a_failed_requested_check_is_not_shown_as_valid(self) -> None:
        report = {**REPORT, "valid": False, "checks": [{"name": "recipient", "outcome": "failed", "message": "no"}]}
        assert banner(verify_page(report)).attrs["data-status"] == "invalid"

    def test_result_shows_who_what_and_each_step(self) -> None:
        root = verify_page(REPORT)
        result = section(root, "Result")
        facts = dict(definitions(result.find("dl")))
        assert facts["Achievement"] == "Data stewardship"
        assert facts["Awarded to"] == "Ana Müller"
        assert facts["Issued by"] == "Université de Lyon"
        steps = [li.text for li in result.find("ul").find_all("li")]
        assert steps == [
            "✓ Passed · Issuer's signature signature verified",
            "– Skipped · Revocation and suspension no credentialStatus",
        ]

    def test_each_check_is_named_in_words_not_by_its_code(self) -> None:
        names = ["status:message", "relatedResource", "schema:credentialStatus", "a-new-check"]
        report = {**REPORT, "checks": [{"name": n, "outcome": "passed", "message": ""} for n in names]}
        shown = [li.find("strong").text for li in section(verify_page(report), "Result").find("ul").find_all("li")]
        assert shown == ["Status message from the issuer", "Linked resources", "Status entry format", "a-new-check"]

    def test_error_is_announced(self) -> None:
        alert = verify_page(error="The address did not answer with a credential.").find(role="alert")
        assert alert.text == "The address did not answer with a credential."

    def test_hostile_report_is_escaped(self) -> None:
        report = {
            "verdict": HOSTILE,
            "summary": {"issuer": HOSTILE, "learner": HOSTILE, "achievement": {"name": HOSTILE}},
            "checks": [{"name": HOSTILE, "outcome": HOSTILE, "message": HOSTILE}],
        }
        root = verify_page(report, error=HOSTILE)
        assert root.find_all("script") == []
        assert banner(root).attrs["data-status"] == "invalid"
        assert dict(definitions(section(root, "Result").find("dl")))["Awarded to"] == HOSTILE


class TestWithTheRealVerifier:
    """The page reads the dict the verifier actually produces, not only our hand-written one."""

    @pytest.fixture
    def signed(self, ob3_unsigned: dict[str, Any], loader: DocumentLoader) -> dict[str, Any]:
        key = Ed25519KeyPair.from_seed(b"\x02" * 32)
        credential = copy.deepcopy(ob3_unsigned)
        credential["issuer"]["id"] = key.controller
        credential["validFrom"] = "2026-01-10T09:00:00Z"
        credential.pop("validUntil", None)
        return issue(credential, signer=key.signer(), loader=loader, created=datetime(2026, 1, 10, 9, 0, tzinfo=UTC))

    def test_a_signed_credential_shows_valid_and_tampering_shows_not_valid(
        self, signed: dict[str, Any], now: datetime
    ) -> None:
        good = verify_page(verify(signed, now=now).to_dict())
        assert banner(good).attrs["data-status"] == "valid"
        achievement = signed["credentialSubject"]["achievement"]["name"]
        assert dict(definitions(section(good, "Result").find("dl")))["Achievement"] == achievement

        tampered = copy.deepcopy(signed)
        tampered["credentialSubject"]["achievement"]["name"] = "Something else"
        bad = verify_page(verify(tampered, now=now).to_dict())
        assert banner(bad).attrs["data-status"] == "invalid"
        assert banner(bad).attrs["data-verdict"] == "tampered"

    def test_garbage_shows_not_valid(self) -> None:
        shown = banner(verify_page(verify(b"not a credential").to_dict()))
        assert (shown.attrs["data-status"], shown.attrs["data-verdict"]) == ("invalid", "malformed")


# --- branding, the verdict in plain words, skills, technical details (issue 13) ------------------


class TestBrandedPage:
    def test_logo_and_stylesheet_of_the_issuer_are_ours_and_in_the_header(self) -> None:
        root = page(logo_url="https://cred.example.org/issuers/acme/logo/abc", brand_css_url="https://cred.example.org/issuers/acme/brand/def.css")
        header = root.find("header")
        assert [img.attrs["src"] for img in header.find_all("img")] == ["https://cred.example.org/issuers/acme/logo/abc", VIEW.image_url]
        assert header.find("img", **{"class": "issuer-logo"}).attrs["alt"] == VIEW.issuer_name
        links = [link.attrs for link in root.find_all("link") if link.attrs.get("rel") == "stylesheet"]
        assert links == [{"rel": "stylesheet", "href": "https://cred.example.org/issuers/acme/brand/def.css"}]

    def test_no_branding_no_logo_and_no_stylesheet(self) -> None:
        root = page()
        assert root.find_all("img", **{"class": "issuer-logo"}) == []
        assert [link for link in root.find_all("link") if link.attrs.get("rel") == "stylesheet"] == []

    @pytest.mark.parametrize(
        ("status", "starts"),
        [
            ("valid", "This is a valid credential issued by"),
            ("expired", "This credential was issued by"),
            ("revoked", "This credential was issued by"),
            ("invalid", "This is not a valid credential"),
        ],
    )
    def test_the_verdict_says_it_in_plain_words(self, status: str, starts: str) -> None:
        verdict = page(status=status).find(id="verdict").text
        assert verdict.startswith(starts), verdict
        if status != "invalid":
            assert VIEW.issuer_name in verdict and f"to {VIEW.learner_name} on" in verdict
        assert ("revoked" in verdict) == (status == "revoked")

    def test_grade_and_completion_date_stand_out_at_the_top(self) -> None:
        root = page(results=[("Final grade", "8.5 (on a scale of 1 to 10)")], completed_on=date(2024, 6, 28))
        header = root.find("header")
        assert header.find("dd", **{"class": "grade"}).text == "8.5 (on a scale of 1 to 10)"
        assert header.find("dd", **{"class": "completed-on"}).text == "28 June 2024"

    def test_skills_are_listed_with_their_framework_and_only_web_links(self) -> None:
        root = page(skills=[("Operate a CNC lathe", "ESCO", "https://esco.example/42"), ("Metrology", None, "javascript:alert(1)")])
        items = section(root, "Skills and alignments").find_all("li")
        assert [li.text for li in items] == ["Operate a CNC lathe (ESCO)", "Metrology"]
        assert [a.attrs["href"] for a in section(root, "Skills and alignments").find_all("a")] == ["https://esco.example/42"]

    def test_the_checks_are_folded_under_technical_details(self) -> None:
        details = page().find("details")
        assert details.find("summary").text == "Technical details" and "open" not in details.attrs
        assert details.find("h2").text == "Verification checks"
