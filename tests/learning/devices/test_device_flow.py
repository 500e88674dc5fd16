"""A school device end to end, on real processes: the server (`eduvault serve` on the test
database) and a device (its own data directory and embedded SQLite): pairing, a pull of the
class, learners signing in and practising offline, a push, the server's view of it, and a
connection cut in the middle of each direction."""

from __future__ import annotations

import re

import pytest

from tests.learning.devices.flow import (
    LEARNERS,
    CuttingProxy,
    Device,
    class_seed,
    offline_practice,
    offline_work,
    profile_edit,
)
from tests.stack import Stack

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def server():
    stack = Stack("memory://")
    try:
        yield stack, stack.serve()
    finally:
        stack.stop()


def _pair(tmp_path, name: str, courses: list[str]) -> Device:
    from eduvault.learning.devices.services import device_add

    added = device_add(name=name, course_keys=courses, actor="test")
    device = Device(tmp_path, name)
    return device, added.code


def test_a_device_pulls_its_class_works_offline_and_pushes_it_once(server, tmp_path):
    from eduvault.learning.assessments.models import Answer, Attempt, Mastery
    from eduvault.pipeline.records.models import Record

    stack, url = server
    seeded = class_seed()
    device, code = _pair(tmp_path, "lab-1", [seeded["course"].key])
    out = device.ok("device", "join", url, code)
    assert "paired with" in out
    # The code was spent.
    again = Device(tmp_path, "lab-1-again").run("device", "join", url, code)
    assert again.returncode != 0 and "not valid" in again.stderr + again.stdout

    first = device.ok("device", "sync")
    pulled = int(re.search(r"pulled ([\d,]+) records", first).group(1).replace(",", ""))
    assert pulled > 0, first
    # The learners are on the device, with password hashes (never plain text), not the outsider.
    names = device.python(
        "from django.contrib.auth import get_user_model as g\n"
        "users = g().objects.all()\n"
        "print(sorted(u.username for u in users), all(u.password.startswith('pbkdf2_sha256$') for u in users))"
    )
    assert names.strip() == f"{sorted(LEARNERS)} True"

    # Offline: learners sign in on the device and practise.
    device.serve()
    try:
        attempts = [
            offline_practice(device.url, username=n, practice=seeded["practice"], answers=3) for n in LEARNERS[:2]
        ]
        profile_edit(device.url, username="amina", bio="Form 3 at Chichiri")
    finally:
        device.stop()
    status = device.ok("device", "status")
    assert "2 attempts" in status and "6 answers" in status and "1 profile_edits" in status, status

    pushed = device.ok("device", "sync")
    assert "pushed" in pushed
    assert set(map(str, Attempt.objects.filter(origin__startswith="d-").values_list("pk", flat=True))) == set(attempts)
    assert Answer.objects.filter(attempt_id__in=attempts).count() == 6
    assert all(a.status == "submitted" for a in Attempt.objects.filter(pk__in=attempts))
    # The server graded them as records and traced the learners' mastery from the answers.
    assert Record.objects.filter(kind="grade", person__user__username__in=LEARNERS[:2]).count() == 2
    assert Mastery.objects.filter(learner__username__in=LEARNERS[:2]).count() == 2
    assert Record.objects.get(kind="profile", person__user__username="amina").fields["bio"] == "Form 3 at Chichiri"
    assert "nothing" in device.ok("device", "status")

    # A second sync sends nothing up again and doubles nothing; nor does the server send the
    # device's work back down (the server found nothing of it changed: still the device's).
    device.ok("device", "sync")
    assert Answer.objects.filter(attempt_id__in=attempts).count() == 6
    assert Attempt.objects.filter(pk__in=attempts).count() == 2
    from eduvault.learning.devices.models import Device as Paired, Entry

    replica = Paired.objects.get(name="lab-1").replica
    assert set(Entry.objects.filter(kind__in=["attempt", "answer"]).values_list("last", flat=True)) == {replica}


FRACTIONS = (0.1, 0.5, 0.9)
ENTRIES = "from eduvault.learning.devices.models import Entry\nprint(sorted(Entry.objects.values_list('kind', 'key', 'digest')))"


def _via(device: Device, url: str) -> None:
    device.python(f"from eduvault.learning.devices.models import Pairing\nPairing.objects.update(server_url={url!r})")


