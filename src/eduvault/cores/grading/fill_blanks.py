"""``fill_blanks``: several blanks in the prompt, each a text or a numeric answer.

The prompt marks each blank with ``[[blank_id]]``. A text blank takes the fields of
``text_input`` (``answers``, ``case_sensitive``, ``wrong_answers``), a numeric blank those
of ``numeric`` (``answer`` or ``range``, tolerances); both are checked and graded by the
same functions. The score is the fraction of blanks right.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import Field

from eduvault.cores.grading.base import Grade, Grader, Spec, duplicate_ids, register
from eduvault.cores.grading.fields import Id, answer_object
from eduvault.cores.grading.numeric import (
    Range,
    Tolerance,
    accepts,
    check_number,
    numeric_problems,
    numeric_solution,
)
from eduvault.cores.grading.text_input import (
    TextAnswer,
    WrongAnswer,
    check_text,
    pattern_budget_problems,
    patterns_of,
    text_grade,
    text_problems,
    text_solution,
)

MARKER = re.compile(r"\[\[([^\[\]]*)\]\]")
TEXT_FIELDS = ("answers", "case_sensitive", "wrong_answers")
NUMERIC_FIELDS = ("answer", "range", "absolute_tolerance", "relative_tolerance")


class Blank(Spec):
    id: Id
    kind: Literal["text", "numeric"] = "text"
    # A text blank, as text_input:
    answers: Annotated[list[TextAnswer], Field(min_length=1, max_length=50)] | None = None
    case_sensitive: bool | None = None
    wrong_answers: Annotated[list[WrongAnswer], Field(max_length=50)] | None = None
    # A numeric blank, as numeric:
    answer: float | None = None
    range: Range | None = None
    absolute_tolerance: Tolerance | None = None
    relative_tolerance: Tolerance | None = None


class FillBlanksBody(Spec):
    blanks: Annotated[list[Blank], Field(min_length=1, max_length=50)]


@register
class FillBlanksGrader(Grader[FillBlanksBody]):
    type = "fill_blanks"
    Body = FillBlanksBody
    answer_schema = {"type": "object", "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "number"}], "nullable": True}, "description": "Blank id -> the text (or number) written in it; a blank left out, or null, is unanswered."}
    answer_example = {"b1": "Lilongwe", "b2": 3}

    def validate(self, body: FillBlanksBody) -> list[str]:
        problems = duplicate_ids((f"blanks[{i}].id", b.id) for i, b in enumerate(body.blanks))
        for i, blank in enumerate(body.blanks):
            prefix = f"blanks[{i}]."
            if blank.kind == "text":
                for name in NUMERIC_FIELDS:
                    if getattr(blank, name) is not None:
                        problems.append(f"{prefix}{name}: not used by a text blank (set kind to 'numeric')")
                if blank.answers is None:
                    problems.append(f"{prefix}answers: is required for a text blank")
                problems.extend(text_problems(blank, prefix))
            else:
                for name in TEXT_FIELDS:
                    if getattr(blank, name) is not None:
                        problems.append(f"{prefix}{name}: not used by a numeric blank")
                problems.extend(numeric_problems(blank, prefix))
        patterns = [p for blank in body.blanks if blank.kind == "text" for p in patterns_of(blank)]
        return problems + pattern_budget_problems(patterns, "blanks")

    def check_prompt(self, body: FillBlanksBody, prompt: str) -> list[str]:
        markers = Counter(MARKER.findall(prompt))
        problems = []
        for i, blank in enumerate(body.blanks):
            n = markers.get(blank.id, 0)
            if n == 0:
                problems.append(
                    f"blanks[{i}].id: blank {blank.id!r} does not appear in the prompt "
                    f"(write [[{blank.id}]] where it goes)"
                )
            elif n > 1:
                problems.append(
                    f"blanks[{i}].id: blank {blank.id!r} appears {n} times in the prompt (once only)"
                )
        ids = {b.id for b in body.blanks}
        for marker in markers:
            if marker not in ids:
                problems.append(f"prompt: the marker [[{marker}]] has no blank with that id")
        return problems

    def check_answer(self, body: FillBlanksBody, answer: Any) -> dict[str, str | float]:
        given = answer_object(answer, "the answer", "blank", [b.id for b in body.blanks])
        checked: dict[str, str | float] = {}
        for blank in body.blanks:
            value = given.get(blank.id)
            if value is None:
                continue
            what = f"the answer to blank {blank.id!r}"
            checked[blank.id] = check_text(value, what) if blank.kind == "text" else check_number(value, what)
        return checked

    def grade(self, body: FillBlanksBody, answer: dict[str, str | float]) -> Grade:
        parts: dict[str, bool] = {}
        feedback = []
        for blank in body.blanks:
            value = answer.get(blank.id)
            if value is None:
                parts[blank.id] = False
            elif blank.kind == "text" and isinstance(value, str):
                parts[blank.id], said = text_grade(blank, value)
                if said:
                    feedback.append(said)
            else:
                parts[blank.id] = isinstance(value, float) and accepts(blank, value)
        right = sum(parts.values())
        score = right / len(parts)
        return Grade(score=score, correct=right == len(parts), feedback=" ".join(feedback), parts=parts)

    def present(self, body: FillBlanksBody, rng: random.Random, shuffle: bool) -> dict[str, Any]:
        return {"blanks": [{"id": b.id} for b in body.blanks]}

    def solution(self, body: FillBlanksBody) -> dict[str, str | float]:
        return {b.id: text_solution(b) if b.kind == "text" else numeric_solution(b) for b in body.blanks}
