"""The communities API: admins only; link, list, read, bring in step, unlink; bad input is a
problem with nothing stored."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from eduvault.identity.services import token_create
from eduvault.pipeline.communities.models import Community
from eduvault.pipeline.sync.services import course_sync
from tests.pipeline.communities.conftest import FORUM

pytestmark = pytest.mark.django_db(transaction=False)


def client_with(role: str, courses=None) -> APIClient:
    _, secret = token_create(name=f"t-{role}", role=role, courses=courses or [])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_admins_link_list_read_sync_and_unlink(school, fake_forum):
    course_sync(course_key=school.key, source=school.source, actor="test")
    admin = client_with("admin")
    made = admin.post(
        "/api/v1/communities",
        {"course": school.key, "discourse": FORUM, "topic_kind": "topic", "completion_badge": "7"},
        format="json",
    )
    assert made.status_code == 201, made.content
    community = made.json()
    assert community["course"] == school.key and community["badges"]["completion"] == "7"
    listed = admin.get("/api/v1/communities", {"discourse": FORUM}).json()
    assert [c["id"] for c in listed["results"]] == [community["id"]]
    assert admin.get(f"/api/v1/communities/{community['id']}").json()["topic_kind"] == "topic"
    # Its first steps are still waiting to go out: they will read the state, none is added.
    assert admin.post(f"/api/v1/communities/{community['id']}/sync").json()["deliveries"] == 0
    school.deliver()
    assert admin.post(f"/api/v1/communities/{community['id']}/sync").json()["deliveries"] == 4
    again = admin.post("/api/v1/communities", {"course": school.key, "discourse": FORUM}, format="json")
    assert again.status_code == 409 and "already" in again.json()["detail"]
    assert admin.delete(f"/api/v1/communities/{community['id']}").status_code == 204
    assert not Community.objects.exists()
    assert admin.get(f"/api/v1/communities/{community['id']}").status_code == 404


def test_bad_input_and_other_roles(school, fake_forum):
    course_sync(course_key=school.key, source=school.source, actor="test")
    admin = client_with("admin")
    for body, field in (
        ({"course": school.key, "discourse": FORUM, "completion_badge": "gold"}, "completion-badge"),
        ({"course": school.key, "discourse": FORUM, "category": "general"}, "category"),
        ({"course": "nope:1", "discourse": FORUM}, "nope:1"),
        ({"course": school.key, "discourse": school.source.name}, "communities"),
    ):
        response = admin.post("/api/v1/communities", body, format="json")
        assert 400 <= response.status_code < 500 and field in response.json()["detail"], response.json()
        assert response["Content-Type"].startswith("application/problem+json")
    assert not Community.objects.exists()
    consumer = client_with("consumer", courses=[school.key])
    assert consumer.get("/api/v1/communities").status_code == 403
    assert APIClient().get("/api/v1/communities").status_code == 401
