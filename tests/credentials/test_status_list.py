"""Bitstring Status List v1.0: bit order, encoding, refusals, and the status check."""

from __future__ import annotations

import base64
import copy
import gzip
import tracemalloc
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials.errors import MalformedError
from microcred.credentials.status_list import (
    MIN_LENGTH,
    BitstringStatusList,
    StatusResult,
    check_status,
    status_entry,
    status_list_credential,
)

# Example 3 of the Bitstring Status List v1.0 Recommendation: 131,072 zero bits.
SPEC_ENCODED_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
# The same bytes as StatusList2021 (VC 1.1) wrote them: base64url with no multibase prefix.
STATUS_LIST_2021_ENCODED_LIST = SPEC_ENCODED_LIST[1:]

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ISSUER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
REVOCATION_URL = "https://issuer.example/status/1"
SUSPENSION_URL = "https://issuer.example/status/2"


def encoded_by_hand(raw: bytes) -> str:
    """GZIP + multibase base64url built from the stdlib, independent of our encoder."""
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw)).rstrip(b"=").decode("ascii")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def bits_of(encoded: str) -> bytes:
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


class TestBitstringStatusList:
    def test_new_list_has_the_minimum_length_and_every_status_unset(self) -> None:
        status_list = BitstringStatusList()

        assert status_list.length == MIN_LENGTH == 131_072
        assert bits_of(status_list.encode()) == bytes(16 * 1024)

    def test_statuses_survive_an_encode_decode_round_trip(self) -> None:
        status_list = BitstringStatusList()
        for index in (0, 7, 8, 94_567, MIN_LENGTH - 1):
            status_list.set(index, 1)

        decoded = BitstringStatusList.decode(status_list.encode())

        assert [decoded.get(i) for i in (0, 1, 7, 8, 9, 94_567, MIN_LENGTH - 2, MIN_LENGTH - 1)] == [
            1, 0, 1, 1, 0, 1, 0, 1,
        ]

    def test_clearing_a_status_unsets_only_that_entry(self) -> None:
        status_list = BitstringStatusList()
        status_list.set(3, 1)
        status_list.set(4, 1)

        status_list.set(3, 0)

        assert (status_list.get(3), status_list.get(4)) == (0, 1)

    def test_same_bits_always_encode_to_the_same_string(self) -> None:
        first, second = BitstringStatusList(), BitstringStatusList()
        first.set(42, 1)
        second.set(42, 1)

        assert first.encode() == second.encode()

    def test_encoding_is_multibase_base64url_without_padding(self) -> None:
        encoded = BitstringStatusList().encode()

        assert encoded.startswith("u")
        assert not set(encoded) & {"=", "+", "/"}

    def test_index_zero_is_the_most_significant_bit_of_the_first_byte(self) -> None:
        encoded = encoded_by_hand(b"\x80" + bytes(16 * 1024 - 1))

        decoded = BitstringStatusList.decode(encoded)

        assert (decoded.get(0), decoded.get(1), decoded.get(7)) == (1, 0, 0)

    def test_setting_index_zero_writes_the_most_significant_bit(self) -> None:
        status_list = BitstringStatusList()
        status_list.set(0, 1)
        status_list.set(15, 1)

        assert bits_of(status_list.encode())[:3] == b"\x80\x01\x00"

    def test_spec_example_decodes_to_an_empty_list_of_the_minimum_length(self) -> None:
        decoded = BitstringStatusList.decode(SPEC_ENCODED_LIST)

        assert decoded.length == 131_072
        assert not any(decoded.get(i) for i in range(decoded.length))

    def test_multi_bit_entries_store_values_most_significant_bit_first(self) -> None:
        status_list = BitstringStatusList(status_size=2)
        status_list.set(0, 2)
        status_list.set(3, 3)  # bits 6 and 7 of the first byte
        status_list.set(4, 1)  # bits 0 and 1 of the second byte

        decoded = BitstringStatusList.decode(status_list.encode(), status_size=2)

        assert bits_of(status_list.encode())[:2] == bytes([0b10000011, 0b01000000])
        assert [decoded.get(i) for i in range(5)] == [2, 0, 0, 3, 1]
        assert decoded.length == MIN_LENGTH

    def test_value_too_wide_for_the_status_size_is_refused(self) -> None:
        with pytest.raises(ValueError, match="does not fit"):
            BitstringStatusList().set(0, 2)

    @pytest.mark.parametrize("index", [-1, MIN_LENGTH])
    def test_index_outside_the_list_is_refused(self, index: int) -> None:
        with pytest.raises(IndexError):
            BitstringStatusList().get(index)

    @pytest.mark.parametrize("length", [MIN_LENGTH - 8, 8, MIN_LENGTH + 4])
    def test_list_shorter_than_the_minimum_or_not_whole_bytes_is_refused(self, length: int) -> None:
        with pytest.raises(ValueError, match="length"):
            BitstringStatusList(length=length)

    def test_larger_list_keeps_its_length(self) -> None:
        status_list = BitstringStatusList(length=2 * MIN_LENGTH)
        status_list.set(2 * MIN_LENGTH - 1, 1)

        decoded = BitstringStatusList.decode(status_list.encode())

        assert decoded.length == 2 * MIN_LENGTH
        assert decoded.get(2 * MIN_LENGTH - 1) == 1


