"""Learner records both ways with Canvas (its simulator over real HTTP): people matched to
identities, grades from Live Events into the feed, Edu Vault's grades to Canvas once, policy
conflicts, lost, duplicated and reordered events, throttling and outages."""

from __future__ import annotations

import time

import pytest

from eduvault.identity.models import Identity, Person
from eduvault.identity.people import person_for_user
from eduvault.integrations.services import source_add
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.outbox.services import deliveries_replay
from eduvault.pipeline.records.links import object_link_set
from eduvault.pipeline.records.models import Enrollment, Record, RecordChange
from eduvault.pipeline.records.reconcile import source_records_reconcile
from eduvault.pipeline.records.services import record_local_change, record_settle
from eduvault.pipeline.sync.services import course_sync

pytestmark = pytest.mark.django_db(transaction=False)


def synced(school):
    course_sync(course_key=school.key, source=school.source, actor="test")
    return Course.objects.get(key=school.key)


def grade_record(school, student, assignment) -> Record:
    identity = Identity.objects.get(platform="canvas", realm="school", external_id=str(student.id))
    holder = f"p{identity.person_id}" if identity.person_id else f"i{identity.pk}"
    return Record.objects.get(kind="grade", key=f"{school.key}/assignment:{assignment.id}", holder=holder)


# -- structure, people, enrollments --------------------------------------------------------------


def test_a_canvas_course_is_synced_with_its_people_matched_by_the_rules(school):
    course = synced(school)
    assert course.platform == "canvas" and course.title == "Form 3 Mathematics"
    kinds = dict(course.nodes.values_list("external_id", "kind"))
    assert kinds[school.key] == "course" and list(kinds.values()).count("activity") == 3
    # Amina and Chisomo have Edu Vault accounts of the same login: linked by that rule.
    amina = Identity.objects.get(realm="school", login="amina")
    assert amina.state == "linked" and amina.matched_by == "login"
    assert amina.person.user.username == "amina"
    # Kondwani matches nobody, Tess neither: held for an operator, never guessed.
    held = Identity.objects.filter(realm="school", state="held")
    assert sorted(held.values_list("login", flat=True)) == ["kondwani", "tess"]
    assert {i.held_reason for i in held} == {"matches nobody"}
    enrolled = Enrollment.objects.filter(course=course)
    assert sorted((e.person.name, e.role, e.state) for e in enrolled) == [
        ("Amina Phiri", "learner", "active"),
        ("Chisomo Banda", "learner", "active"),
    ]
    # The held ones' enrollments are kept, as records of their identities.
    assert Record.objects.filter(kind="enrollment", holder__startswith="i").count() == 2
    assert FeedEntry.objects.filter(kind="enrollment").count() == 4


def test_linking_a_held_identity_brings_its_records_to_the_person(school):
    from eduvault.pipeline.records.people import identity_link

    synced(school)
    kondwani = Identity.objects.get(realm="school", login="kondwani")
    person = Person.objects.create(name="Kondwani Mwale", sis_id="S-102")
    identity_link(identity_id=kondwani.pk, person_id=person.pk, actor="ops")
    assert Enrollment.objects.get(person=person).role == "learner"
    assert not Record.objects.filter(holder=f"i{kondwani.pk}", merged_into=None).exists()


# -- Canvas to Edu Vault ---------------------------------------------------------------------------


def test_a_grade_changed_in_canvas_reaches_the_feed(school):
    synced(school)
    amina = school.students[0]
    school.sim.grade(school.course.id, school.quiz.id, amina.id, "7", grader_id=school.teacher.id)
    assert set(school.post_events()) == {202}
    school.drain()
    record = grade_record(school, amina, school.quiz)
    assert record.fields["score"] == 7 and record.fields["max"] == 10 and record.fields["grade"] == "7"
    assert record.home == "school" and record.replicas["school"]["links"]["assignment_id"] == str(
        school.quiz.id
    )
    entry = FeedEntry.objects.get(kind="grade", external_id=f"record:{record.pk}")
    assert (
        entry.priority == "critical"
        and entry.after["fields"]["score"] == 7
        and entry.after["from"] == "school"
    )
    audit = RecordChange.objects.filter(record=record, field="score").get()
    assert (audit.outcome, audit.after, audit.replica, audit.cursor) == ("applied", 7, "school", entry.cursor)
    # Canvas owns its assignments' grades: nothing is written back.
    assert not Delivery.objects.exists()


