"""Stream tickets: issued to API tokens only, single-use (even raced), short-lived, carrying
the token's scope; the stream refuses what is not a live ticket."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from eduvault.identity.services import token_create, token_revoke
from eduvault.kernel.errors import AuthenticationFailed
from eduvault.pipeline.feed.models import StreamTicket
from eduvault.pipeline.feed.selectors import Scope
from eduvault.pipeline.feed.tickets import stream_ticket_issue, stream_ticket_redeem
from tests.conftest import COURSE_KEY

pytestmark = pytest.mark.django_db


def client_of(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_ticket_carries_the_tokens_scope_narrowed_and_opens_once():
    token, value = token_create(name="site", courses=[COURSE_KEY, "course-v1:X+Y+Z"], kinds=["subtopic", "unit"])
    response = client_of(value).post("/api/v1/stream/tickets", {"course": [COURSE_KEY]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["stream"] == f"/api/v1/stream?ticket={body['ticket']}" and body["expires_in"] == 60
    assert StreamTicket.objects.get().key_hash != body["ticket"]  # only its hash is kept
    assert stream_ticket_redeem(value=body["ticket"]) == Scope(frozenset({COURSE_KEY}), frozenset({"subtopic", "unit"}))
    with pytest.raises(AuthenticationFailed, match="already used"):
        stream_ticket_redeem(value=body["ticket"])


def test_expired_malformed_and_revoked_tickets_open_nothing(settings):
    token, _ = token_create(name="ops", role="admin")
    late, _ = stream_ticket_issue(token=token)
    StreamTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for value in (late, "evs_nothing", "ev_x_y", "evs_" + "x" * 200):
        with pytest.raises(AuthenticationFailed):
            stream_ticket_redeem(value=value)
    fresh, _ = stream_ticket_issue(token=token)
    token_revoke(name="ops")
    with pytest.raises(AuthenticationFailed):
        stream_ticket_redeem(value=fresh)
    # the expired one is cleared away an hour later, when another is issued
    StreamTicket.objects.filter(expires_at__lt=timezone.now()).update(expires_at=timezone.now() - timedelta(hours=2))
    other, _ = token_create(name="other", role="admin")
    stream_ticket_issue(token=other)
    assert StreamTicket.objects.count() == 2


def test_only_api_tokens_get_tickets_and_bad_bodies_are_refused():
    from eduvault.identity.services import access_token_issue, person_of, user_create

    person = person_of(user_create(username="amina", role="learner", password="correct horse battery"))
    assert client_of(access_token_issue(person=person)).post("/api/v1/stream/tickets").status_code == 403
    assert APIClient().post("/api/v1/stream/tickets").status_code == 401
    _, value = token_create(name="site")
    for body in ({"course": "one"}, {"kind": [1]}, {"course": ["x"] * 201}):
        response = client_of(value).post("/api/v1/stream/tickets", body, format="json")
        assert response.status_code == 400 and response["Content-Type"].startswith("application/problem+json")
    assert StreamTicket.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent redemptions need PostgreSQL's row locks")
def test_two_requests_racing_with_one_ticket_open_one_stream():
    token, _ = token_create(name="ops", role="admin")
    values = [stream_ticket_issue(token=token)[0] for _ in range(20)]
    wins: list[str] = []
    barrier = threading.Barrier(2)

    def redeem(value: str) -> None:
        try:
            barrier.wait()
            stream_ticket_redeem(value=value)
            wins.append(value)
        except AuthenticationFailed:
            pass
        finally:
            connections.close_all()

    for value in values:
        threads = [threading.Thread(target=redeem, args=(value,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(wins) == sorted(values)  # each exactly once
