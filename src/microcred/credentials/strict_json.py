"""JSON read strictly: a duplicate member or NaN/Infinity is an error, not a silent choice.

Two readers of one credential could otherwise see different values (the last duplicate wins in
Python, the first in some other parsers); tokens and baked images refuse them.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads"]


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise ValueError(f"duplicate member {name!r}")
        out[name] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes) -> Any:
    """Like json.loads; raises ValueError (or RecursionError) for what it refuses."""
    return json.loads(text, object_pairs_hook=_unique_members, parse_constant=_no_constant)
