"""Write openapi.yaml at the repository root from the application's own schema.

Run after changing a route, a request or response model, or the version:

    .venv/bin/python scripts/gen_openapi.py           # rewrite openapi.yaml
    .venv/bin/python scripts/gen_openapi.py --check   # exit 1 if openapi.yaml is out of date

tests/service/test_openapi.py fails when the file and the application disagree. Building the
schema needs no database and no keys: the settings below are placeholders and nothing connects.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from microcred.app import create_app
from microcred.config import Settings

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "openapi.yaml"
HEADER = "# Generated from the application by scripts/gen_openapi.py; do not edit by hand.\n"


def app_schema() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="microcred-openapi-") as scratch:
        settings = Settings(
            key_passphrase=SecretStr("x"),
            data_dir=Path(scratch),
            keys_dir=Path(scratch) / "keys",
            run_jobs=False,
        )
        schema: dict[str, Any] = create_app(settings, migrate=False).openapi()
        return schema


def render(schema: dict[str, Any]) -> str:
    body = yaml.safe_dump(schema, sort_keys=False, allow_unicode=True, width=1_000_000, default_flow_style=False)
    return HEADER + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when openapi.yaml is out of date")
    parser.add_argument("--output", type=Path, default=TARGET, help=f"where to write (default {TARGET.name} at the root)")
    args = parser.parse_args(argv)
    text = render(app_schema())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run .venv/bin/python scripts/gen_openapi.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
