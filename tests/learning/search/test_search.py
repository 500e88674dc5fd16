"""Search: what each caller finds, snippets, and an index that follows every change in its
transaction (on PostgreSQL and on SQLite, the suite's two stages)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from eduvault.identity.services import token_create
from eduvault.learning.assessments.services import exam_create, question_archive, question_save, questions_import
from eduvault.learning.search.selectors import Caller, search
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.records.enrollments import enrollment_add
from eduvault.pipeline.records.models import Record
from eduvault.pipeline.sync.services import course_sync_blocks
from tests.conftest import COURSE_KEY, small_course
from tests.learning.assessments.conftest import ALGEBRA_TEST, CIRCLES, QUADRATICS, someone

OTHER_KEY = "course-v1:MIE+BIO-F+2026_T1"


def practice_question() -> dict:
    return {
        "id": "quad-1",
        "type": "single_choice",
        "prompt": "Solve the quadratic equation x^2 - 5x + 6 = 0.",
        "choices": [
            {"id": "a", "text": "x = 2 or x = 3", "correct": True},
            {"id": "b", "text": "x = -2 or x = -3"},
        ],
        "explanation": "Factorise into brackets: (x - 2)(x - 3).",
        "tags": ["factorising"],
    }


def exam_question() -> dict:
    return {
        "id": "exam-1",
        "type": "numeric",
        "prompt": "What is the discriminant of the quadratic x^2 + 4x + 4?",
        "answer": 0,
        "explanation": "b squared minus four a c.",
    }


def chichewa_question() -> dict:
    return {
        "id": "madzi-1",
        "type": "single_choice",
        "prompt": "Kodi madzi amawira pa madigiri angati?",
        "choices": [{"id": "a", "text": "100", "correct": True}, {"id": "b", "text": "50"}],
    }


@pytest.fixture
def world(db):
    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    other = small_course(OTHER_KEY)
    other.rename(other.usage_key("sequential", "circles"), "Cells and tissues")
    course_sync_blocks(course_key=OTHER_KEY, blocks=other.blocks_response())
    course = Course.objects.get(key=COURSE_KEY)
    questions_import(course=course, subtopic=QUADRATICS, documents=[practice_question()], actor="t")
    questions_import(course=course, subtopic=ALGEBRA_TEST, documents=[exam_question()], actor="t")
    questions_import(course=course, subtopic=CIRCLES, documents=[chichewa_question()], actor="t")
    exam_create(course=course, title="Algebra exam", subtopics=[ALGEBRA_TEST], actor="t")
    return course


def found(hits) -> set[tuple[str, str]]:
    return {(h.type, h.ref) for h in hits}


def refs(hits, type_: str) -> set[str]:
    return {h.ref for h in hits if h.type == type_}


def test_staff_find_content_and_every_question_by_stems(world):
    staff = Caller(person=someone("mr-banda", "instructor").person)
    hits = search(query="quadratics equations", caller=staff)
    assert refs(hits, "question") == {"quad-1"}  # both words, stemmed
    hits = search(query="quadratic", caller=staff)
    assert {"quad-1", "exam-1"} <= refs(hits, "question")
    assert any(h.type == "content" and h.title == "Quadratics" for h in hits)
    assert all("<mark>" in h.snippet for h in hits)
    # what only the explanation or a choice says finds the question too
    assert refs(search(query="brackets", caller=staff), "question") == {"quad-1"}
    assert refs(search(query="factorising", caller=staff), "question") == {"quad-1"}


def test_a_chichewa_word_is_found_as_written(world):
    hits = search(query="madzi", caller=Caller())
    assert refs(hits, "question") == {"madzi-1"}
    assert "<mark>madzi</mark>" in hits[0].snippet


def test_a_learner_sees_their_courses_and_practice_questions_only(world):
    amina = someone("amina")
    me = Caller(person=amina.person)
    assert search(query="quadratic", caller=me) == []  # not enrolled anywhere yet
    enrollment_add(course=world, username="amina", actor="t")
    hits = search(query="quadratic", caller=me)
    assert refs(hits, "question") == {"quad-1"}  # never the exam's question
    assert {h.course for h in hits} == {COURSE_KEY}
    # a learner's snippet is the prompt's: the explanation is not shown before answering
    assert refs(search(query="brackets", caller=me), "question") <= {"quad-1"}
    assert all("brackets" not in h.snippet for h in search(query="brackets", caller=me))
    assert search(query="cells tissues", caller=me) == []  # the other course's
    enrollment_add(course=Course.objects.get(key=OTHER_KEY), username="amina", actor="t")
    assert {h.course for h in search(query="cells tissues", caller=me)} == {OTHER_KEY}


def test_a_consumer_sees_its_courses_content_and_no_questions(world):
    token, _ = token_create(name="biology-site", courses=[OTHER_KEY])
    hits = search(query="circle cells quadratic", caller=Caller(token=token))
    assert hits == []  # all three words in one place: nowhere
    hits = search(query="cells or quadratics or quadratic", caller=Caller(token=token))
    assert {h.course for h in hits} == {OTHER_KEY}
    assert refs(hits, "question") == set()
    kinds, _ = token_create(name="topics-only", kinds=["topic"])
    assert {h.kind for h in search(query="algebra", caller=Caller(token=kinds))} == {"topic"}


def test_filters_by_course_and_type(world):
    staff = Caller()
    assert {h.type for h in search(query="quadratic", caller=staff, types=["content"])} == {"content"}
    assert {h.course for h in search(query="test", caller=staff, course=OTHER_KEY)} == {OTHER_KEY}
    assert search(query="test", caller=staff, course="course-v1:NO+SUCH+RUN") == []


def test_snippets_are_escaped(world):
    question_save(
        course=world,
        subtopic=QUADRATICS,
        document={**practice_question(), "id": "xss", "prompt": "Quadratic or not: 2 < 3 & 5 > 4?"},
        actor="t",
    )
    hit = next(h for h in search(query="quadratic", caller=Caller(), types=["question"]) if h.ref == "xss")
    bare = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare and "&lt;" in bare and "&amp;" in bare
    assert "<mark>Quadratic</mark>" in hit.snippet


def test_the_index_follows_each_change_in_its_transaction(world):
    staff = Caller()
    # a renamed block: found by its new title only
    sim = small_course()
    sim.rename(sim.usage_key("sequential", "quadratics"), "Simultaneous equations")
    sim.delete(sim.usage_key("video", "circles-video"))
    course_sync_blocks(course_key=COURSE_KEY, blocks=sim.blocks_response())
    assert "Simultaneous equations" in {h.title for h in search(query="simultaneous", caller=staff)}
    assert "Quadratics" not in {h.title for h in search(query="quadratics", caller=staff, course=COURSE_KEY)}
    assert search(query="semicircle", caller=staff, course=COURSE_KEY) == []  # the deleted video
    # a new version replaces the old text; an archived question is gone
    question_save(
        course=world, subtopic=QUADRATICS, key="quad-1", document={**practice_question(), "prompt": "Roots of x^2 - 1."},
        actor="t",
    )
    assert refs(search(query="roots", caller=staff), "question") == {"quad-1"}
    assert "quad-1" not in refs(search(query="solve", caller=staff), "question")
    question_archive(course=world, key="quad-1", actor="t")
    assert search(query="roots", caller=staff) == []
    # a change rolled back leaves no trace in the index
    with pytest.raises(RuntimeError), transaction.atomic():
        question_save(
            course=world, subtopic=QUADRATICS, document={**practice_question(), "id": "ghost", "prompt": "Phantasm?"},
            actor="t",
        )
        assert refs(search(query="phantasm", caller=staff), "question") == {"ghost"}  # inside: seen
        raise RuntimeError("rolled back")
    assert search(query="phantasm", caller=staff) == []


def test_forum_posts_are_found_until_deleted(world):
    amina = someone("amina")
    enrollment_add(course=world, username="amina", actor="t")
    post = Record.objects.create(
        kind="forum_post", key=f"{COURSE_KEY}/post:forum:1", holder="p1", course=world, object="post:forum:1",
        home="forum", home_platform="discourse", title="Help with completing the square",
        fields={"raw": "I cannot see why we halve the coefficient of x.", "deleted": False},
    )
    for caller in (Caller(), Caller(person=amina.person)):
        hits = search(query="coefficient", caller=caller)
        assert found(hits) == {("post", str(post.pk))}
        assert hits[0].title == "Help with completing the square"
    post.fields = {**post.fields, "raw": "Solved it: halve the middle term.", "deleted": False}
    post.save()
    assert search(query="coefficient", caller=Caller()) == []
    assert found(search(query="middle term", caller=Caller())) == {("post", str(post.pk))}
    post.fields = {**post.fields, "deleted": True}
    post.save()
    assert search(query="middle term", caller=Caller()) == []
    token, _ = token_create(name="no-posts", kinds=["subtopic"])
    post.fields = {**post.fields, "deleted": False}
    post.save()
    assert search(query="middle term", caller=Caller(token=token)) == []


def test_the_api_answers_in_scope_and_refuses_bad_input(world, api):
    body = api.get("/api/v1/search", {"q": "quadratic", "type": "question,content"}).json()
    assert body["query"] == "quadratic"
    assert {r["type"] for r in body["results"]} == {"question", "content"}
    assert set(body["results"][0]) == {"type", "course", "ref", "title", "kind", "snippet", "score"}
    amina = someone("amina")
    enrollment_add(course=world, username="amina", actor="t")
    mine = amina.client.get("/api/v1/search", {"q": "quadratic"}).json()["results"]
    assert "exam-1" not in {r["ref"] for r in mine} and "quad-1" in {r["ref"] for r in mine}
    for params, word in (
        ({}, "q:"),
        ({"q": "  "}, "q:"),
        ({"q": "x" * 201}, "at most 200"),
        ({"q": "x", "type": "questions"}, "type:"),
        ({"q": "x", "limit": "0"}, "limit"),
        ({"q": "x", "limit": "51"}, "limit"),
        ({"q": "x", "offset": "-1"}, "offset"),
    ):
        response = api.get("/api/v1/search", params)
        assert response.status_code == 400, params
        assert response["Content-Type"].startswith("application/problem+json")
        assert word in response.json()["detail"]
    assert APIClient().get("/api/v1/search", {"q": "x"}).status_code == 401


def test_pages_follow_one_another(world, api):
    course = Course.objects.get(key=COURSE_KEY)
    questions_import(
        course=course,
        subtopic=QUADRATICS,
        documents=[{**practice_question(), "id": f"many-{i}", "prompt": f"Quadratic number {i}"} for i in range(30)],
        actor="t",
    )
    first = api.get("/api/v1/search", {"q": "quadratic", "type": "question", "limit": 20}).json()["results"]
    second = api.get("/api/v1/search", {"q": "quadratic", "type": "question", "limit": 20, "offset": 20}).json()[
        "results"
    ]
    assert len(first) == 20 and len(second) == 12
    assert not {r["ref"] for r in first} & {r["ref"] for r in second}
    scores = [r["score"] for r in first + second]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 triggers are SQLite's")
def test_a_dropped_trigger_is_put_back_and_its_index_rebuilt(world):
    from eduvault.learning.search.index import install

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER search_node_insert")
    course_sync_blocks(course_key="course-v1:MIE+GEO-F+2026_T1", blocks=small_course("course-v1:MIE+GEO-F+2026_T1").blocks_response())
    assert {h.course for h in search(query="semicircle", caller=Caller())} == {COURSE_KEY, OTHER_KEY}
    install(connection)
    assert {h.course for h in search(query="semicircle", caller=Caller())} == {
        COURSE_KEY, OTHER_KEY, "course-v1:MIE+GEO-F+2026_T1"
    }


def test_a_course_is_no_word_to_find_and_a_search_within_it_finds_its_own(world):
    # SQLite keeps each row's course as a word of the index (so the index narrows by
    # course); the words searched never match it.
    staff = Caller()
    other = Course.objects.get(key=OTHER_KEY)
    for course in (world, other):
        assert search(query=f"c{course.pk}", caller=staff) == []
    assert {h.course for h in search(query="test", caller=staff, course=COURSE_KEY)} == {COURSE_KEY}
    learner = Caller(person=someone("thoko").person)
    enrollment_add(course=other, username="thoko", actor="t")
    assert {h.course for h in search(query="cells", caller=learner)} == {OTHER_KEY}
    assert search(query="cells", caller=learner, course=COURSE_KEY) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 tables are SQLite's")
def test_an_index_of_an_earlier_version_is_made_again(world):
    from eduvault.learning.search.index import install

    with connection.cursor() as cursor:  # as the first version made it: no course column
        cursor.execute("DROP TABLE search_question")
        cursor.execute("CREATE VIRTUAL TABLE search_question USING fts5(prompt, body)")
    install(connection)
    assert refs(search(query="discriminant", caller=Caller(), course=COURSE_KEY), "question") == {"exam-1"}


def test_the_command_line_draws_hits_without_reading_markup(world):
    import io

    from rich.console import Console

    from eduvault.cli.commands.search import Command

    question_save(
        course=world,
        subtopic=QUADRATICS,
        document={**practice_question(), "id": "markup", "prompt": "A [bold]quadratic[/bold] & <b>more</b>"},
        actor="t",
    )
    command = Command()
    out = io.StringIO()
    command.__dict__["console"] = Console(file=out, width=200, color_system=None)
    command.__dict__["err"] = Console(file=out, width=200, color_system=None)
    command.handle(query="quadratic", course=COURSE_KEY, type=["question"], limit=20, json=False)
    text = out.getvalue()
    assert "[bold]quadratic[/bold]" in text and "<b>more</b>" in text  # shown as written
    assert "quad-1" not in text and "hits" in text
