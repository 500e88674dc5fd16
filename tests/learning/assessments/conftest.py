"""A synced course with three subtopics, people with JWT clients, and sample questions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from eduvault.identity.services import access_token_issue, person_of, user_create
from eduvault.identity.tokens import SignedIn
from eduvault.pipeline.sync.services import course_sync_blocks
from tests.conftest import COURSE_KEY, small_course

SIM = small_course()
QUADRATICS = SIM.usage_key("sequential", "quadratics")
ALGEBRA_TEST = SIM.usage_key("sequential", "algebra-test")
CIRCLES = SIM.usage_key("sequential", "circles")


@dataclass
class Someone:
    person: SignedIn
    client: APIClient

    @property
    def username(self) -> str:
        return self.person.username


def someone(username: str, role: str = "learner") -> Someone:
    user = user_create(username=username, role=role, password="correct horse battery")
    person = person_of(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(person=person)}")
    return Someone(person, client)


@pytest.fixture
def synced(db):
    course = small_course()
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    return course


@pytest.fixture
def learner(db) -> Someone:
    return someone("amina")


@pytest.fixture
def other_learner(db) -> Someone:
    return someone("chikondi")


@pytest.fixture
def instructor(db) -> Someone:
    return someone("mr-banda", "instructor")


def choice(qid: str, right: str = "b", **extra) -> dict:
    return {
        "id": qid,
        "type": "single_choice",
        "prompt": f"Question {qid}: pick {right}.",
        "choices": [
            {"id": c, "text": f"Option {c}", "correct": c == right, "feedback": f"you chose {c}"}
            for c in ("a", "b", "c", "d")
        ],
        "hints": ["First hint.", "Second hint."],
        "explanation": f"The answer is {right}.",
        **extra,
    }


def numeric(qid: str, answer: float = 12.5, **extra) -> dict:
    return {
        "id": qid,
        "type": "numeric",
        "prompt": f"Question {qid}: how much?",
        "answer": answer,
        "absolute_tolerance": 0.1,
        "explanation": "Work it out.",
        **extra,
    }


def bank(subtopic: str, count: int, prefix: str) -> list[dict]:
    return [choice(f"{prefix}-{i}") if i % 2 == 0 else numeric(f"{prefix}-{i}") for i in range(count)]


def load_bank(subtopic: str, documents: list[dict]) -> None:
    from eduvault.learning.assessments.services import questions_import
    from eduvault.pipeline.content.models import Course

    report = questions_import(
        course=Course.objects.get(key=COURSE_KEY), subtopic=subtopic, documents=documents, actor="test"
    )
    assert not report.invalid


def practice_id(subtopic: str) -> int:
    from eduvault.learning.assessments.models import Assessment

    return Assessment.objects.get(kind="practice", subtopic=subtopic).pk


def right_answer(question: dict) -> object:
    """The right answer to a question as the learner sees it (from the bank's documents)."""
    from eduvault.cores.grading import parse_question, solution
    from eduvault.learning.assessments.models import Question

    stored = Question.objects.get(key=question["id"], current=True)
    return solution(parse_question(stored.document))
