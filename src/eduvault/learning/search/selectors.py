"""Search within the caller's scope.

- Admins and instructors (and admin API tokens): everything.
- A consumer's API token: the course content of its courses (and node kinds, if the token
  names kinds) and those courses' forum posts (unless its kinds leave ``forum_post`` out);
  never the question bank, which consumers cannot read.
- A learner: the courses they are actively enrolled in: their content, their forum posts,
  and the practice questions (of subtopics an active practice assessment draws from and no
  active exam does); a question's snippet only from its prompt. Never an exam question.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import Any

import structlog

from eduvault.identity.models import ApiToken, Person, Role
from eduvault.identity.tokens import SignedIn
from eduvault.kernel.errors import InvalidInput
from eduvault.learning.assessments.models import Assessment
from eduvault.learning.search.engines import START, STOP, TYPES, Filters, RawHit, engine
from eduvault.learning.search.syntax import MAX_QUERY, parse
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.records.models import Enrollment

log = structlog.get_logger(__name__)

MAX_LIMIT = 50
MAX_OFFSET = 500


@dataclass(frozen=True)
class Hit:
    type: str
    course: str
    #: content: the node's external id; question: its key; post: the record id.
    ref: str
    title: str
    #: content: the node kind; question: its type; post: ``forum_post``.
    kind: str
    #: HTML: the text escaped, the matched words in ``<mark>``.
    snippet: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "course": self.course,
            "ref": self.ref,
            "title": self.title,
            "kind": self.kind,
            "snippet": self.snippet,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class Caller:
    """Who searches: a signed-in person, an API token, or the operator's CLI (``None`` of both)."""

    person: SignedIn | None = None
    token: ApiToken | None = None


def _learner_courses(user_id: int) -> set[int]:
    person = Person.objects.filter(user_id=user_id).only("id", "merged_into").first()
    seen: set[int] = set()
    while person is not None and person.merged_into_id is not None and person.pk not in seen:
        seen.add(person.pk)
        person = Person.objects.filter(pk=person.merged_into_id).only("id", "merged_into").first()
    if person is None:
        return set()
    return set(
        Enrollment.objects.filter(person_id=person.pk, state=Enrollment.State.ACTIVE).values_list(
            "course_id", flat=True
        )
    )


def _practice_subtopics(courses: set[int]) -> frozenset[tuple[int, str]]:
    """(course, subtopic) pairs an active practice assessment draws from and no active exam."""
    practice: set[tuple[int, str]] = set()
    exam: set[tuple[int, str]] = set()
    for course_id, kind, subtopics, subtopic in Assessment.objects.filter(
        course_id__in=courses, status=Assessment.Status.ACTIVE
    ).values_list("course_id", "kind", "subtopics", "subtopic"):
        pairs = {(course_id, s) for s in [*(subtopics or []), subtopic] if s}
        (exam if kind == Assessment.Kind.EXAM else practice).update(pairs)
    return frozenset(practice - exam)


def filters_for(caller: Caller, *, course: str | None, types: set[str]) -> Filters:
    """What ``caller`` may find, narrowed to ``course`` and ``types``."""
    wanted_courses: frozenset[int] | None = None
    if course:
        wanted_courses = frozenset(Course.objects.filter(key=course).values_list("pk", flat=True))
    person, token = caller.person, caller.token
    if person is not None and person.role == Role.LEARNER:
        courses = _learner_courses(person.id)
        if wanted_courses is not None:
            courses &= wanted_courses
        return Filters(
            types=frozenset(types),
            courses=frozenset(courses),
            subtopics=_practice_subtopics(courses) if "question" in types else frozenset(),
            prompt_only=True,
        )
    if person is None and token is not None and not token.is_admin:
        allowed = set(types) - {"question"}
        if token.kinds and not token.may_see_kind("forum_post"):
            allowed.discard("post")
        courses = wanted_courses
        if token.courses:
            mine = frozenset(Course.objects.filter(key__in=token.courses).values_list("pk", flat=True))
            courses = mine if courses is None else courses & mine
        node_kinds = frozenset(token.kinds) if token.kinds else None
        return Filters(types=frozenset(allowed), courses=courses, node_kinds=node_kinds)
    return Filters(types=frozenset(types), courses=wanted_courses)


def snippet_html(raw: str) -> str:
    """The engine's snippet escaped for HTML, its marks as ``<mark>`` (dropped if unbalanced)."""
    text = html.escape(raw.replace("\n", " "))
    if text.count(START) != text.count(STOP):
        return text.replace(START, "").replace(STOP, "")
    return text.replace(START, "<mark>").replace(STOP, "</mark>")


def search(
    *,
    query: str,
    caller: Caller,
    course: str | None = None,
    types: list[str] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[Hit]:
    """The best hits for ``query`` that ``caller`` may see, best first."""
    query = query.strip()
    if not query:
        raise InvalidInput("q: give the words to search for")
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"q: at most {MAX_QUERY} characters, got {len(query)}")
    unknown = sorted(set(types or ()) - set(TYPES))
    if unknown:
        raise InvalidInput(f"type: {', '.join(unknown)} is not one of {', '.join(TYPES)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset: between 0 and {MAX_OFFSET}")
    started = time.perf_counter()
    filters = filters_for(caller, course=course, types=set(types or TYPES))
    raw: list[RawHit] = engine().hits(query=query, filters=filters, limit=limit, offset=offset) if parse(query) else []
    hits = [
        Hit(h.type, h.course, h.ref, h.title, h.kind, snippet_html(h.snippet or h.title), h.score) for h in raw
    ]
    log.info(
        "search.done",
        terms=len(parse(query)),
        types=sorted(filters.types),
        hits=len(hits),
        ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return hits
