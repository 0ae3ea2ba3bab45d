"""Where a JSON document can be changed, and a copy with one place changed: the fuzz tests'
way of making a valid request invalid one value at a time."""

from __future__ import annotations

import copy
from typing import Any

Path = tuple[Any, ...]


def places(document: Any, path: Path = ()) -> list[Path]:
    """Every place in ``document`` (the whole, each member, each item), as key/index paths."""
    if isinstance(document, dict):
        return [path] + [p for key, value in document.items() for p in places(value, (*path, key))]
    if isinstance(document, list):
        return [path] + [p for index, value in enumerate(document) for p in places(value, (*path, index))]
    return [path]


def replaced(document: Any, path: Path, value: Any) -> Any:
    """A copy of ``document`` with ``value`` at ``path`` (the original is left as it is)."""
    if not path:
        return value
    head, *rest = path
    copied = copy.copy(document)
    copied[head] = replaced(document[head], tuple(rest), value)
    return copied
