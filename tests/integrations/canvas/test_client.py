"""The Canvas REST client against a Canvas-like httpx.MockTransport: no network, no database."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from eduvault import __version__
from eduvault.integrations.canvas.client import CanvasClient
from eduvault.kernel.errors import (
    CourseNotFoundAtSource,
    SourceError,
    SourceRateLimited,
    SourceRejected,
    SourceUnavailable,
)

BASE = "https://canvas.test"
TOKEN = "7~sEcReTtOkEn"
RATE_LIMITED_BODY = "403 Forbidden (Rate Limit Exceeded)\n"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeCanvas:
    """Routes by (method, path); canned answers in ``queue`` are served first."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Handler] = {}
        self.queue: list[httpx.Response | Exception] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.queue:
            answer = self.queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(
                404, json={"errors": [{"message": "The specified resource does not exist."}]}
            )
        return handler(request)

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def list(self, path: str, items: list[Any], *, per_page: int | None = None, **headers: str) -> None:
        """Serve ``items`` paginated like Canvas: opaque bookmarks in absolute Link URLs."""

        def handler(request: httpx.Request) -> httpx.Response:
            params = dict(request.url.params)
            size = per_page or int(params.get("per_page", 10))
            start = 0
            if "page" in params:
                start = int(base64.urlsafe_b64decode(params["page"].removeprefix("bookmark:")))
            links = [f'<{request.url}>; rel="current"']
            if start + size < len(items):
                bookmark = base64.urlsafe_b64encode(str(start + size).encode()).decode()
                nxt = request.url.copy_merge_params({"page": f"bookmark:{bookmark}"})
                links.append(f'<{nxt}>; rel="next"')
            links.append(f'<{request.url.copy_remove_param("page")}>; rel="first"')
            return httpx.Response(
                200, json=items[start : start + size], headers={"Link": ",".join(links), **headers}
            )

        self.route("GET", path, handler)


def page(body: Any, link: str | None = None, status: int = 200, **headers: str) -> httpx.Response:
    if link is not None:
        headers["Link"] = link
    return httpx.Response(status, json=body, headers=headers)


@pytest.fixture
def canvas() -> FakeCanvas:
    return FakeCanvas()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
def make(canvas, sleeps, now):
    clients: list[CanvasClient] = []

    def make(**kwargs: Any) -> CanvasClient:
        kwargs.setdefault("sleep", sleeps.append)
        kwargs.setdefault("clock", lambda: now[0])
        client = CanvasClient(BASE, TOKEN, transport=httpx.MockTransport(canvas), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make) -> CanvasClient:
    return make()


# -- requests and pagination --------------------------------------------------------------


def test_requests_carry_the_token_and_our_user_agent_but_repr_hides_the_token(client, canvas):
    canvas.route("GET", "/api/v1/courses/42", lambda r: page({"id": 42, "name": "Biology"}))
    assert client.course(42) == {"id": 42, "name": "Biology"}
    (request,) = canvas.requests
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["User-Agent"] == f"eduvault/{__version__}"
    assert TOKEN not in repr(client)
    assert repr(client) == "CanvasClient('https://canvas.test/')"


def test_a_base_url_with_the_api_prefix_means_the_same(canvas, make):
    canvas.route("GET", "/api/v1/courses/1", lambda r: page({"id": 1}))
    for base in (BASE, BASE + "/", BASE + "/api/v1", BASE + "/api/v1/"):
        client = CanvasClient(base, TOKEN, transport=httpx.MockTransport(canvas))
        assert client.course(1) == {"id": 1}
        client.close()


def test_sis_ids_are_quoted_into_one_path_segment(client, canvas):
    canvas.route("GET", "/api/v1/courses/sis_course_id:BIO 101", lambda r: page({"id": 7}))
    assert client.course("sis_course_id:BIO 101") == {"id": 7}
    assert canvas.requests[0].url.raw_path == b"/api/v1/courses/sis_course_id:BIO%20101"


def test_lists_follow_opaque_next_links_from_the_first_page_with_per_page_100(client, canvas):
    courses = [{"id": i} for i in range(250)]
    canvas.list("/api/v1/courses", courses)
    assert client.courses() == courses
    assert len(canvas.requests) == 3
    assert canvas.requests[0].url.params["per_page"] == "100"
    # Later pages are the links exactly as Canvas gave them: bookmarks, one per_page.
    assert canvas.requests[1].url.params["page"].startswith("bookmark:")
    assert canvas.requests[1].url.params.get_list("per_page") == ["100"]


