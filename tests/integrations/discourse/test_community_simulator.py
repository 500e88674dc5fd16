"""The community writer against the Discourse simulator over real HTTP: a category, topics
found again by their external id, a group of 2,000 learners in two requests, a badge for
2,000 people in one, nothing made twice; and Discourse's rate limit kept before it bites
(the token bucket) and after (429: waiting what the forum says)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

from eduvault.integrations.base import TopicSpec
from eduvault.integrations.discourse.client import DiscourseClient
from eduvault.integrations.discourse.community import DiscourseCommunity
from eduvault.integrations.discourse.pacing import TokenBucket
from eduvault.integrations.discourse.simulator import DiscourseSimulator

KEY = "forum-admin-key"


class Clock:
    """Virtual time, shared by the forum's rate limiter and the client's bucket and waits."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@dataclass
class Source:
    name: str = "forum"
    settings: dict[str, str] = field(default_factory=lambda: {"api_username": "system"})

    def setting(self, key: str) -> str | None:
        return self.settings.get(key)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def forum(clock: Clock):
    with DiscourseSimulator(api_keys={KEY: "system"}, clock=clock) as sim:
        yield sim


def writer_for(forum: DiscourseSimulator, clock: Clock, *, per_minute: int = 60, attempts: int = 5) -> DiscourseCommunity:
    bucket = TokenBucket(per_minute, clock=clock, sleep=clock.sleep)
    client = DiscourseClient(forum.base_url, KEY, "system", bucket=bucket, sleep=clock.sleep, attempts=attempts)
    return DiscourseCommunity(Source(), client)


def writes(forum: DiscourseSimulator) -> Counter[str]:
    return Counter(f"{r.method} {r.path}" for r in forum.requests if r.method != "GET")


def test_place_and_topics_are_made_once_and_kept(forum, clock):
    writer = writer_for(forum, clock)
    place = writer.ensure_place(place_id="", title="Form 3 Mathematics")
    assert writer.ensure_place(place_id=place, title="Form 3 Mathematics") == place
    spec = TopicSpec(external_id="ev-" + "a" * 40, title="Algebra · Form 3 Mathematics", body="Talk about Algebra here, please.")
    made = writer.ensure_topic(place_id=place, spec=spec)
    # The answer was lost: Edu Vault does not know the topic's id; the external id finds it.
    again = writer.ensure_topic(place_id=place, spec=spec, topic_id="")
    assert again.topic_id == made.topic_id
    assert writes(forum)["POST /posts.json"] == 1 and writes(forum)["POST /categories.json"] == 1
    renamed = TopicSpec(spec.external_id, "Algebra and functions · Form 3 Mathematics", spec.body)
    writer.ensure_topic(place_id=place, spec=renamed, topic_id=made.topic_id)
    assert forum.topic(int(made.topic_id)).title == renamed.title
    writer.close_topic(topic_id=made.topic_id)
    assert forum.topic(int(made.topic_id)).closed is True
    writer.ensure_place(place_id=place, title="Form 3 Mathematics (2027)")
    assert forum.category(int(place)).name == "Form 3 Mathematics (2027)"


def test_two_thousand_learners_join_in_two_requests_and_one_badge_request_grants_them_all(forum, clock):
    names = [f"learner{i:04d}" for i in range(2000)]
    for name in names:
        forum.add_user(name, email=f"{name}@school.mw")
    badge = forum.add_badge("Completed Form 3 Mathematics")
    writer = writer_for(forum, clock)
    group = writer.ensure_group(group_id="", name="f3_maths_1a2b3c", title="Form 3 Mathematics")
    writer.add_members(group_id=group, group_name="f3_maths_1a2b3c", usernames=names)
    assert len(forum.members("f3_maths_1a2b3c")) == 2000
    assert writes(forum)[f"PUT /groups/{group}/members.json"] == 2
    assert writer.grant_badge(badge_id=str(badge["id"]), usernames=names) == 1
    assert writer.grant_badge(badge_id=str(badge["id"]), usernames=names[:10]) == 1  # a retry
    held = Counter(ub.badge_id for name in names[:50] for ub in forum.user_badges_of(name))
    assert held[badge["id"]] == 50  # once each, the retry granted nothing twice
    assert not [r for r in forum.requests if r.status == 429]


def test_the_bucket_keeps_under_the_forums_limit(forum, clock):
    forum.limiter.per_minute = 20
    writer = writer_for(forum, clock, per_minute=20)
    started = clock.now
    for i in range(60):
        writer.ensure_place(place_id="", title=f"Course {i:02d}")
    assert not [r for r in forum.requests if r.status == 429]
    assert clock.now - started >= 60  # 120 requests at 20 a minute: paced, not refused


def test_a_429_is_waited_out_as_the_forum_says(forum, clock):
    forum.limiter.per_minute = 5
    writer = writer_for(forum, clock, per_minute=10_000)  # no pacing of our own: the forum refuses
    for i in range(12):
        writer.ensure_place(place_id="", title=f"Course {i:02d}")
    refused = [r for r in forum.requests if r.status == 429]
    assert refused and len(forum.categories) >= 12
