"""Dates and numbers as each language writes them (Babel's CLDR data).

English is written the British way ("3 March 2026"), which no English reader misreads;
Dutch as "3 maart 2026" and "7,5".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import dates, numbers
from markupsafe import Markup

from .messages import current_language

__all__ = ["format_date", "format_decimal", "format_number", "long_date"]

#: The CLDR locale each language is formatted in.
_FORMAT_LOCALES = {"en": "en_GB", "nl": "nl_NL"}


def _locale(language: str | None) -> str:
    return _FORMAT_LOCALES.get(language or current_language(), "en_GB")


def format_date(value: date | datetime, style: str = "long", language: str | None = None) -> str:
    """``3 March 2026`` / ``3 maart 2026`` (``style`` is a CLDR width: short, medium, long, full)."""
    return dates.format_date(value, format=style, locale=_locale(language))


def format_decimal(value: float | Decimal | int, language: str | None = None) -> str:
    """``7.5`` / ``7,5``; no rounding beyond what the value has (up to three decimals)."""
    return numbers.format_decimal(value, locale=_locale(language))


def format_number(value: int, language: str | None = None) -> str:
    """``1,234`` / ``1.234``."""
    return numbers.format_decimal(value, locale=_locale(language))


def long_date(value: date | datetime) -> Markup:
    """A date for a page: in words, with a machine-readable ``<time>``."""
    day = value.date() if isinstance(value, datetime) else value
    return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), format_date(day))