def test_duplicates_are_stored_once_and_an_old_event_never_overwrites_a_newer_one(school):
    synced(school)
    amina = school.students[0]
    school.sim.live_events.duplicate_next(1)
    school.sim.grade(school.course.id, school.quiz.id, amina.id, "5", grader_id=school.teacher.id)
    school.post_events()
    assert InboundEvent.objects.filter(type="canvas.grade_change").count() == 1
    school.sim.live_events.hold()
    school.sim.grade(school.course.id, school.quiz.id, amina.id, "6", grader_id=school.teacher.id)
    time.sleep(0.002)  # Canvas's event times are in milliseconds
    school.sim.grade(school.course.id, school.quiz.id, amina.id, "9", grader_id=school.teacher.id)
    school.sim.live_events.release(order="reverse")  # 9 arrives before 6
    school.drain()
    record = grade_record(school, amina, school.quiz)
    assert record.fields["score"] == 9 and record.conflicts == 0
    outcomes = list(
        RecordChange.objects.filter(record=record, field="score")
        .order_by("id")
        .values_list("value", "outcome")
    )
    assert outcomes == [(5, "applied"), (9, "applied"), (6, "stale")]
    assert FeedEntry.objects.filter(kind="grade", external_id=f"record:{record.pk}").count() == 2


def test_a_lost_live_event_is_repaired_by_the_reconcile(school):
    synced(school)
    chisomo = school.students[1]
    school.sim.live_events.drop_next(1)
    school.sim.grade(school.course.id, school.essay.id, chisomo.id, "85%", grader_id=school.teacher.id)
    school.drain()
    assert not Record.objects.filter(kind="grade", object=f"assignment:{school.essay.id}").exists()
    applied = source_records_reconcile(source=school.source)
    record = grade_record(school, chisomo, school.essay)
    assert record.fields["score"] == 17 and record.fields["grade"] == "85%"
    assert applied.applied >= 1
    again = source_records_reconcile(source=school.source)  # nothing new: duplicates, stored once
    assert again.applied == 0 and again.published == 0
    assert RecordChange.objects.filter(record=record, field="score").count() == 1


# -- Edu Vault to Canvas ---------------------------------------------------------------------------


def link_assessment(school, course):
    return object_link_set(
        source=school.source,
        course_id=str(school.course.id),
        assignment_id=str(school.quiz.id),
        home_course=course,
        home_object="assessment:1",
        actor="test",
    )


def test_a_grade_of_a_linked_assessment_reaches_canvas_once(school):
    course = synced(school)
    link_assessment(school, course)
    amina = person_for_user(user=school_user("amina"))
    applied = record_local_change(
        kind="grade", course=course, object="assessment:1", person=amina, fields={"score": 4, "max": 5}
    )
    assert applied.deliveries == 1
    assert school.deliver() == {"delivered": 1}
    # 4 of 5 is 8 of the quiz's 10 points.
    assert school.sim.submission(school.course.id, school.quiz.id, school.students[0].id).score == 8
    assert len(school.puts()) == 1
    # Canvas's own event about our write is an echo: acknowledged, not a change.
    school.drain()
    record = Record.objects.get(kind="grade", object="assessment:1")
    assert record.fields["score"] == 4 and record.conflicts == 0
    assert school.deliver() == {} and len(school.puts()) == 1
    # Sending again (an operator's replay) writes the same value: nothing new in Canvas.
    deliveries_replay(status="done")
    school.deliver()
    assert school.sim.submission(school.course.id, school.quiz.id, school.students[0].id).score == 8


def test_the_same_grade_changed_on_both_sides_at_once_ends_as_the_policy_says(school):
    course = synced(school)
    link_assessment(school, course)
    amina = person_for_user(user=school_user("amina"))
    record_local_change(
        kind="grade", course=course, object="assessment:1", person=amina, fields={"score": 4, "max": 5}
    )
    school.deliver()
    school.drain()
    # At once: a teacher types 6 into Canvas (its event delayed), and Edu Vault regrades to 5 of 5.
    school.sim.live_events.hold()
    school.sim.grade(
        school.course.id, school.quiz.id, school.students[0].id, "6", grader_id=school.teacher.id
    )
    record_local_change(
        kind="grade", course=course, object="assessment:1", person=amina, fields={"score": 5, "max": 5}
    )
    school.sim.live_events.release()
    school.drain()
    record = Record.objects.get(kind="grade", object="assessment:1")
    # Edu Vault owns its assessments' grades: its 5 of 5 wins; Canvas's 6 of 10 is kept as the loser.
    assert (record.fields["score"], record.fields["max"]) == (5, 5) and record.conflicts == 2  # score and max
    lost = RecordChange.objects.get(record=record, field="score", outcome="lost")
    assert (lost.value, lost.replica) == (6, "school")
    school.deliver()
    school.drain()
    assert school.sim.submission(school.course.id, school.quiz.id, school.students[0].id).score == 10
    # An operator takes Canvas's 6 of 10 after all (3 of 5): one click per field, and both sides follow.
    record_settle(record_id=record.pk, field_name="score", value=3, actor="ops")
    school.deliver()
    record.refresh_from_db()
    assert record.fields["score"] == 3 and record.conflicts == 1  # max: still Edu Vault's 5 over Canvas's 10
    record_settle(record_id=record.pk, field_name="max", value=5, actor="ops")
    record.refresh_from_db()
    assert record.conflicts == 0
    assert school.sim.submission(school.course.id, school.quiz.id, school.students[0].id).score == 6


