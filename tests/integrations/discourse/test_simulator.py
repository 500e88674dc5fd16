"""The Discourse simulator, driven over real HTTP with httpx (no database)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest

from eduvault.integrations.discourse.simulator import DiscourseSimulator, Invalid, api_people

KEY = "admin-key"
HEADERS = {"Api-Key": KEY, "Api-Username": "system"}
SECRET = "s3cret"
INVALID_CREDENTIALS = {
    "errors": ["You are not permitted to view the requested resource. The API username or key is invalid."],
    "error_type": "invalid_access",
}
NOT_FOUND = {"errors": ["The requested URL or resource could not be found."], "error_type": "not_found"}
BODY = "A first post that is long enough to pass."


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Sink:
    """Collects webhooks in process; answers the next ``statuses`` in turn, then 200."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        self.received.append((body, headers))
        return self.statuses.pop(0) if self.statuses else 200

    def events(self) -> list[str]:
        return [h["X-Discourse-Event"] for _, h in self.received]


@dataclass
class World:
    forum: DiscourseSimulator
    http: httpx.Client
    clock: Clock
    category_id: int
    sink: Sink

    def topic(self, title: str = "How do fractions work here?", **extra: Any) -> dict[str, Any]:
        body = {"title": title, "raw": BODY, "category": self.category_id, **extra}
        response = self.http.post("/posts.json", json=body)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def world() -> Iterator[World]:
    clock = Clock()
    sink = Sink()
    with DiscourseSimulator(api_keys={KEY: "system"}, clock=clock, retry_delays=(0.01, 0.01)) as forum:
        forum.webhook("http://receiver.invalid/hook", SECRET)
        forum.sink = sink
        forum.add_user("alice", email="alice@example.edu", name="Alice A", external_id="sso-alice")
        forum.add_user("bob", email="bob@example.edu", name="Bob B", external_id="sso-bob")
        category = forum.add_category("Mathematics")
        with httpx.Client(base_url=forum.base_url, headers=HEADERS, timeout=5) as http:
            yield World(forum, http, clock, category["id"], sink)


def flushed(w: World) -> Sink:
    assert w.forum.wait_for_webhooks(5)
    return w.sink


# -- authentication and rate limits -------------------------------------------------------------------


def test_credentials_come_from_headers_only(world: World) -> None:
    base = world.forum.base_url
    assert httpx.get(f"{base}/site.json").status_code == 200  # public, anonymous
    anonymous = httpx.post(f"{base}/posts.json", json={"raw": BODY, "topic_id": 1})
    assert anonymous.status_code == 403
    assert anonymous.json() == {
        "errors": ["You need to be logged in to do that."],
        "error_type": "not_logged_in",
    }
    in_query = httpx.post(f"{base}/posts.json?api_key={KEY}&api_username=system", json={"raw": BODY})
    assert in_query.json()["error_type"] == "not_logged_in"
    wrong = httpx.get(f"{base}/site.json", headers={"Api-Key": "nope", "Api-Username": "system"})
    assert (wrong.status_code, wrong.json()) == (403, INVALID_CREDENTIALS)
    other_user = httpx.get(f"{base}/site.json", headers={"Api-Key": KEY, "Api-Username": "alice"})
    assert other_user.status_code == 403
    assert httpx.get(f"{base}/admin/badges.json").json() == NOT_FOUND  # AdminConstraint


