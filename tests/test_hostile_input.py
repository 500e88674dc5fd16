"""Hostile input gets a 4xx problem+json naming what is wrong, and changes nothing.

Huge integers in queries, paths and bodies; bodies nested thousands deep on every endpoint
that takes one (the unauthenticated sign-in too); a signed webhook whose data nests deep;
a subscription URL with an impossible port; wrong types in queries; a person's token on the
stream; a server path in a run shown to a consumer.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from eduvault_openedx import sender
from rest_framework.test import APIClient

from eduvault.identity.services import access_token_issue, person_of, token_create, user_create
from eduvault.integrations.services import source_add
from eduvault.kernel import signing as signatures
from eduvault.pipeline.feed.models import Subscription
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.services import course_sync_blocks
from tests.conftest import COURSE_KEY, small_course

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # beyond 64 bits
DEEP_LIST = "[" * 5000 + "]" * 5000


def assert_problem(response, status: int, *fragments: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    for fragment in fragments:
        assert fragment in body["detail"], body
    return body


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def admin(admin_token) -> APIClient:
    return bearer(admin_token)


@pytest.fixture
def learner() -> APIClient:
    person = person_of(user_create(username="amina", role="learner", password="correct horse battery"))
    return bearer(access_token_issue(person=person))


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (f"/api/v1/changes?after={HUGE}", "after"),
        (f"/api/v1/changes?limit={HUGE}", "limit"),
        (f"/api/v1/courses/?limit={HUGE}", "limit"),
        (f"/api/v1/courses/?offset={HUGE}", "offset"),
        (f"/api/v1/events/?limit={HUGE}", "limit"),
        (f"/api/v1/courses/{COURSE_KEY}/tree/?version={HUGE}", "version"),
        ("/api/v1/courses/?limit=true", "limit"),
        ("/api/v1/courses/?limit=-1", "limit"),
        ("/api/v1/courses/?limit=1e3", "limit"),
        ("/api/v1/changes?limit=0", "limit"),
        ("/api/v1/changes?after=%EF%BC%91", "after"),  # a full-width digit
    ],
)
def test_numbers_in_queries_are_whole_bounded_and_named(admin, path, name):
    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    body = assert_problem(admin.get(path), 400)
    assert body["detail"].startswith(f"{name} must be"), body


def test_a_learners_query_with_a_huge_assessment_is_400(learner):
    assert_problem(learner.get(f"/api/v1/attempts/?assessment={HUGE}"), 400, "assessment must be at most")


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/assessments/{HUGE}/results",
        f"/api/v1/assessments/{HUGE}/",
        f"/api/v1/runs/{HUGE}/",
        f"/api/v1/events/{HUGE}/",
        f"/api/v1/subscriptions/{HUGE}/",
        "/api/v1/runs/9223372036854775808/",  # one past the largest bigint
    ],
)
def test_ids_too_large_for_any_row_are_404(admin, path):
    assert_problem(admin.get(path), 404)


def test_replaying_a_huge_id_is_400_naming_it(admin):
    body = assert_problem(admin.post("/api/v1/events/replay", {"ids": [int(HUGE)]}, format="json"), 400)
    assert body["detail"].startswith("ids:"), body


def test_nul_in_a_query_or_path_is_400(admin):
    assert_problem(admin.get("/api/v1/changes?course=a%00b"), 400, "'course' contains a NUL character")
    assert_problem(admin.get("/api/v1/courses/a%00b/"), 400, "NUL")


def _operations_with_bodies() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                concrete = re.sub(r"\{[^}]+\}", "1", path).replace("/1/questions", f"/{COURSE_KEY}/questions")
                found.append((method, concrete))
    return found


def _device_client() -> Client:
    from eduvault.learning.devices.services import device_add, device_join
    from eduvault.pipeline.content.models import Course

    course = Course.objects.create(key="course-v1:Hostile+D+1", title="Hostile")
    joined = device_join(code=device_add(name="hostile", course_keys=[course.key], actor="test").code)
    return Client(HTTP_AUTHORIZATION=f"Bearer {joined.credential}")


@pytest.mark.parametrize(("method", "path"), _operations_with_bodies())
def test_a_body_nested_five_thousand_deep_is_400_on_every_endpoint(admin, learner, method, path):
    client = learner if "/attempts" in path else admin  # attempts are people's
    if path.startswith("/api/v1/devices/sessions"):
        client = _device_client()  # a device's own credential
    response = getattr(client, method)(path, data=DEEP_LIST, content_type="application/json")
    assert response.status_code in (400, 404), (path, response.status_code, response.content[:300])
    if response.status_code == 400:
        assert_problem(response, 400, "nests deeper than 32 levels")


def test_the_unauthenticated_sign_in_refuses_a_deep_body():
    response = Client().post("/api/v1/auth/token", data=DEEP_LIST, content_type="application/json")
    assert_problem(response, 400, "nests deeper than 32 levels")
    # 33 levels of objects, with a path to where it went too deep.
    deep = {"username": "a", "password": "b"}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    response = Client().post("/api/v1/auth/token", data=json.dumps(deep), content_type="application/json")
    assert_problem(response, 400, "nests deeper than 32 levels (at x.x.x")


SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLXN0dWRpbw=="


def test_a_signed_webhook_whose_data_nests_a_thousand_deep_is_400_and_not_stored():
    source_add(
        platform="openedx",
        name="lms",
        base_url="http://lms.test",
        client_id="c",
        client_secret="s",
        webhook_secret=SECRET,
    )
    body = sender.cloud_event(
        sender.COURSE_PUBLISHED, {"course_key": COURSE_KEY}, source="http://studio.test"
    )
    deep = f'{{"course_key": "{COURSE_KEY}", ' + '"more": {' * 1000 + "}" * 1000 + "}"
    raw = json.dumps(body).replace(json.dumps(body["data"]), deep).encode()
    assert raw.count(b"{") > 1000
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in signatures.headers_for(SECRET, body["id"], raw).items()
    }
    response = Client().post("/api/v1/webhooks/lms", data=raw, content_type="application/json", **headers)
    assert_problem(response, 400, "nests deeper than 32 levels (at data.more.more")
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://hooks.example.org:99999/in", "url: 'http://hooks.example.org:99999/in' is not a valid URL"),
        ("http://[::1/in", "url: "),
        ("http://" + "a" * 70 + ".example.org/in", "url: "),
        ("ftp://hooks.example.org/in", "url: the destination must be an http(s) URL"),
    ],
)
def test_an_impossible_subscription_url_is_refused_naming_it(admin, url, fragment):
    response = admin.post("/api/v1/subscriptions/", {"name": "hooks", "url": url}, format="json")
    assert response.status_code in (400, 422), response.content
    assert fragment in response.json()["detail"]
    assert not Subscription.objects.exists()


def test_a_persons_valid_token_on_the_stream_is_403_not_401(learner):
    token = learner._credentials["HTTP_AUTHORIZATION"]
    response = Client().get("/api/v1/stream", HTTP_AUTHORIZATION=token)
    assert_problem(response, 403, "the stream needs an API token")
    assert_problem(Client().get("/api/v1/stream", HTTP_AUTHORIZATION="Bearer nope"), 401)


def test_a_consumer_sees_a_runs_file_name_not_its_path(admin):
    run = course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    SyncRun.objects.filter(pk=run.pk).update(
        trigger="file", trigger_detail={"file": "/srv/secret/exports/course.json"}
    )
    consumer = bearer(token_create(name="reader", role="consumer")[1])
    for path in (f"/api/v1/runs/{run.pk}/", f"/api/v1/courses/{COURSE_KEY}/runs/"):
        shown = consumer.get(path).json()
        detail = (
            shown["trigger_detail"] if "trigger_detail" in shown else shown["results"][0]["trigger_detail"]
        )
        assert detail == {"file": "course.json"}, path
    assert admin.get(f"/api/v1/runs/{run.pk}/").json()["trigger_detail"] == {
        "file": "/srv/secret/exports/course.json"
    }


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (f"/api/v1/courses/{COURSE_KEY}/runs/?outcome=bogus", "outcome"),
        ("/api/v1/users/?role=superhero", "role"),
        ("/api/v1/events/?status=sleeping", "status"),
    ],
)
def test_a_value_outside_a_parameters_choices_is_400_listing_them(admin, path, name):
    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    body = assert_problem(admin.get(path), 400)
    assert body["detail"].startswith(f"{name} must be one of"), body


def test_an_assessment_kind_outside_the_choices_is_400(learner):
    assert_problem(
        learner.get("/api/v1/assessments/?kind=quiz"), 400, "kind must be one of practice, exam, not 'quiz'"
    )
