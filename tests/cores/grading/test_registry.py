"""A new question type is one grader class registered under its name; nothing else changes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings

from eduvault.cores.grading import (
    Grade,
    Grader,
    grade_try,
    grader_for,
    parse_question,
    present,
    question_schema,
    question_types,
    register,
    reveal,
    solution,
    unregister,
)
from eduvault.cores.grading.base import Spec, answer_shapes
from eduvault.kernel.errors import InvalidAnswer, InvalidQuestion

from .helpers import SECRET_KEYS, keys_of
from .strategies import questions


class TrueFalseBody(Spec):
    answer: bool
    feedback_true: str = ""
    feedback_false: str = ""


@pytest.fixture
def true_false() -> Iterator[type[Grader[Any]]]:
    @register
    class TrueFalseGrader(Grader[TrueFalseBody]):
        type = "true_false"
        Body = TrueFalseBody
        answer_schema = {"type": "boolean", "description": "True or false."}
        answer_example = True

        def validate(self, body: TrueFalseBody) -> list[str]:
            if body.feedback_true and body.feedback_true == body.feedback_false:
                return ["feedback_false: must differ from feedback_true"]
            return []

        def check_answer(self, body: TrueFalseBody, answer: Any) -> bool:
            if not isinstance(answer, bool):
                raise InvalidAnswer("the answer must be true or false")
            return answer

        def grade(self, body: TrueFalseBody, answer: bool) -> Grade:
            right = answer == body.answer
            return Grade(float(right), right, body.feedback_true if answer else body.feedback_false)

        def present(self, body: TrueFalseBody, rng: random.Random, shuffle: bool) -> dict[str, Any]:
            return {"labels": ["true", "false"]}

        def solution(self, body: TrueFalseBody) -> bool:
            return body.answer

    yield TrueFalseGrader
    unregister("true_false")


def test_a_new_type_works_end_to_end(true_false):
    assert "true_false" in question_types()
    assert isinstance(grader_for("true_false"), true_false)
    q = parse_question(
        {
            "id": "tf1",
            "type": "true_false",
            "prompt": "The Earth is round.",
            "answer": True,
            "feedback_false": "It is.",
        }
    )
    assert q.document["answer"] is True
    assert parse_question(q.document) == q
    view = present(q, seed="s", shuffle=True)
    assert view == {
        "id": "tf1",
        "type": "true_false",
        "prompt": "The Earth is round.",
        "points": 1.0,
        "labels": ["true", "false"],
    }
    assert not keys_of(view) & SECRET_KEYS
    assert solution(q) is True
    assert grade_try(q, True, try_number=1).correct
    wrong = grade_try(q, False, try_number=1)
    assert (wrong.score, wrong.feedback) == (0.0, "It is.")
    assert reveal(q, wrong, wrong_tries=1, final=True)["feedback"] == "It is."
    with pytest.raises(InvalidAnswer, match="true or false"):
        grade_try(q, "true", try_number=1)
    with pytest.raises(InvalidQuestion) as info:
        parse_question(
            {
                "type": "true_false",
                "prompt": "P",
                "answer": "yes",
                "feedback_true": "x",
                "feedback_false": "x",
            }
        )
    assert info.value.problems == ["answer: must be true or false, got 'yes'"]
    with pytest.raises(InvalidQuestion) as info:
        parse_question(
            {
                "type": "true_false",
                "prompt": "P",
                "answer": False,
                "feedback_true": "x",
                "feedback_false": "x",
            }
        )
    assert info.value.problems == ["feedback_false: must differ from feedback_true"]
    assert question_schema("true_false")["properties"]["answer"]["type"] == "boolean"


def test_unregistered_afterwards():
    assert "true_false" not in question_types()
    with pytest.raises(InvalidQuestion, match="unknown question type 'true_false'"):
        grader_for("true_false")


def test_registration_mistakes_are_caught():
    class Clash(Spec):
        prompt: str

    with pytest.raises(ValueError, match="redefines fields of the envelope: prompt"):

        @register
        class ClashGrader(Grader[Clash]):
            type = "clash"
            Body = Clash

            def check_answer(self, body: Clash, answer: Any) -> Any:
                return answer

            def grade(self, body: Clash, answer: Any) -> Grade:
                return Grade(1.0, True)

            def solution(self, body: Clash) -> Any:
                return None

    with pytest.raises(ValueError, match="already registered"):

        @register
        class Impostor(Grader[Spec]):
            type = "numeric"
            Body = Spec

            def check_answer(self, body: Spec, answer: Any) -> Any:
                return answer

            def grade(self, body: Spec, answer: Any) -> Grade:
                return Grade(1.0, True)

            def solution(self, body: Spec) -> Any:
                return None

    assert "clash" not in question_types()
    assert type(grader_for("numeric")).__name__ == "NumericGrader"


def test_grades_are_within_bounds():
    with pytest.raises(ValueError):
        Grade(1.5, True)
    with pytest.raises(ValueError):
        Grade(-0.1, False)


def test_a_type_must_say_what_its_answers_look_like():
    class Quiet(Spec):
        x: int = 0

    class ShapelessGrader(Grader[Quiet]):
        type = "shapeless"
        Body = Quiet

        def check_answer(self, body, answer):
            return answer

        def grade(self, body, answer):
            return Grade(1.0, True)

        def solution(self, body):
            return None

    with pytest.raises(ValueError, match="answer_schema and answer_example"):
        register(ShapelessGrader)
    assert "shapeless" not in question_types()


@settings(max_examples=150, deadline=None)
@given(questions())
def test_every_solution_has_its_types_answer_shape(document):
    """The shape the API documents for a type's answers fits the answers the type takes."""
    import jsonschema

    q = parse_question(document)
    schema, example = answer_shapes()[q.type]
    jsonschema.validate(solution(q), schema)
    jsonschema.validate(example, schema)
