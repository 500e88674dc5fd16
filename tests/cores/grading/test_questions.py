from __future__ import annotations

import json

import pytest

from eduvault.cores.grading import Question, parse_question, question_schema, question_types
from eduvault.cores.grading.questions import format_path
from eduvault.kernel.errors import InvalidQuestion, InvalidStructure

from .helpers import problems_of

CHOICES = [{"id": "a", "text": "A", "correct": True}, {"id": "b", "text": "B"}]
MINIMAL = {"type": "single_choice", "prompt": "Pick one.", "choices": CHOICES}
FULL = {
    "id": "q-1.v2:x",
    "type": "single_choice",
    "prompt": "Pick one.",
    "hints": ["Think.", "Think harder."],
    "explanation": "A is right because...",
    "penalty": 0.25,
    "points": 2,
    "tags": ["algebra", "easy"],
    "choices": CHOICES,
}


def test_defaults_are_filled_in():
    q = parse_question(MINIMAL)
    assert (q.id, q.type, q.prompt, q.hints, q.explanation, q.penalty, q.points, q.tags) == (
        None,
        "single_choice",
        "Pick one.",
        (),
        "",
        0.0,
        1.0,
        (),
    )
    assert q.document == {
        "type": "single_choice",
        "prompt": "Pick one.",
        "hints": [],
        "explanation": "",
        "penalty": 0.0,
        "points": 1.0,
        "tags": [],
        "choices": [
            {"id": "a", "text": "A", "correct": True, "feedback": ""},
            {"id": "b", "text": "B", "correct": False, "feedback": ""},
        ],
    }


def test_full_envelope():
    q = parse_question(FULL)
    assert q.id == "q-1.v2:x"
    assert q.hints == ("Think.", "Think harder.")
    assert q.penalty == 0.25
    assert q.points == 2.0
    assert q.tags == ("algebra", "easy")
    assert list(q.document)[:2] == ["id", "type"]


@pytest.mark.parametrize("document", [MINIMAL, FULL])
def test_round_trip(document):
    q = parse_question(document)
    assert isinstance(q, Question)
    stored = json.loads(json.dumps(q.document))
    again = parse_question(stored)
    assert again == q
    assert again.document == q.document
    assert hash(again) == hash(q)


def test_the_input_document_is_not_changed():
    document = json.loads(json.dumps(MINIMAL))
    parse_question(document)
    assert document == MINIMAL


def test_with_id():
    q = parse_question(MINIMAL)
    named = q.with_id("Q42")
    assert named.id == "Q42"
    assert named.document["id"] == "Q42"
    assert next(iter(named.document)) == "id"
    assert parse_question(named.document) == named
    assert q.id is None and "id" not in q.document
    assert named.with_id("Q43").document["id"] == "Q43"
    with pytest.raises(InvalidQuestion) as info:
        q.with_id("not valid!")
    assert info.value.problems[0].startswith("id: a question id must start with a letter or digit")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"id": ""}, "id: must not be empty"),
        ({"id": "-x"}, "id: a question id must start with a letter or digit"),
        ({"id": "a b"}, "id: a question id must start with a letter or digit"),
        ({"id": "x" * 101}, "id: must be at most 100 characters long"),
        ({"id": 5}, "id: must be a string, got 5"),
        ({"prompt": ""}, "prompt: must not be empty"),
        ({"prompt": "x" * 20001}, "prompt: must be at most 20000 characters long"),
        ({"prompt": None}, "prompt: must be a string, got null"),
        ({"hints": "one hint"}, "hints: must be a list, got 'one hint'"),
        ({"hints": ["ok", 3]}, "hints[1]: must be a string, got 3"),
        ({"explanation": 1}, "explanation: must be a string, got 1"),
        ({"penalty": 1.5}, "penalty: must be at most 1.0, got 1.5"),
        ({"penalty": -0.1}, "penalty: must be at least 0.0, got -0.1"),
        ({"penalty": "0.1"}, "penalty: must be a number, got '0.1'"),
        ({"points": 0}, "points: must be greater than 0.0, got 0"),
        ({"points": float("inf")}, "points: must be a finite number"),
        ({"points": True}, "points: must be a number, got a boolean (true)"),
        ({"tags": ["ok", ""]}, "tags[1]: must not be empty"),
        ({"tags": ["x" * 51]}, "tags[0]: must be at most 50 characters long"),
        ({"choises": []}, "choises: unknown field; did you mean 'choices'?"),
        ({"prompts": "x"}, "prompts: unknown field; did you mean 'prompt'?"),
        ({"zzz": 1}, "zzz: unknown field; known fields: id, type, prompt, hints"),
    ],
)
def test_envelope_problems_name_the_field(fields, expected):
    problems = problems_of({**MINIMAL, **fields})
    assert any(p.startswith(expected) for p in problems), problems


