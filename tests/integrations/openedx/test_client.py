"""The Open edX HTTP client against the simulator: real HTTP on loopback, no database."""

from __future__ import annotations

import pytest

from eduvault.integrations.openedx.client import OpenEdxClient
from eduvault.kernel.errors import (
    CourseNotFoundAtSource,
    SourceRateLimited,
    SourceRejected,
    SourceUnavailable,
)
from tests.conftest import CLIENT_ID, CLIENT_SECRET, COURSE_KEY


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(simulator, sleeps):
    with OpenEdxClient(
        simulator.base_url, CLIENT_ID, CLIENT_SECRET, timeout=2, attempts=4, backoff=0.5, sleep=sleeps.append
    ) as c:
        yield c


def test_fetches_the_blocks_with_a_jwt(client, simulator, course):
    response = client.course_blocks(COURSE_KEY)
    assert response["root"] == course.root
    assert len(response["blocks"]) == len(course.blocks)
    token_calls = simulator.requests_to("/oauth2/access_token")
    assert len(token_calls) == 1
    (blocks_call,) = simulator.requests_to("/api/courses/v2/blocks/")
    assert blocks_call.authorization.startswith("JWT ")


def test_the_token_is_cached_until_it_nearly_expires(simulator, course, sleeps):
    now = [1000.0]
    with OpenEdxClient(
        simulator.base_url, CLIENT_ID, CLIENT_SECRET, sleep=sleeps.append, clock=lambda: now[0]
    ) as c:
        c.course_blocks(COURSE_KEY)
        c.course_blocks(COURSE_KEY)
        assert len(simulator.requests_to("/oauth2/access_token")) == 1
        now[0] += simulator.token_lifetime - 30  # inside the refresh margin
        c.course_blocks(COURSE_KEY)
        assert len(simulator.requests_to("/oauth2/access_token")) == 2


def test_a_rejected_token_is_refreshed_once(client, simulator, course):
    client.course_blocks(COURSE_KEY)
    simulator.revoke_tokens()
    client.course_blocks(COURSE_KEY)
    assert len(simulator.requests_to("/oauth2/access_token")) == 2
    assert [r.status for r in simulator.requests_to("/api/")] == [200, 401, 200]


def test_wrong_credentials_are_a_clear_permanent_error(simulator, course, sleeps):
    with OpenEdxClient(simulator.base_url, CLIENT_ID, "wrong", sleep=sleeps.append) as c:
        with pytest.raises(SourceRejected, match="rejected our client credentials") as info:
            c.course_blocks(COURSE_KEY)
    assert not info.value.transient
    assert sleeps == []


def test_server_errors_are_retried_with_growing_backoff(client, simulator, course, sleeps):
    simulator.fail_next(3, status=502)
    assert client.course_blocks(COURSE_KEY)["root"] == course.root
    assert len(sleeps) == 3
    # Full jitter: each wait is at most backoff * 2**(attempt-1).
    assert all(0 <= s <= 0.5 * 2**i for i, s in enumerate(sleeps))


def test_server_errors_past_the_last_attempt_fail_as_transient(client, simulator, course, sleeps):
    simulator.fail_next(10, status=500)
    with pytest.raises(SourceUnavailable, match="answered 500") as info:
        client.course_blocks(COURSE_KEY)
    assert info.value.transient
    assert len(sleeps) == 3


def test_429_waits_for_retry_after(client, simulator, course, sleeps):
    simulator.rate_limit_next(2, retry_after=7)
    client.course_blocks(COURSE_KEY)
    assert sleeps == [7.0, 7.0]


def test_429_past_the_last_attempt_reports_retry_after(client, simulator, course, sleeps):
    simulator.rate_limit_next(10, retry_after=3)
    with pytest.raises(SourceRateLimited) as info:
        client.course_blocks(COURSE_KEY)
    assert info.value.retry_after == 3.0


def test_timeouts_are_retried(simulator, course, sleeps):
    simulator.slow_next(1, seconds=1.5)
    with OpenEdxClient(simulator.base_url, CLIENT_ID, CLIENT_SECRET, timeout=0.5, sleep=sleeps.append) as c:
        assert c.course_blocks(COURSE_KEY)["root"] == course.root
    assert len(sleeps) == 1


def test_an_unreachable_source_is_transient(sleeps):
    with OpenEdxClient("http://127.0.0.1:9", CLIENT_ID, CLIENT_SECRET, attempts=2, sleep=sleeps.append) as c:
        with pytest.raises(SourceUnavailable, match=r"could not reach 127\.0\.0\.1:9"):
            c.course_blocks(COURSE_KEY)


def test_an_unknown_course_is_not_found(client, simulator):
    with pytest.raises(CourseNotFoundAtSource, match="no course 'course-v1:X\\+Y\\+Z'"):
        client.course_blocks("course-v1:X+Y+Z")


def test_other_client_errors_fail_at_once(client, simulator, course, sleeps):
    with pytest.raises(SourceRejected, match="400"):
        client.course_blocks("not a course key")
    assert sleeps == []


def test_lists_every_course_across_pages(client, simulator):
    from tests.conftest import small_course

    keys = [f"course-v1:MIE+M{i:02d}+2026_T1" for i in range(7)]
    for k in keys:
        simulator.add_course(small_course(k))
    assert [c["id"] for c in client.courses(page_size=3)] == sorted(keys)
    assert len(simulator.requests_to("/api/courses/v1/courses/")) == 3


def test_the_secret_is_never_shown(client):
    assert CLIENT_SECRET not in repr(client)
    assert CLIENT_SECRET not in str(vars(client).get("client_id"))
