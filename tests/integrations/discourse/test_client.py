"""The Discourse REST client against a Discourse-like httpx.MockTransport: no network, no
database, no real sleeping (the bucket and the retries run on a fake clock)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from eduvault.integrations.discourse.client import (
    MAX_BODY_BYTES,
    MEMBERS_PER_REQUEST,
    DiscourseClient,
    DiscourseRateLimited,
    DiscourseRefused,
)
from eduvault.integrations.discourse.pacing import TokenBucket
from eduvault.kernel.errors import SourceError, SourceUnavailable

BASE = "https://forum.test"
KEY = "k3y-0f-the-admin"

Handler = Callable[[httpx.Request], httpx.Response]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Forum:
    """Routes by (method, path); canned answers in ``queue`` are served first. With
    ``per_minute``, it counts requests over a sliding 60 s on ``clock`` like Discourse's
    RateLimiter and answers 429 beyond it."""

    def __init__(self, clock: Clock, per_minute: int | None = None) -> None:
        self.clock = clock
        self.per_minute = per_minute
        self.requests: list[httpx.Request] = []
        self.stamps: list[float] = []
        self.routes: dict[tuple[str, str], Handler] = {}
        self.queue: list[httpx.Response | Exception] = []
        self.limited = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        now = self.clock()
        if self.per_minute is not None:
            recent = [t for t in self.stamps if now - t < 60]
            if len(recent) >= self.per_minute:
                self.limited += 1
                return httpx.Response(429, json=rate_limited(60 - (now - recent[0])))
            self.stamps.append(now)
        if self.queue:
            answer = self.queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(
                404,
                json={
                    "errors": ["The requested URL or resource could not be found."],
                    "error_type": "not_found",
                },
            )
        return handler(request)

    def route(self, method: str, path: str, handler: Handler | dict[str, Any] | list[Any]) -> None:
        if not callable(handler):
            body = handler
            self.routes[(method, path)] = lambda request: httpx.Response(200, json=body)
        else:
            self.routes[(method, path)] = handler


def rate_limited(wait: float) -> dict[str, Any]:
    return {
        "errors": [f"You’ve performed this action too many times. Please wait {int(wait)} seconds."],
        "error_type": "rate_limit",
        "extras": {"wait_seconds": wait, "time_left": f"{int(wait)} seconds"},
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def forum(clock: Clock) -> Forum:
    return Forum(clock)


def make_client(forum: Forum, clock: Clock, *, per_minute: int = 60, **kwargs: Any) -> DiscourseClient:
    bucket = TokenBucket(per_minute, clock=clock, sleep=clock.sleep)
    return DiscourseClient(
        BASE, KEY, "system", bucket=bucket, sleep=clock.sleep, transport=httpx.MockTransport(forum), **kwargs
    )


@pytest.fixture
def client(forum: Forum, clock: Clock) -> DiscourseClient:
    return make_client(forum, clock)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


# -- headers and credentials ---------------------------------------------------------------


def test_every_request_carries_the_key_and_username_headers_and_json(
    client: DiscourseClient, forum: Forum
) -> None:
    forum.route("GET", "/about.json", {"about": {"version": "3.4.0"}})
    forum.route("POST", "/categories.json", {"category": {"id": 5, "name": "Maths"}})
    forum.route("GET", "/u/ana.json", {"user": {"id": 2, "username": "ana"}})

    assert client.about()["version"] == "3.4.0"
    assert client.create_category("Maths", slug="maths")["id"] == 5
    assert client.user("ana") == {"id": 2, "username": "ana"}

    for request in forum.requests:
        assert request.headers["Api-Key"] == KEY
        assert request.headers["Api-Username"] == "system"
        assert request.headers["Accept"] == "application/json"
        assert KEY not in str(request.url)
    post = forum.requests[1]
    assert post.headers["Content-Type"] == "application/json"
    assert body_of(post) == {"name": "Maths", "color": "0088CC", "text_color": "FFFFFF", "slug": "maths"}
    assert KEY not in post.content.decode()
    assert KEY not in repr(client)


def test_subfolder_base_url_keeps_its_path(forum: Forum, clock: Clock) -> None:
    forum.route("GET", "/forum/about.json", {"about": {"version": "3.4.0"}})
    bucket = TokenBucket(60, clock=clock, sleep=clock.sleep)
    with DiscourseClient(
        BASE + "/forum/",
        KEY,
        "system",
        bucket=bucket,
        sleep=clock.sleep,
        transport=httpx.MockTransport(forum),
    ) as client:
        assert client.about() == {"version": "3.4.0"}


def test_usernames_and_names_in_paths_are_quoted(client: DiscourseClient, forum: Forum) -> None:
    client.user("a/b?c")
    client.user_by_external_id("ext 1/2")
    assert forum.requests[0].url.raw_path == b"/u/a%2Fb%3Fc.json"
    assert forum.requests[1].url.raw_path == b"/u/by-external/ext%201%2F2.json"


def test_a_key_and_a_username_are_required() -> None:
    with pytest.raises(ValueError):
        DiscourseClient(BASE, " ", "system")
    with pytest.raises(ValueError):
        DiscourseClient(BASE, KEY, "")


# -- pacing and rate limits ----------------------------------------------------------------


def test_61_requests_at_60_a_minute_wait_for_the_bucket_and_none_is_refused(clock: Clock) -> None:
    forum = Forum(clock, per_minute=60)
    forum.route("GET", "/site.json", {"categories": []})
    client = make_client(forum, clock, per_minute=60)

    for _ in range(61):
        client.site()

    assert forum.limited == 0
    assert len(forum.requests) == 61
    assert sum(clock.sleeps) > 60  # 61 requests took more than a minute
    stamps = forum.stamps
    for i in range(len(stamps)):
        assert len([t for t in stamps[i:] if t - stamps[i] < 60]) <= 60


def test_a_429_waits_extras_wait_seconds_and_tries_again(
    client: DiscourseClient, forum: Forum, clock: Clock
) -> None:
    forum.queue.append(httpx.Response(429, json=rate_limited(7), headers={"Retry-After": "30"}))
    forum.route("GET", "/site.json", {"ok": True})

    assert client.site() == {"ok": True}
    assert 7 in clock.sleeps
    assert 30 not in clock.sleeps
    assert len(forum.requests) == 2


def test_a_429_with_only_retry_after(client: DiscourseClient, forum: Forum, clock: Clock) -> None:
    forum.queue.append(httpx.Response(429, text="Slow down", headers={"Retry-After": "12"}))
    forum.route("GET", "/site.json", {"ok": True})

    assert client.site() == {"ok": True}
    assert 12 in clock.sleeps


def test_a_429_with_an_http_date(client: DiscourseClient, forum: Forum, clock: Clock) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    forum.queue.append(httpx.Response(429, headers={"Retry-After": later}))
    forum.route("GET", "/site.json", {"ok": True})

    assert client.site() == {"ok": True}
    assert any(15 <= s <= 21 for s in clock.sleeps)


def test_a_429_saying_nothing_waits_ten_seconds(client: DiscourseClient, forum: Forum, clock: Clock) -> None:
    forum.queue.append(httpx.Response(429))
    forum.route("GET", "/site.json", {"ok": True})
    client.site()
    assert 10 in clock.sleeps


def test_a_persistent_429_raises_rate_limited_with_retry_after(client: DiscourseClient, forum: Forum) -> None:
    forum.queue += [httpx.Response(429, json=rate_limited(9)) for _ in range(3)]

    with pytest.raises(DiscourseRateLimited) as raised:
        client.site()
    assert raised.value.retry_after == 9
    assert isinstance(raised.value, SourceError)
    assert len(forum.requests) == 3  # attempts=3


# -- server errors -------------------------------------------------------------------------


def test_5xx_then_success(client: DiscourseClient, forum: Forum, clock: Clock) -> None:
    forum.queue += [httpx.Response(502, text="<html>Bad gateway</html>"), httpx.ConnectError("refused")]
    forum.route("GET", "/site.json", {"ok": True})

    assert client.site() == {"ok": True}
    assert len(forum.requests) == 3
    assert len([s for s in clock.sleeps if s > 0]) >= 2  # backed off twice


def test_5xx_exhausted_raises_source_error(client: DiscourseClient, forum: Forum) -> None:
    forum.queue += [httpx.Response(503, text="down") for _ in range(3)]

    with pytest.raises(SourceUnavailable) as raised:
        client.site()
    assert isinstance(raised.value, SourceError)
    assert "503" in str(raised.value)
    assert len(forum.requests) == 3


def test_transport_errors_exhausted(client: DiscourseClient, forum: Forum) -> None:
    forum.queue += [httpx.ReadTimeout("slow") for _ in range(3)]
    with pytest.raises(SourceUnavailable, match="in time"):
        client.site()


def test_a_non_json_answer_is_a_source_error(client: DiscourseClient, forum: Forum) -> None:
    forum.route("GET", "/site.json", lambda r: httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(SourceError, match="not JSON"):
        client.site()


def test_an_oversized_answer_is_refused(client: DiscourseClient, forum: Forum) -> None:
    forum.route(
        "GET", "/site.json", lambda r: httpx.Response(200, content=b"[" + b" " * MAX_BODY_BYTES + b"]")
    )
    with pytest.raises(SourceError, match="refused"):
        client.site()


# -- refusals and lookups ------------------------------------------------------------------


def test_422_is_refused_with_discourses_message(client: DiscourseClient, forum: Forum) -> None:
    forum.route(
        "POST",
        "/posts.json",
        lambda r: httpx.Response(
            422, json={"action": "create_post", "errors": ["Title is too short (minimum is 15 characters)"]}
        ),
    )
    with pytest.raises(DiscourseRefused) as raised:
        client.create_topic(title="Short", raw="Some body text here", category_id=3)
    assert raised.value.forum_status == 422
    assert "Title is too short" in str(raised.value)
    assert len(forum.requests) == 1  # not retried
    assert body_of(forum.requests[0]) == {"title": "Short", "raw": "Some body text here", "category": 3}


def test_403_failed_json_message(client: DiscourseClient, forum: Forum) -> None:
    forum.route(
        "POST",
        "/user_badges.json",
        lambda r: httpx.Response(403, json={"failed": "FAILED", "message": "nope"}),
    )
    with pytest.raises(DiscourseRefused) as raised:
        client.grant_badge(username="ana", badge_id=3)
    assert raised.value.forum_status == 403
    assert "nope" in str(raised.value)


def test_404_lookups_answer_none(client: DiscourseClient, forum: Forum) -> None:
    assert client.category(9) is None
    assert client.topic(9) is None
    assert client.topic_by_external_id("course-1") is None
    assert client.group("nobody") is None
    assert client.user("nobody") is None
    assert client.user_by_external_id("x1") is None


def test_404_elsewhere_is_refused(client: DiscourseClient, forum: Forum) -> None:
    with pytest.raises(DiscourseRefused) as raised:
        client.user_emails("nobody")
    assert raised.value.forum_status == 404


# -- redirects -----------------------------------------------------------------------------


def test_topic_by_external_id_follows_the_301_on_the_same_host(client: DiscourseClient, forum: Forum) -> None:
    forum.route(
        "GET",
        "/t/external_id/course-1.json",
        lambda r: httpx.Response(301, headers={"Location": f"{BASE}/t/algebra-week-1/12.json"}),
    )
    forum.route("GET", "/t/algebra-week-1/12.json", {"id": 12, "title": "Algebra week 1"})

    assert client.topic_by_external_id("course-1") == {"id": 12, "title": "Algebra week 1"}
    assert forum.requests[1].headers["Api-Key"] == KEY
    assert forum.requests[1].url.path == "/t/algebra-week-1/12.json"


def test_a_relative_location_is_followed(client: DiscourseClient, forum: Forum) -> None:
    forum.route(
        "GET",
        "/t/external_id/c-2.json",
        lambda r: httpx.Response(301, headers={"Location": "/t/slug/13.json"}),
    )
    forum.route("GET", "/t/slug/13.json", {"id": 13})
    assert client.topic_by_external_id("c-2") == {"id": 13}


def test_a_redirect_to_another_host_is_not_followed(client: DiscourseClient, forum: Forum) -> None:
    forum.route(
        "GET",
        "/t/external_id/course-1.json",
        lambda r: httpx.Response(301, headers={"Location": "https://evil.test/t/x/12.json"}),
    )
    with pytest.raises(SourceError, match="another host"):
        client.topic_by_external_id("course-1")
    assert [r.url.host for r in forum.requests] == ["forum.test"]


def test_other_requests_never_follow_redirects(client: DiscourseClient, forum: Forum) -> None:
    forum.route("GET", "/t/5.json", lambda r: httpx.Response(301, headers={"Location": f"{BASE}/t/x/5.json"}))
    with pytest.raises(SourceError, match="redirected"):
        client.topic(5)
    assert len(forum.requests) == 1


# -- paging --------------------------------------------------------------------------------


def test_group_members_pages_by_offset_until_the_total(client: DiscourseClient, forum: Forum) -> None:
    everyone = [{"id": i, "username": f"u{i}"} for i in range(1, 2401)]

    def members(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        page = everyone[offset : offset + min(limit, 1000)]  # Discourse's limit is at most 1,000
        return httpx.Response(
            200, json={"members": page, "owners": [], "meta": {"total": 2400, "offset": offset}}
        )

    forum.route("GET", "/groups/course-1/members.json", members)
    got = list(client.group_members("course-1"))
    assert [m["id"] for m in got] == list(range(1, 2401))
    assert len(forum.requests) == 3  # 1,000 a page


def test_group_members_stops_on_an_empty_page_even_if_the_total_lies(
    client: DiscourseClient, forum: Forum
) -> None:
    def members(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        page = [{"id": 1, "username": "a"}] if offset == 0 else []
        return httpx.Response(200, json={"members": page, "meta": {"total": 999}})

    forum.route("GET", "/groups/g/members.json", members)
    assert len(list(client.group_members("g"))) == 1
    assert len(forum.requests) == 2


def test_users_pages_from_1_until_an_empty_page(client: DiscourseClient, forum: Forum) -> None:
    pages = {1: [{"id": i, "email": f"{i}@x"} for i in range(100)], 2: [{"id": 100, "email": "100@x"}], 3: []}

    def users(request: httpx.Request) -> httpx.Response:
        assert request.url.params["show_emails"] == "true"
        return httpx.Response(200, json=pages[int(request.url.params["page"])])

    forum.route("GET", "/admin/users/list/active.json", users)
    assert len(list(client.users())) == 101
    assert [r.url.params["page"] for r in forum.requests] == ["1", "2", "3"]


def test_category_topics_pages_from_0_until_no_topics(client: DiscourseClient, forum: Forum) -> None:
    pages = {0: [{"id": 1}, {"id": 2}], 1: [{"id": 2}, {"id": 3}], 2: []}

    def topics(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"topic_list": {"topics": pages[int(request.url.params["page"])]}})

    forum.route("GET", "/c/7.json", topics)
    assert [t["id"] for t in client.category_topics(7)] == [1, 2, 3]
    assert [r.url.params["page"] for r in forum.requests] == ["0", "1", "2"]


def test_category_topics_stops_when_topic_list_has_no_topics_key(
    client: DiscourseClient, forum: Forum
) -> None:
    forum.route("GET", "/c/7.json", {"topic_list": {}})
    assert list(client.category_topics(7)) == []


def test_topic_posts_beyond_the_first_chunk_come_20_at_a_time(client: DiscourseClient, forum: Forum) -> None:
    ids = list(range(1001, 1046))  # 45 posts
    posts = {i: {"id": i, "post_number": n + 1} for n, i in enumerate(ids)}
    forum.route(
        "GET",
        "/t/9.json",
        {"id": 9, "post_stream": {"posts": [posts[i] for i in ids[:20]], "stream": ids}},
    )

    def more(request: httpx.Request) -> httpx.Response:
        asked = [int(i) for i in request.url.params.get_list("post_ids[]")]
        assert 0 < len(asked) <= 20
        return httpx.Response(200, json={"post_stream": {"posts": [posts[i] for i in asked]}, "id": 9})

    forum.route("GET", "/t/9/posts.json", more)
    got = list(client.topic_posts(9))
    assert [p["id"] for p in got] == ids
    assert len(forum.requests) == 3  # the topic, then 20 + 5


def test_categories_include_subcategories(client: DiscourseClient, forum: Forum) -> None:
    forum.route(
        "GET",
        "/categories.json",
        {"category_list": {"categories": [{"id": 1, "subcategory_list": [{"id": 2}]}, {"id": 3}]}},
    )
    assert [c["id"] for c in client.categories()] == [1, 2, 3]
    assert forum.requests[0].url.params["include_subcategories"] == "true"


# -- groups --------------------------------------------------------------------------------


def _members_route(forum: Forum, name: str, usernames: list[str]) -> None:
    def members(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        page = [{"id": n, "username": u} for n, u in enumerate(usernames)][offset : offset + limit]
        return httpx.Response(200, json={"members": page, "meta": {"total": len(usernames)}})

    forum.route("GET", f"/groups/{name}/members.json", members)


def test_add_members_skips_existing_members_and_batches(client: DiscourseClient, forum: Forum) -> None:
    forum.route("GET", "/groups/course-1.json", {"group": {"id": 41, "name": "course-1"}})
    _members_route(forum, "course-1", ["Ana", "bea"])
    sent: list[list[str]] = []

    def add(request: httpx.Request) -> httpx.Response:
        names = body_of(request)["usernames"].split(",")
        sent.append(names)
        return httpx.Response(200, json={"success": "OK", "usernames": names, "emails": []})

    forum.route("PUT", "/groups/41/members.json", add)
    group = client.group("course-1")
    assert group is not None
    wanted = ["ana", "BEA"] + [f"learner{i}" for i in range(MEMBERS_PER_REQUEST + 5)] + ["learner0"]

    added = client.add_group_members(group["id"], wanted)

    assert len(added) == MEMBERS_PER_REQUEST + 5
    assert [len(batch) for batch in sent] == [MEMBERS_PER_REQUEST, 5]
    flat = [u.lower() for batch in sent for u in batch]
    assert "ana" not in flat and "bea" not in flat
    assert len(flat) == len(set(flat))


def test_add_members_sends_nothing_when_all_are_members(client: DiscourseClient, forum: Forum) -> None:
    _members_route(forum, "g", ["ana"])
    assert client.add_group_members(41, ["ana"], group_name="g") == []
    assert all(r.method == "GET" for r in forum.requests)


def test_add_members_finds_the_group_name_by_id(client: DiscourseClient, forum: Forum) -> None:
    forum.route("GET", "/groups/search.json", [{"id": 40, "name": "other"}, {"id": 41, "name": "course-1"}])
    _members_route(forum, "course-1", [])
    forum.route("PUT", "/groups/41/members.json", {"success": "OK", "usernames": ["ana"], "emails": []})
    assert client.add_group_members(41, ["ana"]) == ["ana"]


def test_add_members_passes_over_a_422_when_someone_else_added_them(
    client: DiscourseClient, forum: Forum
) -> None:
    state: list[str] = []
    _members_route(forum, "g", state)

    def add(request: httpx.Request) -> httpx.Response:
        state.append("ana")  # added meanwhile by someone else
        return httpx.Response(422, json={"errors": ["ana is already a member of this group."]})

    forum.route("PUT", "/groups/41/members.json", add)
    assert client.add_group_members(41, ["ana"], group_name="g") == []


def test_add_members_raises_other_refusals(client: DiscourseClient, forum: Forum) -> None:
    _members_route(forum, "g", [])
    forum.route(
        "PUT",
        "/groups/41/members.json",
        lambda r: httpx.Response(400, json={"errors": ["invalid parameters: usernames"]}),
    )
    with pytest.raises(DiscourseRefused) as raised:
        client.add_group_members(41, ["ghost"], group_name="g")
    assert raised.value.forum_status == 400


def test_remove_members_in_batches_with_a_json_body(client: DiscourseClient, forum: Forum) -> None:
    sent: list[str] = []

    def remove(request: httpx.Request) -> httpx.Response:
        sent.append(body_of(request)["usernames"])
        names = body_of(request)["usernames"].split(",")
        return httpx.Response(
            200, json={"success": "OK", "usernames": names[:1], "skipped_usernames": names[1:]}
        )

    forum.route("DELETE", "/groups/41/members.json", remove)
    removed = client.remove_group_members(41, [f"u{i}" for i in range(MEMBERS_PER_REQUEST + 1)])
    assert removed == ["u0", f"u{MEMBERS_PER_REQUEST}"]
    assert len(sent) == 2


# -- the rest of the surface ---------------------------------------------------------------


def test_topic_writes(client: DiscourseClient, forum: Forum) -> None:
    forum.route("POST", "/posts.json", {"id": 500, "topic_id": 12, "post_number": 1})
    forum.route("PUT", "/t/-/12.json", {"basic_topic": {"id": 12, "title": "New title here"}})
    forum.route("PUT", "/t/12/status.json", {"success": "OK", "topic_status_update": None})

    post = client.create_topic(title="A title long enough", raw="Body " * 5, category_id=3, external_id="c-1")
    assert post["topic_id"] == 12
    assert body_of(forum.requests[0])["external_id"] == "c-1"
    assert client.update_topic(12, title="New title here")["title"] == "New title here"
    assert client.set_topic_status(12, status="closed", enabled=True) is None
    assert body_of(forum.requests[2]) == {"status": "closed", "enabled": "true"}


def test_groups_badges_and_users(client: DiscourseClient, forum: Forum) -> None:
    forum.route("POST", "/admin/groups.json", {"basic_group": {"id": 41, "name": "course-1"}})
    forum.route("GET", "/admin/badges.json", {"badges": [{"id": 100, "name": "Finisher"}], "badge_types": []})
    forum.route("GET", "/user-badges/ana.json", {"user_badges": [{"id": 1, "badge_id": 100}], "badges": []})
    forum.route("POST", "/user_badges.json", {"user_badge": {"id": 2, "badge_id": 100}, "badges": []})
    forum.route(
        "GET", "/u/ana/emails.json", {"email": "ana@x", "secondary_emails": [], "unconfirmed_emails": []}
    )
    forum.route("GET", "/u/by-external/e1.json", {"user": {"id": 2, "username": "ana"}})
    forum.route("GET", "/c/3/show.json", {"category": {"id": 3}})

    assert client.create_group(name="course-1", full_name="Course 1")["id"] == 41
    assert body_of(forum.requests[0]) == {
        "group": {"name": "course-1", "full_name": "Course 1", "visibility_level": 0}
    }
    assert client.badges() == [{"id": 100, "name": "Finisher"}]
    assert client.user_badges("ana")[0]["badge_id"] == 100
    assert client.grant_badge(username="ana", badge_id=100)["id"] == 2
    assert client.user_emails("ana")["email"] == "ana@x"
    assert client.user_by_external_id("e1") == {"id": 2, "username": "ana"}
    assert client.category(3) == {"id": 3}


def test_add_members_raises_a_422_when_they_are_still_not_members(
    client: DiscourseClient, forum: Forum
) -> None:
    _members_route(forum, "g", [])
    forum.route(
        "PUT", "/groups/41/members.json", lambda r: httpx.Response(422, json={"errors": ["Something else"]})
    )
    with pytest.raises(DiscourseRefused, match="Something else"):
        client.add_group_members(41, ["ana"], group_name="g")


def test_one_log_line_per_failed_request_none_per_success(client: DiscourseClient, forum: Forum) -> None:
    from structlog.testing import capture_logs

    forum.queue.append(httpx.Response(500, json={"errors": ["boom"]}))
    forum.route("GET", "/site.json", {"ok": True})
    with capture_logs() as logs:
        client.site()
        client.site()
    assert [entry["event"] for entry in logs] == ["discourse.request_failed"]
    assert logs[0]["status"] == 500 and logs[0]["retrying"] is True
    assert KEY not in repr(logs)


def test_a_mass_award_names_everyone_in_one_csv_and_never_regrants_holders(
    client: DiscourseClient, forum: Forum
) -> None:
    received: list[httpx.Request] = []

    def award(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200, content=b"")  # Discourse: head :ok, the grants run in a job

    forum.route("POST", "/admin/badges/award/7.json", award)
    sent = client.mass_award(7, [f"learner{i}" for i in range(2000)] + ["learner0"])
    assert sent == 1 and len(received) == 1
    request = received[0]
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    body = request.content.decode()
    assert 'name="file"; filename="usernames.csv"' in body and "learner1999\n" in body
    assert body.count("learner0\n") == 1  # each person once
    assert 'name="grant_existing_holders"' in body and "false" in body
    assert request.headers["Api-Key"] == KEY