class TestDecodeRefusals:
    def test_status_list_2021_value_without_multibase_prefix_is_refused(self) -> None:
        with pytest.raises(MalformedError, match="starting with 'u'"):
            BitstringStatusList.decode(STATUS_LIST_2021_ENCODED_LIST)

    @pytest.mark.parametrize("encoded", ["uH4sI+AAA", "uH4sIAA==", "u!!!!", "uA"])
    def test_invalid_base64url_is_refused(self, encoded: str) -> None:
        with pytest.raises(MalformedError, match="base64url"):
            BitstringStatusList.decode(encoded)

    def test_zlib_stream_that_is_not_gzip_is_refused(self) -> None:
        encoded = "u" + b64url(zlib.compress(bytes(16 * 1024)))

        with pytest.raises(MalformedError, match="GZIP"):
            BitstringStatusList.decode(encoded)

    def test_truncated_gzip_is_refused(self) -> None:
        compressed = gzip.compress(bytes(16 * 1024))

        with pytest.raises(MalformedError, match="truncated|GZIP"):
            BitstringStatusList.decode("u" + b64url(compressed[:-12]))

    def test_list_shorter_than_131072_bits_is_refused(self) -> None:
        with pytest.raises(MalformedError, match="at least 131072"):
            BitstringStatusList.decode(encoded_by_hand(bytes(16 * 1024 - 1)))

    def test_minimum_counts_entries_so_a_16kb_list_is_too_short_for_two_bit_statuses(self) -> None:
        with pytest.raises(MalformedError, match="65536 entries"):
            BitstringStatusList.decode(SPEC_ENCODED_LIST, status_size=2)

    def test_gzip_bomb_is_refused_without_inflating_it(self) -> None:
        deflater = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = bytes(1024 * 1024)
        bomb = b"".join(deflater.compress(chunk) for _ in range(64)) + deflater.flush()
        encoded = "u" + b64url(bomb)

        tracemalloc.start()
        try:
            with pytest.raises(MalformedError, match="cap"):
                BitstringStatusList.decode(encoded)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert len(bomb) < 256 * 1024
        assert peak < 48 * 1024 * 1024  # 64 MiB were never held


