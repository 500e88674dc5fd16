"""What a learner sees of a question, and the solution shown after it.

:func:`present` gives the learner-safe view: never a correct flag, a credit, a fraction, a
feedback text, the explanation, hints, answers, ranges, tolerances, pairs or regexes. The
order of choices, items and options is drawn from the attempt's ``seed`` and the
question's id, so the same attempt shows the same order in any process.
"""

from __future__ import annotations

import random
from typing import Any

from eduvault.cores.grading.base import seeded_rng
from eduvault.cores.grading.questions import Question


def question_rng(question: Question, seed: str) -> random.Random:
    """The random generator of ``question`` within the attempt seeded with ``seed``."""
    return seeded_rng(f"{seed}:{question.id}")


def present(question: Question, *, seed: str, shuffle: bool) -> dict[str, Any]:
    """The learner-safe view: ``{"id", "type", "prompt", "points", ...the type's view}``."""
    view: dict[str, Any] = {
        "id": question.id,
        "type": question.type,
        "prompt": question.prompt,
        "points": question.points,
    }
    extra = question.grader.present(question.body, question_rng(question, seed), shuffle)
    clashes = set(extra) & set(view)
    if clashes:
        raise ValueError(f"the {question.type} grader's view redefines {', '.join(sorted(clashes))}")
    view.update(extra)
    return view


def solution(question: Question) -> Any:
    """A correct answer to ``question``, in the answer format."""
    return question.grader.solution(question.body)


def searchable_text(question: Question) -> str:
    """The words a search finds ``question`` by, besides its prompt: what a learner is shown
    of it (choice, item, prompt and option texts; never an answer, a range or a pair), its
    tags, hints and explanation. One line per piece, in document order."""
    pieces: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            if value.strip():
                pieces.append(value.strip())
        elif isinstance(value, dict):
            for key, item in value.items():
                if key != "id":
                    collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(question.grader.present(question.body, seeded_rng(""), False))
    collect(list(question.tags))
    collect(list(question.hints))
    collect(question.explanation)
    return "\n".join(pieces)
