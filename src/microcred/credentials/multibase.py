"""Multibase and multicodec encoding, the byte formats of Multikey and Data Integrity.

Only what the specs we implement use: base58btc (``z``) and base64url-no-pad (``u``), and the
multicodec headers of Ed25519 public (0xed) and private (0x1300) keys.
https://www.w3.org/TR/controller-document/#multibase-0
"""

from __future__ import annotations

import base64

from .errors import KeyFormatError, MalformedError

__all__ = [
    "ED25519_PRIV_HEADER",
    "ED25519_PUB_HEADER",
    "b58decode",
    "b58encode",
    "decode",
    "encode_base58btc",
    "encode_base64url",
]

_ALPHABET = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}

#: multicodec varint headers
ED25519_PUB_HEADER = b"\xed\x01"
ED25519_PRIV_HEADER = b"\x80\x26"


def b58encode(data: bytes) -> str:
    """Bitcoin base58 (the alphabet multibase calls base58btc)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    out = bytearray()
    while n:
        n, rem = divmod(n, 58)
        out.append(_ALPHABET[rem])
    out.extend(_ALPHABET[0:1] * zeros)
    out.reverse()
    return out.decode("ascii")


def b58decode(text: str) -> bytes:
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise MalformedError("base58btc text contains non-ASCII characters") from exc
    n = 0
    for ch in raw:
        digit = _INDEX.get(ch)
        if digit is None:
            raise MalformedError(f"invalid base58btc character {chr(ch)!r}")
        n = n * 58 + digit
    zeros = len(raw) - len(raw.lstrip(_ALPHABET[0:1]))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def encode_base58btc(data: bytes) -> str:
    return "z" + b58encode(data)


def encode_base64url(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode(value: str) -> bytes:
    """Decode a multibase string (``z`` base58btc or ``u`` base64url)."""
    if not isinstance(value, str) or len(value) < 2:
        raise MalformedError("multibase value must be a non-empty string")
    prefix, body = value[0], value[1:]
    if prefix == "z":
        return b58decode(body)
    if prefix == "u":
        if "=" in body or any(c in body for c in "+/"):
            raise MalformedError("base64url multibase value must be unpadded and URL-safe")
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError as exc:
            raise MalformedError("invalid base64url multibase value") from exc
    raise MalformedError(f"unsupported multibase prefix {prefix!r}")


def strip_header(data: bytes, header: bytes, *, what: str, length: int) -> bytes:
    """Check a multicodec header and the payload length; return the payload."""
    if not data.startswith(header):
        raise KeyFormatError(f"{what}: wrong multicodec header {data[:2].hex()}, expected {header.hex()}")
    payload = data[len(header):]
    if len(payload) != length:
        raise KeyFormatError(f"{what}: expected {length} bytes, got {len(payload)}")
    return payload