class TestStatusEntry:
    def test_entry_names_the_list_and_gives_the_index_as_a_decimal_string(self) -> None:
        entry = status_entry(purpose="revocation", index=94_567, list_url=REVOCATION_URL)

        assert entry == {
            "id": f"{REVOCATION_URL}#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": REVOCATION_URL,
        }

    def test_multi_bit_entry_lists_one_message_per_value(self) -> None:
        entry = status_entry(
            purpose="message",
            index=3,
            list_url=REVOCATION_URL,
            status_size=2,
            status_messages=["pending_review", "accepted", "rejected", "undefined"],
        )

        assert entry["statusSize"] == 2
        assert entry["statusMessage"][2] == {"status": "0x2", "message": "rejected"}

    def test_unknown_purpose_is_refused(self) -> None:
        with pytest.raises(ValueError, match="purpose"):
            status_entry(purpose="expiry", index=1, list_url=REVOCATION_URL)

    def test_negative_index_is_refused(self) -> None:
        with pytest.raises(ValueError, match="index"):
            status_entry(purpose="revocation", index=-1, list_url=REVOCATION_URL)

    def test_multi_bit_entry_without_messages_is_refused(self) -> None:
        with pytest.raises(ValueError, match="status_messages"):
            status_entry(purpose="message", index=1, list_url=REVOCATION_URL, status_size=2)


class TestStatusListCredential:
    def test_list_credential_uses_only_the_vc_2_0_context(self) -> None:
        status_list = BitstringStatusList()
        status_list.set(42, 1)

        credential = status_list_credential(
            list_id=REVOCATION_URL,
            issuer=ISSUER,
            purpose="revocation",
            status_list=status_list,
            valid_from=datetime(2025, 1, 15, 9, 0, 0, 123_000, tzinfo=UTC),
            valid_until=datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
            ttl_ms=300_000,
        )

        assert credential == {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": REVOCATION_URL,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": ISSUER,
            "validFrom": "2025-01-15T09:00:00Z",
            "validUntil": "2026-01-15T09:00:00Z",
            "credentialSubject": {
                "id": f"{REVOCATION_URL}#list",
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": status_list.encode(),
                "ttl": 300_000,
            },
        }
        assert BitstringStatusList.decode(credential["credentialSubject"]["encodedList"]).get(42) == 1

    def test_issuer_object_is_copied_not_shared(self) -> None:
        issuer = {"id": ISSUER, "type": ["Profile"], "name": "Example University"}

        credential = status_list_credential(
            list_id=REVOCATION_URL,
            issuer=issuer,
            purpose="revocation",
            status_list=BitstringStatusList(),
            valid_from=NOW,
        )
        credential["issuer"]["name"] = "changed"

        assert issuer["name"] == "Example University"
        assert "validUntil" not in credential

    def test_naive_datetime_is_refused(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            status_list_credential(
                list_id=REVOCATION_URL,
                issuer=ISSUER,
                purpose="revocation",
                status_list=BitstringStatusList(),
                valid_from=datetime(2025, 1, 1),
            )

    def test_validity_that_ends_before_it_starts_is_refused(self) -> None:
        with pytest.raises(ValueError, match="valid_until"):
            status_list_credential(
                list_id=REVOCATION_URL,
                issuer=ISSUER,
                purpose="revocation",
                status_list=BitstringStatusList(),
                valid_from=NOW,
                valid_until=NOW - timedelta(days=1),
            )


# --- check_status -----------------------------------------------------------------------------


def list_credential(
    url: str, purpose: str, *, set_indexes: tuple[int, ...] = (), **overrides: Any
) -> dict[str, Any]:
    status_list = BitstringStatusList()
    for index in set_indexes:
        status_list.set(index, 1)
    credential = status_list_credential(
        list_id=url,
        issuer=ISSUER,
        purpose=purpose,
        status_list=status_list,
        valid_from=NOW - timedelta(days=30),
        valid_until=NOW + timedelta(days=30),
    )
    credential.update(overrides)
    return credential


class FakeFetcher:
    """Serves list credentials by URL, as an HTTP fetch plus proof check would."""

    def __init__(self, lists: Mapping[str, object]) -> None:
        self.lists = lists
        self.calls: list[str] = []

    def __call__(self, url: str) -> Any:
        self.calls.append(url)
        if url not in self.lists:
            raise ConnectionError(f"404 for {url}")
        return self.lists[url]


def default_fetcher() -> FakeFetcher:
    return FakeFetcher(
        {
            REVOCATION_URL: list_credential(REVOCATION_URL, "revocation", set_indexes=(42,)),
            SUSPENSION_URL: list_credential(SUSPENSION_URL, "suspension", set_indexes=(7,)),
        }
    )


def credential_with(*entries: object) -> dict[str, Any]:
    status: object = entries[0] if len(entries) == 1 else list(entries)
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "credentialSubject": {"id": "did:example:learner"},
        "credentialStatus": status,
    }


