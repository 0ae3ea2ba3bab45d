"""JSON read strictly: one reader for every credential, body and file the service is handed.

Refused, where the standard library would choose silently or fail badly:

* a duplicate member: two readers of one credential could see different values (the last
  duplicate wins in Python, the first in some other parsers), so a signature could cover one
  and a person read the other;
* NaN and Infinity, which are not JSON;
* nesting deeper than :data:`MAX_DEPTH` arrays and objects: the standard decoder recurses once
  per level, so ten thousand ``[`` would end in ``RecursionError``. Depth is measured on the raw
  text before decoding, with C-speed passes, so no hostile input reaches the recursion.

Every refusal is a :class:`StrictJSONError`, a :class:`json.JSONDecodeError` (so a ValueError),
saying what and where (a character offset, as the decoder's own errors do).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_DEPTH", "StrictJSONError", "loads"]

#: Deepest nesting of arrays and objects accepted. A credential is at most 48 deep
#: (``safe_mode.MAX_DEPTH``); request bodies wrap it in a few more levels.
MAX_DEPTH = 64

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_INNERMOST = re.compile(rb"\[\]|\{\}")
_OPENERS = re.compile(rb"[\[{]{%d}" % (MAX_DEPTH + 1))
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


class StrictJSONError(json.JSONDecodeError):
    """What the strict reader refuses (beyond what ``json`` itself refuses)."""


def _too_deep(data: bytes) -> bool:
    """Whether arrays and objects nest deeper than MAX_DEPTH, without decoding.

    Strings removed and only brackets kept, each pass deletes every innermost ``[]``/``{}``
    pair: a pass number MAX_DEPTH + 1 that still finds one means deeper nesting. Unbalanced
    brackets are left for the decoder to report.
    """
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    for _ in range(MAX_DEPTH):
        brackets, removed = _INNERMOST.subn(b"", brackets)
        if not removed:  # what is left is unbalanced: deep only if it opens too many at once
            return _OPENERS.search(brackets) is not None
    return _INNERMOST.search(brackets) is not None or _OPENERS.search(brackets) is not None


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _too_deep_at(text: str) -> int:
    """Where nesting first goes past MAX_DEPTH (for the message; only run on refused text)."""
    depth = 0
    for token in _TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return token.start()
        elif bracket in "]}":
            depth -= 1
    return 0


class _Duplicate(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"duplicate member {name!r}")
        self.name = name


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise _Duplicate(name)
        out[name] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes) -> Any:
    """Like :func:`json.loads`, strictly; raises StrictJSONError (or the decoder's own
    JSONDecodeError, or UnicodeDecodeError for bytes that are not UTF-8)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    decoded = text if isinstance(text, str) else raw.decode("utf-8")
    if _too_deep(raw):
        raise StrictJSONError(f"JSON nested deeper than {MAX_DEPTH} levels", decoded, _too_deep_at(decoded))
    try:
        return json.loads(decoded, object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise
    except RecursionError as exc:  # not reachable after the depth check; never a 500 all the same
        raise StrictJSONError(f"JSON nested deeper than {MAX_DEPTH} levels", "", 0) from exc
    except _Duplicate as exc:  # where: its last occurrence, as near as the text shows
        where = max(decoded.rfind(json.dumps(exc.name, ensure_ascii=False)), 0)
        raise StrictJSONError(str(exc), decoded, where) from exc
    except ValueError as exc:
        raise StrictJSONError(str(exc), decoded, 0) from exc