def test_admin_api_limit_is_a_sliding_minute_shared_by_all_keys() -> None:
    clock = Clock()
    with DiscourseSimulator(per_minute=3, api_keys={KEY: "system", "other": None}, clock=clock) as forum:
        http = httpx.Client(base_url=forum.base_url, headers=HEADERS)
        for _ in range(3):
            assert http.get("/site.json").status_code == 200
            clock.now += 10
        refused = http.get("/site.json")
        assert refused.status_code == 429
        assert refused.json() == {
            "errors": [
                "You’ve performed this action too many times. Please wait 30 seconds before trying again."
            ],
            "error_type": "rate_limit",
            "extras": {"wait_seconds": 30, "time_left": "30 seconds"},
        }
        assert refused.headers["Retry-After"] == "30"
        assert refused.headers["Discourse-Rate-Limit-Error-Code"] == "admin_api_key_rate_limit"
        other = http.get("/site.json", headers={"Api-Key": "other", "Api-Username": "system"})
        assert other.status_code == 429  # "admin_api_min" has no key in it
        clock.now += 29
        assert http.get("/site.json").json()["extras"] == {"wait_seconds": 1, "time_left": "a few seconds"}
        clock.now += 1  # the oldest request is now 60 s old
        assert http.get("/site.json").status_code == 200
        assert http.get("/site.json").json()["extras"]["wait_seconds"] == 10  # the next oldest is 50 s old
        forum.throttle_enabled = False
        assert http.get("/site.json").status_code == 200
        assert [r.status for r in forum.requests][-3:] == [200, 429, 200]
        http.close()


# -- categories -------------------------------------------------------------------------------------------


def test_categories(world: World) -> None:
    http = world.http
    created = http.post(
        "/categories.json", json={"name": "Physics", "color": "AB9364", "text_color": "FFFFFF"}
    )
    category = created.json()["category"]
    assert (created.status_code, category["name"], category["slug"], category["color"]) == (
        200,
        "Physics",
        "physics",
        "AB9364",
    )
    assert category["topic_url"].startswith("/t/about-the-physics-category/")
    duplicate = http.post(
        "/categories.json", json={"name": "physics", "color": "AB9364", "text_color": "FFF"}
    )
    assert duplicate.status_code == 422
    assert duplicate.json() == {"errors": ["Category Name has already been taken"]}
    missing = http.post("/categories.json", json={"name": "Chemistry", "text_color": "FFFFFF"})
    assert missing.status_code == 400
    assert missing.json() == {"errors": ["param is missing or the value is empty: color"]}
    renamed = http.put(f"/categories/{category['id']}.json", json={"name": "Physics 101"})
    assert renamed.json()["success"] == "OK" and renamed.json()["category"]["name"] == "Physics 101"
    assert http.get(f"/c/{category['id']}/show.json").json()["category"]["name"] == "Physics 101"
    assert http.get("/c/999/show.json").status_code == 404
    listed = http.get("/categories.json", params={"include_subcategories": "true"}).json()["category_list"]
    assert {c["name"] for c in listed["categories"]} == {"Mathematics", "Physics 101"}
    assert flushed(world).events()[-2:] == ["category_created", "category_updated"]


# -- topics and posts ----------------------------------------------------------------------------------------


def test_create_topic_and_validations(world: World) -> None:
    http = world.http
    first = world.topic(external_id="lesson-1")
    assert (first["post_number"], first["username"], first["topic_title"]) == (
        1,
        "system",
        "How do fractions work here?",
    )
    assert first["category_id"] == world.category_id and "raw" not in first
    post = lambda **body: http.post("/posts.json", json={"category": world.category_id, **body})  # noqa: E731
    short_title = post(title="Too short", raw="x")  # the topic fails first: its errors alone
    assert (short_title.status_code, short_title.json()) == (
        422,
        {"action": "create_post", "errors": ["Title is too short (minimum is 15 characters)"]},
    )
    short_body = post(title="A perfectly fine title", raw="Too short")
    assert short_body.json()["errors"] == ["Body is too short (minimum is 20 characters)"]
    again = post(title="Another fine title here", raw=BODY + " Again.", external_id="lesson-1")
    assert again.json() == {"action": "create_post", "errors": ["External has already been taken"]}
    long_id = post(title="Yet another fine title", raw=BODY, external_id="x" * 51)
    assert long_id.json()["errors"] == ["External is too long (maximum is 50 characters)"]
    same_title = post(title="how do fractions work here?", raw=BODY + " Twice.")
    assert same_title.json()["errors"] == ["Title has already been used"]
    no_category = http.post("/posts.json", json={"title": "A title without category", "raw": BODY})
    assert no_category.json()["errors"] == ["Category can't be blank"]
    unknown = post(title="A title in nowhere land", raw=BODY, category=999)
    assert unknown.status_code == 400 and unknown.json()["error_type"] == "invalid_parameters"
    # PostsController memoizes API creates for 120 s: an identical retry answers the same post.
    retried = http.post(
        "/posts.json",
        json={
            "title": "How do fractions work here?",
            "raw": BODY,
            "category": world.category_id,
            "external_id": "lesson-1",
        },
    )
    assert (retried.status_code, retried.json()["id"]) == (200, first["id"])
    world.clock.now += 121
    assert post(title="How do fractions work here?", raw=BODY, external_id="lesson-1").status_code == 422
    assert flushed(world).events().count("topic_created") == 1


