"""The languages the service speaks: choosing one, and catalogues that miss nothing."""

from __future__ import annotations

from datetime import date

import pytest

from microcred.i18n import catalogues, format_date, format_decimal, gettext, negotiate, using_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "nl"),  # a Dutch browser
        ("nl-BE", "nl"),  # a Flemish one: same pages
        ("en-GB,en;q=0.9,nl;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,nl;q=0.5", "nl"),  # French first, which we do not speak
        ("en;q=0.2, nl;q=0.8", "nl"),  # weights, not order, decide
        ("nl;q=0", "en"),  # "not Dutch"
        ("*", "en"),
        ("", "en"),
        ("nl;q=abc, en", "en"),  # a malformed weight is not acceptable
        ("de", "en"),
    ],
)
def test_a_browsers_languages_pick_the_page_language(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_dates_and_numbers_are_written_as_each_language_writes_them() -> None:
    assert format_date(date(2026, 3, 3), language="en") == "3 March 2026"
    assert format_date(date(2026, 3, 3), language="nl") == "3 maart 2026"
    assert format_decimal(7.5, language="nl") == "7,5" and format_decimal(7.5, language="en") == "7.5"


def test_text_is_translated_in_the_language_in_use_and_english_elsewhere() -> None:
    assert gettext("Technical details") == "Technical details"
    with using_language("nl"):
        assert gettext("Technical details") == "Technische details"
    with using_language("xx"):  # not one we speak: English
        assert gettext("Technical details") == "Technical details"


def test_every_language_has_every_string_translated_with_its_placeholders() -> None:
    """Add text with `_()`/`gettext` and this fails until `scripts/update_catalogues.py` has added it
    and someone has translated it."""
    messages = catalogues.collect()
    assert len(messages) > 150  # the collector really reads the templates and the code
    assert "Technical details" in messages and "Verify a credential" in messages and "Diploma" in messages
    for language in catalogues.languages():
        entries = {m.id if isinstance(m.id, str) else m.id[0]: m for c in catalogues.read(language).values() for m in c if m.id}
        missing = sorted(set(messages) - set(entries))
        assert not missing, f"{language}: not in any catalogue (run scripts/update_catalogues.py): {missing[:10]}"
        empty = sorted(t for t, m in entries.items() if not m.string or (isinstance(m.string, tuple) and not all(m.string)))
        assert not empty, f"{language}: not translated: {empty[:10]}"
        fuzzy = sorted(t for t, m in entries.items() if m.fuzzy)
        assert not fuzzy, f"{language}: marked fuzzy (check and unmark): {fuzzy[:10]}"
        unused = sorted(set(entries) - set(messages))
        assert not unused, f"{language}: no longer used (run scripts/update_catalogues.py): {unused[:10]}"
        for text, entry in entries.items():
            for translated in entry.string if isinstance(entry.string, tuple) else (entry.string,):
                assert catalogues.placeholders(translated) == catalogues.placeholders(text), f"{language}: placeholders differ in {text!r}"

