"""Reading learner records back from the platforms (the safety net for lost events)."""

from __future__ import annotations

import time
from typing import Any

import structlog

from eduvault.cores.records.policy import KINDS
from eduvault.integrations.base import integration_for
from eduvault.integrations.models import Source
from eduvault.kernel.errors import EduVaultError
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.records.services import Applied, records_ingest

log = structlog.get_logger(__name__)


def source_records_reconcile(
    *, source: Source, course_keys: list[str] | None = None, manual: bool = False
) -> Applied:
    """Read the records of a source's courses (all it follows, or those given) and apply them."""
    reader = integration_for(source).records_reader()
    total = Applied()
    if reader is None:
        return total
    keys = course_keys or list(Course.objects.filter(source=source).values_list("key", flat=True))
    try:
        for key in keys:
            facts = list(reader.read_records(course_key=key, kinds=KINDS))
            total.add(records_ingest(source=source, facts=facts, manual=manual))
    finally:
        reader.close()
    return total


def records_reconcile() -> dict[str, Any]:
    """Every enabled source that can be read: its followed courses' records."""
    started = time.perf_counter()
    totals: dict[str, Any] = {"sources": 0, "failed": []}
    for source in Source.objects.filter(enabled=True).order_by("name"):
        if not integration_for(source).reads_records:
            continue
        totals["sources"] += 1
        try:
            applied = source_records_reconcile(source=source)
        except EduVaultError as exc:
            log.warning("records.reconcile_source_failed", source=source.name, error=str(exc))
            totals["failed"].append(source.name)
            continue
        for name, value in applied.counts().items():
            totals[name] = totals.get(name, 0) + value
    log.info("records.reconciled", duration_ms=int((time.perf_counter() - started) * 1000), **totals)
    return totals
