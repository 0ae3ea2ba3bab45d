"""Message catalogues: gettext ``.po`` files under ``locales/<language>/LC_MESSAGES/``.

The catalogues are read with Babel when first needed (no compile step, so what is in the
repository is what runs). A language may keep its strings in several files (``pages.po``,
``emails.po``...): they are merged into one set of translations. English needs no catalogue.

The language in use is a context variable: a web request sets it once (:mod:`.requests`), and
background work that writes to a person (an email, a PDF) sets it with :func:`using_language`.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from contextvars import ContextVar, Token
from functools import cache
from importlib.resources import files
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from .languages import DEFAULT, SUPPORTED

__all__ = ["N_", "current_language", "gettext", "ngettext", "translations", "using_language"]

_language: Final[ContextVar[str]] = ContextVar("microcred_language", default=DEFAULT)


def current_language() -> str:
    return _language.get()


@contextlib.contextmanager
def using_language(language: str) -> Iterator[None]:
    """Write in ``language`` inside the block (an unsupported one falls back to the default)."""
    token = _language.set(language if language in SUPPORTED else DEFAULT)
    try:
        yield
    finally:
        _language.reset(token)


def set_language(language: str) -> Token[str]:
    """Make ``language`` current for the rest of this context (a request's task); the token
    puts back what was before (``reset_language``)."""
    return _language.set(language if language in SUPPORTED else DEFAULT)


def reset_language(token: Token[str]) -> None:
    _language.reset(token)


def gettext(message: str) -> str:
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Marks text for the catalogues where it is defined (a table of labels); it is translated
    where it is shown, with :func:`gettext`."""
    return message


@cache
def translations(language: str) -> NullTranslations:
    """All of ``language``'s catalogues as one set of translations (English: the text as written)."""
    if language == DEFAULT or language not in SUPPORTED:
        return NullTranslations()
    merged: Translations | None = None
    folder = files("microcred.i18n").joinpath("locales", language, "LC_MESSAGES")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as source:
            catalog = read_po(source, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)  # fuzzy entries are left out, as gettext does
        compiled.seek(0)
        part = Translations(compiled, domain="messages")
        merged = part if merged is None else merged.merge(part)
    return merged if merged is not None else NullTranslations()
