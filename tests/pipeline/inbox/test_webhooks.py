"""Receiving webhooks: signatures, CloudEvents, duplicates, and every bad request refused
with problem+json while the inbox stays as it was."""

from __future__ import annotations

import json
import time
from datetime import UTC

import pytest
from django.test import Client
from eduvault_openedx import sender
from standardwebhooks.webhooks import Webhook

from eduvault.integrations.services import source_add
from eduvault.kernel import signing as signatures
from eduvault.pipeline.inbox.models import InboundEvent

pytestmark = pytest.mark.django_db

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "plain-text-secret-from-before"
URL = "/api/v1/webhooks/lms"
COURSE = "course-v1:MIE+MATH-F3+2026_T1"


@pytest.fixture(autouse=True)
def lms(db):
    source = source_add(
        platform="openedx",
        name="lms",
        base_url="http://lms.test",
        client_id="c",
        client_secret="s",
        webhook_secret=SECRET,
    )
    source.webhook_secrets.append(OLD_SECRET)  # a rotation in progress: both secrets valid
    source.save()
    return source


def event(event_type=sender.COURSE_PUBLISHED, data=None, **extra):
    body = sender.cloud_event(
        event_type, data if data is not None else {"course_key": COURSE}, source="http://studio.test"
    )
    body.update(extra)
    return body


def post(body, *, secret=SECRET, headers=None, raw=None, msg_id=None):
    data = raw if raw is not None else json.dumps(body).encode()
    msg_id = msg_id or (body or {}).get("id", "msg_1")
    signed = signatures.headers_for(secret, msg_id, data)
    signed.update(headers or {})
    http = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.items() if v is not None}
    return Client().post(URL, data=data, content_type="application/cloudevents+json", **http)


def inbox():
    return list(InboundEvent.objects.values_list("event_id", "status", "subject_key", "type"))


def assert_problem(response, status, detail):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and detail in body["detail"], body
    assert inbox() == [], "a refused delivery must not touch the inbox"


def test_a_signed_course_published_event_is_stored_then_acknowledged():
    body = event()
    response = post(body)
    assert response.status_code == 202
    stored = InboundEvent.objects.get()
    one = {"id": stored.pk, "event_id": body["id"], "status": "accepted"}
    assert response.json() == {**one, "events": [one]}
    assert (stored.type, stored.subject_key, stored.priority, stored.status) == (
        sender.COURSE_PUBLISHED,
        COURSE,
        "background",
        "pending",
    )
    assert stored.payload == body and stored.via == "webhook"


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        (
            sender.XBLOCK_PUBLISHED,
            {
                "xblock_info": {
                    "usage_key": "block-v1:MIE+MATH-F3+2026_T1+type@problem+block@p1",
                    "block_type": "problem",
                    "version": None,
                }
            },
        ),
        (
            sender.XBLOCK_DELETED,
            {
                "xblock_info": {
                    "usage_key": "block-v1:MIE+MATH-F3+2026_T1+branch@published-branch+version@65f0+type@vertical+block@v1",
                    "block_type": "vertical",
                }
            },
        ),
        (
            sender.CATALOG_INFO_CHANGED,
            {
                "catalog_info": {
                    "course_key": COURSE,
                    "name": "Maths",
                    "schedule_data": {"start": "2026-01-05T07:30:00Z", "pacing": "instructor"},
                }
            },
        ),
    ],
)
def test_block_and_catalog_events_name_their_course(event_type, data):
    assert post(event(event_type, data)).status_code == 202
    assert InboundEvent.objects.get().subject_key == COURSE


def test_the_same_event_ten_times_is_stored_once():
    body = event()
    statuses = [post(body).status_code for _ in range(10)]
    assert statuses == [202] + [200] * 9
    assert len(inbox()) == 1
    assert post(body).json()["status"] == "duplicate"


