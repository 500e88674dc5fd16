"""The server's side of the exchange through its HTTP API, with frames made here: what a
device may send, what it may ask for, and what is refused with nothing applied."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from eduvault.cores.records.replication import learner_partition
from eduvault.cores.transfer import encode_chunk
from tests.learning.devices.flow import class_seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def paired(db):
    from eduvault.learning.devices.services import device_add

    seeded = class_seed()
    added = device_add(name="lab-1", course_keys=[seeded["course"].key], actor="test")
    joined = APIClient().post("/api/v1/devices/join", {"code": added.code}, format="json")
    assert joined.status_code == 201, joined.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {joined.json()['credential']}")
    return seeded, client, joined.json()


def _push(client) -> dict:
    r = client.post("/api/v1/devices/sessions", {"direction": "push", "clock": datetime.now(UTC).timestamp()}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def _put(client, session: dict, seq: int, frame: bytes, offset: int = 0, total: int | None = None):
    return client.generic(
        "PUT",
        f"/api/v1/devices/sessions/{session['session']}/chunks/{seq}",
        frame,
        content_type="application/octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
        HTTP_UPLOAD_LENGTH=str(len(frame) if total is None else total),
    )


def _work(seeded: dict, replica: str, learner: str = "amina", answers: int = 2) -> list[dict]:
    """An attempt and its answers as a device sends them."""
    from eduvault.learning.assessments.models import Question

    course = seeded["course"].key
    questions = [f"{course}|{q.key}|{q.version}" for q in Question.objects.filter(current=True).order_by("id")[:3]]
    at = datetime.now(UTC) - timedelta(hours=1)
    attempt_id = str(uuid.uuid4())
    part = learner_partition(course, learner)
    attempt = {
        "id": attempt_id, "assessment": seeded["practice"], "course": course, "learner": learner, "seed": "ab12",
        "status": "submitted", "started_at": at.isoformat(), "ends_at": None, "deadline": None,
        "submitted_at": (at + timedelta(minutes=5)).isoformat(), "closed_by": "learner", "score": 1.0,
        "max_score": 3.0, "passed": False, "origin": replica, "flags": [], "questions": questions,
    }
    records = [{"k": "attempt", "key": attempt_id, "p": part, "v": {replica: 1}, "l": replica, "c": 1, "d": attempt}]
    for i in range(answers):
        records.append({
            "k": "answer", "key": f"{attempt_id}|c{i}", "p": part, "v": {replica: 1}, "l": replica, "c": 1,
            "d": {
                "attempt": attempt_id, "client_id": f"c{i}", "course": course, "learner": learner,
                "question": questions[i], "try_number": 1, "answer": "b", "score": 1.0 if i == 0 else 0.0,
                "raw_score": 1.0 if i == 0 else 0.0, "correct": i == 0, "result": {},
                "created_at": (at + timedelta(minutes=i + 1)).isoformat(),
            },
        })
    return records


def _frame(session: dict, seq: int, records: list[dict]) -> bytes:
    return encode_chunk(
        session=uuid.UUID(session["session"]).bytes, key=bytes.fromhex(session["key"]), seq=seq, records=records
    )


def _counts():
    from eduvault.learning.assessments.models import Answer, Attempt
    from eduvault.learning.devices.models import Entry

    return Attempt.objects.count(), Answer.objects.count(), Entry.objects.filter(kind__in=["attempt", "answer"]).count()


def test_a_chunk_is_applied_once_in_parts_and_again_is_a_duplicate(paired):
    from eduvault.learning.assessments.models import Answer, Attempt, Mastery

    seeded, client, joined = paired
    session = _push(client)
    frame = _frame(session, 0, _work(seeded, joined["replica"]))
    half = len(frame) // 2
    first = _put(client, session, 0, frame[:half], 0, len(frame))
    assert first.json() == {"next_seq": 0, "offset": half, "outcome": "partial"}
    # A part at the wrong offset is told where to resume.
    wrong = _put(client, session, 0, frame[half + 5 :], half + 5, len(frame))
    assert wrong.json()["outcome"] == "resume" and wrong.json()["offset"] == half
    done = _put(client, session, 0, frame[half:], half, len(frame))
    assert done.json() == {"next_seq": 1, "offset": 0, "outcome": "applied"}
    assert Attempt.objects.filter(origin=joined["replica"]).count() == 1
    assert Answer.objects.count() == 2
    assert Mastery.objects.filter(learner__username="amina").count() == 1
    before = _counts()
    again = _put(client, session, 0, frame)
    assert again.json()["outcome"] == "duplicate"
    assert _counts() == before
    # Finished, the session takes nothing more: a replayed session is refused.
    assert client.post(f"/api/v1/devices/sessions/{session['session']}/finish", {"seen": {}}, format="json").status_code == 200
    replay = _put(client, session, 1, _frame(session, 1, _work(seeded, joined["replica"])))
    assert replay.status_code == 409
    assert _counts() == before


@pytest.mark.parametrize(
    "spoil, why",
    [
        (lambda f: f[:40] + bytes([f[40] ^ 1]) + f[41:], "signature"),
        (lambda f: f[:-1], "length"),
    ],
)
def test_a_tampered_chunk_is_refused_and_nothing_applied(paired, spoil, why):
    seeded, client, joined = paired
    session = _push(client)
    before = _counts()
    r = _put(client, session, 0, spoil(_frame(session, 0, _work(seeded, joined["replica"]))))
    assert r.status_code == 400 and why in r.json()["detail"], r.json()
    assert _counts() == before
    # The session goes on: the good chunk is taken after.
    assert _put(client, session, 0, _frame(session, 0, _work(seeded, joined["replica"]))).json()["outcome"] == "applied"


def test_a_chunk_of_another_session_is_refused(paired):
    seeded, client, joined = paired
    one, other = _push(client), _push(client)
    r = _put(client, other, 0, _frame(one, 0, _work(seeded, joined["replica"])))
    assert r.status_code == 400 and "signature" in r.json()["detail"]
    assert _counts()[0] == 0


def _spoiled(seeded, replica, how):
    records = _work(seeded, replica)
    if how == "outsider":
        part = learner_partition(seeded["course"].key, "outsider")
        for r in records:
            r["p"] = part
            r["d"]["learner"] = "outsider"
    elif how == "mislabelled":
        for r in records:
            r["d"]["learner"] = "outsider"
    elif how == "account":
        records.append({
            "k": "account", "key": "amina", "p": "u:amina", "v": {replica: 1}, "l": replica, "c": 1,
            "d": {"username": "amina", "password": "pbkdf2_sha256$1$x$y", "first_name": "", "last_name": "",
                  "email": "", "is_active": True, "role": "admin", "name": "", "sis_id": ""},
        })
    elif how == "unknown-question":
        records[0]["d"]["questions"] = [f"{seeded['course'].key}|nope|1"]
    return records


@pytest.mark.parametrize(
    "how, said",
    [
        ("outsider", "not this device's"),
        ("mislabelled", "belongs to another"),
        ("account", "does not send account"),
        ("unknown-question", "no question"),
    ],
)
def test_what_is_not_the_devices_to_send_refuses_the_whole_chunk(paired, how, said):
    from django.contrib.auth import get_user_model

    seeded, client, joined = paired
    session = _push(client)
    password = get_user_model().objects.get(username="amina").password
    r = _put(client, session, 0, _frame(session, 0, _spoiled(seeded, joined["replica"], how)))
    assert r.status_code == 400 and said in r.json()["detail"], r.json()
    assert _counts() == (0, 0, 0)
    assert get_user_model().objects.get(username="amina").password == password


def test_a_device_asking_for_another_devices_learners_is_refused(paired):
    from eduvault.learning.devices.models import TransferSession

    seeded, client, _ = paired
    mine = learner_partition(seeded["course"].key, "amina")
    assert client.post("/api/v1/devices/sessions", {"direction": "pull", "partitions": [mine]}, format="json").status_code == 201
    foreign = learner_partition(seeded["course"].key, "outsider")
    r = client.post("/api/v1/devices/sessions", {"direction": "pull", "partitions": [mine, foreign]}, format="json")
    assert r.status_code == 403 and "outsider" in r.json()["detail"]
    assert TransferSession.objects.count() == 1


def test_a_revoked_device_is_refused_with_a_clear_message(paired):
    from eduvault.learning.devices.services import device_revoke

    seeded, client, joined = paired
    session = _push(client)
    device_revoke(name="lab-1", actor="test")
    r = _put(client, session, 0, _frame(session, 0, _work(seeded, joined["replica"])))
    assert r.status_code in (401, 403) and "revoked" in r.json()["detail"]
    assert _counts() == (0, 0, 0)
    assert client.post("/api/v1/devices/sessions", {"direction": "pull"}, format="json").status_code in (401, 403)


def test_no_credential_no_sync(paired):
    r = APIClient().post("/api/v1/devices/sessions", {"direction": "pull"}, format="json")
    assert r.status_code in (401, 403)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer evd_0000_nope")
    assert bad.post("/api/v1/devices/sessions", {"direction": "pull"}, format="json").status_code in (401, 403)


def test_a_pull_frames_the_class_and_nothing_of_other_learners(paired):
    from eduvault.cores.transfer import decode_chunk

    seeded, client, _ = paired
    r = client.post("/api/v1/devices/sessions", {"direction": "pull"}, format="json")
    session = r.json()
    records = []
    for seq in range(session["chunks"]):
        frame = client.get(f"/api/v1/devices/sessions/{session['session']}/chunks/{seq}")
        records += decode_chunk(b"".join(frame.streaming_content) if frame.streaming else frame.content,
                                session=uuid.UUID(session["session"]).bytes, key=bytes.fromhex(session["key"])).records
    kinds = {r["k"] for r in records}
    assert {"course", "question", "assessment", "account", "enrollment"} <= kinds
    assert "outsider" not in {r["key"] for r in records if r["k"] == "account"}
    # Range resumes inside a chunk.
    whole = client.get(f"/api/v1/devices/sessions/{session['session']}/chunks/0").content
    tail = client.get(f"/api/v1/devices/sessions/{session['session']}/chunks/0", HTTP_RANGE="bytes=10-")
    assert tail.status_code == 206 and tail.content == whole[10:]


def test_a_profile_edited_on_a_device_settles_by_policy_on_the_server(paired):
    from eduvault.pipeline.records.models import Record, RecordChange

    seeded, client, joined = paired
    session = _push(client)
    me = joined["replica"]
    edits = [
        {"k": "profile_edit", "key": f"{me}|1", "p": "u:amina", "v": {me: 1}, "l": me, "c": 1,
         "d": {"learner": "amina", "field": "bio", "value": "Form 3, loves algebra", "at": "2026-11-20T08:00:00+00:00"}},
    ]
    r = _put(client, session, 0, _frame(session, 0, edits))
    assert r.json()["outcome"] == "applied", r.json()
    record = Record.objects.get(kind="profile", person__user__username="amina")
    assert record.fields["bio"] == "Form 3, loves algebra"
    change = RecordChange.objects.get(record=record, field="bio")
    assert change.replica == f"device:{me}" and change.platform == "device"
    # An edit of a field a device may not edit is refused whole.
    bad = [dict(edits[0], key=f"{me}|2", d={**edits[0]["d"], "field": "email", "value": "x@y"})]
    r = _put(client, session, 1, _frame(session, 1, bad))
    assert r.status_code == 400 and "email" in r.json()["detail"]


def test_a_person_edits_their_profile_through_the_api(db):
    from tests.learning.assessments.conftest import someone

    amina = someone("amina")
    r = amina.client.patch("/api/v1/me/profile", {"name": "Amina Banda", "bio": "Form 3"}, format="json")
    assert r.status_code == 200 and r.json()["name"] == "Amina Banda"
    assert amina.client.get("/api/v1/me/profile").json()["bio"] == "Form 3"
    wrong = amina.client.patch("/api/v1/me/profile", {"email": "x@y"}, format="json")
    assert wrong.status_code == 400


def test_old_sessions_are_purged_and_a_device_starts_a_new_one(paired):
    from datetime import timedelta

    from django.utils import timezone

    from eduvault.learning.devices.jobs import purge
    from eduvault.learning.devices.models import TransferSession

    seeded, client, joined = paired
    old, fresh = _push(client), _push(client)
    TransferSession.objects.filter(pk=old["session"]).update(updated_at=timezone.now() - timedelta(days=31))
    assert purge() == {"purged": 1}
    assert client.get(f"/api/v1/devices/sessions/{old['session']}").status_code == 404
    assert client.get(f"/api/v1/devices/sessions/{fresh['session']}").status_code == 200