def test_site_settings_are_configurable() -> None:
    with DiscourseSimulator(
        api_keys={KEY: "system"}, min_topic_title_length=5, min_first_post_length=3
    ) as forum:
        category = forum.add_category("Short")
        body = {"title": "Short", "raw": "ok!", "category": category["id"]}
        assert httpx.post(f"{forum.base_url}/posts.json", json=body, headers=HEADERS).status_code == 200


def test_topic_by_external_id_redirects(world: World) -> None:
    created = world.topic(external_id="lesson-2")
    moved = world.http.get("/t/external_id/lesson-2.json")
    location = f"{world.forum.base_url}/t/how-do-fractions-work-here/{created['topic_id']}.json"
    assert (moved.status_code, moved.headers["Location"]) == (301, location)
    followed = world.http.get("/t/external_id/lesson-2.json", follow_redirects=True).json()
    assert (followed["id"], followed["external_id"]) == (created["topic_id"], "lesson-2")
    assert world.http.get("/t/external_id/nope.json").json() == NOT_FOUND


def test_topic_view_pages_its_posts(world: World) -> None:
    topic_id = world.topic()["topic_id"]
    for i in range(24):
        world.forum.post(
            "alice" if i % 2 else "bob", topic_id=topic_id, raw=f"Reply number {i} with enough text."
        )
    view = world.http.get(f"/t/{topic_id}.json").json()
    stream = view["post_stream"]
    assert (len(stream["posts"]), len(stream["stream"]), view["posts_count"], view["chunk_size"]) == (
        20,
        25,
        25,
        20,
    )
    assert view["details"]["created_by"]["username"] == "system" and "external_id" not in view
    rest = world.http.get(
        f"/t/{topic_id}/posts.json", params=[("post_ids[]", i) for i in stream["stream"][20:]]
    )
    assert [p["post_number"] for p in rest.json()["post_stream"]["posts"]] == [21, 22, 23, 24, 25]
    assert world.http.get("/t/424242.json").json()["error_type"] == "not_found"
    wrong_slug = world.http.get(f"/t/wrong-slug/{topic_id}.json")
    assert wrong_slug.status_code == 301


def test_replies_and_their_rules(world: World) -> None:
    topic_id = world.topic()["topic_id"]
    world.forum.add_api_key("alice-key", "alice")
    alice = {"Api-Key": "alice-key", "Api-Username": "alice"}
    reply = world.http.post(
        "/posts.json", json={"topic_id": topic_id, "raw": "I have a question on this."}, headers=alice
    )
    assert (reply.status_code, reply.json()["post_number"], reply.json()["username"]) == (200, 2, "alice")
    with pytest.raises(Invalid, match="too similar"):
        world.forum.post("alice", topic_id=topic_id, raw="I have a question on this.")
    world.http.put(f"/t/{topic_id}/status.json", data={"status": "closed", "enabled": "true"})
    refused = world.http.post(
        "/posts.json", json={"topic_id": topic_id, "raw": "Another reply after closing."}, headers=alice
    )
    assert refused.json()["errors"] == [
        "Something has gone wrong. Perhaps this topic was closed or deleted while you were looking at it?"
    ]