def test_the_reference_standard_webhooks_library_interoperates():
    body = event()
    data = json.dumps(body)
    hook = Webhook(SECRET)
    from datetime import datetime

    now = datetime.now(UTC)
    headers = {
        "webhook-id": body["id"],
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": hook.sign(body["id"], now, data),
    }
    http = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    assert Client().post(URL, data=data, content_type="application/json", **http).status_code == 202
    # ...and it verifies what our sender signs.
    ours = sender.signed_headers(SECRET, "msg_2", b'{"a":1}')
    assert hook.verify(b'{"a":1}', ours, json_parse=False) is None


def test_either_secret_verifies_during_a_rotation():
    assert post(event(), secret=OLD_SECRET).status_code == 202
    second = event()
    both = signatures.sign(SECRET, second["id"], int(time.time()), json.dumps(second).encode())
    assert (
        post(
            second, secret="whsec_d3Jvbmc=", headers={"webhook-signature": "v1,d3Jvbmc= " + both}
        ).status_code
        == 202
    )


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({"webhook-signature": None}, "missing header: webhook-signature"),
        ({"webhook-id": None, "webhook-signature": None}, "missing headers: webhook-id, webhook-signature"),
        ({"webhook-signature": "v1,AAAA"}, "does not match"),
        ({"webhook-signature": "v2,something"}, "no v1 signature"),
        # Seconds from when the test runs (not from collection: a long suite would move them).
        ({"webhook-timestamp": -301}, "seconds from our clock"),
        ({"webhook-timestamp": 400}, "seconds from our clock"),
        ({"webhook-timestamp": "yesterday"}, "whole Unix seconds"),
    ],
)
def test_bad_signatures_and_stale_timestamps_are_401(headers, detail):
    if isinstance(headers.get("webhook-timestamp"), int):
        headers = {**headers, "webhook-timestamp": str(int(time.time()) + headers["webhook-timestamp"])}
    assert_problem(post(event(), headers=headers), 401, detail)


def test_a_signature_with_the_wrong_secret_is_401():
    assert_problem(post(event(), secret="whsec_c29tZXRoaW5nIGVsc2U="), 401, "does not match")


def test_a_tampered_body_is_401():
    body = event()
    data = json.dumps(body).encode()
    headers = signatures.headers_for(SECRET, body["id"], data)
    http = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    tampered = data.replace(b"MATH-F3", b"MATH-F4")
    assert_problem(
        Client().post(URL, data=tampered, content_type="application/json", **http), 401, "does not match"
    )


def test_oversized_bodies_are_413():
    big = event(data={"course_key": COURSE, "padding": "x" * (1024 * 1024)})
    assert_problem(post(big), 413, "at most 1,048,576")


def test_malformed_json_is_400():
    assert_problem(post(None, raw=b'{"specversion": "1.0", "id": ', msg_id="m1"), 400, "not valid JSON")


@pytest.mark.parametrize(
    ("mutate", "status", "detail"),
    [
        (lambda e: e.update(specversion="0.3"), 400, "specversion"),
        (lambda e: e.pop("source"), 400, "'source'"),
        (lambda e: e.update(type="com.example.unknown.v1"), 422, "unknown event type"),
        (lambda e: e.update(data={"course_key": "not-a-key"}), 422, "must be a course key"),
        (
            lambda e: e.update(
                data={"xblock_info": {"usage_key": "i4x://a/b/c", "block_type": "x"}},
                type=sender.XBLOCK_PUBLISHED,
            ),
            422,
            "not a block-v1 usage key",
        ),
        (
            lambda e: e.update(data=None, type=sender.CATALOG_INFO_CHANGED),
            422,
            "data.catalog_info must be an object",
        ),
    ],
)
def test_invalid_cloud_events_are_refused(mutate, status, detail):
    body = event()
    mutate(body)
    assert_problem(post(body), status, detail)


def test_the_webhook_id_must_be_the_cloud_event_id():
    body = event()
    assert_problem(post(body, msg_id="another-id"), 400, "differs from the webhook-id header")


def test_unknown_sources_are_404():
    body = event()
    data = json.dumps(body).encode()
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in signatures.headers_for(SECRET, body["id"], data).items()
    }
    response = Client().post("/api/v1/webhooks/nope", data=data, content_type="application/json", **headers)
    assert_problem(response, 404, "no source is registered")


def test_only_post():
    response = Client().get(URL)
    assert response.status_code == 405