@pytest.mark.parametrize(
    "spelling",
    [
        '<{url}>; rel="next"',
        "<{url}>;rel=next",
        "<{url}> ;  rel = 'next'",
        '<{url}>; rel="next last"',
        '<https://canvas.test/api/v1/courses?page=1>; rel="current", <{url}>; REL="next"',
    ],
)
def test_the_link_header_is_parsed_leniently(client, canvas, spelling):
    second = f"{BASE}/api/v1/courses?page=bookmark:Mg&per_page=100"
    canvas.queue = [
        httpx.Response(200, json=[{"id": 1}], headers=[("link", spelling.format(url=second))]),
        page([{"id": 2}]),
    ]
    assert client.courses() == [{"id": 1}, {"id": 2}]
    assert str(canvas.requests[1].url) == second


def test_several_link_headers_are_read_together(client, canvas):
    second = f"{BASE}/api/v1/courses?page=2"
    canvas.queue = [
        httpx.Response(
            200,
            json=[{"id": 1}],
            headers=[
                ("Link", f'<{BASE}/api/v1/courses?page=1>; rel="current"'),
                ("Link", f'<{second}>; rel="next"'),
            ],
        ),
        page([{"id": 2}]),
    ]
    assert client.courses() == [{"id": 1}, {"id": 2}]


def test_a_next_link_to_another_host_is_refused(client, canvas):
    canvas.queue = [page([{"id": 1}], link='<https://evil.test/api/v1/courses?page=2>; rel="next"')]
    with pytest.raises(SourceError, match="another host"):
        client.courses()
    assert len(canvas.requests) == 1  # the token never went there


def test_a_next_link_that_loops_is_refused(client, canvas):
    loop = f"{BASE}/api/v1/courses?page=bookmark:AA"
    canvas.queue = [
        page([{"id": 1}], link=f'<{loop}>; rel="next"'),
        page([{"id": 2}], link=f'<{loop}>; rel="next"'),
    ]
    with pytest.raises(SourceError, match="loop"):
        client.courses()


def test_an_answer_that_is_not_a_list_or_not_json_is_a_source_error(client, canvas):
    canvas.queue = [page({"id": 1})]
    with pytest.raises(SourceError, match="not a list"):
        client.courses()
    canvas.queue = [httpx.Response(200, text="<html>maintenance</html>")]
    with pytest.raises(SourceError, match="not JSON"):
        client.course(1)
    canvas.queue = [page([{"id": 1}])]
    with pytest.raises(SourceError, match="not a JSON object"):
        client.course(1)


def test_json_guarded_with_while1_is_read(client, canvas):
    canvas.queue = [httpx.Response(200, content=b'while(1);{"id": 3}')]
    assert client.course(3) == {"id": 3}


# -- modules ------------------------------------------------------------------------------


def test_modules_come_with_items_and_too_large_modules_get_theirs_from_items_url(client, canvas):
    big_items = [
        {"id": 1000 + i, "title": f"Item {i}", "type": "Page", "position": i + 1} for i in range(130)
    ]
    modules = [
        {
            "id": 1,
            "name": "Week 1",
            "position": 1,
            "items_count": 1,
            "items": [{"id": 10, "type": "SubHeader"}],
        },
        {
            "id": 2,
            "name": "Everything",
            "position": 2,
            "items_count": 130,
            "items_url": f"{BASE}/api/v1/courses/5/modules/2/items",
        },
    ]
    canvas.list("/api/v1/courses/5/modules", modules)
    canvas.list("/api/v1/courses/5/modules/2/items", big_items)
    found = client.modules(5)
    assert [m["id"] for m in found] == [1, 2]
    assert found[0]["items"] == [{"id": 10, "type": "SubHeader"}]
    assert found[1]["items"] == big_items
    first = canvas.requests[0]
    assert first.url.params.get_list("include[]") == ["items", "content_details"]
    items_calls = [r for r in canvas.requests if r.url.path.endswith("/items")]
    assert len(items_calls) == 2  # 130 items at 100 a page
    assert items_calls[0].url.params.get_list("include[]") == ["content_details"]


def test_an_items_url_on_another_host_is_refused(client, canvas):
    canvas.list("/api/v1/courses/5/modules", [{"id": 2, "items_url": "https://evil.test/api/v1/x"}])
    with pytest.raises(SourceError, match=r"outside canvas\.test"):
        client.modules(5)