def _session(device: Device, direction: str) -> dict:
    out = device.python(
        "import json\nfrom eduvault.learning.devices.models import TransferSession as T\n"
        f"s = T.objects.filter(direction={direction!r}).order_by('-started_at').first()\n"
        "print(json.dumps({'bytes': s.bytes, 'chunks': s.chunks, 'next_seq': s.next_seq, 'partial': len(bytes(s.partial)), 'state': s.state}))"
    )
    import json

    return json.loads(out)


def _cut_run(device: Device, port: int, *, direction: str, marker: bytes, cut_after: int) -> CuttingProxy:
    proxy = CuttingProxy(port, cut_after=cut_after, direction=direction, marker=marker)
    _via(device, proxy.url)
    result = device.run("device", "sync", "--timeout", "20")
    proxy.close()
    assert result.returncode != 0, result.stdout
    assert "dropped" in result.stderr + result.stdout and "again to resume" in result.stderr + result.stdout
    return proxy


def test_a_transfer_cut_at_10_50_and_90_percent_each_way_resumes_and_ends_as_an_uncut_one(tmp_path):
    from django.db import connection

    from eduvault.learning.assessments.models import Answer, Attempt
    from eduvault.learning.devices.models import TransferSession

    if connection.vendor != "postgresql":
        pytest.skip("run once, with the server on PostgreSQL as deployed (the device is on SQLite either way)")

    stack = Stack("memory://", EDUVAULT_DEVICE_CHUNK_BYTES="16384")
    try:
        url = stack.serve()
        port = stack.port
        seeded = class_seed(questions=120)
        key = seeded["course"].key
        cut, code = _pair(tmp_path, "cut", [key])
        whole, whole_code = _pair(tmp_path, "whole", [key])
        for device in (cut, whole):
            device.env.update(EDUVAULT_DEVICE_CHUNK_BYTES="16384", EDUVAULT_DEVICE_PART_BYTES="1024")
        cut.ok("device", "join", url, code)
        whole.ok("device", "join", url, whole_code)

        # Down: the first run is cut as the first chunk begins (the session is made, its size known).
        _cut_run(cut, port, direction="down", marker=b"application/octet-stream", cut_after=0)
        pull = _session(cut, "pull")
        assert pull["chunks"] >= 5, pull
        done, progress = 0.0, (0, 0)
        for fraction in FRACTIONS:
            _cut_run(cut, port, direction="down", marker=b"application/octet-stream", cut_after=int((fraction - done) * pull["bytes"]))
            done = fraction
            now = _session(cut, "pull")
            # Each run went on from where the last stopped (chunks applied, and bytes of the next).
            assert now["state"] == "open" and (now["next_seq"], now["partial"]) > progress, now
            progress = (now["next_seq"], now["partial"])
        _via(cut, url)
        cut.ok("device", "sync")
        whole.ok("device", "sync")
        assert _session(cut, "pull")["state"] == "done"
        # The cut device holds exactly what the uncut one does.
        assert cut.python(ENTRIES) == whole.python(ENTRIES)

        # Up: the device's learners' work, pushed through cuts.
        offline_work(cut, practice=seeded["practice"], attempts=8)
        _cut_run(cut, port, direction="up", marker=b"PUT /api/v1/devices/", cut_after=0)
        push = _session(cut, "push")
        assert push["chunks"] >= 4, push
        done = 0.0
        for fraction in FRACTIONS:
            _cut_run(cut, port, direction="up", marker=b"PUT /api/v1/devices/", cut_after=int((fraction - done) * push["bytes"]))
            done = fraction
        _via(cut, url)
        cut.ok("device", "sync")
        # (A cut that fell on the closing request leaves an empty session after it.)
        server_push = TransferSession.objects.get(device__name="cut", direction="push", applied_records__gt=0)
        assert server_push.state == "done" and server_push.next_seq == push["chunks"]
        # Every frame went up once, and the three cuts resent less than a part each (a part is
        # 1 KiB here; a chunk several).
        resent = server_push.wire_bytes - push["bytes"]
        chunk = push["bytes"] / push["chunks"]
        assert 0 <= resent < 3 * 1024 and resent < chunk, (resent, chunk)
        on_device = cut.python(
            "from eduvault.learning.assessments.models import Answer\n"
            "print(sorted((str(a.attempt_id), a.client_id, a.correct) for a in Answer.objects.all()))"
        )
        here = sorted((str(a.attempt_id), a.client_id, a.correct) for a in Answer.objects.filter(attempt__origin__startswith="d-"))
        assert on_device.strip() == str(here)
        assert len(here) == len(set(here)) == Answer.objects.count()
        assert Attempt.objects.filter(origin__startswith="d-").count() == 3 * 8
    finally:
        stack.stop()
