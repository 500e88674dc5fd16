"""A course's community kept in step on a forum (the in-memory fake): its category, a topic
per module, a group of its learners, a badge for completing it; each made once, retries
included, and each change followed."""

from __future__ import annotations

import pytest

from eduvault.identity.models import Identity, Person
from eduvault.kernel.errors import SourceUnavailable
from eduvault.pipeline.communities.models import Community, CommunityGrant, CommunityTopic
from eduvault.pipeline.communities.services import community_add, community_remove
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.records.models import ObjectLink
from eduvault.pipeline.sync.services import course_sync
from tests.pipeline.communities.conftest import FORUM

pytestmark = pytest.mark.django_db(transaction=False)


def linked(school, fake_forum, **options):
    course_sync(course_key=school.key, source=school.source, actor="test")
    badge = fake_forum.add_badge("Completed Form 3 Mathematics")
    community_add(
        course_key=school.key,
        source_name=FORUM,
        topic_kind="topic",
        completion_badge=badge["id"],
        actor="test",
        **options,
    )
    school.deliver()
    return Community.objects.get(course__key=school.key), badge


def writes(fake_forum):
    reads = {"site", "about", "categories", "category", "topic", "topic_by_external_id", "group", "group_members",
             "user", "users", "user_badges", "badges", "user_by_external_id", "user_emails", "category_topics",
             "topic_posts"}
    return [c for c in fake_forum.calls if c[0] not in reads]


def test_a_course_gets_its_category_topics_and_group_once(school, fake_forum):
    community, _ = linked(school, fake_forum)
    (category,) = fake_forum.categories.values()
    assert category["name"] == "Form 3 Mathematics" and community.place_id == str(category["id"])
    (topic,) = fake_forum.topics.values()
    assert topic["title"] == "Algebra · Form 3 Mathematics" and topic["category_id"] == category["id"]
    assert topic["external_id"] == CommunityTopic.objects.get(community=community).external_id
    group = fake_forum.groups[community.group_name.lower()]
    assert sorted(fake_forum.members[group["name"].lower()]) == ["amina_p", "chisomo"]
    # Kondwani is enrolled in Canvas but matches nobody here: not a member, not guessed.
    assert community.waiting == []  # only people are waited for; Kondwani is not one yet
    # Records of the forum's category are the course's.
    assert ObjectLink.objects.get(replica=FORUM, object="course").course.key == school.key

    before = len(writes(fake_forum))
    community_add_again = Delivery.objects.count()
    from eduvault.pipeline.communities.services import community_request

    community_request(community=community, aspects=("place", "topics", "members", "badges"), priority="critical")
    school.deliver()
    assert Delivery.objects.count() == community_add_again + 4
    assert len(writes(fake_forum)) == before  # in step already: nothing written again


def test_a_retry_after_a_lost_answer_finds_the_topic_it_made(school, fake_forum):
    course_sync(course_key=school.key, source=school.source, actor="test")
    community_add(course_key=school.key, source_name=FORUM, topic_kind="topic", actor="test")
    # The forum made the topic but its answer was lost: Edu Vault has no row for it.
    school.deliver()
    CommunityTopic.objects.all().update(topic_id="")
    community = Community.objects.get()
    from eduvault.pipeline.communities.services import community_request

    community_request(community=community, aspects=("topics",), priority="critical")
    school.deliver()
    assert len(fake_forum.topics) == 1 and len(fake_forum.called("create_topic")) == 1


def test_renamed_and_deleted_modules_retitle_and_close_their_topics(school, fake_forum):
    community, _ = linked(school, fake_forum)
    module = next(iter(school.sim.course(school.course.id).modules.values()))
    school.sim.rename_module(school.course.id, module.id, "Algebra and functions")
    geometry = school.sim.add_module(school.course.id, "Geometry")
    course_sync(course_key=school.key, source=school.source, actor="test")
    school.deliver()
    titles = sorted((t["title"], t["closed"]) for t in fake_forum.topics.values())
    assert titles == [("Algebra and functions · Form 3 Mathematics", False), ("Geometry · Form 3 Mathematics", False)]
    school.sim.delete_module(school.course.id, geometry.id)
    course_sync(course_key=school.key, source=school.source, actor="test")
    school.deliver()
    closed = [t["title"] for t in fake_forum.topics.values() if t["closed"]]
    assert closed == ["Geometry · Form 3 Mathematics"] and len(fake_forum.topics) == 2


