"""What a person may hand us to verify, turned into a credential (a JSON object or a VC-JWT)."""

from __future__ import annotations

import json
from typing import Any

from ..credentials import MalformedError, strict_json
from ..credentials.baking import unbake
from ..documents import embedded_credential

__all__ = ["credential_from_bytes"]


def _text_credential(text: str) -> dict[str, Any] | str:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            parsed = strict_json.loads(stripped)
        except json.JSONDecodeError as exc:  # strict_json's refusals too (duplicates, depth)
            raise MalformedError(f"the file is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
        if not isinstance(parsed, dict):
            raise MalformedError("the JSON is not a credential object")
        return parsed
    if stripped.startswith('"'):
        try:
            quoted = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise MalformedError(f"the file is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
        if isinstance(quoted, str) and quoted.count(".") == 2 and " " not in quoted:
            return quoted  # a VC-JWT sent as a JSON string
        raise MalformedError("the JSON string is not a VC-JWT")
    if stripped.count(".") == 2 and " " not in stripped:
        return stripped  # a VC-JWT
    raise MalformedError("not a credential: expected JSON-LD, a VC-JWT, a baked PNG or SVG, or a PDF certificate")


def credential_from_bytes(data: bytes) -> dict[str, Any] | str:
    """The credential inside ``data``, whatever form it came in; MalformedError says why not."""
    if not data.strip():
        raise MalformedError("the file is empty")
    if data.startswith(b"\x89PNG") or data.lstrip().startswith((b"<?xml", b"<svg", b"\xef\xbb\xbf<")):
        return unbake(data)
    if data.lstrip().startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return _text_credential(embedded_credential(data).decode("utf-8", errors="strict"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedError("not a credential: the file is neither text nor a PNG, SVG or PDF") from exc
    return _text_credential(text)