def test_throttling_and_an_outage_delay_deliveries_and_nothing_is_written_twice(school, settings):
    settings.EDUVAULT_MAX_ATTEMPTS = 2
    settings.EDUVAULT_RETRY_BASE_SECONDS = 0
    course = synced(school)
    link_assessment(school, course)
    amina = person_for_user(user=school_user("amina"))
    record_local_change(
        kind="grade", course=course, object="assessment:1", person=amina, fields={"score": 3, "max": 5}
    )
    school.sim.rate_limit_next(1)
    assert school.deliver().get("retrying") == 1
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and "rate limit" in delivery.last_error.lower()
    Delivery.objects.update(next_attempt_at=delivery.created_at)  # its wait is over
    with school.sim.down():
        assert school.deliver().get("dead") == 1
    assert Delivery.objects.get().status == "dead"
    assert school.sim.submission(school.course.id, school.quiz.id, school.students[0].id).score is None
    deliveries_replay(status="dead")
    assert school.deliver() == {"delivered": 1}
    assert school.sim.submission(school.course.id, school.quiz.id, school.students[0].id).score == 6
    writes = [r for r in school.puts() if r.status == 200]
    assert len(writes) == 1


def school_user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


# -- hostile Live Events ---------------------------------------------------------------------------


def test_forged_unsigned_and_malformed_live_events_are_refused_and_nothing_is_stored(school, client):
    import jwt as pyjwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    synced(school)
    url = "/api/v1/webhooks/school"
    event = {"metadata": {"event_name": "grade_change", "event_time": "2026-11-30T10:00:00.000Z"}, "body": {}}
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = pyjwt.encode(event, other, algorithm="RS256", headers={"kid": school.sim.current_kid})
    response = client.post(url, data=forged, content_type="application/jwt")
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    assert "bad signature" in response.json()["detail"]
    response = client.post(url, data=event, content_type="application/json")
    assert response.status_code == 401 and "unsigned Live Events are refused" in response.json()["detail"]
    none = pyjwt.encode(event, None, algorithm="none")
    assert client.post(url, data=none, content_type="application/jwt").status_code == 401
    # A source whose operator allowed unsigned events still refuses malformed ones.
    source_add(platform="canvas", name="open", base_url=school.sim.base_url, token="t", allow_unsigned="true")
    for body in (b"{not json", b"[]", b'{"metadata": {}, "body": {}}', b'{"metadata": {"event_name": 1}}'):
        response = client.post("/api/v1/webhooks/open", data=body, content_type="application/json")
        assert response.status_code == 400, (body, response.json())
    assert not InboundEvent.objects.exists()


def test_taking_canvas_side_settles_score_and_maximum_together(school):
    from eduvault.pipeline.records.services import record_take

    course = synced(school)
    link_assessment(school, course)
    amina = person_for_user(user=school_user("amina"))
    record_local_change(
        kind="grade", course=course, object="assessment:1", person=amina, fields={"score": 4, "max": 5}
    )
    school.deliver()
    school.drain()
    school.sim.live_events.hold()
    school.sim.grade(
        school.course.id, school.quiz.id, school.students[0].id, "6", grader_id=school.teacher.id
    )
    record_local_change(
        kind="grade", course=course, object="assessment:1", person=amina, fields={"score": 5, "max": 5}
    )
    school.sim.live_events.release()
    school.drain()
    record = Record.objects.get(kind="grade", object="assessment:1")
    assert record.conflicts == 2
    record_take(record_id=record.pk, replica="school", actor="ops")
    record.refresh_from_db()
    assert (record.fields["score"], record.fields["max"], record.conflicts) == (6, 10, 0)
    school.deliver()
    assert school.sim.submission(school.course.id, school.quiz.id, school.students[0].id).score == 6


def test_undoing_a_merge_gives_the_records_back(school):
    from django.contrib.auth import get_user_model

    from eduvault.pipeline.records.enrollments import enrollment_add
    from eduvault.pipeline.records.people import identity_event_undo, people_merge

    course = synced(school)
    get_user_model().objects.create_user(username="amina2", password="x-" * 8)
    enrollment_add(course=course, username="amina2", actor="ops")  # the same learner, twice
    twin = person_for_user(user=school_user("amina2"))
    record_local_change(
        kind="grade", course=course, object="assessment:1", person=twin, fields={"score": 2, "max": 5}
    )
    amina = Identity.objects.get(realm="school", login="amina").person
    merge = people_merge(into_id=amina.pk, other_id=twin.pk, actor="ops")
    assert len(merge.details["records_combined"]) == 1 and len(merge.details["records_moved"]) == 1
    assert Record.objects.get(kind="grade", object="assessment:1").person == amina
    identity_event_undo(event_id=merge.pk, actor="ops")
    assert Record.objects.get(kind="grade", object="assessment:1").person == twin
    assert Record.objects.filter(holder=f"p{twin.pk}", kind="enrollment", merged_into=None).count() == 1
    assert Enrollment.objects.filter(person=twin, course=course).exists()
