"""Discourse webhooks at /api/v1/webhooks/<source>: signed with HMAC-SHA256 of the raw body,
checked in constant time; a retry (a new X-Discourse-Event-Id, the same payload) stored once;
forged, unsigned and malformed ones refused with nothing stored; posts in a course's category
become forum_post records about the node their topic is for."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.test import Client

from eduvault.identity.models import Identity
from eduvault.pipeline.communities.models import CommunityTopic
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.records.models import Record
from tests.pipeline.communities.conftest import FORUM, SECRET
from tests.pipeline.communities.test_community import linked

pytestmark = pytest.mark.django_db(transaction=False)


def deliver(body: dict | bytes, *, event: str, event_type: str, event_id: int = 1, secret: str = SECRET, signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "HTTP_X_DISCOURSE_INSTANCE": "https://forum.school.test",
        "HTTP_X_DISCOURSE_EVENT_ID": str(event_id),
        "HTTP_X_DISCOURSE_EVENT_TYPE": event_type,
        "HTTP_X_DISCOURSE_EVENT": event,
    }
    if signature is None:
        signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if signature:
        headers["HTTP_X_DISCOURSE_EVENT_SIGNATURE"] = signature
    return Client().post(f"/api/v1/webhooks/{FORUM}", data=raw, content_type="application/json", **headers)


def post_payload(*, post_id: int, topic_id: int, category_id: int, user_id: int, username: str, raw: str, version=1):
    return {
        "post": {
            "id": post_id,
            "name": "",
            "username": username,
            "created_at": "2026-11-30T10:00:00.000Z",
            "updated_at": f"2026-11-30T10:0{version}:00.000Z",
            "cooked": f"<p>{raw}</p>",
            "raw": raw,
            "post_number": 2,
            "post_type": 1,
            "topic_id": topic_id,
            "topic_slug": "algebra",
            "topic_title": "Algebra · Form 3 Mathematics",
            "category_id": category_id,
            "user_id": user_id,
            "version": version,
            "deleted_at": None,
            "user_deleted": False,
            "post_url": f"/t/algebra/{topic_id}/2",
        }
    }


def test_a_learners_post_in_the_courses_category_is_a_forum_post_record_about_its_node(school, fake_forum):
    community, _ = linked(school, fake_forum)
    topic = CommunityTopic.objects.get(community=community)
    amina = Identity.objects.get(platform="discourse", login="amina_p")
    body = post_payload(
        post_id=500, topic_id=int(topic.topic_id), category_id=int(community.place_id),
        user_id=int(amina.external_id), username="amina_p", raw="I think the discriminant decides it.",
    )
    first = deliver(body, event="post_created", event_type="post", event_id=41)
    assert first.status_code in (200, 202), first.content
    # Discourse retries with a new event id and the same payload: stored once.
    again = deliver(body, event="post_created", event_type="post", event_id=42)
    assert again.status_code in (200, 202)
    assert InboundEvent.objects.filter(source__name=FORUM).count() == 1
    school.drain()
    record = Record.objects.get(kind="forum_post")
    assert record.course.key == school.key and record.object == f"node:{topic.node}"
    assert record.person_id == amina.person_id and record.fields["words"] == 6
    entry = FeedEntry.objects.get(kind="forum_post")
    assert entry.priority == "background"
    # An edit is a new version of the same record.
    edited = post_payload(
        post_id=500, topic_id=int(topic.topic_id), category_id=int(community.place_id),
        user_id=int(amina.external_id), username="amina_p", raw="The discriminant decides it: b² − 4ac.", version=2,
    )
    assert deliver(edited, event="post_edited", event_type="post", event_id=43).status_code in (200, 202)
    school.drain()
    record.refresh_from_db()
    assert record.fields["raw"].startswith("The discriminant") and Record.objects.filter(kind="forum_post").count() == 1


def test_posts_outside_any_community_and_edu_vaults_own_are_not_records(school, fake_forum):
    community, _ = linked(school, fake_forum)
    elsewhere = post_payload(post_id=7, topic_id=9, category_id=999, user_id=2, username="amina_p", raw="Off topic here")
    own = post_payload(post_id=8, topic_id=9, category_id=int(community.place_id), user_id=1, username="system", raw="x")
    deliver(elsewhere, event="post_created", event_type="post", event_id=1)
    deliver(own, event="post_created", event_type="post", event_id=2)
    school.drain()
    assert not Record.objects.filter(kind="forum_post").exists()


@pytest.mark.parametrize(
    "signature, secret",
    [
        ("sha256=" + "0" * 64, SECRET),  # forged
        ("", SECRET),  # unsigned
        ("sha1=abc", SECRET),  # another scheme
        (None, "another-secret"),  # signed with the wrong secret
    ],
)
def test_forged_and_unsigned_webhooks_are_refused_with_nothing_stored(school, fake_forum, signature, secret):
    body = post_payload(post_id=1, topic_id=1, category_id=1, user_id=2, username="amina_p", raw="hello there")
    response = deliver(body, event="post_created", event_type="post", signature=signature, secret=secret)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert "signature" in response.json()["detail"].lower()
    assert not InboundEvent.objects.exists()


def test_malformed_unknown_and_ping(school, fake_forum):
    malformed = deliver(b'{"post": ', event="post_created", event_type="post")
    assert malformed.status_code == 400 and not InboundEvent.objects.exists()
    without_object = deliver({"topic": {}}, event="post_created", event_type="post")
    assert without_object.status_code in (400, 422) and not InboundEvent.objects.exists()
    unknown = deliver({"like": {"id": 1}}, event="post_liked", event_type="like")
    assert unknown.status_code in (200, 202) and not InboundEvent.objects.exists()
    ping = deliver({"ping": "OK"}, event="ping", event_type="ping")
    assert ping.status_code in (200, 202) and not InboundEvent.objects.exists()


def test_a_badge_granted_in_discourse_and_a_profile_change_become_records(school, fake_forum):
    linked(school, fake_forum)
    amina = Identity.objects.get(platform="discourse", login="amina_p")
    grant = {"user_badge": {"id": 9, "badge_id": 104, "user_id": int(amina.external_id), "granted_at": "2026-11-30T11:00:00.000Z", "granted_by_id": 1}}
    assert deliver(grant, event="user_badge_granted", event_type="user_badge").status_code in (200, 202)
    profile = {"user": {"id": int(amina.external_id), "username": "amina_p", "name": "Amina P.", "email": "amina@school.mw", "external_id": str(school.students[0].id), "bio_raw": "Form 3, loves proofs"}}
    assert deliver(profile, event="user_updated", event_type="user", event_id=5).status_code in (200, 202)
    school.drain()
    badge = Record.objects.get(kind="badge")
    assert badge.person_id == amina.person_id and badge.course_id is None and badge.fields["granted"] is True
    own = Record.objects.get(kind="profile")
    # The forum owns the bio; the LMS owns names and emails (the policy), but a first value is taken.
    assert own.fields["bio"] == "Form 3, loves proofs" and own.person_id == amina.person_id


def test_forum_participation_counts_as_a_grade_of_the_linked_canvas_assignment(school, fake_forum):
    community, _ = linked(school, fake_forum, participation_assignment=str(school.essay.id), participation_posts=2)
    topic = CommunityTopic.objects.get(community=community)
    amina = Identity.objects.get(platform="discourse", login="amina_p")
    student = school.students[0]
    for n, post_id in enumerate((600, 601), start=1):
        body = post_payload(
            post_id=post_id, topic_id=int(topic.topic_id), category_id=int(community.place_id),
            user_id=int(amina.external_id), username="amina_p", raw=f"My answer number {n}",
        )
        deliver(body, event="post_created", event_type="post", event_id=post_id)
        school.drain()
        school.deliver()
        submission = school.sim.submission(school.course.id, school.essay.id, student.id)
        # The essay is graded as a percentage: one post of two is 50%, two are 100%.
        assert submission.score == pytest.approx(school.essay.points_possible * n / 2)
    grade = Record.objects.get(kind="grade", object=f"participation:{FORUM}")
    assert grade.fields == {"score": 2.0, "max": 2.0} and grade.person_id == amina.person_id