def test_missing_fields():
    assert problems_of({"type": "single_choice"}) == ["prompt: is required", "choices: is required"]
    problems = problems_of({"prompt": "P"})
    assert problems == [f"type: is required; known types: {', '.join(question_types())}"]


@pytest.mark.parametrize("document", [[], "question", 3, None, [MINIMAL]])
def test_document_must_be_an_object(document):
    assert problems_of(document) == ["(document): a question must be a JSON object"]


def test_unknown_type():
    problems = problems_of({"type": "essay", "prompt": "P"})
    assert problems == [
        "type: unknown question type 'essay'; known types: fill_blanks, matching, multiple_response, numeric, "
        "ordering, single_choice, text_input"
    ]
    assert problems_of({"type": 3, "prompt": "P"})[0].startswith(
        "type: must be a string naming a question type"
    )
    with pytest.raises(InvalidQuestion):
        question_schema("essay")


def test_several_problems_are_reported_at_once():
    with pytest.raises(InvalidQuestion) as info:
        parse_question(
            {
                "type": "single_choice",
                "prompt": "",
                "penalty": 2,
                "colour": "red",
                "choices": [{"id": "a", "text": "A", "correct": True}, {"id": "b b", "text": ""}],
            }
        )
    exc = info.value
    assert exc.problems == [
        "prompt: must not be empty",
        "penalty: must be at most 1.0, got 2",
        "colour: unknown field; known fields: id, type, prompt, hints, explanation, penalty, points, tags, choices",
        "choices[1].id: an id must start with a letter, digit or underscore and contain only letters, digits, "
        "'_', '.', ':' and '-'; got 'b b'",
        "choices[1].text: must not be empty",
    ]
    assert exc.detail == "prompt: must not be empty (and 4 more problems)"
    assert exc.status == 422
    assert isinstance(exc, InvalidStructure)


def test_cross_field_problems_are_reported_together():
    problems = problems_of(
        {
            "type": "single_choice",
            "prompt": "P",
            "choices": [
                {"id": "a", "text": "A", "correct": True},
                {"id": "a", "text": "B", "correct": True},
                {"id": "c", "text": "C", "credit": 1},
            ],
        }
    )
    assert problems == [
        "choices[1].id: duplicate id 'a' (already used by choices[0].id)",
        "choices[1].correct: exactly one choice must be correct (found 2)",
        "choices[2].credit: must be below 1 on a choice that is not correct (full credit means correct)",
    ]


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        ((), "(document)"),
        (("penalty",), "penalty"),
        (("choices", 1, "id"), "choices[1].id"),
        (("blanks", 0, "answers", 2, "regex"), "blanks[0].answers[2].regex"),
        (("pairs", "p1"), "pairs.p1"),
        ((3,), "[3]"),
    ],
)
def test_format_path(loc, path):
    assert format_path(loc) == path


@pytest.mark.parametrize("type_name", question_types())
def test_schema(type_name):
    schema = question_schema(type_name)
    json.dumps(schema)
    assert schema["title"] == f"{type_name} question"
    assert schema["properties"]["type"]["const"] == type_name
    assert schema["additionalProperties"] is False
    assert {"type", "prompt"} <= set(schema["required"])
    assert {"id", "hints", "explanation", "penalty", "points", "tags"} <= set(schema["properties"])


def test_schema_describes_the_body():
    schema = question_schema("single_choice")
    assert "choices" in schema["required"]
    assert schema["properties"]["choices"]["minItems"] == 2
    choice = schema["$defs"]["Choice"]
    assert set(choice["properties"]) == {"id", "text", "correct", "credit", "feedback"}
    assert question_schema("numeric")["properties"]["range"]["anyOf"][0]["type"] == "string"


def test_question_types():
    assert question_types() == [
        "fill_blanks",
        "matching",
        "multiple_response",
        "numeric",
        "ordering",
        "single_choice",
        "text_input",
    ]
