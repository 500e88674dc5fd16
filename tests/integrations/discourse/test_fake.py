"""The in-memory Discourse keeps the rules the connector leans on."""

from __future__ import annotations

import importlib

import pytest

from eduvault.integrations.discourse import fake as fake_module
from eduvault.integrations.discourse.client import DiscourseClient, DiscourseRefused
from eduvault.integrations.discourse.fake import FakeDiscourse
from eduvault.kernel.errors import SourceUnavailable


@pytest.fixture
def forum() -> FakeDiscourse:
    forum = FakeDiscourse()
    forum.add_user("ana", email="ana@school.test", external_id="p-1")
    forum.add_user("Bea", email="bea@school.test")
    return forum


def test_the_fake_client_has_every_client_method() -> None:
    public = {n for n in vars(DiscourseClient) if not n.startswith("_")}
    fake = {n for n in vars(fake_module._Client) if not n.startswith("_")}
    assert public - fake == set()


def test_topics_external_id_is_unique(forum: FakeDiscourse) -> None:
    client = forum.client()
    category = client.create_category("Algebra")
    post = client.create_topic(title="Week 1", raw="Welcome", category_id=category["id"], external_id="c-1")
    with pytest.raises(DiscourseRefused) as raised:
        client.create_topic(title="Week 1 again", raw="Hi", category_id=category["id"], external_id="C-1")
    assert raised.value.forum_status == 422
    found = client.topic_by_external_id("c-1")
    assert found is not None and found["id"] == post["topic_id"]
    assert client.topic_by_external_id("c-2") is None


def test_topic_posts_and_first_chunk(forum: FakeDiscourse) -> None:
    client = forum.client()
    category = client.create_category("Algebra")
    topic_id = client.create_topic(title="Week 1", raw="Welcome", category_id=category["id"])["topic_id"]
    for n in range(24):
        forum.add_reply(topic_id, "ana", f"reply {n}")
    topic = client.topic(topic_id)
    assert topic is not None
    assert len(topic["post_stream"]["posts"]) == 20 and len(topic["post_stream"]["stream"]) == 25
    assert [p["post_number"] for p in client.topic_posts(topic_id)] == list(range(1, 26))
    assert [t["id"] for t in client.category_topics(category["id"])] == [topic_id]
    client.set_topic_status(topic_id, status="closed", enabled=True)
    assert forum.topics[topic_id]["closed"] is True
    assert client.update_topic(topic_id, title="Week one")["title"] == "Week one"


def test_category_names_are_unique(forum: FakeDiscourse) -> None:
    client = forum.client()
    client.create_category("Algebra")
    with pytest.raises(DiscourseRefused):
        client.create_category("algebra")
    assert client.category(999) is None


def test_a_badge_that_is_not_multiple_is_granted_once(forum: FakeDiscourse) -> None:
    client = forum.client()
    once = forum.add_badge("Finisher")
    many = forum.add_badge("Helper", multiple_grant=True)
    first = client.grant_badge(username="ana", badge_id=once["id"])
    again = client.grant_badge(username="ana", badge_id=once["id"])
    assert again["id"] == first["id"]
    client.grant_badge(username="ana", badge_id=many["id"])
    client.grant_badge(username="ana", badge_id=many["id"])
    held = [ub["badge_id"] for ub in client.user_badges("ana")]
    assert held.count(once["id"]) == 1 and held.count(many["id"]) == 2
    with pytest.raises(DiscourseRefused) as raised:
        client.grant_badge(username="ana", badge_id=12345)
    assert raised.value.forum_status == 404


def test_group_members_are_added_once_and_unknown_users_dropped(forum: FakeDiscourse) -> None:
    client = forum.client()
    group = client.create_group(name="course-1")
    assert client.add_group_members(group["id"], ["ana", "ghost"]) == ["ana"]
    assert client.add_group_members(group["id"], ["ANA", "bea"]) == ["Bea"]
    assert client.add_group_members(group["id"], ["ana"]) == []
    with pytest.raises(DiscourseRefused) as raised:
        client.add_group_members(group["id"], ["ghost"])
    assert raised.value.forum_status == 400
    assert [m["username"] for m in client.group_members("course-1")] == ["ana", "Bea"]
    assert client.remove_group_members(group["id"], ["bea", "ghost"]) == ["Bea"]
    assert [m["username"] for m in client.group_members("Course-1")] == ["ana"]
    with pytest.raises(DiscourseRefused):
        client.remove_group_members(group["id"], ["ghost"])
    with pytest.raises(DiscourseRefused):
        client.create_group(name="COURSE-1")
    assert client.group("nobody") is None


def test_users(forum: FakeDiscourse) -> None:
    client = forum.client()
    user = client.user("ANA")
    assert user is not None and "email" not in user
    by_external = client.user_by_external_id("p-1")
    assert by_external is not None and by_external["username"] == "ana"
    assert client.user_emails("ana")["email"] == "ana@school.test"
    assert {u["username"] for u in client.users()} == {"ana", "Bea"}
    assert client.user("nobody") is None
    with pytest.raises(DiscourseRefused):
        client.user_emails("nobody")


def test_calls_are_recorded_and_failures_scripted(forum: FakeDiscourse) -> None:
    forum.failures.append(SourceUnavailable("down"))
    client = forum.client()
    with pytest.raises(SourceUnavailable):
        client.about()
    assert client.about()["version"]
    assert forum.calls == [("about", ()), ("about", ())]
    assert forum.called("about") == [(), ()]


def test_installed_patches_the_integration_or_says_why_not(forum: FakeDiscourse) -> None:
    module_name, class_name, attribute = fake_module.PATCH_TARGET
    try:
        owner = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        with pytest.raises(RuntimeError, match="client"):
            with forum.installed():
                pass
        return
    original = owner.__dict__.get(attribute)
    with forum.installed():
        assert getattr(owner, attribute)(None).fake is forum
    assert owner.__dict__.get(attribute) is original
