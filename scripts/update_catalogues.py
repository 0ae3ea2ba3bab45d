"""Bring the message catalogues up to date with the text in the code and templates.

New text is added to its part's catalogue (``src/microcred/i18n/locales/<language>/LC_MESSAGES/
<part>.po``) with an empty translation, for a person to translate; text no longer used is
removed. The test suite fails while any translation is empty.

    .venv/bin/python scripts/update_catalogues.py          # add new, drop unused
    .venv/bin/python scripts/update_catalogues.py --check  # only report (exit 1 if anything is missing)
"""

from __future__ import annotations

import argparse
import sys

from babel.messages.catalog import Catalog

from microcred.i18n import catalogues


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report missing or empty translations, change nothing")
    args = parser.parse_args()
    messages = catalogues.collect()
    problems = 0
    for language in catalogues.languages():
        existing = catalogues.read(language)
        known = {m.id if isinstance(m.id, str) else m.id[0]: (domain, m) for domain, c in existing.items() for m in c if m.id}
        changed: set[str] = set()
        for text, message in messages.items():
            if text in known:
                domain, entry = known[text]
                entry.locations = [(path, line) for path, line in message.locations]
                continue
            domain = message.domain
            catalog = existing.setdefault(domain, Catalog(locale=language, project="microcred", domain=domain))
            catalog.add((text, message.plural) if message.plural else text, ("", "") if message.plural else "", locations=message.locations)
            changed.add(domain)
            problems += 1
            print(f"{language}: new text in {domain}.po: {text!r}")
        for text, (domain, entry) in known.items():
            if text not in messages:
                print(f"{language}: unused text in {domain}.po: {text!r}")
                problems += 1
                if not args.check:
                    existing[domain].delete(entry.id, entry.context)
                    changed.add(domain)
            elif not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
                print(f"{language}: not translated yet in {domain}.po: {text!r}")
                problems += 1
        if not args.check:
            for domain, catalog in existing.items():
                catalogues.write(language, domain, catalog)
    return 1 if args.check and problems else 0


if __name__ == "__main__":
    sys.exit(main())