def test_module_items_and_assignments(client, canvas):
    canvas.list("/api/v1/courses/5/modules/2/items", [{"id": 1}])
    canvas.list("/api/v1/courses/5/assignments", [{"id": 9, "points_possible": 10}])
    assert client.module_items(5, 2) == [{"id": 1}]
    assert client.assignments(5) == [{"id": 9, "points_possible": 10}]


# -- throttling ---------------------------------------------------------------------------


def test_a_low_remaining_quota_makes_the_next_request_wait_proportionally(client, canvas, sleeps, now):
    canvas.queue = [
        page({"id": 1}, **{"X-Rate-Limit-Remaining": "550.25"}),
        page({"id": 1}, **{"X-Rate-Limit-Remaining": "20.0"}),
        page({"id": 1}, **{"X-Rate-Limit-Remaining": "60.0"}),
        page({"id": 1}, **{"X-Rate-Limit-Remaining": "300.0"}),
        page({"id": 1}),
    ]
    client.course(1)
    client.course(1)
    assert sleeps == []  # plenty left
    client.course(1)
    assert sleeps == [pytest.approx(8.0)]  # 80 below the threshold at 10 a second
    now[0] += 3.0  # time passed since drains the bucket too
    client.course(1)
    assert sleeps == [pytest.approx(8.0), pytest.approx(1.0)]
    client.course(1)
    assert len(sleeps) == 2


def test_a_legacy_403_rate_limit_is_retried_with_backoff(client, canvas, sleeps):
    limited = httpx.Response(403, text=RATE_LIMITED_BODY, headers={"X-Rate-Limit-Remaining": "0.0"})
    canvas.queue = [limited, page({"id": 1}, **{"X-Rate-Limit-Remaining": "400"})]
    assert client.course(1) == {"id": 1}
    # No Retry-After: wait until the bucket has drained back above the threshold.
    assert sleeps == [pytest.approx(10.0)]


def test_a_429_honours_retry_after(client, canvas, sleeps):
    canvas.queue = [httpx.Response(429, headers={"Retry-After": "7"}), page({"id": 1})]
    assert client.course(1) == {"id": 1}
    assert sleeps == [7.0]


def test_a_429_without_retry_after_backs_off_from_the_remaining_quota(client, canvas, sleeps):
    canvas.queue = [
        httpx.Response(
            429, text="429 Too Many Requests (Rate Limit Exceeded)", headers={"X-Rate-Limit-Remaining": "50"}
        ),
        page({"id": 1}),
    ]
    client.course(1)
    assert sleeps == [pytest.approx(5.0)]


def test_rate_limits_past_the_last_attempt_raise_rate_limited(client, canvas, sleeps):
    canvas.queue = [httpx.Response(429, headers={"Retry-After": "2"}) for _ in range(4)]
    with pytest.raises(SourceRateLimited, match=r"rate limiting us \(429\)") as info:
        client.course(1)
    assert info.value.retry_after == 2.0
    assert info.value.transient
    assert sleeps == [2.0, 2.0, 2.0]


def test_a_single_attempt_client_raises_at_once_with_when_to_retry(make, canvas, sleeps):
    client = make(attempts=1)
    canvas.queue = [httpx.Response(429, headers={"Retry-After": "30"})]
    with pytest.raises(SourceRateLimited) as info:
        client.put_grade(1, 2, 3, "10")
    assert info.value.retry_after == 30.0
    canvas.queue = [httpx.Response(403, text=RATE_LIMITED_BODY, headers={"X-Rate-Limit-Remaining": "40.0"})]
    with pytest.raises(SourceRateLimited) as info:
        client.put_grade(1, 2, 3, "10")
    assert info.value.retry_after == pytest.approx(6.0)  # from the quota left
    assert sleeps == []
    assert len(canvas.requests) == 2


def test_a_retry_after_longer_than_we_wait_is_passed_on_at_once(client, canvas, sleeps):
    canvas.queue = [httpx.Response(429, headers={"Retry-After": "3600"})]
    with pytest.raises(SourceRateLimited) as info:
        client.course(1)
    assert info.value.retry_after == 3600.0
    assert sleeps == []


def test_a_plain_403_is_not_a_rate_limit(client, canvas, sleeps):
    canvas.queue = [
        httpx.Response(403, json={"errors": [{"message": "user not authorized to perform that action"}]})
    ]
    with pytest.raises(SourceRejected, match="lacks permission") as info:
        client.course(1)
    assert "user not authorized" in str(info.value)
    assert not info.value.transient
    assert sleeps == []


