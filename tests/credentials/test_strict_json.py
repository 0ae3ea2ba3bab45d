"""The one strict JSON reader: duplicate members, non-JSON constants and deep nesting refused,
saying what and where, and never by a RecursionError."""

from __future__ import annotations

import json

import pytest

from microcred.credentials import strict_json
from microcred.credentials.strict_json import MAX_DEPTH, StrictJSONError


class TestRefused:
    def test_a_duplicate_member_is_refused_naming_it_and_where(self):
        with pytest.raises(StrictJSONError) as caught:
            strict_json.loads('{"id": "urn:a",\n "name": "x", "name": "y"}')
        assert caught.value.msg == "duplicate member 'name'"
        assert (caught.value.lineno, caught.value.colno) == (2, 15)

    def test_a_duplicate_in_a_nested_object_is_refused(self):
        with pytest.raises(StrictJSONError, match="duplicate member 'é'"):
            strict_json.loads('{"a": [{"é": 1, "é": 2}]}'.encode())

    @pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
    def test_non_json_constants_are_refused(self, constant):
        with pytest.raises(StrictJSONError, match="not JSON"):
            strict_json.loads(f'{{"n": {constant}}}')

    @pytest.mark.parametrize(
        "text",
        [
            "[" * 10_000 + "]" * 10_000,
            '{"a":' * 10_000 + "1" + "}" * 10_000,
            "[" * 100_000,  # unbalanced too
            "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
        ],
    )
    def test_nesting_deeper_than_the_limit_is_refused_without_recursion(self, text):
        with pytest.raises(StrictJSONError, match=f"deeper than {MAX_DEPTH}"):
            strict_json.loads(text)

    def test_the_refusal_says_where_the_nesting_goes_too_deep(self):
        text = '{"note": "[[[[",\n "deep": ' + "[" * 100 + "]" * 100 + "}"
        with pytest.raises(StrictJSONError) as caught:
            strict_json.loads(text)
        assert (caught.value.lineno, caught.value.colno) == (2, 10 + MAX_DEPTH - 1)


class TestAccepted:
    def test_nesting_up_to_the_limit_reads(self):
        assert strict_json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None

    def test_brackets_inside_strings_do_not_count(self):
        text = json.dumps({"x": "[" * 500 + '\\"{' * 100})
        assert strict_json.loads(text) == json.loads(text)

    def test_what_json_reads_it_reads_alike(self):
        text = '{"a": [1, 2.5, -1e-7, true, null, {"b": "Zoë 🎓"}], "c": {}}'
        assert strict_json.loads(text) == json.loads(text)

    def test_plain_syntax_errors_are_the_decoders_own(self):
        with pytest.raises(json.JSONDecodeError, match="Expecting value"):
            strict_json.loads("[1,")
