"""Status list indexes: random-looking, and never the same twice."""

from __future__ import annotations

import os

import pytest

from microcred.credentials.status_index import IndexPermutation
from microcred.credentials.status_list import MIN_LENGTH


@pytest.mark.parametrize("length", [2, 3, 1000, 4096, 5000])
def test_every_counter_gets_its_own_index_and_every_index_is_used(length: int) -> None:
    permutation = IndexPermutation(os.urandom(32), length)
    assert sorted(permutation.index(counter) for counter in range(length)) == list(range(length))


def test_a_full_size_list_hands_out_distinct_indexes_in_no_visible_order() -> None:
    permutation = IndexPermutation(os.urandom(32), MIN_LENGTH)
    first = [permutation.index(counter) for counter in range(20_000)]
    assert len(set(first)) == 20_000 and all(0 <= i < MIN_LENGTH for i in first)
    # Issued one after the other, credentials do not sit side by side in the list.
    neighbours = sum(abs(a - b) == 1 for a, b in zip(first, first[1:], strict=False))
    assert neighbours < 20
    assert sorted(first) != first


def test_the_key_decides_the_order_and_the_same_key_gives_the_same_order() -> None:
    key = os.urandom(32)
    a, b = IndexPermutation(key, MIN_LENGTH), IndexPermutation(key, MIN_LENGTH)
    other = IndexPermutation(os.urandom(32), MIN_LENGTH)
    assert [a.index(i) for i in range(50)] == [b.index(i) for i in range(50)] != [other.index(i) for i in range(50)]


def test_counters_outside_the_list_and_weak_keys_are_refused() -> None:
    permutation = IndexPermutation(os.urandom(32), 10)
    with pytest.raises(IndexError):
        permutation.index(10)
    with pytest.raises(ValueError):
        IndexPermutation(b"short", 10)