# -- failures -----------------------------------------------------------------------------


def test_server_errors_and_timeouts_are_retried_with_backoff(client, canvas, sleeps):
    canvas.queue = [
        httpx.Response(502),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        page({"id": 1}),
    ]
    assert client.course(1) == {"id": 1}
    assert len(sleeps) == 3
    assert all(0 <= s <= 0.5 * 2**i for i, s in enumerate(sleeps))


def test_server_errors_past_the_last_attempt_are_unavailable(client, canvas):
    canvas.queue = [httpx.Response(503) for _ in range(4)]
    with pytest.raises(SourceUnavailable, match=r"canvas\.test answered 503"):
        client.course(1)
    canvas.queue = [httpx.ReadTimeout("slow") for _ in range(4)]
    with pytest.raises(SourceUnavailable, match="did not answer in time"):
        client.course(1)


def test_an_invalid_token_is_rejected_without_retrying(client, canvas, sleeps):
    canvas.queue = [
        httpx.Response(
            401,
            json={"errors": [{"message": "Invalid access token."}]},
            headers={"WWW-Authenticate": 'Bearer realm="canvas-lms"'},
        )
    ]
    with pytest.raises(SourceRejected, match="invalid, expired or revoked") as info:
        client.course(1)
    assert "Invalid access token." in str(info.value)
    assert TOKEN not in str(info.value)
    assert sleeps == [] and len(canvas.requests) == 1


def test_a_401_for_an_action_is_a_missing_permission(client, canvas):
    canvas.queue = [
        httpx.Response(401, json={"status": "unauthorized", "errors": [{"message": "user not authorized"}]})
    ]
    with pytest.raises(SourceRejected, match="lacks permission"):
        client.course(1)


def test_a_missing_course_is_not_found_at_source(client, canvas):
    with pytest.raises(CourseNotFoundAtSource, match=r"canvas\.test has no course 404404"):
        client.course(404404)


@pytest.mark.parametrize(
    ("status", "body", "text"),
    [
        (400, {"error": "'grade_data' parameter required"}, "'grade_data' parameter required"),
        (
            400,
            {"errors": {"graded_since": "Invalid datetime for graded_since"}},
            "graded_since: Invalid datetime",
        ),
        (422, {"errors": [{"message": "Grade is invalid"}]}, "Grade is invalid"),
        (
            400,
            {"errors": {"grade": [{"attribute": "grade", "type": "invalid", "message": "must be a number"}]}},
            "grade: must be a number",
        ),
    ],
)
def test_bad_requests_carry_canvass_error_text(client, canvas, status, body, text):
    canvas.queue = [httpx.Response(status, json=body)]
    with pytest.raises(SourceRejected, match=f"\\({status}: ") as info:
        client.put_grade(1, 2, 3, "x")
    assert text in str(info.value)


def test_a_redirect_is_not_followed(client, canvas):
    canvas.queue = [httpx.Response(302, headers={"Location": "https://login.test/"})]
    with pytest.raises(SourceError, match="redirected"):
        client.course(1)


# -- people and submissions ---------------------------------------------------------------


def test_enrollments_users_and_submissions_send_canvass_parameters(client, canvas):
    canvas.list("/api/v1/courses/5/enrollments", [{"id": 1}])
    canvas.list("/api/v1/courses/5/users", [{"id": 2, "email": "a@b.test"}])
    canvas.list("/api/v1/courses/5/students/submissions", [{"id": 3}])
    assert client.enrollments(5, states=["active", "completed"]) == [{"id": 1}]
    assert client.users(5) == [{"id": 2, "email": "a@b.test"}]
    since = datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert client.submissions(5, assignment_ids=[7, 8], graded_since=since) == [{"id": 3}]
    enrollments, users, submissions = canvas.requests
    assert enrollments.url.params.get_list("state[]") == ["active", "completed"]
    assert users.url.params.get_list("include[]") == ["email"]
    assert submissions.url.params.get_list("student_ids[]") == ["all"]
    assert submissions.url.params.get_list("assignment_ids[]") == ["7", "8"]
    assert submissions.url.params["graded_since"] == "2026-03-01T08:00:00Z"


def test_many_assignment_ids_are_asked_for_in_chunks(client, canvas):
    canvas.list("/api/v1/courses/5/students/submissions", [])
    client.submissions(5, assignment_ids=range(250))
    assert [len(r.url.params.get_list("assignment_ids[]")) for r in canvas.requests] == [100, 100, 50]


