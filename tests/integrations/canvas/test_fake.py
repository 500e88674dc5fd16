"""The Canvas integration's own code (structure, enrollments, grade writes) against the
in-memory Canvas: no HTTP, every call recorded."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from eduvault.identity.people import person_for_user
from eduvault.integrations.canvas.fake import FakeCanvas
from eduvault.integrations.services import source_add
from eduvault.kernel.errors import SourceUnavailable
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.outbox.services import deliveries_run
from eduvault.pipeline.records.links import object_link_set
from eduvault.pipeline.records.models import Enrollment
from eduvault.pipeline.records.services import record_local_change
from eduvault.pipeline.sync.services import course_sync

pytestmark = pytest.mark.django_db


def school() -> FakeCanvas:
    users = [
        {"id": 11, "name": "Amina Phiri", "login_id": "amina", "sis_user_id": "S-1"},
        {"id": 12, "name": "Chisomo Banda", "login_id": "chisomo", "sis_user_id": "S-2"},
        {"id": 13, "name": "Kondwani Mwale", "login_id": "kondwani"},
    ]
    return FakeCanvas(
        courses={"5": {"id": 5, "name": "Form 3 Mathematics", "course_code": "MATH-F3"}},
        modules={
            "5": [
                {
                    "id": 50,
                    "name": "Algebra",
                    "position": 1,
                    "items": [
                        {
                            "id": 500,
                            "module_id": 50,
                            "position": 1,
                            "title": "Week 1",
                            "type": "SubHeader",
                            "indent": 0,
                        },
                        {
                            "id": 501,
                            "module_id": 50,
                            "position": 2,
                            "title": "Quiz",
                            "type": "Assignment",
                            "content_id": 7,
                            "indent": 1,
                        },
                    ],
                }
            ]
        },
        assignments={"5": [{"id": 7, "name": "Quiz", "points_possible": 10, "grading_type": "points"}]},
        enrollments={
            "5": [
                {
                    "id": 90 + u["id"],
                    "user_id": u["id"],
                    "type": "StudentEnrollment",
                    "enrollment_state": "active",
                }
                for u in users
            ]
        },
        users={"5": users},
    )


@pytest.fixture
def canvas():
    fake = school()
    with fake.installed():
        source = source_add(platform="canvas", name="school", base_url="http://canvas.test", token="t")
        for login in ("amina", "chisomo"):
            get_user_model().objects.create_user(username=login, password="x-" * 8)
        yield fake, source


def test_a_sync_brings_the_structure_and_the_enrollments(canvas):
    fake, source = canvas
    assert source.settings["api_user_id"] == "1"  # learned from /users/self when the source was added
    run = course_sync(course_key="school:5", source=source)
    assert run.outcome == "applied" and run.course.node_count == 4
    assert sorted(Enrollment.objects.values_list("person__name", flat=True)) == [
        "Amina Phiri",
        "Chisomo Banda",
    ]
    assert [c[0] for c in fake.calls] == [
        "self_user",
        "course",
        "modules",
        "assignments",
        "enrollments",
        "users",
    ]
    fake.failures.append(SourceUnavailable("the fake is down"))
    with pytest.raises(SourceUnavailable):
        course_sync(course_key="school:5", source=source)


def test_grades_of_one_course_go_in_one_bulk_request_and_one_alone_in_a_put(canvas):
    fake, source = canvas
    course = course_sync(course_key="school:5", source=source).course
    object_link_set(
        source=source,
        course_id="5",
        assignment_id="7",
        home_course=course,
        home_object="assessment:1",
        actor="t",
    )
    people = {u: person_for_user(user=get_user_model().objects.get(username=u)) for u in ("amina", "chisomo")}
    for person in people.values():
        record_local_change(
            kind="grade", course=course, object="assessment:1", person=person, fields={"score": 3, "max": 4}
        )
    assert deliveries_run(owner="t") == {"delivered": 2}
    assert fake.writes() == [("update_grades", ("5", ((("7", "11"), "7.5"), (("7", "12"), "7.5"))))]
    record_local_change(
        kind="grade", course=course, object="assessment:1", person=people["amina"], fields={"score": 4}
    )
    assert deliveries_run(owner="t") == {"delivered": 1}
    assert fake.writes()[-1] == ("put_grade", ("5", "7", "11", "10"))
    assert fake.submissions[("5", "7", "11")]["score"] == 10
    assert set(Delivery.objects.values_list("status", flat=True)) == {"done"}
