"""Where a record change must go, and when: deliveries to the platforms that hold the record
and whose value differs, by priority class (critical at once; high and background batched
within their windows; an operator's own work never waits for a window)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from eduvault.cores.records import vectors
from eduvault.integrations.base import integration_class
from eduvault.integrations.models import Source
from eduvault.pipeline.outbox.services import Outgoing
from eduvault.pipeline.records.models import Record

CHANNEL = "records"
#: The high class's window may be shorter, never longer (the design allows 5 to 15 minutes).
HIGH_WINDOW_LIMIT = 900


def window_seconds(priority: str) -> float:
    if priority == "critical":
        return 0.0
    if priority == "high":
        window = float(settings.EDUVAULT_HIGH_WINDOW_SECONDS)
        if not 0 <= window <= HIGH_WINDOW_LIMIT:
            raise ImproperlyConfigured(
                f"EDUVAULT_HIGH_WINDOW_SECONDS is {window:g}; it must be between 0 and {HIGH_WINDOW_LIMIT}"
            )
        return window
    return max(0.0, float(settings.EDUVAULT_BACKGROUND_WINDOW_SECONDS))


def due_at(priority: str, *, now: datetime | None = None, manual: bool = False) -> datetime:
    """When a delivery of this class written now goes out: at once for critical ones and an
    operator's own work; else at the end of the current window, so that every delivery
    written within one window goes out together, in batches."""
    now = now or timezone.now()
    window = 0.0 if manual else window_seconds(priority)
    if window <= 0:
        return now
    epoch = now.timestamp()
    boundary = math.ceil(epoch / window) * window
    return now + timedelta(seconds=boundary - epoch)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def same_credit(held: Mapping[str, Any], fields: Mapping[str, Any]) -> bool | None:
    """For grades (a score out of a maximum): whether both give the same credit, on whatever
    scales; None when they are not both grades."""
    score, maximum = _number(fields.get("score")), _number(fields.get("max"))
    theirs, their_max = _number(held.get("score")), _number(held.get("max"))
    if not (maximum and their_max) or ("score" not in held or "score" not in fields):
        return None
    if score is None or theirs is None:
        return score is None and theirs is None
    return math.isclose(score / maximum, theirs / their_max, rel_tol=1e-6, abs_tol=1e-6)


def same_fields(held: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    """A replica holds the record's value already (a write back would change nothing): the
    same credit for a grade (its own maximum and text are its scale's), else equal fields."""
    credit = same_credit(held, fields)
    if credit is not None:
        rest = {k: v for k, v in fields.items() if k not in ("score", "max", "grade")}
        return credit and same_fields({k: v for k, v in held.items() if k in rest}, rest) if rest else credit
    for name, value in fields.items():
        if name not in held:
            return False
        mine, theirs = value, held[name]
        if isinstance(mine, int | float) and isinstance(theirs, int | float) and not isinstance(mine, bool):
            if not math.isclose(float(mine), float(theirs), rel_tol=1e-6, abs_tol=1e-6):
                return False
        elif mine != theirs:
            return False
    return True


def writable_kinds(source: Source) -> frozenset[str]:
    """The kinds of record a source's platform takes (none if it is disabled)."""
    if not source.enabled:
        return frozenset()
    return integration_class(source.platform).writes_records


def targets(record: Record, *, origin: str, sources: Mapping[str, Source]) -> list[str]:
    """The replicas that should receive the record as it is now: those that hold it (or its
    object's home), other than where the change came from, that take its kind, and whose
    value differs."""
    names = set(record.replicas)
    if record.home != "eduvault":
        names.add(record.home)
    out = []
    for name in sorted(names - {origin, "eduvault"}):
        source = sources.get(name)
        if source is None or record.kind not in writable_kinds(source):
            continue
        held = (record.replicas.get(name) or {}).get("fields") or {}
        if not same_fields(held, record.fields):
            out.append(name)
    return out


def outgoing(record: Record, *, target: str, priority: str, platform: str) -> Outgoing:
    """One delivery of a record's current state; its key changes with the record's vector,
    so a repeat of the same state to the same target is written once."""
    stamp = ".".join(f"{k}{v}" for k, v in sorted(vectors.check(record.vector).items()))
    key = f"record:{record.pk}:{stamp}"
    if len(key) > 300:
        key = f"record:{record.pk}:{hashlib.sha256(stamp.encode()).hexdigest()}"
    return Outgoing(
        target=target,
        channel=CHANNEL,
        idempotency_key=key,
        payload={"record": record.pk},
        priority=priority,
        summary=f"{record.kind} {record.title or record.object} of {record.holder}"[:300],
        route=f"{record.kind}.{platform}",
    )


def sources_named(names: Iterable[str]) -> dict[str, Source]:
    """The sources of these replica names (Edu Vault's own is none: nothing to read for it)."""
    wanted = set(names) - {"eduvault"}
    return {s.name: s for s in Source.objects.filter(name__in=wanted)} if wanted else {}
