"""A school device end to end, on real processes: the server (`eduvault serve` on the test
database) and a device (its own data directory and embedded SQLite): pairing, a pull of the
class, learners signing in and practising offline, a push, the server's view of it, and a
connection cut in the middle of each direction."""

from __future__ import annotations

import re

import pytest

from tests.learning.devices.flow import LEARNERS, CuttingProxy, Device, class_seed, offline_practice
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
    finally:
        device.stop()
    status = device.ok("device", "status")
    assert "2 attempts" in status and "6 answers" in status, status

    pushed = device.ok("device", "sync")
    assert "pushed" in pushed
    assert set(map(str, Attempt.objects.filter(origin__startswith="d-").values_list("pk", flat=True))) == set(attempts)
    assert Answer.objects.filter(attempt_id__in=attempts).count() == 6
    assert all(a.status == "submitted" for a in Attempt.objects.filter(pk__in=attempts))
    # The server graded them as records and traced the learners' mastery from the answers.
    assert Record.objects.filter(kind="grade", person__user__username__in=LEARNERS[:2]).count() == 2
    assert Mastery.objects.filter(learner__username__in=LEARNERS[:2]).count() == 2
    assert "nothing" in device.ok("device", "status")

    # A second sync sends nothing up again and doubles nothing.
    device.ok("device", "sync")
    assert Answer.objects.filter(attempt_id__in=attempts).count() == 6
    assert Attempt.objects.filter(pk__in=attempts).count() == 2
