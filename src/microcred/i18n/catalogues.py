"""Keeping the message catalogues complete: what text the service has, and where it goes.

Used by ``scripts/update_catalogues.py`` (to add new text to the ``.po`` files) and by the test
that fails when a language misses a string, keeps one nobody uses, or drops a placeholder.
Text is collected from the Jinja templates (``_()``, ``{% trans %}``), from Python (``gettext``,
``ngettext``, ``N_``) and from :func:`microcred.public.words.vocabulary` (words made from codes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from .languages import DEFAULT, SUPPORTED
from .templates import EXTRACT_OPTIONS

__all__ = ["Message", "PACKAGE", "catalogue_path", "collect", "domain_of", "placeholders", "read", "write"]

PACKAGE = Path(__file__).resolve().parent.parent
_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
_TEMPLATE_SUFFIXES = (".html", ".txt")
#: The catalogue file ("domain") of each part of the service; the first matching prefix wins.
_DOMAINS: tuple[tuple[str, str], ...] = (
    ("delivery/", "emails"),
    ("documents/", "pdf"),
    ("catalogue/", "catalogue"),
    ("pathways/", "catalogue"),
    ("public/templates/catalogue/", "catalogue"),
    ("learners/passkeys", "passkeys"),
    ("public/templates/passkey", "passkeys"),
    ("backpack/", "learners"),
    ("learners/", "learners"),
    ("oauth/", "learners"),
    ("public/templates/backpack", "learners"),
    ("public/templates/share", "learners"),
    ("public/templates/sign_in", "learners"),
    ("public/templates/address", "learners"),
    ("public/templates/consent", "learners"),
    ("public/templates/message", "learners"),
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@dataclass
class Message:
    text: str
    plural: str | None = None
    locations: list[tuple[str, int]] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return domain_of(self.locations[0][0]) if self.locations else "pages"


def domain_of(path: str) -> str:
    return next((domain for prefix, domain in _DOMAINS if path.startswith(prefix)), "pages")


def collect(package: Path = PACKAGE) -> dict[str, Message]:
    """All text to translate, by its English source text."""
    found: dict[str, Message] = {}

    def add(text: str | tuple[str, ...], where: str, line: int) -> None:
        singular, plural = (text[0], text[1]) if isinstance(text, tuple) else (text, None)
        if not singular:
            return
        message = found.setdefault(singular, Message(singular, plural))
        message.locations.append((where, line))

    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package).as_posix()
        if "/templates/" in f"/{relative}" and path.suffix in _TEMPLATE_SUFFIXES and not relative.startswith("console/"):
            entries: Iterable[tuple[int, str | tuple[str, ...], list[str], str | None]] = extract_from_file(
                "jinja2.ext:babel_extract", path, keywords=_KEYWORDS, options=EXTRACT_OPTIONS
            )
        elif path.suffix == ".py" and not relative.startswith("i18n/"):
            entries = extract_from_file("python", path, keywords=_KEYWORDS)
        else:
            continue
        for line, text, _comments, _context in entries:
            add(text, relative, line)
    from ..public.words import vocabulary  # words made from codes, not literals in the code

    for text in vocabulary():
        add(text, "public/words.py", 0)
    return found


def catalogue_path(language: str, domain: str) -> Path:
    return PACKAGE / "i18n" / "locales" / language / "LC_MESSAGES" / f"{domain}.po"


def read(language: str) -> dict[str, Catalog]:
    """``language``'s catalogues by domain."""
    folder = PACKAGE / "i18n" / "locales" / language / "LC_MESSAGES"
    out: dict[str, Catalog] = {}
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as source:
            out[path.stem] = read_po(source, locale=language)
    return out


def write(language: str, domain: str, catalog: Catalog) -> None:
    path = catalogue_path(language, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        catalog.fuzzy = False  # the header: entries keep their own flags
        write_po(target, catalog, width=100, omit_header=False, sort_output=False, include_previous=False)


def placeholders(text: str) -> set[str]:
    """The named placeholders (``%(name)s``) a text carries: a translation must keep every one."""
    return set(_PLACEHOLDER.findall(text))


def languages() -> Iterator[str]:
    """The languages that need catalogues: all but the source language."""
    return (language for language in SUPPORTED if language != DEFAULT)
