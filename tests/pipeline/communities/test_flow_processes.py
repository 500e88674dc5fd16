"""The design's whole flow on real processes: `eduvault serve` and `eduvault worker` (Redis),
Canvas and Discourse simulators posting their signed events to the server over HTTP. A
course's forum is set up; Discourse goes down; meanwhile a learner leaves the course in
Canvas, another completes it and a module is added; Discourse comes back and everything
arrives once: the learner out of the group, one badge, one new topic. A post in the forum
then reaches the change feed."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from eduvault.integrations.discourse.simulator import DiscourseSimulator
from eduvault.integrations.services import source_add
from eduvault.pipeline.communities.models import Community, CommunityTopic
from eduvault.pipeline.communities.services import community_add
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.outbox.models import Delivery, DeliveryAttempt
from eduvault.pipeline.records.models import Record
from eduvault.pipeline.sync.services import course_sync
from tests.pipeline.records.conftest import canvas, school  # noqa: F401 - fixtures
from tests.services import REDIS_URL, require
from tests.stack import Stack

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
KEY, SECRET = "forum-admin-key", "forum-webhook-secret"


def poll(condition, what: str, stack: Stack, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            waiting = list(
                Delivery.objects.exclude(status="done").values(
                    "id", "channel", "status", "attempts", "next_attempt_at", "payload", "summary"
                )
            )
            raise AssertionError(f"timed out waiting for {what}; not done: {waiting}\n{stack.output()}")
        time.sleep(0.2)


def test_canvas_and_discourse_in_step_through_an_outage_everything_once(request, school):
    require(REDIS_URL, "Redis")
    amina, chisomo, _ = school.students
    sim = school.sim
    sim.live_events.sink = None  # nothing is listening yet: Canvas's events are dropped
    course = sim.course(school.course.id)
    chisomo_enrollment = next(e for e in course.enrollments.values() if e.user_id == chisomo.id)

    forum = DiscourseSimulator(api_keys={KEY: "system"}, per_minute=600).start()
    request.addfinalizer(forum.stop)
    forum.add_user("amina_p", email="amina@school.mw", external_id=str(amina.id))
    forum.add_user("chisomo", email="chisomo@school.mw", external_id=str(chisomo.id))
    badge = forum.add_badge("Completed Form 3 Mathematics")
    source_add(
        platform="discourse",
        name="forum",
        base_url=forum.base_url,
        api_key=KEY,
        api_username="system",
        webhook_secret=SECRET,
        connect_ids=school.source.name,
        per_minute="600",
    )
    course_sync(course_key=school.key, source=school.source, actor="test")
    community = community_add(
        course_key=school.key, source_name="forum", topic_kind="topic", completion_badge=badge["id"], actor="test"
    )

    stack = Stack(
        REDIS_URL,
        EDUVAULT_HIGH_WINDOW_SECONDS="0",
        EDUVAULT_BACKGROUND_WINDOW_SECONDS="0",
        EDUVAULT_DELIVER_SECONDS="0.2",
        EDUVAULT_MAX_ATTEMPTS="40",
        EDUVAULT_RETRY_BASE_SECONDS="0.3",
        EDUVAULT_RETRY_MAX_SECONDS="1",
    )
    request.addfinalizer(stack.stop)
    url = stack.serve()
    stack.worker()
    sim.live_events_url = f"{url}/api/v1/webhooks/{school.source.name}"
    forum.webhook(f"{url}/api/v1/webhooks/forum", SECRET)

    group = Community.objects.get(pk=community.pk).group_name
    poll(
        lambda: forum.group_named(group) is not None and sorted(forum.members(group)) == ["amina_p", "chisomo"],
        "the group",
        stack,
    )
    poll(lambda: CommunityTopic.objects.filter(community=community).exists(), "the module's topic", stack)

    # Discourse goes down; meanwhile, in Canvas: Chisomo leaves the course, Amina completes
    # it, and a teacher adds a module.
    forum.set_down(True)
    sim.update_enrollment(course.id, chisomo_enrollment.id, "deleted")
    sim.complete_course(course.id, amina.id)
    sim.add_module(course.id, "Geometry")
    poll(
        lambda: DeliveryAttempt.objects.filter(delivery__channel="community", ok=False).count() >= 2,
        "the deliveries to fail while Discourse is down",
        stack,
    )
    assert not Delivery.objects.filter(channel="community", status="dead").exists()
    forum.set_down(False)

    poll(lambda: forum.members(group) == ["amina_p"], "Chisomo out of the group", stack)
    poll(lambda: any(ub.badge_id == badge["id"] for ub in forum.user_badges_of("amina_p")), "the badge", stack)
    poll(
        lambda: CommunityTopic.objects.filter(community=community, title__startswith="Geometry").exists(),
        "the new module's topic",
        stack,
    )
    poll(
        lambda: not Delivery.objects.filter(channel="community").exclude(status="done").exists(),
        "every community delivery done",
        stack,
    )
    # Once each.
    assert [ub.badge_id for ub in forum.user_badges_of("amina_p")].count(badge["id"]) == 1
    titles = Counter(t.title for t in forum.topics.values())
    assert titles["Geometry · Form 3 Mathematics"] == 1 and titles["Algebra · Form 3 Mathematics"] == 1
    members = [r for r in forum.requests if r.path.endswith("/members.json") and r.status == 200 and r.method != "GET"]
    assert Counter(r.method for r in members) == {"PUT": 1, "DELETE": 1}

    # A learner's post in the course's forum reaches Edu Vault's change feed.
    topic = CommunityTopic.objects.get(community=community, title__startswith="Algebra")
    forum.post("amina_p", topic_id=int(topic.topic_id), raw="Is the discriminant always real?")
    poll(lambda: Record.objects.filter(kind="forum_post", person__isnull=False).exists(), "the post's record", stack)
    post = Record.objects.get(kind="forum_post")
    assert post.course_id == community.course_id and post.object == f"node:{topic.node}"
    assert FeedEntry.objects.filter(kind="forum_post", external_id=f"record:{post.pk}").exists()
