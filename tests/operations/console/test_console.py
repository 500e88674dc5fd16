"""The console through Django's test client: who may see it, that every page renders what a
source sent as text (never markup), and that its actions do what they say."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from eduvault.identity.services import access_token_issue, person_of, token_create, user_create
from eduvault.kernel.errors import SourceRejected, SourceUnavailable
from eduvault.operations.monitoring.selectors import source_health_list
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.services import course_sync, course_sync_blocks
from tests.conftest import COURSE_KEY, small_course

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('owned')</script>"


def staff_client() -> Client:
    user = user_create(username="operator", role="admin", password="a long admin password")
    client = Client()
    client.force_login(user)
    return client


def synced_twice(title: str = "Test Mathematics") -> None:
    course = small_course()
    course.rename(course.root, title)
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    course.rename(course.usage_key("chapter", "algebra"), f"Algebra {SCRIPT}")
    course.move(course.usage_key("sequential", "circles"), course.usage_key("chapter", "algebra"))
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())


def page_urls() -> list[str]:
    run = SyncRun.objects.order_by("-id").first()
    event = InboundEvent.objects.order_by("-id").first()
    key = COURSE_KEY.replace("+", "%2B")
    urls = [
        "/console/",
        "/console/runs/",
        f"/console/runs/?course={key}&outcome=applied",
        "/console/courses/",
        f"/console/courses/{COURSE_KEY}/",
        f"/console/courses/{COURSE_KEY}/diff?from=1&to=2",
        f"/console/courses/{COURSE_KEY}/rollback?to=1",
        "/console/events/?status=any",
        "/console/audit/",
        f"/console/audit/?op=update&course={key}",
        "/console/subscriptions/",
        "/console/search?q=algebra",
        f"/console/search?q=algebra+or+circles&type=content&course={key}",
        "/console/search?q=" + "x" * 201,
    ]
    if run is not None:
        urls.append(f"/console/runs/{run.pk}/")
    if event is not None:
        urls.append(f"/console/events/{event.pk}/")
    return urls


def test_every_page_renders_for_staff():
    synced_twice()
    client = staff_client()
    for url in page_urls():
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:500])


def test_a_title_with_a_script_tag_shows_as_text_everywhere(source, simulator):
    synced_twice(title=f"Maths {SCRIPT}")
    # An event whose payload and error carry markup too.
    from django.utils import timezone

    InboundEvent.objects.create(
        source=source,
        event_id=f"evt-{SCRIPT}",
        type=f"org.openedx.{SCRIPT}",
        priority="high",
        subject="course",
        subject_key=COURSE_KEY,
        payload={"title": SCRIPT},
        received_at=timezone.now(),
        next_attempt_at=timezone.now(),
        status="dead",
        last_error=f"source said {SCRIPT}",
        last_error_code="SourceUnavailable",
    )
    client = staff_client()
    seen = 0
    for url in page_urls():
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        seen += "&lt;script&gt;alert(" in body
    assert seen >= 8  # the title was on most pages, escaped


@pytest.mark.parametrize("method", ["get", "post"])
def test_learners_consumers_and_anonymous_callers_never_reach_the_console(method):
    synced_twice()
    learner = user_create(username="amina", role="learner", password="a long learner password")
    instructor = user_create(username="mr-banda", role="instructor", password="a long teacher password")
    jwt = access_token_issue(person=person_of(learner))
    consumer = token_create(name="lms-consumer", role="consumer")[1]
    admin_token = token_create(name="ops", role="admin")[1]
    event = InboundEvent.objects.first()
    actions = [
        f"/console/courses/{COURSE_KEY}/rollback",
        "/console/events/replay",
        "/console/subscriptions/1/enable",
    ]
    if event is not None:
        actions.append(f"/console/events/{event.pk}/replay")
    urls = page_urls() if method == "get" else actions
    signed_in = []
    for user in (learner, instructor):
        client = Client()
        client.force_login(user)
        signed_in.append(client)
    version_before = SyncRun.objects.count()
    for url in urls:
        for client in signed_in:
            response = getattr(client, method)(url, {"to": "1", "status": "dead"})
            assert response.status_code == 403, url
            assert b"The console is for staff" in response.content
        for header in (f"Bearer {jwt}", f"Bearer {consumer}", f"Bearer {admin_token}", None):
            client = Client(HTTP_AUTHORIZATION=header) if header else Client()
            response = getattr(client, method)(url, {"to": "1", "status": "dead"})
            # Not a session: sent to sign in (or refused by CSRF for a POST).
            assert response.status_code in (302, 403), url
            if response.status_code == 302:
                assert response["Location"].startswith("/console/login/")
    assert SyncRun.objects.count() == version_before  # no rollback happened


def test_a_learner_cannot_sign_in_to_the_console():
    user_create(username="amina", role="learner", password="a long learner password")
    client = Client()
    response = client.post("/console/login/", {"username": "amina", "password": "a long learner password"})
    assert response.status_code == 200
    assert b"staff account" in response.content
    assert client.get("/console/").status_code == 302


def test_staff_sign_in_with_csrf_then_roll_back():
    synced_twice()
    user_create(username="operator", role="admin", password="a long admin password")
    client = Client(enforce_csrf_checks=True)
    login = client.get("/console/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', login.content).group(1).decode()
    response = client.post(
        "/console/login/",
        {"username": "operator", "password": "a long admin password", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302 and response["Location"] == "/console/"
    confirm = client.get(f"/console/courses/{COURSE_KEY}/rollback?to=1")
    assert b"Roll back to version 1" in confirm.content
    assert b"moved subtopic" in confirm.content  # what will change, in words
    # Without the CSRF token the action is refused and nothing changes.
    assert client.post(f"/console/courses/{COURSE_KEY}/rollback", {"to": "1"}).status_code == 403
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', confirm.content).group(1).decode()
    response = client.post(
        f"/console/courses/{COURSE_KEY}/rollback", {"to": "1", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    run = SyncRun.objects.order_by("-id").first()
    assert run.trigger == "rollback" and run.actor == "console:operator" and run.version_after == 3
    assert response["Location"] == f"/console/runs/{run.pk}/"


def test_bad_input_is_a_clear_page_not_an_error():
    synced_twice()
    client = staff_client()
    for url, words in [
        ("/console/runs/?outcome=bogus", b"outcome: one of"),
        ("/console/runs/?since=yesterday", b"since: give a date"),
        ("/console/runs/999999/", b"no sync run 999999"),
        (f"/console/courses/{COURSE_KEY}/rollback?to=99", b"no version 99"),
        ("/console/courses/course-v1:No+Such+Course/", b"course-v1:No+Such+Course"),
        ("/console/audit/?op=explode", b"op: one of"),
    ]:
        response = client.get(url)
        assert 400 <= response.status_code < 500, url
        assert words in response.content, (url, response.content[-600:])


def test_source_states(source, simulator, course):
    course_sync(course_key=COURSE_KEY, source=source)
    (health,) = source_health_list()
    assert health.state == "healthy" and health.last_success_at is not None
    simulator.set_down(True)
    with pytest.raises(SourceUnavailable):
        course_sync(course_key=COURSE_KEY, source=source)
    (health,) = source_health_list()
    assert health.state == "failing" and health.failures_24h == 1 and health.error_rate == 0.5
    simulator.set_down(False)
    simulator.revoke_tokens()
    simulator.add_client("someone-else", "x")
    from eduvault.integrations.services import source_add

    wrong = source_add(
        platform="openedx", name="wrong", base_url=simulator.base_url, client_id="nope", client_secret="nope"
    )
    with pytest.raises(SourceRejected):
        course_sync(course_key=COURSE_KEY, source=wrong)
    states = {h.source.name: h.state for h in source_health_list()}
    assert states == {"lms": "failing", "wrong": "credentials rejected"}
    course_sync(course_key=COURSE_KEY, source=source)
    states = {h.source.name: h.state for h in source_health_list()}
    assert states["lms"] == "healthy"


def test_a_disabled_subscription_shows_why_and_is_re_enabled():
    from django.utils import timezone

    from eduvault.pipeline.feed.models import Subscription
    from eduvault.pipeline.outbox.models import Delivery, DeliveryAttempt

    hook = Subscription.objects.create(
        name="school-portal",
        url="https://portal.example.org/hooks",
        secret="whsec_x",
        enabled=False,
        disabled_reason=f"failing since yesterday: 503 {SCRIPT}",
        disabled_at=timezone.now(),
    )
    for n, ok in enumerate((True, True, False)):
        delivery = Delivery.objects.create(
            target=hook.target,
            channel="webhook",
            idempotency_key=f"{hook.pk}:{n + 1}",
            payload={"entry": {"cursor": n + 1}},
            status="done" if ok else "pending",
            next_attempt_at=timezone.now(),
            created_at=timezone.now(),
        )
        DeliveryAttempt.objects.create(delivery=delivery, attempt=1, ok=ok)
    client = staff_client()
    page = client.get("/console/subscriptions/").content.decode()
    assert "failing since yesterday: 503 &lt;script&gt;" in page
    assert re.search(r'<td class="num">2</td>\s*<td class="num"><span class="state-failing">1</span>', page)
    assert re.search(r'<td class="num">1</td>\s*<td class="num">2</td>', page)  # one waits, two went
    response = client.post(f"/console/subscriptions/{hook.pk}/enable")
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.enabled and hook.disabled_reason == ""
    assert "delivering" in client.get("/console/subscriptions/").content.decode()


def test_replay_every_dead_letter_that_matches(source):
    from django.utils import timezone

    now = timezone.now()
    for i, status in enumerate(["dead", "dead", "failed", "done"]):
        InboundEvent.objects.create(
            source=source,
            event_id=f"e{i}",
            type="org.openedx.content_authoring.course.published.v1",
            priority="high",
            subject="course",
            subject_key=COURSE_KEY,
            payload={},
            received_at=now,
            next_attempt_at=now,
            status=status,
            attempts=3,
        )
    client = staff_client()
    response = client.post("/console/events/replay", {"status": "dead", "source": "lms"})
    assert response.status_code == 302 and "replayed=2" in response["Location"]
    assert sorted(InboundEvent.objects.values_list("status", flat=True)) == [
        "done",
        "failed",
        "pending",
        "pending",
    ]
    assert b"2 events put back in the queue" in client.get(response["Location"]).content
    assert client.post("/console/events/replay", {"status": "done"}).status_code == 400


def test_sign_in_attempts_are_throttled(settings):
    settings.EDUVAULT_SIGN_IN_ACCOUNT_RATE = "3/min"
    user_create(username="operator", role="admin", password="a long admin password")
    client = Client()
    for _ in range(3):
        assert (
            client.post("/console/login/", {"username": "operator", "password": "guess"}).status_code == 200
        )
    refused = client.post("/console/login/", {"username": "operator", "password": "a long admin password"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert b"Too many failed sign-ins for this account" in refused.content