def test_update_topic_and_status(world: World) -> None:
    topic_id = world.topic()["topic_id"]
    other = world.forum.add_category("Algebra")["id"]
    updated = world.http.put(
        f"/t/-/{topic_id}.json", json={"title": "Fractions, revisited at length", "category_id": other}
    )
    assert updated.json() == {
        "basic_topic": {
            "id": topic_id,
            "title": "Fractions, revisited at length",
            "fancy_title": "Fractions, revisited at length",
            "slug": "fractions-revisited-at-length",
            "posts_count": 1,
        }
    }
    assert world.forum.topic(topic_id).category_id == other
    short = world.http.put(f"/t/-/{topic_id}.json", json={"title": "Short"})
    assert short.json() == {"errors": ["Title is too short (minimum is 15 characters)"]}
    closed = world.http.put(f"/t/{topic_id}/status.json", data={"status": "closed", "enabled": "true"})
    assert closed.json() == {"success": "OK", "topic_status_update": None}
    assert world.forum.topic(topic_id).closed
    # TopicsController#status compares params[:enabled] with the string "true": JSON true is "off".
    world.http.put(f"/t/{topic_id}/status.json", json={"status": "closed", "enabled": True})
    assert not world.forum.topic(topic_id).closed
    assert (
        world.http.put(f"/t/{topic_id}/status.json", data={"status": "nope", "enabled": "true"}).status_code
        == 400
    )
    assert world.http.put("/t/-/99999.json", json={"title": "Whatever title it is"}).status_code == 403
    assert "topic_edited" in flushed(world).events()


def test_category_topics_come_30_a_page(world: World) -> None:
    for i in range(35):
        world.forum.new_topic(
            "alice",
            category_id=world.category_id,
            title=f"Question number {i:02d} here",
            raw=f"Body of question {i} long enough.",
        )
    pages = [
        world.http.get(f"/c/{world.category_id}.json", params={"page": n}).json()["topic_list"]
        for n in range(3)
    ]
    assert [len(p["topics"]) for p in pages] == [30, 6, 0]
    assert pages[0]["topics"][0]["title"] == "About the Mathematics category"  # pinned first
    assert pages[0]["more_topics_url"].endswith("?page=1") and "more_topics_url" not in pages[1]
    assert pages[0]["topics"][1]["title"] == "Question number 34 here"  # then the latest bumped


# -- groups ----------------------------------------------------------------------------------------------------


def test_groups_create_and_name_rules(world: World) -> None:
    http = world.http
    created = http.post(
        "/admin/groups.json", json={"group": {"name": "math-101", "full_name": "Mathematics 101"}}
    )
    group = created.json()["basic_group"]
    assert (group["name"], group["full_name"], group["user_count"], group["automatic"]) == (
        "math-101",
        "Mathematics 101",
        0,
        False,
    )
    bad = lambda name: http.post("/admin/groups.json", json={"group": {"name": name}}).json()  # noqa: E731
    assert bad("MATH-101") == {"errors": ["Name has already been taken"]}
    assert bad("alice") == {"errors": ["Name has already been taken"]}
    assert bad("ab") == {"errors": ["Name must be at least 3 characters"]}
    assert bad("a" * 21) == {"errors": ["Name must be no more than 20 characters"]}
    assert bad("math 101") == {
        "errors": ["Name must only include numbers, letters, dashes, dots, and underscores"]
    }
    assert bad("-math") == {"errors": ["Name must begin with a letter, a number or an underscore"]}
    assert bad("math__101") == {
        "errors": ["Name must not contain a sequence of 2 or more special chars (.-_)"]
    }
    shown = http.get("/groups/MATH-101.json").json()
    assert shown["group"]["id"] == group["id"] and "math-101" in shown["extras"]["visible_group_names"]
    assert http.get("/groups/nope.json").status_code == 404
    assert flushed(world).events()[-1] == "group_created"


