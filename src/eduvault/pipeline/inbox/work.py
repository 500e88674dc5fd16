"""Kinds of work, and who does each: a registry of handlers by subject.

The inbox knows no app above it. An app that acts on inbound events registers a handler
for its kind of subject (the sync: ``course``, to re-read a course's structure); the inbox
claims the pending events of one subject and calls it once for all of them::

    @work_handler("course")
    def sync_course(*, source, key, events) -> dict:
        run = course_sync(...)
        return {"run": run.pk}

A handler raises to fail: an ``EduVaultError`` that is ``transient`` (or a lost database
connection) is retried with backoff, anything else fails at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from eduvault.kernel.registry import Registry

if TYPE_CHECKING:
    from eduvault.integrations.models import Source
    from eduvault.pipeline.inbox.models import InboundEvent

Handler = Callable[..., dict[str, Any]]

handlers: Registry[Handler] = Registry("kind of work")
#: Kinds of work whose bursts of events are worth waiting for (a course's structure: one
#: sync for a burst of edits); the others are done as their events come (a grade).
_coalescing: set[str] = set()


def work_handler(subject: str, *, coalesce: bool = True) -> Callable[[Handler], Handler]:
    if coalesce:
        _coalescing.add(subject)
    return handlers.register(subject)


def coalesces(subject: str) -> bool:
    return subject in _coalescing


def work_do(*, source: Source, subject: str, key: str, events: Sequence[InboundEvent]) -> dict[str, Any]:
    return handlers.get(subject)(source=source, key=key, events=events)
