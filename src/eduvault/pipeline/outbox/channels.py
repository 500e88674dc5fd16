"""Delivery channels: how a delivery reaches its target, one registered handler per channel.

A channel says how deliveries to one target behave (in order or not, in batches or not, at
what pace, how many attempts), and sends them. Outbound webhooks are the first channel; the
platforms' learner-record writers (grades to Canvas, badges to Discourse, ...) are the next.
Adding a channel is one registration::

    @channels.register("canvas.grade")
    class CanvasGrades(Channel):
        batch_size = 50
        def send(self, target, deliveries): ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from eduvault.kernel.registry import Registry

if TYPE_CHECKING:
    from eduvault.pipeline.outbox.models import Delivery


@dataclass(frozen=True)
class Sent:
    """What became of one delivery."""

    ok: bool
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    latency_ms: int = 0
    #: The target asked to be left alone this long (429, Retry-After): all of its deliveries wait.
    retry_after: float | None = None
    #: The target refused it for good (not a transient failure): it is not tried again.
    permanent: bool = False


class Held(Exception):
    """The target takes no deliveries for now (a disabled subscription): they wait, and no
    attempt is counted. ``seconds``: when to look again."""

    def __init__(self, reason: str, seconds: float = 3600.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


class Channel:
    """A way to deliver. Subclass, set the class attributes, implement :meth:`send`."""

    name: ClassVar[str] = ""
    #: Deliveries to one target go one at a time in the order they were written; a failing
    #: one holds back those behind it.
    ordered: ClassVar[bool] = False
    #: The most deliveries :meth:`send` takes at once for one target.
    batch_size: ClassVar[int] = 1
    #: Attempts before a delivery is dead-lettered (None: ``EDUVAULT_MAX_ATTEMPTS``; 0: no
    #: limit, the channel decides when to stop, e.g. by disabling its target).
    max_attempts: ClassVar[int | None] = None
    #: Sends a second to one target, at most (None: no pacing).
    per_second: ClassVar[float | None] = None
    #: How long a worker may take over one send before another may take the deliveries over.
    lease_seconds: ClassVar[float] = 120.0

    def hold(self, target: str) -> None:
        """Raise :class:`Held` if the target takes no deliveries now."""

    def send(self, target: str, deliveries: Sequence[Delivery]) -> list[Sent]:
        """Send ``deliveries`` (at most ``batch_size``, all to ``target``); one :class:`Sent`
        for each, in order. Exceptions count as a transient failure of all of them."""
        raise NotImplementedError

    def failing(self, target: str, since: datetime, last: Sent) -> None:
        """Called after a failed attempt, with when the target started failing: a channel
        may give up on a target that has failed too long (and :meth:`hold` it)."""


channels: Registry[Channel] = Registry("delivery channel")


def register(name: str):  # type: ignore[no-untyped-def]
    """Register a channel class under ``name`` (one instance serves every worker thread)."""

    def decorate(cls: type[Channel]) -> type[Channel]:
        cls.name = name
        channels.add(name, cls())
        return cls

    return decorate