def test_a_completion_in_canvas_grants_the_badge_once(school, fake_forum):
    community, badge = linked(school, fake_forum)
    amina = school.students[0]
    school.sim.complete_course(school.course.id, amina.id)
    school.drain()
    school.deliver()
    grants = [g for g in fake_forum.user_badges if g["badge_id"] == badge["id"]]
    assert len(grants) == 1
    grant = CommunityGrant.objects.get()
    assert (grant.username, grant.state, grant.cause) == ("amina_p", "granted", "completion")
    # Canvas says it again (a duplicate event, a reconcile): still one badge.
    school.sim.complete_course(school.course.id, amina.id)
    school.drain()
    school.deliver()
    # A grant whose answer was lost is sent again: the forum skips holders, never a second badge.
    CommunityGrant.objects.update(state=CommunityGrant.State.SENDING)
    from eduvault.pipeline.communities.services import community_request

    community_request(community=community, aspects=("badges",), priority="critical")
    school.deliver()
    assert len([g for g in fake_forum.user_badges if g["badge_id"] == badge["id"]]) == 1
    assert CommunityGrant.objects.get().state == CommunityGrant.State.GRANTED
    assert len(fake_forum.called("mass_award")) == 2


def test_an_enrollment_in_canvas_puts_the_learner_in_the_group_and_a_removal_takes_them_out(school, fake_forum):
    community, _ = linked(school, fake_forum)
    newcomer = school.sim.add_user("Thoko Gondwe", login_id="thoko", sis_user_id="S-103")
    fake_forum.add_user("thoko", email="thoko@school.mw", external_id=str(newcomer.id))
    Person.objects.create(name="Thoko Gondwe", sis_id="S-103")
    school.sim.enroll(school.course.id, newcomer.id)
    school.drain()  # the Live Event names no SIS id: Thoko's Canvas account is held...
    assert Identity.objects.get(realm="school", external_id=str(newcomer.id)).person_id is None
    course_sync(course_key=school.key, source=school.source, actor="test")  # ...until the roster says it
    # The forum account is looked up for a learner who waits for one (every so often at most).
    Community.objects.update(accounts_read_at=None, looked_up={})
    school.deliver()
    members = fake_forum.members[community.group_name.lower()]
    assert sorted(members) == ["amina_p", "chisomo", "thoko"]
    assert list(fake_forum.called("add_group_members")[-1][1]) == ["thoko"]  # only the newcomer was sent

    enrollment = next(e for e in school.sim.course(school.course.id).enrollments.values() if e.user_id == newcomer.id)
    school.sim.update_enrollment(school.course.id, enrollment.id, "deleted")
    school.drain()
    school.deliver()
    assert sorted(fake_forum.members[community.group_name.lower()]) == ["amina_p", "chisomo"]


def test_the_forum_down_then_back_everything_arrives_once(school, fake_forum):
    course_sync(course_key=school.key, source=school.source, actor="test")
    fake_forum.failures = [SourceUnavailable("forum.school.test answered 503")] * 3
    community_add(course_key=school.key, source_name=FORUM, topic_kind="topic", actor="test")
    school.deliver()
    failed = Delivery.objects.filter(channel="community").exclude(status="done")
    assert failed.exists()
    Delivery.objects.filter(channel="community").update(next_attempt_at=Delivery.objects.first().created_at)
    school.deliver()
    assert not Delivery.objects.filter(channel="community").exclude(status="done").exists()
    assert len(fake_forum.categories) == 1 and len(fake_forum.topics) == 1
    assert len(fake_forum.groups) == 1


def test_removing_a_community_keeps_the_forum_and_drops_the_links(school, fake_forum):
    linked(school, fake_forum)
    community_remove(course_key=school.key, source_name=FORUM, actor="test")
    assert not Community.objects.exists() and not ObjectLink.objects.filter(replica=FORUM).exists()
    assert len(fake_forum.categories) == 1
    assert Course.objects.filter(key=school.key).exists()


def test_a_given_category_keeps_its_name_until_the_course_is_renamed(school, fake_forum):
    course_sync(course_key=school.key, source=school.source, actor="test")
    given = fake_forum.client().create_category("Maths corner")
    community_add(
        course_key=school.key, source_name=FORUM, topic_kind="topic", category=str(given["id"]), actor="test"
    )
    school.deliver()
    assert [c["name"] for c in fake_forum.categories.values()] == ["Maths corner"]
    assert Community.objects.get().place_id == str(given["id"])
    school.sim.update_course(school.course.id, name="Form 3 Mathematics (2027)")
    course_sync(course_key=school.key, source=school.source, actor="test")
    school.deliver()
    assert [c["name"] for c in fake_forum.categories.values()] == ["Form 3 Mathematics (2027)"]


def test_accounts_are_looked_up_in_batches_that_continue_at_once(school, fake_forum, monkeypatch):
    from eduvault.pipeline.communities import steps

    monkeypatch.setattr(steps, "LOOKUPS_A_STEP", 1)  # a step looks one learner up, then asks for another
    community, _ = linked(school, fake_forum)
    assert sorted(fake_forum.members[community.group_name.lower()]) == ["amina_p", "chisomo"]
    assert len(fake_forum.called("user_by_external_id")) == 2  # each learner once
    assert len(fake_forum.called("users")) == 0  # no email to match by: the accounts are not listed
    steps_run = Delivery.objects.filter(channel="community", payload__aspect="members", status="done").count()
    assert steps_run == 2  # the first (Amina found and added), then one more at once (Chisomo)
