"""Status list indexes handed out at random and never twice.

Bitstring Status List v1.0 asks issuers to assign indexes at random, so that a credential's
position says nothing about when it was issued or who was issued beside it. Drawing random
numbers and retrying on collisions slows down as a list fills and needs a round trip per try; we
instead walk a counter 0, 1, 2, ... through a keyed pseudo-random permutation of the list's
indexes. Distinct counters give distinct indexes by construction, so the only shared state is the
counter itself, and workers can reserve blocks of it.

The permutation is a balanced Feistel network (HMAC-SHA256 as the round function) over the
smallest even-bit power of two that covers the list, with cycle walking to stay inside it.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["IndexPermutation"]

_ROUNDS = 6


class IndexPermutation:
    """A bijection of ``range(length)`` chosen by ``key`` (keep the key with the list)."""

    __slots__ = ("_half_bits", "_key", "_length", "_mask")

    def __init__(self, key: bytes, length: int) -> None:
        if len(key) < 16:
            raise ValueError("the permutation key must be at least 16 bytes")
        if length < 2:
            raise ValueError(f"length must be at least 2, got {length}")
        bits = max(2, (length - 1).bit_length())
        bits += bits % 2
        self._key, self._length = key, length
        self._half_bits = bits // 2
        self._mask = (1 << self._half_bits) - 1

    @property
    def length(self) -> int:
        return self._length

    def _round(self, round_number: int, value: int) -> int:
        message = round_number.to_bytes(1, "big") + value.to_bytes(4, "big")
        return int.from_bytes(hmac.new(self._key, message, hashlib.sha256).digest()[:4], "big") & self._mask

    def _feistel(self, value: int) -> int:
        left, right = value >> self._half_bits, value & self._mask
        for round_number in range(_ROUNDS):
            left, right = right, left ^ self._round(round_number, right)
        return (left << self._half_bits) | right

    def index(self, counter: int) -> int:
        """The index for the ``counter``-th entry handed out (0 <= counter < length)."""
        if not 0 <= counter < self._length:
            raise IndexError(f"counter {counter} is outside the list of {self._length} entries")
        value = self._feistel(counter)
        while value >= self._length:  # cycle walking: at most 4x the domain, ~2 steps on average
            value = self._feistel(value)
        return value
