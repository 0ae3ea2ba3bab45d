"""The console's achievement form: flat fields in, the API's achievement fields out, and each
error back on the form field it belongs to."""

from __future__ import annotations

from microcred.achievements.document import missing_elements
from microcred.console.achievement_form import definition_from_form, form_errors, form_from_definition, pointer_to_field

FILLED = {
    "name": "Precision Turning",
    "description": "Turns parts.",
    "learning_outcomes": "plan a turning operation\n\n measure parts to ±5 µm \n",
    "assessed": "yes",
    "credits_available": "3,5",
    "notional_workload_hours": "84",
    "eqf_level": "4",
    "assessment_type": "Practical examination",
    "participation_form": "onsite",
    "quality_assurance": "Accredited",
    "supervision": "",
    "tags": "cnc, turning,",
    "provider_name": "Turning Academy",
    "provider_url": "https://turning.example",
    "result_0_id": "",
    "result_0_name": "Final grade",
    "result_0_result_type": "GradePointAverage",
    "result_0_value_min": "1",
    "result_0_value_max": "10",
    "result_1_name": "",
    "result_1_result_type": "GradePointAverage",
    "alignment_0_target_name": "",
    "alignment_0_target_url": "",
}


def test_a_filled_form_is_a_complete_definition() -> None:
    definition = definition_from_form(FILLED)
    assert form_errors(definition) == {}
    assert definition["learning_outcomes"] == ["plan a turning operation", "measure parts to ±5 µm"]
    assert definition["credits_available"] == 3.5 and definition["eqf_level"] == 4 and definition["assessed"] is True
    assert definition["tags"] == ["cnc", "turning"]
    assert definition["provider"] == {"name": "Turning Academy", "id": "https://turning.example"}
    # the blank rows (a select keeps its default) are no rows
    assert definition["result_descriptions"] == [{"name": "Final grade", "result_type": "GradePointAverage", "value_min": "1", "value_max": "10"}]
    assert definition["alignments"] is None and definition["supervision"] is None
    assert missing_elements({k: v for k, v in definition.items() if v is not None}, issuer_country="NL") == []


def test_errors_land_on_the_form_field() -> None:
    form = {**FILLED, "eqf_level": "9", "provider_url": "ftp://x", "credits_available": "three", "result_0_result_type": "Nonsense"}
    errors = form_errors(definition_from_form(form))
    assert set(errors) == {"eqf_level", "provider_url", "credits_available", "result_0_result_type"}
    assert "8" in errors["eqf_level"]


def test_a_definition_fills_the_form_again() -> None:
    definition = {k: v for k, v in definition_from_form(FILLED).items() if v is not None}
    state = form_from_definition(definition)
    again = definition_from_form(state.values)
    assert {k: v for k, v in again.items() if v is not None} == definition
    assert state.results == 2 and state.alignments == 1


def test_pointers_name_form_fields() -> None:
    assert pointer_to_field("#/provider/id") == "provider_url"
    assert pointer_to_field("#/result_descriptions/2/value_min") == "result_2_value_min"
    assert pointer_to_field("#/learning_outcomes/0") == "learning_outcomes"
    assert pointer_to_field("#/issuer/address/country") == "issuer"
