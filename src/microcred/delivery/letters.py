"""The words of every email the service sends a learner (a credential's notice, a sign-in link,
an address to confirm), written in the language in use: render them inside
:func:`~microcred.i18n.using_language` with the learner's language (background sending) or in a
request's (a link asked for from a page). The text lives in ``templates/``; its Dutch in the
``emails`` catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..i18n.templates import install

__all__ = ["render", "render_html", "subject"]

_FOLDER = Path(__file__).parent / "templates"
#: Plain text: nothing is escaped. Block tags take their line with them, as the catalogue
#: extractor reads them (``EXTRACT_OPTIONS``).
_templates = install(
    Environment(
        loader=FileSystemLoader(_FOLDER), autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True
    )
)


#: The HTML part of a credential's notice: escaped, as any page.
_html = install(Environment(loader=FileSystemLoader(_FOLDER), autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True))


def render_html(email: str, /, **values: Any) -> str:
    """The HTML part of a credential's notice (``issued``, ``revoked``), branded."""
    return _html.get_template("notice.html").render(values, kind=email)


def render(email: str, /, **values: Any) -> str:
    """The body of ``email`` (``issued``, ``revoked``, ``sign_in``, ``address``)."""
    return _templates.get_template(f"{email}.txt").render(values)


def subject(email: str, /, **values: Any) -> str:
    """The subject line of ``email`` (each email's line in ``subjects.txt``)."""
    lines = _templates.get_template("subjects.txt").render(values, email=email).splitlines()
    return next(line for line in lines if line).strip()
