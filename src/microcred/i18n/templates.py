"""Templates that speak the request's language: Jinja's ``i18n`` extension wired to our
catalogues, the date and number filters, and what ``base.html`` needs for ``<html lang>`` and
the language switcher.

Templates write ``{{ _("Issued on") }}``, ``{{ _("Issued by %(name)s", name=issuer) }}`` (values
are escaped before they are put in) or ``{% trans %}...{% endtrans %}``; whitespace inside
``trans`` blocks is collapsed, as the extractor collapses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from .formats import format_decimal, long_date
from .messages import current_language, gettext, ngettext, translations
from .requests import language_links

__all__ = ["EXTRACT_OPTIONS", "install"]

#: The options ``scripts/update_catalogues.py`` and the catalogue test read templates with;
#: they must match :func:`install` or the extracted text differs from what is looked up.
EXTRACT_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true", "trim_blocks": "true", "lstrip_blocks": "true"}


def install(env: Environment) -> Environment:
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    # Jinja's own newstyle callables go through two context-passing layers per call; a page
    # with 200 credentials makes thousands of calls, so these plain ones do the same work
    # (translate, escape the values when the template escapes, fill the placeholders) directly.
    single, plural = _newstyle(bool(env.autoescape))
    env.globals.update(_=single, gettext=single, ngettext=plural)
    env.filters["long_date"] = long_date
    env.filters["decimal"] = format_decimal
    env.globals["page_language"] = current_language
    env.globals["language_links"] = language_links
    return env


def _newstyle(escaping: bool) -> tuple[Callable[..., str], Callable[..., str]]:
    """``_``/``gettext`` and ``ngettext`` as Jinja's newstyle ones behave: the text is always a
    format string, its values escaped when the template escapes (``num`` is set for plurals)."""
    wrap: Callable[[str], str] = Markup if escaping else str

    def single(message: str, /, **values: Any) -> str:
        return wrap(translations(current_language()).gettext(message)) % values

    def plural(singular: str, plural_: str, n: int, /, **values: Any) -> str:
        values.setdefault("num", n)
        return wrap(translations(current_language()).ngettext(singular, plural_, n)) % values

    return single, plural
