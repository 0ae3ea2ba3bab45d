"""Revocation and suspension in one status entry, for issuers that offer suspension.

The official OB 3.0 JSON Schema allows a single ``credentialStatus`` object, so a credential
cannot carry a revocation entry and a suspension entry side by side (VC 2.0 allows it; the
schema does not). Bitstring Status List v1.0 has one entry for several states: ``statusPurpose``
``"message"`` with ``statusSize`` 2 and a ``statusMessage`` for each value. Its Validate
Algorithm (3.2) reads the value at ``statusListIndex * statusSize`` and calls any value other
than 0 not valid, so a verifier that implements the specification reports a revoked or
suspended credential as not valid, and says which through the message.

The specification also lets a verifier read one-bit entries only ("Conforming processors MAY
choose to only support bitstring entry sizes of 1"), and Digital Bazaar's
vc-bitstring-status-list 2.0.1 does so without looking at ``statusSize``: it reads the bit at
``statusListIndex``. So that such a verifier reads this credential's state rather than a bit
of another credential's value, indexes are handed out from the upper half of each list only
(see status.allocator), and the bit at ``statusListIndex`` itself, which lies in the lower half
where no credential's value is, mirrors "revoked or suspended". Any reader of the whole list
sees those mirror bits as values of unused entries, as the specification's decoy values.
"""

from __future__ import annotations

from typing import Final

from ..credentials.status_list import BitstringStatusList

__all__ = ["ACTIVE", "MESSAGES", "PURPOSE", "REVOKED", "STATUS_SIZE", "SUSPENDED", "list_bytes", "with_status"]

PURPOSE: Final = "message"
STATUS_SIZE: Final = 2
ACTIVE, REVOKED, SUSPENDED = 0, 1, 2
#: The entry's ``statusMessage``: value 0x0 active, 0x1 revoked (final), 0x2 suspended; 0x3 unused.
MESSAGES: Final = ("active", "revoked", "suspended", "undefined")


def list_bytes(entries: int) -> int:
    """The bytes of a list of ``entries`` two-bit values."""
    return entries * STATUS_SIZE // 8


def with_status(bits: bytes, index: int, value: int) -> bytes:
    """The list's bits with entry ``index`` set to ``value``, and its one-bit mirror to match."""
    values = BitstringStatusList.from_bytes(bits, status_size=STATUS_SIZE)
    if index < values.length // 2:
        raise ValueError(f"index {index} is in the lower half of the list, where the one-bit mirrors are")
    values.set(index, value)
    mirror = BitstringStatusList.from_bytes(values.to_bytes())
    mirror.set(index, int(value != ACTIVE))
    return mirror.to_bytes()
