"""The learner-records API (``/api/v1/records``, ``people``, ``identities``,
``identity-events``, ``enrollments``, ``policies``, and an assessment's links), over a Canvas
school on the simulator: listing and filtering, who sees what, and the operator's actions."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from eduvault.identity.models import Identity, IdentityEvent, Person
from eduvault.identity.people import person_for_user
from eduvault.identity.services import access_token_issue, person_of, token_create
from eduvault.learning.assessments.models import Assessment
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.records.links import object_link_set
from eduvault.pipeline.records.models import Enrollment, ObjectLink, Record
from eduvault.pipeline.records.services import record_local_change
from eduvault.pipeline.sync.services import course_sync

pytestmark = pytest.mark.django_db(transaction=False)

PROBLEM = "application/problem+json"


def client_for(credential: str | None = None) -> APIClient:
    client = APIClient()
    if credential:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    return client


def consumer(name: str, **scopes) -> APIClient:
    return client_for(token_create(name=name, role="consumer", **scopes)[1])


def signed_in(username: str) -> APIClient:
    user = get_user_model().objects.get(username=username)
    return client_for(access_token_issue(person=person_of(user)))


def assert_problem(response, status: int, detail: str = "") -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and detail in body["detail"], body
    return body


def synced(school) -> Course:
    course_sync(course_key=school.key, source=school.source, actor="test")
    return Course.objects.get(key=school.key)


def person_of_login(login: str) -> Person:
    return person_for_user(user=get_user_model().objects.get(username=login))


def held(school, login: str) -> Identity:
    return Identity.objects.get(realm="school", login=login)


@pytest.fixture
def graded(school):
    """The school synced, with Amina's quiz and Chisomo's essay graded in Canvas."""
    course = synced(school)
    amina, chisomo = school.students[0], school.students[1]
    school.sim.grade(school.course.id, school.quiz.id, amina.id, "7", grader_id=school.teacher.id)
    school.sim.grade(school.course.id, school.essay.id, chisomo.id, "85%", grader_id=school.teacher.id)
    school.drain()
    return course


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:500]
    return {r["id"] for r in response.json()["results"]}


# -- records: listing, filters, detail -----------------------------------------------------------


def test_records_are_listed_filtered_and_shown_with_their_history(graded, school, api):
    body = api.get("/api/v1/records").json()
    assert body["count"] == Record.objects.filter(merged_into=None).count() > 0
    grades = [
        r
        for r in api.get("/api/v1/records", {"kind": "grade"}).json()["results"]
        if r["object"].startswith("assignment:")
    ]
    assert sorted(r["fields"]["score"] for r in grades) == [7, 17]
    assert {r["kind"] for r in grades} == {"grade"} and {r["course"] for r in grades} == {school.key}
    amina = person_of_login("amina")
    mine = api.get("/api/v1/records", {"person": amina.pk}).json()["results"]
    assert {r["person"] for r in mine} == {amina.pk} and {r["kind"] for r in mine} >= {"grade", "enrollment"}
    assert api.get("/api/v1/records", {"course": "nowhere"}).json()["count"] == 0
    assert api.get("/api/v1/records", {"conflicts": "true"}).json()["count"] == 0
    held_ones = api.get("/api/v1/records", {"held": "true"}).json()["results"]
    assert held_ones and all(r["person"] is None and r["held_identity"] for r in held_ones)
    page = api.get("/api/v1/records", {"limit": 1, "offset": 1}).json()
    assert len(page["results"]) == 1 and page["previous"] is not None

    quiz = next(r for r in grades if r["fields"]["score"] == 7)
    detail = api.get(f"/api/v1/records/{quiz['id']}").json()
    assert detail["person"] == amina.pk and detail["person_name"] == "Amina Phiri"
    assert detail["open_conflicts"] == []
    assert {(c["field"], c["after"], c["outcome"]) for c in detail["history"]} >= {("score", 7, "applied")}

    assert_problem(api.get("/api/v1/records", {"kind": "homework"}), 400, "kind must be one of")
    assert_problem(api.get("/api/v1/records", {"person": "amina"}), 400, "person must be a whole number")
    assert_problem(api.get("/api/v1/records", {"conflicts": "yes"}), 400, "conflicts must be one of")
    assert_problem(api.get("/api/v1/records/999999"), 404, "no learner record 999999")


def test_who_may_read_which_records(graded, school):
    everything = Record.objects.filter(merged_into=None)
    anyone = client_for()
    assert_problem(anyone.get("/api/v1/records"), 401)
    assert_problem(anyone.get(f"/api/v1/records/{everything.first().pk}"), 401)

    # A consumer token sees every record, or only those within its courses and kinds.
    assert ids(consumer("all").get("/api/v1/records")) == set(everything.values_list("pk", flat=True))
    assert ids(consumer("elsewhere", courses=["other:1"]).get("/api/v1/records")) == set()
    grades_only = consumer("grades", courses=[school.key], kinds=["grade"])
    grade_ids = set(everything.filter(kind="grade").values_list("pk", flat=True))
    assert ids(grades_only.get("/api/v1/records")) == grade_ids
    assert ids(grades_only.get("/api/v1/records", {"kind": "enrollment"})) == set()
    enrollment = everything.filter(kind="enrollment").first()
    assert_problem(grades_only.get(f"/api/v1/records/{enrollment.pk}"), 404, "no learner record")
    assert grades_only.get(f"/api/v1/records/{min(grade_ids)}").status_code == 200

    # A learner sees their own records only, whatever they ask for.
    amina, chisomo = person_of_login("amina"), person_of_login("chisomo")
    learner = signed_in("amina")
    own = set(everything.filter(person=amina).values_list("pk", flat=True))
    assert own and ids(learner.get("/api/v1/records")) == own
    assert ids(learner.get("/api/v1/records", {"person": chisomo.pk})) == set()
    theirs = everything.filter(person=chisomo).first()
    assert_problem(learner.get(f"/api/v1/records/{theirs.pk}"), 404)
    assert learner.get(f"/api/v1/records/{min(own)}").json()["person"] == amina.pk

    # Nobody but an admin settles, or sees people, identities, enrollments and policies.
    for client in (grades_only, learner):
        assert_problem(
            client.post(f"/api/v1/records/{min(own)}/settle", {"field": "score", "value": 1}, format="json"),
            403,
        )
        for path in (
            "/api/v1/people",
            "/api/v1/identities",
            "/api/v1/identity-events",
            "/api/v1/enrollments",
            "/api/v1/policies",
        ):
            assert_problem(client.get(path), 403)


# -- settling a field ---------------------------------------------------------------------------


def test_settling_a_field_changes_it_everywhere_and_bad_requests_change_nothing(school, api):
    course = synced(school)
    object_link_set(
        source=school.source,
        course_id=str(school.course.id),
        assignment_id=str(school.quiz.id),
        home_course=course,
        home_object="assessment:1",
        actor="test",
    )
    amina = person_of_login("amina")
    record_local_change(
        kind="grade", course=course, object="assessment:1", person=amina, fields={"score": 4, "max": 5}
    )
    school.deliver()
    record = Record.objects.get(kind="grade", object="assessment:1")
    deliveries = Delivery.objects.count()

    response = api.post(f"/api/v1/records/{record.pk}/settle", {"field": "score", "value": 3}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["fields"]["score"] == 3 and body["deliveries"] == 1 and body["id"] == record.pk
    assert body["history"][0]["field"] == "score" and body["history"][0]["actor"] == "token:admin"
    assert Delivery.objects.count() == deliveries + 1
    school.deliver()
    assert school.sim.submission(school.course.id, school.quiz.id, school.students[0].id).score == 6

    record.refresh_from_db()
    version, deliveries = record.version, Delivery.objects.count()
    url = f"/api/v1/records/{record.pk}/settle"
    assert_problem(
        api.post(url, {"field": "colour", "value": 1}, format="json"), 400, "has no field 'colour'"
    )
    assert_problem(
        api.post(url, {"field": "score", "value": [1]}, format="json"), 400, "value: a number, text"
    )
    assert_problem(api.post(url, {"field": "score", "value": {"a": 1}}, format="json"), 400, "value:")
    assert_problem(
        api.post(url, {"field": "score", "value": "x" * 1001}, format="json"), 400, "1000 characters"
    )
    assert_problem(
        api.post(url, {"field": "score", "value": 2**60}, format="json"), 400, "whole number between"
    )
    assert_problem(api.post(url, {"field": "score"}, format="json"), 400, "value: This field is required")
    assert_problem(api.post(url, {"value": 1}, format="json"), 400, "field: This field is required")
    assert_problem(api.post(url, [1, 2], format="json"), 400)
    assert_problem(
        api.post("/api/v1/records/999999/settle", {"field": "score", "value": 1}, format="json"), 404
    )
    enrollment = Record.objects.filter(kind="enrollment", person=amina).first()
    assert_problem(
        api.post(f"/api/v1/records/{enrollment.pk}/settle", {"field": "role", "value": "ta"}, format="json"),
        400,
        "cannot be settled",
    )
    assert_problem(
        api.post(
            f"/api/v1/records/{enrollment.pk}/settle", {"field": "state", "value": "gone"}, format="json"
        ),
        400,
        "state is one of",
    )
    record.refresh_from_db()
    assert record.version == version and record.fields["score"] == 3
    assert Delivery.objects.count() == deliveries


# -- people and identities ------------------------------------------------------------------------


def test_linking_and_unlinking_an_identity_moves_its_held_records(graded, school, api):
    kondwani = held(school, "kondwani")
    listed = api.get("/api/v1/identities", {"state": "held", "source": "school"}).json()["results"]
    assert {i["login"] for i in listed} == {"kondwani", "tess"}
    assert next(i for i in listed if i["login"] == "kondwani")["held_records"] >= 1
    assert api.get("/api/v1/identities", {"platform": "canvas", "state": "linked"}).json()["count"] == 2
    assert_problem(api.get("/api/v1/identities", {"state": "lost"}), 400, "state must be one of")

    person = Person.objects.create(name="Kondwani Mwale", sis_id="S-102")
    response = api.post(f"/api/v1/identities/{kondwani.pk}/link", {"person": person.pk}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["identity"]["state"] == "linked" and body["identity"]["person"] == person.pk
    assert body["event"]["action"] == "link" and body["event"]["actor"] == "token:admin"
    assert not Record.objects.filter(holder=f"i{kondwani.pk}", merged_into=None).exists()
    assert Enrollment.objects.get(person=person).role == "learner"
    assert api.get("/api/v1/records", {"person": person.pk}).json()["count"] >= 1
    assert_problem(
        api.post(f"/api/v1/identities/{kondwani.pk}/link", {"person": person.pk}, format="json"),
        409,
        "already linked",
    )

    response = api.post(f"/api/v1/identities/{kondwani.pk}/unlink")
    assert response.status_code == 200 and response.json()["identity"]["state"] == "held"
    assert_problem(api.post(f"/api/v1/identities/{kondwani.pk}/unlink"), 409, "not linked")
    history = api.get("/api/v1/identity-events", {"person": person.pk}).json()["results"]
    assert [e["action"] for e in history[:2]] == ["unlink", "link"]

    # Undoing the unlink links it again.
    unlink = history[0]["id"]
    response = api.post(f"/api/v1/identity-events/{unlink}/undo")
    assert response.status_code == 200 and response.json()["undone"] == unlink
    kondwani.refresh_from_db()
    assert kondwani.person_id == person.pk and kondwani.state == "linked"
    assert_problem(api.post(f"/api/v1/identity-events/{unlink}/undo"), 409, "undone already")

    for body, status, detail in (
        ({"person": 999999}, 404, "no person 999999"),
        ({"person": "someone"}, 400, "person: A valid integer is required"),
        ({}, 400, "person: This field is required"),
        ({"person": 0}, 400, "person:"),
    ):
        assert_problem(
            api.post(f"/api/v1/identities/{held(school, 'tess').pk}/link", body, format="json"),
            status,
            detail,
        )
    assert_problem(
        api.post("/api/v1/identities/999999/link", {"person": person.pk}, format="json"), 404, "no identity"
    )
    assert_problem(api.post("/api/v1/identity-events/999999/undo"), 404, "no identity event")
    assert held(school, "tess").state == "held"


def test_a_held_identity_becomes_somebody_new(graded, school, api):
    tess = held(school, "tess")
    response = api.post(f"/api/v1/identities/{tess.pk}/new-person")
    assert response.status_code == 201, response.json()
    person_id = response.json()["identity"]["person"]
    assert Person.objects.get(pk=person_id).name == "Tess Banda"
    assert not Record.objects.filter(holder=f"i{tess.pk}", merged_into=None).exists()
    assert_problem(api.post(f"/api/v1/identities/{tess.pk}/new-person"), 409, "already linked")


def test_people_are_listed_shown_merged_and_the_merge_undone(graded, school, api):
    amina = person_of_login("amina")
    found = api.get("/api/v1/people", {"search": "amina"}).json()["results"]
    assert [p["id"] for p in found] == [amina.pk]
    assert {i["platform"] for i in found[0]["identities"]} == {"canvas", "eduvault"}
    assert api.get("/api/v1/people", {"search": "phiri"}).json()["results"][0]["id"] == amina.pk
    assert_problem(api.get("/api/v1/people", {"search": "x" * 201}), 400, "at most 200")
    detail = api.get(f"/api/v1/people/{amina.pk}").json()
    assert detail["username"] == "amina" and detail["records"] >= 2
    assert [(e["course"], e["role"], e["state"]) for e in detail["enrollments"]] == [
        (school.key, "learner", "active")
    ]
    assert {e["action"] for e in detail["history"]} >= {"link"}
    assert_problem(api.get("/api/v1/people/999999"), 404, "no person 999999")

    # Kondwani turns out to be someone new, then the same person as Chisomo's duplicate.
    kondwani = held(school, "kondwani")
    other_id = api.post(f"/api/v1/identities/{kondwani.pk}/new-person").json()["identity"]["person"]
    kondwani_records = Record.objects.filter(person_id=other_id, merged_into=None).count()
    assert kondwani_records >= 1
    response = api.post("/api/v1/people/merge", {"into": amina.pk, "other": other_id}, format="json")
    assert_problem(response, 409, "both have an identity on the same platform")
    carl = Person.objects.create(name="Kondwani M.")
    response = api.post("/api/v1/people/merge", {"into": carl.pk, "other": other_id}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["event"]["action"] == "merge" and body["person"]["id"] == carl.pk
    assert [i["id"] for i in body["person"]["identities"]] == [kondwani.pk]
    assert Record.objects.filter(person=carl, merged_into=None).count() == kondwani_records
    assert api.get(f"/api/v1/people/{other_id}").json()["merged_into"] == carl.pk
    assert other_id not in {p["id"] for p in api.get("/api/v1/people").json()["results"]}

    response = api.post(f"/api/v1/identity-events/{body['event']['id']}/undo")
    assert response.status_code == 200 and response.json()["event"]["action"] == "unmerge"
    kondwani.refresh_from_db()
    assert kondwani.person_id == other_id
    assert Person.objects.get(pk=other_id).merged_into_id is None

    for payload, status, detail in (
        ({"into": amina.pk, "other": amina.pk}, 400, "cannot be merged into themselves"),
        ({"into": amina.pk, "other": 999999}, 404, "no person 999999"),
        ({"into": amina.pk}, 400, "other: This field is required"),
        ({"into": "a", "other": 2}, 400, "into: A valid integer is required"),
    ):
        assert_problem(api.post("/api/v1/people/merge", payload, format="json"), status, detail)
    assert IdentityEvent.objects.filter(action="merge").count() == 1


# -- enrollments and policies ---------------------------------------------------------------------


def test_enrollments_are_added_listed_and_removed(school, api):
    synced(school)
    url = "/api/v1/enrollments"
    listed = api.get(url, {"course": school.key}).json()["results"]
    assert sorted((e["person_name"], e["role"], e["state"]) for e in listed) == [
        ("Amina Phiri", "learner", "active"),
        ("Chisomo Banda", "learner", "active"),
    ]
    response = api.post(url, {"course": school.key, "username": "amina", "role": "ta"}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["role"], response.json()["state"], response.json()["course"]) == (
        "ta",
        "active",
        school.key,
    )
    amina = person_of_login("amina")
    assert api.get(url, {"person": amina.pk}).json()["count"] == 2

    response = api.delete(url, {"course": school.key, "username": "amina", "role": "ta"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "deleted"
    response = api.delete(f"{url}?course={school.key}&username=chisomo")
    assert response.status_code == 200 and response.json()["role"] == "learner"
    assert {e["person_name"] for e in api.get(url, {"state": "deleted"}).json()["results"]} == {
        "Amina Phiri",
        "Chisomo Banda",
    }
    assert api.get(url, {"state": "active"}).json()["count"] == 1
    assert_problem(api.delete(f"{url}?course={school.key}&username=chisomo"), 404, "not enrolled")

    before = Enrollment.objects.count()
    for payload, status, detail in (
        ({"course": "nowhere", "username": "amina"}, 404, "no course with key 'nowhere'"),
        ({"course": school.key, "username": "nobody"}, 404, "no Edu Vault account 'nobody'"),
        ({"course": school.key, "username": "amina", "role": "dean"}, 400, "role:"),
        ({"course": school.key}, 400, "username: This field is required"),
        ({"course": "x" * 256, "username": "amina"}, 400, "course:"),
    ):
        assert_problem(api.post(url, payload, format="json"), status, detail)
    assert_problem(api.delete(url), 400, "course: This field is required")
    assert_problem(api.get(url, {"state": "gone"}), 400, "state must be one of")
    assert Enrollment.objects.count() == before


def test_the_policies(db, api):
    body = api.get("/api/v1/policies").json()
    assert {"file", "match", "classes", "kinds", "text"} <= set(body)
    assert "grade" in {k["kind"] for k in body["kinds"]}
    assert_problem(client_for().get("/api/v1/policies"), 401)


# -- an assessment's links to a platform's assignments ---------------------------------------------


def test_an_assessment_is_linked_to_a_canvas_assignment_and_unlinked(school, api):
    course = synced(school)
    exam = Assessment.objects.create(
        course=course, kind="exam", title="Quadratics exam", subtopics=["algebra"]
    )
    url = f"/api/v1/assessments/{exam.pk}/links"
    assert api.get(url).json() == {"results": []}
    response = api.post(
        url,
        {"source": "school", "course": str(school.course.id), "assignment": str(school.quiz.id)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["source"] == "school" and body["key"] == f"{school.key}/assessment:{exam.pk}"
    assert (
        body["alias"] == f"{school.key}/assignment:{school.quiz.id}"
        and body["links"]["points_possible"] == 10
    )
    link = ObjectLink.objects.get()
    assert (link.replica, link.object, link.created_by) == ("school", f"assessment:{exam.pk}", "token:admin")
    assert [r["source"] for r in api.get(url).json()["results"]] == ["school"]

    assert_problem(
        api.post(
            "/api/v1/assessments/999999/links",
            {"source": "school", "course": "1", "assignment": "1"},
            format="json",
        ),
        404,
        "no assessment 999999",
    )
    assert_problem(
        api.post(url, {"source": "nowhere", "course": "1", "assignment": "1"}, format="json"), 404, "nowhere"
    )
    assert_problem(
        api.post(url, {"source": "school", "course": "1", "assignment": "essay"}, format="json"),
        400,
        "assignment:<id>",
    )
    assert_problem(api.post(url, {"source": "school"}, format="json"), 400, "course: This field is required")
    assert_problem(api.get("/api/v1/assessments/999999/links"), 404, "no assessment 999999")
    assert_problem(signed_in("amina").get(url), 403)
    assert ObjectLink.objects.count() == 1

    assert api.delete(f"{url}/school").status_code == 204
    assert not ObjectLink.objects.exists()
    assert_problem(api.delete(f"{url}/school"), 404, "not linked")
    assert_problem(api.delete(f"{url}/nowhere"), 404, "nowhere")
