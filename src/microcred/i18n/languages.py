"""Which languages the service speaks, and which one a person gets.

A language is its BCP 47 primary tag (``en``, ``nl``): the pages do not differ between
``nl-NL`` and ``nl-BE``, so a regional tag counts as its language.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT", "LANGUAGE_NAMES", "SUPPORTED", "is_supported", "negotiate", "supported_or_none"]

#: English first: it is the language the text is written in, and the fallback.
SUPPORTED: Final = ("en", "nl")
DEFAULT: Final = "en"
#: Each language's name in itself, as a language switcher shows it.
LANGUAGE_NAMES: Final = {"en": "English", "nl": "Nederlands"}

_MAX_HEADER = 1024  # a longer Accept-Language is someone's experiment, not a browser


def is_supported(language: str | None) -> bool:
    return language in SUPPORTED


def supported_or_none(tag: str | None) -> str | None:
    """``nl-BE`` -> ``nl``; a language we do not speak (or no tag) -> None."""
    if not tag:
        return None
    primary = tag.strip().split("-", 1)[0].split("_", 1)[0].lower()
    return primary if primary in SUPPORTED else None


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """The supported language an ``Accept-Language`` header (RFC 9110 §12.5.4) prefers most.

    Ranges are taken by weight, ties in the order given; ``*`` and unknown languages match
    nothing here, so the default stands. A malformed weight counts as 0 (not acceptable).
    """
    if not accept_language or len(accept_language) > _MAX_HEADER:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        language = supported_or_none(tag)
        if language is not None and 0 < weight <= 1:
            ranked.append((-weight, position, language))
    return min(ranked)[2] if ranked else default
