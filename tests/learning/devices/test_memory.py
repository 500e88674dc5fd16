"""A device's push holds one batch and one chunk in memory, whatever the number of records:
finding the changes and framing them for three times the records peaks at about the same
memory (traced Python allocations)."""

from __future__ import annotations

import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.learning.devices.flow import class_seed

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _work(seeded: dict, *, answers: int) -> None:
    """``answers`` answers (6 an attempt) of the class's learners, as a device holds them."""
    from django.contrib.auth import get_user_model

    from eduvault.learning.assessments.models import Answer, Attempt, Question, Response

    questions = list(Question.objects.filter(current=True).order_by("id")[:6])
    learners = list(get_user_model().objects.filter(username__in=["amina", "chikondi", "kondwani"]))
    start = datetime.now(UTC) - timedelta(days=7)
    done = Attempt.objects.count()
    attempts, responses, rows = [], [], []
    for n in range(answers // len(questions)):
        attempt = Attempt(
            id=uuid.uuid4(), assessment_id=seeded["practice"], learner=learners[n % 3], number=done + n + 1,
            seed="ab", status="submitted", started_at=start + timedelta(seconds=n), submitted_at=start + timedelta(seconds=n + 1),
            closed_by="learner", score=3.0, max_score=6.0, passed=False,
        )
        attempts.append(attempt)
        for i, q in enumerate(questions):
            responses.append(Response(attempt=attempt, question=q, position=i, tries=1, score=1.0, correct=True, done=True))
            rows.append(Answer(
                attempt=attempt, client_id=f"c{i}", question=q, try_number=1, answer="b", score=1.0, raw_score=1.0,
                correct=True, result={"correct": True, "score": 1.0}, created_at=start + timedelta(seconds=n, milliseconds=i),
            ))
    Attempt.objects.bulk_create(attempts, batch_size=2000)
    Response.objects.bulk_create(responses, batch_size=2000)
    Answer.objects.bulk_create(rows, batch_size=2000)


def _peak_of_a_push() -> tuple[int, int]:
    """Peak traced memory of finding the changes and framing them all; and the records framed."""
    from eduvault.learning.devices import store
    from eduvault.learning.devices.client import UP_KINDS
    from eduvault.learning.devices.models import TransferSession

    scope = store.everything()
    session = TransferSession.objects.create(direction="push", key=store.session_key(), partitions=sorted(
        {p for p in scope.partitions()} | set(store.Entry.objects.values_list("partition", flat=True))
    ))
    tracemalloc.start()
    try:
        store.refresh(scope=scope, kind_names=UP_KINDS)
        session.partitions = sorted(set(store.Entry.objects.values_list("partition", flat=True)))
        store.session_frames_build(session=session, scope=scope, their_seen={}, kind_names=UP_KINDS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, session.records


def test_a_push_of_three_times_the_records_peaks_at_about_the_same_memory(settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("a device runs on the embedded SQLite")
    settings.EDUVAULT_DEVICE_CHUNK_BYTES = 256 * 1024
    seeded = class_seed()
    _work(seeded, answers=6_000)
    _peak_of_a_push()  # warm: the first pass fills caches that stay (statements, connections)
    _work(seeded, answers=6_000)
    small, framed_small = _peak_of_a_push()
    _work(seeded, answers=24_000)
    large, framed_large = _peak_of_a_push()
    assert framed_small == 12_000 + 2_000 and framed_large == 36_000 + 6_000
    # Measured: 14.1 MB for 14,000 records, 14.5 MB for 42,000 (and 14.6 MB for 70,000).
    assert large < 1.15 * small, f"peak {small / 1e6:.1f} MB for {framed_small:,} records, {large / 1e6:.1f} MB for {framed_large:,}"
