"""Subscribing to applied changes.

Other apps react to what a sync applied by registering a subscriber for the kinds and
operations they care about. Subscribers run inside the sync's transaction, after its
changes are written: whatever they write commits with the sync or not at all, and an
exception in a subscriber fails the whole run (nothing is applied, the run records why)::

    from eduvault.pipeline.sync.subscriptions import subscribe

    @subscribe(kinds={"subtopic"}, ops={"create", "delete"})
    def keep_practice_assessments(*, course, run, changes):
        for change in changes:
            ...  # change.op, change.kind, change.external_id, change.node_pk, change.after

Register subscribers at import time of a module your app's ``AppConfig.ready`` imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eduvault.cores.coursetree import Change


@dataclass(frozen=True)
class AppliedChange:
    """A change as subscribers see it."""

    op: str
    kind: str
    external_id: str
    #: The stored node's primary key (hex); None for a delete.
    node_pk: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, change: Change, node_pk: str | None) -> AppliedChange:
        return cls(change.op, change.kind, change.id, node_pk, change.before(), change.after())


Subscriber = Callable[..., None]


@dataclass(frozen=True)
class Subscription:
    handler: Subscriber
    kinds: frozenset[str] | None
    ops: frozenset[str] | None

    def wants(self, change: AppliedChange) -> bool:
        return (self.kinds is None or change.kind in self.kinds) and (
            self.ops is None or change.op in self.ops
        )


_SUBSCRIPTIONS: list[Subscription] = []


def subscribe(
    *, kinds: Iterable[str] | None = None, ops: Iterable[str] | None = None
) -> Callable[[Subscriber], Subscriber]:
    """Decorator: call ``handler(course=, run=, changes=)`` with matching applied changes."""

    def decorate(handler: Subscriber) -> Subscriber:
        _SUBSCRIPTIONS.append(
            Subscription(handler, frozenset(kinds) if kinds else None, frozenset(ops) if ops else None)
        )
        return handler

    return decorate


def unsubscribe(handler: Subscriber) -> None:
    _SUBSCRIPTIONS[:] = [s for s in _SUBSCRIPTIONS if s.handler is not handler]


def notify(*, course: Any, run: Any, changes: list[Change], node_pks: dict[str, str]) -> None:
    """Call every subscriber with the changes it wants (none: not called)."""
    if not _SUBSCRIPTIONS:
        return
    applied = [AppliedChange.of(c, node_pks.get(c.id) if c.op != "delete" else None) for c in changes]
    for subscription in list(_SUBSCRIPTIONS):
        wanted = [c for c in applied if subscription.wants(c)]
        if wanted:
            subscription.handler(course=course, run=run, changes=wanted)
