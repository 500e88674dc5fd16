"""The question bank: validation naming the field, versions, all-or-nothing import, export."""

from __future__ import annotations

import json

import pytest

from eduvault.learning.assessments.models import Question
from tests.conftest import COURSE_KEY, run_cli
from tests.learning.assessments.conftest import CIRCLES, QUADRATICS, choice, numeric
from tests.test_api import assert_problem

pytestmark = pytest.mark.django_db

BROKEN = {
    "id": "broken",
    "type": "single_choice",
    "prompt": "?",
    "choices": [{"id": "a", "text": "A"}, {"text": "B"}],
}


def test_questions_are_validated_per_type_naming_the_field(synced, instructor):
    url = f"/api/v1/courses/{COURSE_KEY}/questions/"
    body = assert_problem(
        instructor.client.post(url, {"subtopic": QUADRATICS, "document": BROKEN}, format="json"), 422
    )
    assert any("choices[1].id" in p for p in body["problems"]), body
    body = assert_problem(
        instructor.client.post(
            url, {"subtopic": QUADRATICS, "document": {**numeric("n"), "range": "[5,7)"}}, format="json"
        ),
        422,
    )
    assert "range" in body["detail"]
    assert_problem(
        instructor.client.post(url, {"subtopic": "block-v1:nope", "document": choice("x")}, format="json"),
        400,
        "subtopic",
    )
    assert not Question.objects.exists()


def test_editing_a_question_adds_a_version(synced, instructor):
    url = f"/api/v1/courses/{COURSE_KEY}/questions/"
    created = instructor.client.post(url, {"subtopic": QUADRATICS, "document": choice("v")}, format="json")
    assert created.status_code == 201 and created.json()["version"] == 1
    same = instructor.client.put(f"{url}v", {"document": choice("v")}, format="json").json()
    assert same["outcome"] == "unchanged" and same["version"] == 1
    edited = instructor.client.put(f"{url}v", {"document": choice("v", right="c")}, format="json").json()
    assert edited["outcome"] == "updated" and edited["version"] == 2
    assert [q.version for q in Question.objects.filter(key="v").order_by("version")] == [1, 2]
    assert instructor.client.get(f"{url}v").json()["document"]["choices"][2]["correct"] is True
    assert instructor.client.delete(f"{url}v").status_code == 204
    assert instructor.client.get(url).json()["results"] == []
    assert_problem(instructor.client.get(f"{url}v"), 404)


def test_import_is_all_or_nothing_unless_partial(synced, instructor):
    url = f"/api/v1/courses/{COURSE_KEY}/questions/import"
    documents = [choice("i1"), BROKEN, numeric("i2"), {"type": "essay", "prompt": "Why?"}, choice("i1")]
    body = assert_problem(
        instructor.client.post(url, {"subtopic": QUADRATICS, "questions": documents}, format="json"), 422
    )
    problems = "\n".join(body["problems"])
    assert "questions[1] (broken): choices[1].id" in problems
    assert "questions[3]: type: unknown question type 'essay'" in problems
    assert "questions[4] (i1): id: also used by questions[0]" in problems
    assert not Question.objects.exists()

    report = instructor.client.post(
        url, {"subtopic": QUADRATICS, "questions": documents, "partial": True}, format="json"
    ).json()
    assert report["created"] == 2 and [bad["index"] for bad in report["invalid"]] == [1, 3, 4]
    assert sorted(Question.objects.values_list("key", flat=True)) == ["i1", "i2"]


def test_export_then_import_round_trips(synced, instructor, tmp_path):
    base = f"/api/v1/courses/{COURSE_KEY}/questions/"
    instructor.client.post(
        f"{base}import", {"subtopic": QUADRATICS, "questions": [choice("e1"), numeric("e2")]}, format="json"
    )
    exported = instructor.client.get(f"{base}export", {"subtopic": QUADRATICS}).json()
    assert exported["format"] == "eduvault.questions/1" and [q["id"] for q in exported["questions"]] == [
        "e1",
        "e2",
    ]
    again = instructor.client.post(
        f"{base}import", {"subtopic": QUADRATICS, "questions": exported["questions"]}, format="json"
    ).json()
    assert again["unchanged"] == 2 and again["created"] == again["updated"] == 0
    # The same file into another subtopic moves the questions there (a new version each).
    moved = instructor.client.post(
        f"{base}import", {"subtopic": CIRCLES, "questions": exported}, format="json"
    ).json()
    assert moved["updated"] == 2
    assert set(Question.objects.filter(current=True).values_list("subtopic", flat=True)) == {CIRCLES}


@pytest.mark.django_db(transaction=True)
def test_the_cli_imports_and_exports(synced, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps({"course": COURSE_KEY, "subtopic": QUADRATICS, "questions": [choice("k1"), numeric("k2")]})
    )
    result = run_cli("questions", "import", str(good), check=True)
    assert "2 created" in result.stdout
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps([choice("k3"), BROKEN]))
    refused = run_cli("questions", "import", str(mixed), "--course", COURSE_KEY, "--subtopic", QUADRATICS)
    assert refused.returncode == 2
    assert "choices[1].id" in refused.stderr and "nothing was imported" in refused.stderr
    assert not Question.objects.filter(key="k3").exists()
    partial = run_cli(
        "questions",
        "import",
        str(mixed),
        "--course",
        COURSE_KEY,
        "--subtopic",
        QUADRATICS,
        "--partial",
        check=True,
    )
    assert "1 created" in partial.stdout and "1 invalid" in partial.stdout
    out = tmp_path / "out.json"
    run_cli(
        "questions", "export", "--course", COURSE_KEY, "--subtopic", QUADRATICS, "-o", str(out), check=True
    )
    assert [q["id"] for q in json.loads(out.read_text())["questions"]] == ["k1", "k2", "k3"]
    types = run_cli("questions", "types", check=True).stdout.split()
    assert {
        "single_choice",
        "multiple_response",
        "numeric",
        "text_input",
        "fill_blanks",
        "ordering",
        "matching",
    } <= set(types)


def test_learners_and_consumers_cannot_touch_the_bank(synced, learner):
    from eduvault.identity.services import token_create
    from tests.test_api import client_with

    url = f"/api/v1/courses/{COURSE_KEY}/questions/"
    assert_problem(learner.client.get(url), 403)
    consumer = client_with(token_create(name="app", role="consumer")[1])
    assert_problem(consumer.get(url), 403)
    assert_problem(client_with(None).get(url), 401)
