"""Item analysis of an assessment for its instructors (reads only).

Per question served in its submitted attempts: facility, mean credit, item-rest
discrimination (:mod:`eduvault.cores.grading.analysis`), how often each option was chosen
(choice questions) and the distractors nobody chose. The database sums the responses in one
grouped query and counts the chosen options in another, so a report costs the same five
queries for ten attempts or ten thousand.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, F, Q, Sum

from eduvault.cores.grading import parse_question
from eduvault.cores.grading.analysis import ItemSums, item_statistics, option_picks, unpicked_distractors
from eduvault.learning.assessments.models import Assessment, Attempt, Question, Response

#: The types whose answer names options, and the body field listing them.
CHOICE_TYPES = {"single_choice": "choices", "multiple_response": "choices"}
#: Flags are raised only once this many attempts have taken the question.
MIN_ATTEMPTS = 10
HARD, EASY, WEAK = 0.2, 0.9, 0.2


def _flags(n: int, facility: float | None, discrimination: float | None, unpicked: list[str]) -> list[str]:
    if n < MIN_ATTEMPTS:
        return []
    flags = []
    if facility is not None and facility < HARD:
        flags.append("hard")
    if facility is not None and facility > EASY:
        flags.append("easy")
    if discrimination is not None and discrimination < WEAK:
        flags.append("weak discrimination")
    if unpicked:
        flags.append("unpicked distractors")
    return flags


def item_analysis(*, assessment: Assessment) -> dict[str, Any]:
    responses = Response.objects.filter(attempt__assessment=assessment, attempt__status=Attempt.Status.SUBMITTED)
    total = F("attempt__score")
    sums = {
        row["question_id"]: ItemSums(
            n=row["n"],
            correct=row["correct"],
            answered=row["answered"],
            s=row["s"] or 0.0,
            s2=row["s2"] or 0.0,
            t=row["t"] or 0.0,
            t2=row["t2"] or 0.0,
            st=row["st"] or 0.0,
        )
        for row in responses.values("question_id").annotate(
            n=Count("id"),
            correct=Count("id", filter=Q(correct=True)),
            answered=Count("id", filter=Q(tries__gt=0)),
            s=Sum("score"),
            s2=Sum(F("score") * F("score")),
            t=Sum(total),
            t2=Sum(total * total),
            st=Sum(F("score") * total),
        )
    }
    questions = {q.pk: q for q in Question.objects.filter(pk__in=list(sums)).only("id", "key", "version", "type", "document")}
    answers: dict[int, list[tuple[Any, int]]] = defaultdict(list)
    choice_ids = [pk for pk, q in questions.items() if q.type in CHOICE_TYPES]
    if choice_ids:
        for question_id, answer, n in (
            responses.filter(question_id__in=choice_ids, tries__gt=0)
            .values("question_id", "answer")
            .annotate(n=Count("id"))
            .values_list("question_id", "answer", "n")
        ):
            answers[question_id].append((answer, n))
    items = []
    for pk, question in sorted(questions.items(), key=lambda kv: (kv[1].key, kv[1].version)):
        parsed = parse_question(question.document)
        stats = item_statistics(sums[pk], parsed.points)
        options = None
        unpicked: list[str] = []
        if question.type in CHOICE_TYPES:
            entries = getattr(parsed.body, CHOICE_TYPES[question.type])
            picks = option_picks(answers[pk], [c.id for c in entries])
            correct = [c.id for c in entries if c.correct]
            unpicked = unpicked_distractors(picks, correct)
            options = [{"id": c.id, "text": c.text, "correct": c.correct, "picks": picks[c.id]} for c in entries]
        items.append(
            {
                "question": question.key,
                "version": question.version,
                "type": question.type,
                "prompt": parsed.prompt[:200],
                "points": parsed.points,
                "attempts": stats.n,
                "answered": stats.answered,
                "facility": _round(stats.facility),
                "mean_credit": _round(stats.mean_credit),
                "discrimination": _round(stats.discrimination),
                "options": options,
                "unpicked_distractors": unpicked,
                "flags": _flags(stats.n, stats.facility, stats.discrimination, unpicked),
            }
        )
    submitted = Attempt.objects.filter(assessment=assessment, status=Attempt.Status.SUBMITTED).count()
    return {
        "assessment": {"id": assessment.pk, "title": assessment.title, "kind": assessment.kind},
        "submitted_attempts": submitted,
        "min_attempts_for_flags": MIN_ATTEMPTS,
        "items": items,
        "unpicked_distractors": [i["question"] for i in items if i["unpicked_distractors"] and i["attempts"] >= MIN_ATTEMPTS],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