def revocation(index: int | str) -> dict[str, Any]:
    return status_entry(purpose="revocation", index=int(index), list_url=REVOCATION_URL)


def check(credential: dict[str, Any], fetch: Callable[[str], Any] | None = None) -> list[StatusResult]:
    return check_status(credential, fetch_list=fetch or default_fetcher(), now=NOW)


class TestCheckStatus:
    def test_unset_bit_reports_status_zero(self) -> None:
        [result] = check(credential_with(revocation(41)))

        assert result == StatusResult("revocation", 41, REVOCATION_URL, 0)

    def test_revoked_credential_reports_status_one(self) -> None:
        [result] = check(credential_with(revocation(42)))

        assert (result.purpose, result.status, result.error) == ("revocation", 1, None)

    def test_suspended_credential_reports_status_one(self) -> None:
        entry = status_entry(purpose="suspension", index=7, list_url=SUSPENSION_URL)

        [result] = check(credential_with(entry))

        assert (result.purpose, result.status, result.error) == ("suspension", 1, None)

    def test_each_entry_of_a_credential_is_checked_in_order(self) -> None:
        credential = credential_with(
            revocation(42), status_entry(purpose="suspension", index=8, list_url=SUSPENSION_URL)
        )

        results = check(credential)

        assert [(r.purpose, r.status) for r in results] == [("revocation", 1), ("suspension", 0)]

    def test_credential_without_status_has_no_results(self) -> None:
        credential = credential_with(revocation(1))
        del credential["credentialStatus"]

        assert check(credential) == []

    def test_list_is_fetched_once_per_url(self) -> None:
        fetcher = default_fetcher()

        results = check(credential_with(revocation(1), revocation(42), revocation(43)), fetcher)

        assert [r.status for r in results] == [0, 1, 0]
        assert fetcher.calls == [REVOCATION_URL]

    def test_failing_fetch_gives_a_retrieval_error_not_an_exception(self) -> None:
        entry = status_entry(purpose="revocation", index=1, list_url="https://issuer.example/status/404")

        [result] = check(credential_with(entry))

        assert result.status is None
        assert result.code == "STATUS_RETRIEVAL_ERROR"
        assert "404 for https://issuer.example/status/404" in (result.error or "")

    def test_purpose_mismatch_is_an_error(self) -> None:
        entry = status_entry(purpose="suspension", index=42, list_url=REVOCATION_URL)

        [result] = check(credential_with(entry))

        assert result.status is None
        assert result.code == "STATUS_VERIFICATION_ERROR"
        assert "not 'suspension'" in (result.error or "")

    def test_list_serving_several_purposes_accepts_each(self) -> None:
        both = list_credential(REVOCATION_URL, "revocation", set_indexes=(42,))
        both["credentialSubject"]["statusPurpose"] = ["revocation", "suspension"]
        entry = status_entry(purpose="suspension", index=42, list_url=REVOCATION_URL)

        [result] = check(credential_with(entry), FakeFetcher({REVOCATION_URL: both}))

        assert (result.status, result.error) == (1, None)

    def test_index_past_the_end_of_the_list_is_a_range_error(self) -> None:
        [result] = check(credential_with(revocation(MIN_LENGTH)))

        assert (result.status, result.code) == (None, "RANGE_ERROR")
        assert result.index == MIN_LENGTH

    def test_absurdly_large_index_is_a_range_error(self) -> None:
        entry = {**revocation(1), "statusListIndex": "9" * 5000}

        [result] = check(credential_with(entry))

        assert result.code == "RANGE_ERROR"
        assert len(result.error or "") < 200

    @pytest.mark.parametrize("index", [42, "-1", "4.2", "0x2a", "", " 42", "４２"])
    def test_index_that_is_not_a_decimal_string_is_malformed(self, index: object) -> None:
        entry = {**revocation(42), "statusListIndex": index}

        [result] = check(credential_with(entry))

        assert (result.status, result.code) == (None, "MALFORMED_VALUE_ERROR")
        assert "statusListIndex" in (result.error or "")

    def test_expired_list_credential_is_an_error(self) -> None:
        expired = list_credential(REVOCATION_URL, "revocation", validUntil="2025-05-31T00:00:00Z")

        [result] = check(credential_with(revocation(1)), FakeFetcher({REVOCATION_URL: expired}))

        assert result.status is None
        assert "expired at 2025-05-31T00:00:00Z" in (result.error or "")

    def test_list_credential_not_yet_valid_is_an_error(self) -> None:
        future = list_credential(REVOCATION_URL, "revocation", validFrom="2025-06-02T00:00:00Z")

        [result] = check(credential_with(revocation(1)), FakeFetcher({REVOCATION_URL: future}))

        assert (result.status, result.code) == (None, "STATUS_VERIFICATION_ERROR")

    def test_unsupported_status_type_is_reported(self) -> None:
        entry = {**revocation(1), "type": "StatusList2021Entry"}

        [result] = check(credential_with(entry))

        assert result.status is None
        assert result.error == "unsupported status type 'StatusList2021Entry'"

    def test_document_that_is_not_a_status_list_credential_is_an_error(self) -> None:
        other = list_credential(REVOCATION_URL, "revocation", type=["VerifiableCredential"])

        [result] = check(credential_with(revocation(1)), FakeFetcher({REVOCATION_URL: other}))

        assert result.code == "STATUS_VERIFICATION_ERROR"
        assert "BitstringStatusListCredential" in (result.error or "")

    def test_list_published_under_another_id_is_an_error(self) -> None:
        moved = list_credential(SUSPENSION_URL, "revocation")

        [result] = check(credential_with(revocation(1)), FakeFetcher({REVOCATION_URL: moved}))

        assert result.code == "STATUS_VERIFICATION_ERROR"
        assert "has id" in (result.error or "")

    def test_too_short_list_is_a_length_error(self) -> None:
        short = list_credential(REVOCATION_URL, "revocation")
        short["credentialSubject"]["encodedList"] = encoded_by_hand(bytes(1024))

        [result] = check(credential_with(revocation(1)), FakeFetcher({REVOCATION_URL: short}))

        assert result.code == "STATUS_LIST_LENGTH_ERROR"

    def test_corrupt_encoded_list_is_malformed(self) -> None:
        corrupt = list_credential(REVOCATION_URL, "revocation")
        corrupt["credentialSubject"]["encodedList"] = STATUS_LIST_2021_ENCODED_LIST

        [result] = check(credential_with(revocation(1)), FakeFetcher({REVOCATION_URL: corrupt}))

        assert result.code == "MALFORMED_VALUE_ERROR"
        assert "encodedList" in (result.error or "")

    def test_fetch_returning_something_other_than_an_object_is_an_error(self) -> None:
        [result] = check(credential_with(revocation(1)), FakeFetcher({REVOCATION_URL: "<html>"}))

        assert result.code == "STATUS_RETRIEVAL_ERROR"

    def test_status_that_is_neither_object_nor_list_is_malformed(self) -> None:
        [result] = check(credential_with("revoked"))

        assert result.code == "MALFORMED_VALUE_ERROR"

    def test_message_entry_reports_the_value_and_its_message(self) -> None:
        status_list = BitstringStatusList(status_size=2)
        status_list.set(5, 2)
        listing = status_list_credential(
            list_id=REVOCATION_URL, issuer=ISSUER, purpose="message", status_list=status_list, valid_from=NOW
        )
        entry = status_entry(
            purpose="message",
            index=5,
            list_url=REVOCATION_URL,
            status_size=2,
            status_messages=["pending_review", "accepted", "rejected", "undefined"],
        )

        [result] = check(credential_with(entry), FakeFetcher({REVOCATION_URL: listing}))

        assert (result.status, result.message, result.error) == (2, "rejected", None)

    def test_multi_bit_entry_without_messages_is_malformed(self) -> None:
        entry = {**revocation(1), "statusSize": 2}

        [result] = check(credential_with(entry))

        assert result.code == "MALFORMED_VALUE_ERROR"
        assert "statusMessage" in (result.error or "")

    def test_checked_credential_is_left_unchanged(self) -> None:
        credential = credential_with(revocation(42), {**revocation(1), "type": "Other"})
        before = copy.deepcopy(credential)

        check(credential)

        assert credential == before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def mutations(base: dict[str, Any], meaningful: list[object]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` with a few keys replaced (by plausible values or junk) or removed."""
    keys = st.sampled_from(sorted(base))
    return st.builds(
        lambda changes, removed: {**{k: v for k, v in base.items() if k not in removed}, **changes},
        st.dictionaries(keys, st.sampled_from(meaningful) | json_values, max_size=2),
        st.sets(keys, max_size=1),
    )


entries = mutations(
    {**revocation(42), "statusSize": 1},
    ["BitstringStatusListEntry", "suspension", "message", "0", "131072", "-1", SUSPENSION_URL, 2, 0],
)
_good_list = list_credential(REVOCATION_URL, "revocation", set_indexes=(42,))
list_documents = st.one_of(
    json_values,
    st.builds(
        lambda document, subject: {**document, "credentialSubject": subject},
        mutations(
            _good_list,
            [["BitstringStatusListCredential"], SUSPENSION_URL, "2025-07-01T00:00:00Z", "not a date", "2025-01-01"],
        ),
        mutations(
            _good_list["credentialSubject"],
            ["BitstringList", ["revocation", "suspension"], [], "u!!", SPEC_ENCODED_LIST[:-8], SPEC_ENCODED_LIST],
        ),
    ),
)


class TestCheckStatusNeverRaises:
    @settings(max_examples=150, deadline=None)
    @given(status=st.one_of(entries, st.lists(entries, max_size=3), json_values), document=list_documents)
    def test_any_entry_and_list_document_gives_results_not_exceptions(self, status: object, document: object) -> None:
        credential = {"credentialStatus": status}

        results = check_status(credential, fetch_list=lambda url: document, now=NOW)  # type: ignore[arg-type,return-value]

        assert all(isinstance(r, StatusResult) and (r.status is None) != (r.error is None) for r in results)


class TestBitsProperty:
    @settings(max_examples=50, deadline=None)
    @given(
        status_size=st.integers(min_value=1, max_value=4),
        writes=st.dictionaries(st.integers(min_value=0, max_value=MIN_LENGTH - 1), st.integers(min_value=0), max_size=20),
    )
    def test_every_written_value_reads_back_after_a_round_trip(self, status_size: int, writes: dict[int, int]) -> None:
        status_list = BitstringStatusList(status_size=status_size)
        expected = {index: value % (1 << status_size) for index, value in writes.items()}
        for index, value in expected.items():
            status_list.set(index, value)

        decoded = BitstringStatusList.decode(status_list.encode(), status_size=status_size)

        assert {index: decoded.get(index) for index in expected} == expected
        set_bits = sum(bin(byte).count("1") for byte in bits_of(status_list.encode()))
        assert set_bits == sum(bin(value).count("1") for value in expected.values())
