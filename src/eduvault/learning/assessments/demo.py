"""The demo's practice walkthrough: a learner practises the first subtopic of the synced course
(the practice assessment the sync made for it), with hints, feedback and mastery as she goes."""

from __future__ import annotations

import secrets
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from eduvault.identity.services import person_of, user_create
from eduvault.learning.assessments.models import Assessment, Mastery
from eduvault.learning.assessments.services import (
    attempt_answer,
    attempt_start,
    attempt_submit,
    questions_import,
)
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.feed.models import FeedEntry

#: Questions on adding, subtracting and multiplying polynomials, one of several types each.
QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "poly-degree",
        "type": "single_choice",
        "prompt": "What is the degree of 4x³ − 2x⁵ + 7?",
        "choices": [
            {"id": "three", "text": "3", "feedback": "3 is the power of the first term, not the highest."},
            {"id": "five", "text": "5", "correct": True},
            {"id": "seven", "text": "7", "feedback": "7 is the constant term."},
            {"id": "four", "text": "4"},
        ],
        "hints": ["The degree is the highest power of x."],
        "explanation": "The highest power of x is 5 (in −2x⁵), so the degree is 5.",
        "penalty": 0.1,
        "tags": ["degree"],
    },
    {
        "id": "poly-value",
        "type": "numeric",
        "prompt": "Find the value of (x + 2)(x² − x + 5) when x = 1.",
        "answer": 15,
        "hints": ["Substitute x = 1 in each bracket first."],
        "explanation": "(1 + 2)(1 − 1 + 5) = 3 × 5 = 15.",
    },
    {
        "id": "poly-name",
        "type": "text_input",
        "prompt": "What do we call a polynomial of degree 2?",
        "answers": [
            {"value": "quadratic"},
            {"value": "a quadratic"},
            {"regex": "quadratic (polynomial|expression)"},
        ],
        "wrong_answers": [
            {"value": "cubic", "feedback": "A cubic has degree 3."},
            {"value": "linear", "feedback": "A linear polynomial has degree 1."},
        ],
        "hints": ["Think of x² + 3x + 2."],
        "explanation": "A polynomial of degree 2 is a quadratic.",
        "penalty": 0.25,
    },
    {
        "id": "poly-order",
        "type": "ordering",
        "prompt": "Put the terms of 5 + 3x³ − x + 2x² in descending powers of x.",
        "items": [
            {"id": "cube", "text": "3x³"},
            {"id": "square", "text": "2x²"},
            {"id": "linear", "text": "−x"},
            {"id": "constant", "text": "5"},
        ],
        "scoring": "position",
        "explanation": "3x³ + 2x² − x + 5.",
    },
    {
        "id": "poly-which",
        "type": "multiple_response",
        "prompt": "Which of these are polynomials in x?",
        "choices": [
            {"id": "a", "text": "x² − 4", "correct": True},
            {"id": "b", "text": "3x + 1/x", "feedback": "1/x is x⁻¹: negative powers are not allowed."},
            {"id": "c", "text": "7", "correct": True},
            {"id": "d", "text": "√x + 2", "feedback": "√x is x^½: powers must be whole numbers."},
            {"id": "e", "text": "2x³ − x", "correct": True},
        ],
        "scoring": "halves",
        "explanation": "Only whole-number powers of x: x² − 4, 7 and 2x³ − x.",
    },
]

#: What the learner answers, question by question, try by try.
ANSWERS: list[tuple[str, Any]] = [
    ("poly-degree", "three"),
    ("poly-degree", "five"),
    ("poly-value", 15),
    ("poly-name", "Cubic "),
    ("poly-name", "  Quadratic"),
    ("poly-order", ["cube", "square", "linear", "constant"]),
    ("poly-which", ["a", "e"]),
]


def practice_walkthrough(*, console: Console, course: Course) -> tuple[str, str]:
    """Run the walkthrough; returns the demo learner's username and password."""
    practice = list(
        Assessment.objects.filter(
            course=course, kind=Assessment.Kind.PRACTICE, status=Assessment.Status.ACTIVE
        ).order_by("id")
    )
    archived = Assessment.objects.filter(course=course, status=Assessment.Status.ARCHIVED).count()
    console.print(
        f"The sync gave each of the {len(practice)} subtopics a practice assessment "
        f"({archived} more were archived with the topic deleted above). Practising: {practice[0].title!r}.",
        markup=False,
    )
    report = questions_import(course=course, subtopic=practice[0].subtopic, documents=QUESTIONS, actor="demo")
    console.print(
        f"Imported {len(report.created)} questions (single choice, numeric, text, ordering, multiple response).",
        markup=False,
    )
    username, password = f"tamanda-{secrets.token_hex(2)}", secrets.token_urlsafe(12)
    learner = person_of(user_create(username=username, role="learner", password=password, origin="cli"))
    attempt, _ = attempt_start(assessment_id=practice[0].pk, person=learner)
    prompts = {q["id"]: q["prompt"] for q in QUESTIONS}
    table = Table(header_style="bold", title=f"{username} practises", title_justify="left")
    for column in ("question", "answer", "result", "shown", "P(known)"):
        table.add_column(column, overflow="fold")
    for n, (question, answer) in enumerate(ANSWERS):
        result = attempt_answer(
            attempt_id=attempt.pk, person=learner, client_id=f"demo-{n}", question=question, answer=answer
        ).result
        mastery = Mastery.objects.get(learner_id=learner.id, subtopic=practice[0].subtopic)
        shown = result["feedback"] or ""
        if not result["correct"] and result["hints"]:
            shown = f"{shown} Hint: {result['hints'][-1]}".strip()
        if result["explanation"]:
            shown = f"{shown} {result['explanation']}".strip()
        mark = (
            "[green]✓[/green]"
            if result["correct"]
            else ("[yellow]½[/yellow]" if result["score"] else "[red]✗[/red]")
        )
        table.add_row(
            Text(prompts[question][:48] + "…" * (len(prompts[question]) > 48)),
            Text(repr(answer) if not isinstance(answer, str) else answer.strip()),
            f"{mark} {result['score']:.2f}",
            Text(shown),
            f"{mastery.p_known:.3f}",
        )
    console.print(table)
    console.print(
        "Knowledge tracing counts each question's first try: a retry after a hint is not new evidence.",
        markup=False,
    )
    attempt = attempt_submit(attempt_id=attempt.pk, person=learner)
    grade = FeedEntry.objects.get(kind__in=("grade", "exam_result"), after__fields__attempt=str(attempt.pk))
    mastery = Mastery.objects.get(learner_id=learner.id, subtopic=practice[0].subtopic)
    console.print(
        f"Submitted: {attempt.score:g} of {attempt.max_score:g} points "
        f"({100 * attempt.score / attempt.max_score:.0f}%, {'passed' if attempt.passed else 'not passed'}); "
        f"the grade entered the change feed at cursor {grade.cursor} with priority {grade.priority}. "
        f"P(known) is {mastery.p_known:.3f}: "
        + ("mastered." if mastery.mastered else "not mastered yet (the threshold is 0.95)."),
        markup=False,
    )
    return username, password
