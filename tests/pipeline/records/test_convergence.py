"""The records hub's contract, through the database: any interleaving of one record's updates
from Canvas and from Edu Vault, delivered in any order with duplicates, ends the same on every
side (Edu Vault's record, and Canvas's gradebook after the writes it is owed)."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduvault.identity.models import Identity
from eduvault.identity.people import person_for_user
from eduvault.integrations.base import PersonFacts, RecordFacts
from eduvault.integrations.canvas.fake import FakeCanvas
from eduvault.integrations.services import source_add
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.outbox.services import deliveries_run
from eduvault.pipeline.records.links import object_link_set
from eduvault.pipeline.records.models import Record
from eduvault.pipeline.records.services import record_local_change, records_ingest

pytestmark = pytest.mark.django_db

#: Each example grades a new assignment, so examples do not see each other's records.
assignments = itertools.count(1000)

update = st.one_of(
    st.tuples(st.just("canvas"), st.integers(0, 10)),  # a teacher types a score into Canvas
    st.tuples(st.just("eduvault"), st.integers(0, 5)),  # Edu Vault grades an attempt (of 5)
)


@pytest.fixture
def world(db):
    fake = FakeCanvas(courses={"5": {"id": 5, "name": "Mathematics"}}, me={"id": 1})
    with fake.installed():  # the source learns that its token acts as Canvas user 1
        source = source_add(platform="canvas", name="school", base_url="http://canvas.test", token="t")
    course = Course.objects.create(key="school:5", source=source, platform="canvas", title="Mathematics")
    person = person_for_user(user=get_user_model().objects.create_user(username="amina", password="x-" * 8))
    Identity.objects.create(
        platform="canvas", realm="school", external_id="11", login="amina", person=person, state="linked"
    )
    return fake, source, course, person


def canvas_fact(assignment: int, score: int, at: float, *, echo: bool = False) -> RecordFacts:
    return RecordFacts(
        kind="grade",
        course_key="school:5",
        object=f"assignment:{assignment}",
        person=PersonFacts(external_id="11", login="amina"),
        fields={"score": score, "max": 10},
        at=at,
        links={"course_id": "5", "assignment_id": str(assignment), "points_possible": 10},
        actor="canvas user 2" if not echo else "canvas user 1",
        echo=echo,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    updates=st.lists(update, min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
    repeats=st.integers(0, 3),
)
def test_any_interleaving_converges_on_every_side(world, updates, order, repeats):
    fake, source, course, person = world
    assignment = next(assignments)
    fake.assignments["5"] = [
        {"id": assignment, "name": "Quiz", "points_possible": 10, "grading_type": "points"}
    ]
    with fake.installed():
        object_link_set(
            source=source,
            course_id="5",
            assignment_id=str(assignment),
            home_course=course,
            home_object=f"assessment:{assignment}",
            actor="test",
        )
        # Canvas's reports are written as they happen, but reach Edu Vault in any order, some twice.
        reports, clock = [], 1_800_000_000.0
        for who, score in updates:
            clock += 1.0
            if who == "eduvault":
                record_local_change(
                    kind="grade",
                    course=course,
                    object=f"assessment:{assignment}",
                    person=person,
                    fields={"score": score, "max": 5},
                    at=clock,
                )
            else:
                reports.append(canvas_fact(assignment, score, clock))
        arriving = reports + [order.choice(reports) for _ in range(repeats)] if reports else []
        order.shuffle(arriving)
        for fact in arriving:
            records_ingest(source=source, facts=[fact])
        # Edu Vault writes what it owes Canvas; Canvas's report of that write is an echo.
        for _ in range(3):
            if not deliveries_run(owner="test"):
                break
            submission = fake.submissions.get(("5", str(assignment), "11"))
            if submission is not None:
                echo = canvas_fact(assignment, submission["score"], clock + 5, echo=True)
                records_ingest(source=source, facts=[echo])
    record = Record.objects.get(kind="grade", key=f"school:5/assessment:{assignment}", holder=f"p{person.pk}")
    hub = record.fields["score"] / record.fields["max"]
    submission = fake.submissions.get(("5", str(assignment), "11"))
    latest_report = reports[-1].fields["score"] / 10 if reports else None
    # Every side holds the same value: Canvas was written Edu Vault's value, or had it already.
    canvas_holds = submission["score"] / 10 if submission else latest_report
    assert canvas_holds == pytest.approx(hub)
    if all(who == "canvas" for who, _ in updates):
        # Only Canvas spoke: its latest report stands, whatever order the reports came in.
        assert hub == pytest.approx(latest_report)
        assert submission is None  # and nothing was written back to Canvas
    elif updates[-1][0] == "eduvault":
        # Edu Vault graded last, having seen everything before: its grade stands everywhere.
        assert hub == pytest.approx(updates[-1][1] / 5)
    # A repeat is stored once: one audit row per field per distinct report at most.
    audit = list(record.changes.filter(replica="school", field="score").values_list("value", "outcome"))
    assert len(audit) <= len(reports), (updates, [f.fields["score"] for f in arriving], audit)