def test_group_members(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    http = world.http
    group_id = world.forum.create_group("math-101").id
    for name in ("carol", "dave", "erin"):
        world.forum.add_user(name, email=f"{name}@example.edu")
    added = http.put(f"/groups/{group_id}/members.json", json={"usernames": "alice,bob,ghost"})
    assert added.json() == {"success": "OK", "usernames": ["alice", "bob"], "emails": []}
    partly = http.put(f"/groups/{group_id}/members.json", json={"usernames": "alice,carol"})
    assert partly.json()["usernames"] == ["alice", "carol"]
    one = http.put(f"/groups/{group_id}/members.json", json={"usernames": "alice"})
    assert (one.status_code, one.json()) == (422, {"errors": ["'alice' is already a member of this group."]})
    many = http.put(f"/groups/{group_id}/members.json", json={"usernames": "bob,alice"})
    assert many.json() == {"errors": ["The following users are already members of this group: alice, bob"]}
    nobody = http.put(f"/groups/{group_id}/members.json", json={"usernames": "ghost"})
    assert nobody.json() == {
        "errors": ["You supplied invalid parameters to the request: usernames"],
        "error_type": "invalid_parameters",
    }
    monkeypatch.setattr(api_people, "ADD_MEMBERS_LIMIT", 1)  # as Discourse's spec stubs the constant
    too_many = http.put(f"/groups/{group_id}/members.json", json={"usernames": "dave,erin"})
    assert too_many.json() == {"errors": ["Maximum 1 users can be added at once"]}
    monkeypatch.undo()
    http.put(f"/groups/{group_id}/members.json", json={"usernames": "dave,erin"})
    page = http.get("/groups/math-101/members.json", params={"offset": 0, "limit": 2}).json()
    assert [m["username"] for m in page["members"]] == ["erin", "dave"]  # username descending
    assert page["meta"] == {"total": 5, "limit": 2, "offset": 0}
    rest = http.get("/groups/math-101/members.json", params={"offset": 2, "limit": 50}).json()
    assert [m["username"] for m in rest["members"]] == ["carol", "bob", "alice"]
    assert http.get("/groups/math-101/members.json", params={"limit": 1001}).status_code == 400
    removed = http.request(
        "DELETE", f"/groups/{group_id}/members.json", json={"usernames": "alice,ghost,bob"}
    )
    assert removed.json() == {"success": "OK", "usernames": ["alice", "bob"], "skipped_usernames": []}
    skipped = http.request("DELETE", f"/groups/{group_id}/members.json", json={"usernames": "alice"})
    assert skipped.json()["skipped_usernames"] == ["alice"]
    assert world.forum.members("math-101") == ["carol", "dave", "erin"]
    events = flushed(world).events()
    assert events.count("user_added_to_group") == 5 and events.count("user_removed_from_group") == 2


# -- users ------------------------------------------------------------------------------------------------------


def test_users(world: World) -> None:
    http = world.http
    shown = http.get("/u/alice.json").json()["user"]
    assert (shown["username"], shown["name"], shown["admin"]) == ("alice", "Alice A", False)
    assert "email" not in shown
    assert http.get("/u/by-external/sso-alice.json").json()["user"]["id"] == shown["id"]
    assert http.get("/u/by-external/nobody.json").status_code == 404
    assert http.get("/u/nobody.json").status_code == 404
    assert http.get("/u/alice/emails.json").json() == {
        "email": "alice@example.edu",
        "secondary_emails": [],
        "unconfirmed_emails": [],
        "associated_accounts": [],
    }
    for i in range(99):
        world.clock.now += 1
        world.forum.add_user(f"learner{i:03d}", email=f"l{i}@example.edu")
    first = http.get("/admin/users/list/active.json", params={"show_emails": "true", "page": 1}).json()
    second = http.get("/admin/users/list/active.json", params={"show_emails": "true", "page": 2}).json()
    assert (len(first), len(second)) == (100, 1)
    assert first[0]["email"].endswith("@example.edu") and "active" in first[0]
    assert http.get("/admin/users/list/active.json", params={"page": 3}).json() == []
    assert "email" not in http.get("/admin/users/list/active.json").json()[0]


# -- badges ------------------------------------------------------------------------------------------------------


def test_badges(world: World) -> None:
    http = world.http
    once = world.forum.add_badge("Course Finisher")
    many = world.forum.add_badge("Helper", multiple_grant=True)
    listed = http.get("/admin/badges.json").json()
    assert {"Course Finisher", "Helper"} <= {b["name"] for b in listed["badges"]}
    granted = http.post("/user_badges.json", json={"username": "alice", "badge_id": once["id"]}).json()
    assert (granted["user_badge"]["badge_id"], granted["badges"][0]["name"]) == (
        once["id"],
        "Course Finisher",
    )
    again = http.post("/user_badges.json", json={"username": "alice", "badge_id": once["id"]})
    assert (again.status_code, again.json()["user_badge"]["id"]) == (200, granted["user_badge"]["id"])
    for _ in range(2):
        http.post("/user_badges.json", json={"username": "alice", "badge_id": many["id"]})
    assert len(world.forum.user_badges_of("alice")) == 3
    assert http.post("/user_badges.json", json={"username": "alice", "badge_id": 9999}).status_code == 404
    assert (
        http.post("/user_badges.json", json={"username": "nobody", "badge_id": once["id"]}).status_code == 404
    )
    bad_reason = http.post(
        "/user_badges.json",
        json={"username": "bob", "badge_id": once["id"], "reason": "https://elsewhere.example/t/x/1"},
    )
    assert bad_reason.json() == {
        "failed": "FAILED",
        "message": "External or invalid discourse link is not allowed in badge reason",
    }
    mine = http.get("/user-badges/alice.json").json()
    assert len(mine["user_badges"]) == 3 and {b["id"] for b in mine["badges"]} == {once["id"], many["id"]}
    assert flushed(world).events().count("user_badge_granted") == 3


def test_site_and_about(world: World) -> None:
    site = world.http.get("/site.json").json()
    assert site["default_archetype"] == "regular" and "Mathematics" in {c["name"] for c in site["categories"]}
    about = world.http.get("/about.json").json()["about"]
    assert about["version"] == world.forum.version and about["stats"]["user_count"] == 2


# -- webhooks ------------------------------------------------------------------------------------------------------


def test_webhook_headers_body_and_signature(world: World) -> None:
    created = world.topic(external_id="lesson-9")
    sink = flushed(world)
    body, headers = next((b, h) for b, h in sink.received if h["X-Discourse-Event"] == "post_created")
    assert {
        k: v for k, v in headers.items() if k not in ("X-Discourse-Event-Id", "X-Discourse-Event-Signature")
    } == {
        "Accept": "*/*",
        "Connection": "close",
        "Content-Length": str(len(body)),
        "Content-Type": "application/json",
        "User-Agent": f"Discourse/{world.forum.version}",
        "X-Discourse-Instance": world.forum.base_url,
        "X-Discourse-Event-Type": "post",
        "X-Discourse-Event": "post_created",
    }
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Discourse-Event-Signature"], expected)
    post = orjson.loads(body)["post"]
    assert (post["id"], post["raw"], post["topic_id"], post["post_number"], post["version"]) == (
        created["id"],
        BODY,
        created["topic_id"],
        1,
        1,
    )
    topic = next(
        orjson.loads(b)["topic"] for b, h in sink.received if h["X-Discourse-Event"] == "topic_created"
    )
    assert (topic["external_id"], topic["created_by"]["username"], topic["posts_count"]) == (
        "lesson-9",
        "system",
        1,
    )
    user = next(orjson.loads(b)["user"] for b, h in sink.received if h["X-Discourse-Event"] == "user_created")
    assert (user["username"], user["email"], user["external_id"]) == (
        "alice",
        "alice@example.edu",
        "sso-alice",
    )
    assert sink.events()[-2:] == ["topic_created", "post_created"]


def test_webhooks_retry_with_a_new_event_id(world: World) -> None:
    assert world.forum.wait_for_webhooks(5)
    world.sink.received.clear()
    world.sink.statuses[:] = [500, 503]
    world.forum.edit_profile("alice", name="Alice Anders")
    sink = flushed(world)
    assert sink.events() == ["user_updated"] * 3
    ids = [h["X-Discourse-Event-Id"] for _, h in sink.received]
    assert len(set(ids)) == 3 and len({b for b, _ in sink.received}) == 1
    assert [d.status for d in world.forum.deliveries[-3:]] == [500, 503, 200]
    world.sink.statuses[:] = [500, 500, 500]
    world.forum.ping()
    assert flushed(world).received[-1][0] == b'{"ping":"OK"}'
    assert [d.status for d in world.forum.deliveries if d.event_type == "ping"] == [
        500,
        500,
        500,
    ]  # 2 retries


def test_webhook_faults_and_filters(world: World) -> None:
    forum, sink = world.forum, world.sink
    assert forum.wait_for_webhooks(5)
    sink.received.clear()
    forum.drop_next_webhooks(1)
    forum.edit_profile("alice", title="Lost")
    forum.hold_webhooks()
    forum.edit_profile("bob", title="First")
    forum.edit_profile("alice", title="Second")
    assert forum.wait_for_webhooks(5) and sink.received == []
    forum.release_webhooks("reverse")
    titles = [orjson.loads(b)["user"]["title"] for b, _ in flushed(world).received]
    assert titles == ["Second", "First"]
    forum.webhook("http://receiver.invalid/hook", SECRET, events=["post"])
    sink.received.clear()
    topic_id = forum.new_topic(
        "bob",
        category_id=world.category_id,
        title="Only posts are wanted",
        raw="So the topic event stays home.",
    )["topic_id"]
    forum.edit_post(forum.topic(topic_id).post_ids[0], "An edited body that is long enough.")
    assert flushed(world).events() == ["post_created", "post_edited"]
    assert orjson.loads(sink.received[-1][0])["post"]["version"] == 2


def test_webhooks_over_real_http() -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with DiscourseSimulator() as forum:
            forum.webhook(f"http://127.0.0.1:{server.server_address[1]}/hooks", SECRET)
            forum.ping()
            assert forum.wait_for_webhooks(5)
        headers, body = received[0]
        assert (headers["X-Discourse-Event-Type"], body) == ("ping", b'{"ping":"OK"}')
        assert (
            headers["X-Discourse-Event-Signature"]
            == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        )
    finally:
        server.shutdown()
        server.server_close()


# -- faults --------------------------------------------------------------------------------------------------------


def test_faults_and_request_log(world: World) -> None:
    world.forum.fail_next(1, status=502, path_prefix="/site")
    assert world.http.get("/about.json").status_code == 200
    assert world.http.get("/site.json").status_code == 502
    assert world.http.get("/site.json").status_code == 200
    with world.forum.down():
        outage = world.http.get("/site.json")
        assert outage.status_code == 503 and outage.headers["Content-Type"].startswith("text/html")
    world.forum.fail_next(1, status=429)
    limited = world.http.get("/site.json")
    assert limited.json()["error_type"] == "rate_limit" and limited.headers["Retry-After"] == "1"
    last = world.forum.requests[-1]
    assert (last.method, last.path, last.status) == ("GET", "/site.json", 429)
    assert world.http.get("/nothing/here.json").json() == NOT_FOUND
    assert world.forum.errors == []


def test_driving_methods(world: World) -> None:
    forum = world.forum
    started = time.monotonic()
    topic = forum.new_topic(
        "alice",
        category_id=world.category_id,
        title="Alice asks about limits",
        raw="What is a limit, really? Thanks.",
    )
    reply = forum.post("bob", topic_id=topic["topic_id"], raw="It is where the function heads.")
    assert (reply["post_number"], reply["username"]) == (2, "bob")
    badge = forum.add_badge("Good Question")
    forum.grant("alice", badge["id"])
    forum.grant("alice", badge["id"])
    assert [ub.badge_id for ub in forum.user_badges_of("alice")] == [badge["id"]]
    forum.join_group("trust_level_0")  # nobody: no change
    assert (
        forum.group_named("TRUST_LEVEL_0") is not None
        and forum.category(world.category_id).name == "Mathematics"
    )
    with pytest.raises(Invalid, match="Title is too short"):
        forum.new_topic(
            "alice", category_id=world.category_id, title="Short", raw="Long enough body text here."
        )
    assert flushed(world).events()[-4:] == [
        "topic_created",
        "post_created",
        "post_created",
        "user_badge_granted",
    ]
    assert time.monotonic() - started < 2
