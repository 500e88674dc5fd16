"""Assessments' periodic work: close timed attempts whose deadline has passed (at a worker's
start, then every ``EDUVAULT_EXAM_SWEEP_SECONDS``), so an attempt nobody touches is still
submitted at its deadline."""

from __future__ import annotations

from django.conf import settings

from eduvault.kernel.periodic import periodic
from eduvault.learning.assessments.services import attempt_expire_overdue


@periodic("assessments.expire", every=lambda: settings.EDUVAULT_EXAM_SWEEP_SECONDS)
def expire() -> dict[str, int]:
    return {"closed": attempt_expire_overdue()}