def test_one_submission(client, canvas):
    canvas.route("GET", "/api/v1/courses/5/assignments/7/submissions/101", lambda r: page({"score": 4.0}))
    assert client.submission(5, 7, 101) == {"score": 4.0}


def test_grading_standards_include_the_accounts_where_readable(client, canvas):
    canvas.list("/api/v1/courses/5/grading_standards", [{"id": 1, "title": "Course scale"}])
    canvas.route("GET", "/api/v1/courses/5", lambda r: page({"id": 5, "account_id": 3, "root_account_id": 1}))
    canvas.list(
        "/api/v1/accounts/3/grading_standards",
        [{"id": 1, "title": "Course scale"}, {"id": 2, "title": "Dept"}],
    )
    canvas.route("GET", "/api/v1/accounts/1/grading_standards", lambda r: httpx.Response(401, json={}))
    assert [s["id"] for s in client.grading_standards(5)] == [1, 2]


# -- grades -------------------------------------------------------------------------------


def test_put_grade_sends_the_posted_grade_as_a_form_field(client, canvas):
    canvas.route("PUT", "/api/v1/courses/5/assignments/7/submissions/101", lambda r: page({"grade": "13.5"}))
    assert client.put_grade(5, 7, 101, 13.5) == {"grade": "13.5"}
    (request,) = canvas.requests
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"submission[posted_grade]": ["13.5"]}
    with pytest.raises(ValueError):
        client.put_grade(5, 7, 101, True)


def progress(state: str, *, pid: int = 77, message: str | None = None) -> dict[str, Any]:
    return {
        "id": pid,
        "workflow_state": state,
        "completion": 100 if state == "completed" else 40,
        "message": message,
        "tag": "submissions_update",
        "url": f"{BASE}/api/v1/progress/{pid}",
    }


def test_update_grades_sends_grade_data_by_assignment_and_user_and_waits_for_the_job(client, canvas, sleeps):
    canvas.route("POST", "/api/v1/courses/5/submissions/update_grades", lambda r: page(progress("queued")))
    states = iter(["running", "running", "completed"])
    canvas.route("GET", "/api/v1/progress/77", lambda r: page(progress(next(states))))
    job = client.update_grades(5, {7: {101: "88", 102: 9.5}, "8": {"101": "A-"}})
    (post,) = canvas.requests
    assert parse_qs(post.content.decode()) == {
        "grade_data[7][101][posted_grade]": ["88"],
        "grade_data[7][102][posted_grade]": ["9.5"],
        "grade_data[8][101][posted_grade]": ["A-"],
    }
    assert client.wait_progress(job, poll=0.5)["workflow_state"] == "completed"
    assert len(canvas.requests) == 4
    assert sleeps == [0.5, 0.75, 1.125]
    with pytest.raises(ValueError):
        client.update_grades(5, {})


def test_a_failed_job_is_rejected_with_its_message(client, canvas):
    canvas.route(
        "GET", "/api/v1/progress/77", lambda r: page(progress("failed", message="Assignment is locked"))
    )
    with pytest.raises(SourceRejected, match="Assignment is locked"):
        client.wait_progress(progress("running"))
    assert client.wait_progress(progress("completed")) == progress("completed")  # no request


def test_a_job_that_does_not_finish_in_time_is_unavailable(client, canvas, now):
    def still_running(request: httpx.Request) -> httpx.Response:
        now[0] += 5
        return page(progress("running"))

    canvas.route("GET", "/api/v1/progress/77", still_running)
    with pytest.raises(SourceUnavailable, match="still running after 12s"):
        client.wait_progress(77, timeout=12)
    assert 3 <= len(canvas.requests) <= 4


def test_timestamps_given_naive_are_taken_as_utc(client, canvas):
    canvas.list("/api/v1/courses/5/students/submissions", [])
    client.submissions(5, graded_since=datetime(2026, 3, 1, 8, 0))
    client.submissions(5, graded_since=datetime(2026, 3, 1, 8, 0, tzinfo=UTC).isoformat())
    assert canvas.requests[0].url.params["graded_since"] == "2026-03-01T08:00:00Z"
    assert canvas.requests[1].url.params["graded_since"] == "2026-03-01T08:00:00+00:00"


def test_a_retry_after_given_as_an_http_date_is_honoured(client, canvas, sleeps):
    when = datetime.now(UTC) + timedelta(seconds=30)
    canvas.queue = [
        httpx.Response(429, headers={"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")}),
        page({"id": 1}),
    ]
    client.course(1)
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 31
