"""The languages people read this service in: English (the source) and Dutch, at least.

- :mod:`.languages` says which languages exist and picks one for a request
  (``?lang=``, the switcher's cookie, the learner's setting, ``Accept-Language``).
- :mod:`.messages` loads the message catalogues (gettext ``.po`` files kept in the
  repository) and translates.
- :mod:`.formats` writes dates and numbers the way each language does (Babel, CLDR).
- :mod:`.requests` chooses the language of each web request and makes it current.

Text is written in English in templates and code and marked for translation (``gettext``,
``N_``); ``scripts/update_catalogues.py`` collects it into the catalogues and a test fails when
any language misses a string.
"""

from .formats import format_date, format_decimal, format_number, long_date
from .languages import DEFAULT, LANGUAGE_NAMES, SUPPORTED, is_supported, negotiate, supported_or_none
from .messages import N_, current_language, gettext, ngettext, translations, using_language

__all__ = [
    "DEFAULT",
    "LANGUAGE_NAMES",
    "N_",
    "SUPPORTED",
    "current_language",
    "format_date",
    "format_decimal",
    "format_number",
    "gettext",
    "is_supported",
    "long_date",
    "negotiate",
    "ngettext",
    "supported_or_none",
    "translations",
    "using_language",
]
