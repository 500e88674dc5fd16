"""The console in a real browser (Debian's Chromium driven by Playwright) against a real
`eduvault serve` with its in-process worker: a source fails, is flagged, recovers; its dead
letter is replayed from the console; a course is rolled back from its page. And the
learner-records hub on a Canvas school: a held identity is linked, a grade's conflict is
overridden with one click, and Canvas follows."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connections
from django.utils import timezone

from eduvault.identity.models import Identity, Person
from eduvault.identity.services import user_create
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.sync.services import course_sync
from tests.pipeline.records import conftest as canvas_school
from tests.services import in_ci
from tests.stack import Stack

# The Canvas school fixtures of the records tests (the simulator, a school registered as a source).
canvas = canvas_school.canvas
school = canvas_school.school

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[3] / "test-output" / "console"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.once]


@pytest.fixture
def browser(monkeypatch):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        if in_ci():
            raise
        pytest.skip("playwright is not installed")
    if not os.path.exists(CHROMIUM):
        if in_ci():
            raise AssertionError(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing")
    # Playwright's sync API keeps an event loop in this thread; the test's own database
    # calls are synchronous all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
            # The database connection the test used while Playwright's loop ran is its own:
            # close it here, or the test database cannot be dropped at the end of the run.
            connections.close_all()


@pytest.fixture
def stack():
    running = Stack(
        "",  # no broker: `eduvault serve` drains the inbox in-process
        EDUVAULT_MAX_ATTEMPTS="2",
        EDUVAULT_RETRY_BASE_SECONDS="0.2",
        EDUVAULT_RETRY_MAX_SECONDS="0.5",
        EDUVAULT_COALESCE_SECONDS="0.1",
        EDUVAULT_SWEEP_SECONDS="0.3",
    )
    try:
        yield running
    finally:
        running.stop()


def wait_for(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def operator_create() -> None:
    operator = user_create(username="operator", role="admin", password=None)
    # The server checks passwords with the production hashers (the tests' settings use a fast one).
    operator.password = make_password("a long admin password", hasher="pbkdf2_sha256")
    operator.save(update_fields=["password"])


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/console/")
    assert "/console/login/" in page.url
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "a long admin password")
    page.click("text=Sign in")
    page.wait_for_url(f"{url}/console/")


def test_operator_sees_a_failing_source_replays_its_dead_letter_and_rolls_back(
    browser, stack, source, simulator, course
):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    operator_create()
    # Two versions of the course: the second renames a subtopic.
    course_sync(course_key=course.course_key, source=source)
    quadratics = course.usage_key("sequential", "quadratics")
    course.rename(quadratics, "Quadratic equations")
    course_sync(course_key=course.course_key, source=source)
    url = stack.serve()

    # The author renames a subtopic; the platform goes down; the event announcing the change
    # fails twice and becomes a dead letter.
    course.rename(course.usage_key("sequential", "circles"), "Circle geometry")
    simulator.set_down(True)
    now = timezone.now()
    event = InboundEvent.objects.create(
        source=source,
        event_id=str(uuid.uuid4()),
        type="org.openedx.content_authoring.course.published.v1",
        priority="high",
        subject="course",
        subject_key=course.course_key,
        payload={"course": {"course_key": course.course_key}},
        received_at=now,
        next_attempt_at=now,
    )
    wait_for(lambda: InboundEvent.objects.get(pk=event.pk).status == "dead", "the dead letter")

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, url)
    row = page.locator("#sources tr[data-source=lms]")
    assert row.locator(".state").inner_text() == "failing"
    page.screenshot(path=str(OUTPUT / "overview-failing.png"), full_page=True)

    # The platform is back: replay the dead letter from the console.
    simulator.set_down(False)
    row.locator("td").last.locator("a").click()
    page.click(f"#events a[href='/console/events/{event.pk}/']")
    assert page.locator("#status").inner_text() == "dead"
    page.click("#replay")
    page.wait_for_selector("#status:text('done')", timeout=30_000)  # the page refreshes itself
    page.click("#run-link")
    assert page.locator("#outcome").inner_text() == "applied"
    assert "Circle geometry" in page.locator("table.changes").inner_text()
    page.screenshot(path=str(OUTPUT / "run.png"), full_page=True)
    page.goto(f"{url}/console/")
    assert page.locator("#sources tr[data-source=lms] .state").inner_text() == "healthy"
    page.screenshot(path=str(OUTPUT / "overview-healthy.png"), full_page=True)

    # Roll the course back to version 1 from its page: the subtopic's old title returns.
    page.goto(f"{url}/console/courses/")
    page.click(f"text={course.course_key}")
    assert "Quadratic equations" in page.locator("#tree").inner_text()
    page.click("a.rollback >> nth=-1")
    assert "Quadratic equations" in page.content()  # the confirmation shows what will change
    page.click("#confirm-rollback")
    assert page.locator("#outcome").inner_text() == "applied"
    page.click(f"text={course.course_key}")
    tree = page.locator("#tree").inner_text()
    assert "Quadratics" in tree and "Quadratic equations" not in tree and "Circle geometry" not in tree
    page.screenshot(path=str(OUTPUT / "course-rolled-back.png"), full_page=True)


@pytest.fixture
def conflicted_school(school):
    """The school synced, Kondwani held with two candidates, and Amina's grade of an Edu Vault
    assessment in conflict. Built before the browser starts: Playwright's event loop in this
    thread would refuse the in-process webhook posts (Django's test client)."""
    from django.contrib.auth import get_user_model

    from eduvault.identity.people import person_for_user
    from eduvault.pipeline.content.models import Course
    from eduvault.pipeline.records.links import object_link_set
    from eduvault.pipeline.records.models import Record
    from eduvault.pipeline.records.services import record_local_change

    operator_create()
    # Two people Kondwani's SIS id could be: his Canvas account is held with both as candidates.
    kondwani = Person.objects.create(name="Kondwani Mwale", sis_id="S-102")
    Person.objects.create(name="K. Mwale (old SIS import)", sis_id="S-102")
    course_sync(course_key=school.key, source=school.source, actor="test")
    course = Course.objects.get(key=school.key)
    object_link_set(
        source=school.source,
        course_id=str(school.course.id),
        assignment_id=str(school.quiz.id),
        home_course=course,
        home_object="assessment:1",
        actor="test",
    )
    # Amina's grade of an Edu Vault assessment (Canvas's quiz stands for it) changes on both
    # sides at once: a teacher types 6 of 10 into Canvas as Edu Vault regrades her to 5 of 5.
    amina = person_for_user(user=get_user_model().objects.get(username="amina"))
    grade = {"kind": "grade", "course": course, "object": "assessment:1", "person": amina}
    record_local_change(**grade, fields={"score": 4, "max": 5})
    school.deliver()
    school.drain()
    school.sim.live_events.hold()
    school.sim.grade(
        school.course.id, school.quiz.id, school.students[0].id, "6", grader_id=school.teacher.id
    )
    record_local_change(**grade, fields={"score": 5, "max": 5})
    school.sim.live_events.release()
    school.drain()
    school.deliver()
    record = Record.objects.get(kind="grade", object="assessment:1")
    assert record.conflicts >= 1 and record.fields["score"] == 5
    return school, record, kondwani


def test_operator_links_a_held_identity_and_overrides_a_grade_conflict(conflicted_school, stack, browser):
    school, record, kondwani = conflicted_school
    OUTPUT.mkdir(parents=True, exist_ok=True)
    submission = school.sim.submission
    assert submission(school.course.id, school.quiz.id, school.students[0].id).score == 10
    url = stack.serve()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, url)
    assert page.locator("#open-conflicts").inner_text() == "1"
    assert page.locator("#held-identities").inner_text() == "2"
    page.locator("#records-summary").screenshot(path=str(OUTPUT / "overview-records.png"))

    # Held identities: Kondwani matched two people by SIS id; link him to the right one.
    page.click("header nav >> text=Held identities")
    identity = Identity.objects.get(realm="school", login="kondwani")
    row = page.locator(f"#held tr[data-identity='{identity.pk}']")
    assert "matches 2 people by sis id" in row.inner_text()
    page.screenshot(path=str(OUTPUT / "identities-held.png"), full_page=True)
    row.locator("select[name=person]").select_option(str(kondwani.pk))
    row.locator("button.link").click()
    page.wait_for_selector("#messages")
    assert "Linked kondwani on canvas:school to Kondwani Mwale" in page.locator("#messages").inner_text()
    assert page.locator(f"#held tr[data-identity='{identity.pk}']").count() == 0
    page.screenshot(path=str(OUTPUT / "identities-held-linked.png"), full_page=True)
    identity.refresh_from_db()
    assert identity.person_id == kondwani.pk and identity.matched_by == "operator"

    # His page: the Canvas identity, how it was matched, his enrollment, the audit.
    page.click("header nav >> text=People")
    page.fill("input[name=q]", "S-102")
    page.click("text=Search")
    page.click(f"#people a[href='/console/people/{kondwani.pk}/'] >> nth=1")
    identities = page.locator("#identities").inner_text()
    assert "kondwani" in identities and "operator" in identities
    assert school.key in page.locator("#enrollments").inner_text()
    assert "linked by an operator" in page.locator("#identity-events").inner_text()
    page.screenshot(path=str(OUTPUT / "person.png"), full_page=True)

    # Records with open conflicts: Amina's grade, where Canvas's value lost to Edu Vault's 5.
    page.click("header nav >> text=Records")
    assert "grade" in page.locator("#kinds-chart").get_attribute("aria-label")
    page.check("input[name=conflicts]")
    page.click("form.filters >> text=Filter")
    page.screenshot(path=str(OUTPUT / "records.png"), full_page=True)
    page.click(f"table.records a[href='/console/records/{record.pk}/']")
    conflict = page.locator("table.conflict[data-field=score]")
    assert "owned by Edu Vault" in conflict.inner_text()
    assert conflict.locator("button.winner").inner_text() == "Keep Edu Vault's 5"
    assert conflict.locator("button.loser").inner_text().startswith("Take Canvas's ")
    page.screenshot(path=str(OUTPUT / "record-conflict.png"), full_page=True)
    # Canvas is down as the operator takes its value (one click per conflicting field: the
    # score, and the maximum where Canvas's own scale is kept): the deliveries die.
    school.sim.set_down(True)
    while page.locator("table.conflict").count():
        field = page.locator("table.conflict").first.get_attribute("data-field")
        page.locator("table.conflict").first.locator("button.loser").click()
        page.wait_for_selector(f"#messages:has-text('Settled {field} to')")
    assert page.locator("#no-conflicts").count() == 1
    assert page.locator("#conflict-count").inner_text() == "0"
    assert page.locator("button.settle").count() == 0
    page.screenshot(path=str(OUTPUT / "record-settled.png"), full_page=True)
    record.refresh_from_db()
    assert record.conflicts == 0
    wait_for(
        lambda: (
            Delivery.objects.filter(target="school", status="dead").exists()
            and not Delivery.objects.filter(target="school", status__in=("pending", "sending")).exists()
        ),
        "the dead deliveries",
    )

    # Deliveries per platform target: Canvas's records channel has dead ones; Canvas is back;
    # replay the target's dead deliveries, and Canvas holds its own 6 of 10 again.
    school.sim.set_down(False)
    page.click("header nav >> text=Deliveries")
    target = page.locator("#targets tr[data-target=school][data-channel=records]")
    assert "Canvas" in target.inner_text()
    page.screenshot(path=str(OUTPUT / "deliveries-dead.png"), full_page=True)
    target.locator("button.replay-dead").click()
    assert "queued again" in page.locator("#replayed").inner_text()
    wait_for(
        lambda: submission(school.course.id, school.quiz.id, school.students[0].id).score == 6,
        "Canvas to hold the settled grade",
    )
    page.goto(f"{url}/console/deliveries/")
    assert target.locator("button.replay-dead").count() == 0
    page.screenshot(path=str(OUTPUT / "deliveries-replayed.png"), full_page=True)
    page.click("header nav >> text=Policies")
    assert "critical" in page.locator("#policies tr[data-kind=grade]").inner_text()
    page.screenshot(path=str(OUTPUT / "policies.png"), full_page=True)
