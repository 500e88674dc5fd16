"""The console in a real browser (Debian's Chromium driven by Playwright) against a real
`eduvault serve` with its in-process worker: a source fails, is flagged, recovers; its dead
letter is replayed from the console; a course is rolled back from its page."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connections
from django.utils import timezone

from eduvault.identity.services import user_create
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.sync.services import course_sync
from tests.services import in_ci
from tests.stack import Stack

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[3] / "test-output" / "console"

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_operator_sees_a_failing_source_replays_its_dead_letter_and_rolls_back(
    browser, stack, source, simulator, course
):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    operator = user_create(username="operator", role="admin", password=None)
    # The server checks passwords with the production hashers (the tests' settings use a fast one).
    operator.password = make_password("a long admin password", hasher="pbkdf2_sha256")
    operator.save(update_fields=["password"])
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
    page.goto(f"{url}/console/")
    assert "/console/login/" in page.url
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "a long admin password")
    page.click("text=Sign in")
    page.wait_for_url(f"{url}/console/")
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
