"""Workers without a broker, and the upkeep every worker does.

:class:`InboxWorker` drains the inbox from inside a process (``eduvault serve`` and
``eduvault worker`` when no broker is configured): threads take due courses one at a time,
woken at once when this process stores an event, else polling. :class:`Upkeep` runs in
every worker, with or without a broker: it sweeps the inbox (expired leases, events a
broker lost) and starts the periodic reconcile, which one worker at a time claims.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from eduvault.feed.outbound import subscription_leases_reclaim
from eduvault.inbox import dispatch
from eduvault.inbox.models import Schedule
from eduvault.inbox.services import course_process, due_courses, inbox_sweep, worker_name

log = structlog.get_logger(__name__)


class InboxWorker:
    def __init__(
        self, *, threads: int = 2, poll: float = 0.5, priorities: tuple[str, ...] | None = None
    ) -> None:
        self.threads = threads
        self.poll = poll
        self.priorities = priorities
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._busy: set[tuple[int, str]] = set()
        self._busy_lock = threading.Lock()
        #: Courses in a burst, not to be tried again before the time they are due.
        self._not_before: dict[tuple[int, str], float] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> InboxWorker:
        dispatch.listen_locally(self._wake.set)
        for n in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"eduvault-inbox-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("inbox_worker.started", threads=self.threads)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        dispatch.stop_listening(self._wake.set)
        for thread in self._threads:
            thread.join(timeout)

    def _take(self) -> tuple[int, str] | None:
        now = time.monotonic()
        for due in due_courses(limit=20):
            if self.priorities and due.priority not in self.priorities:
                continue
            key = (due.source_id, due.course_key)
            with self._busy_lock:
                if key in self._busy or self._not_before.get(key, 0) > now:
                    continue
                self._busy.add(key)
                self._not_before.pop(key, None)
            return key
        return None

    def _wait_time(self) -> float:
        """Until the next course in a burst is due, or the poll interval."""
        with self._busy_lock:
            soonest = min(self._not_before.values(), default=None)
        if soonest is None:
            return self.poll
        return max(0.0, min(self.poll, soonest - time.monotonic()))

    def _loop(self) -> None:
        from eduvault.connectors.models import Source

        owner = worker_name()
        try:
            while not self._stop.is_set():
                try:
                    key = self._take()
                    if key is None:
                        self._wake.wait(self._wait_time())
                        self._wake.clear()
                        continue
                    try:
                        source = Source.objects.get(pk=key[0])
                        outcome = course_process(source=source, course_key=key[1], owner=owner)
                        if outcome.state == "waiting" and outcome.due_at is not None:
                            delay = (outcome.due_at - timezone.now()).total_seconds()
                            with self._busy_lock:
                                self._not_before[key] = time.monotonic() + max(0.0, delay)
                    finally:
                        with self._busy_lock:
                            self._busy.discard(key)
                except Exception:
                    log.exception("inbox_worker.error")
                    time.sleep(self.poll)
                finally:
                    close_old_connections()
        finally:
            connections.close_all()


class Upkeep:
    """Sweeps the inbox every ``EDUVAULT_SWEEP_SECONDS``, runs the reconcile when due, closes
    timed attempts past their deadline (at start, then every ``EDUVAULT_EXAM_SWEEP_SECONDS``),
    and delivers outbound webhooks (woken when a change commits in this process, else
    polling)."""

    def __init__(self, *, process_overdue: bool = True) -> None:
        self.process_overdue = process_overdue
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="eduvault-upkeep", daemon=True)
        self._deliver_wake = threading.Event()
        self._deliverer = threading.Thread(target=self._deliver_loop, name="eduvault-webhooks", daemon=True)

    def start(self) -> Upkeep:
        from eduvault.feed.services import listen_locally

        listen_locally(self._deliver_wake.set)
        self._thread.start()
        self._deliverer.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        from eduvault.feed.services import stop_listening

        stop_listening(self._deliver_wake.set)
        self._stop.set()
        self._deliver_wake.set()
        self._thread.join(timeout)
        self._deliverer.join(timeout)

    def _deliver_loop(self) -> None:
        from eduvault.feed.outbound import deliveries_run

        owner = worker_name()
        try:
            while not self._stop.is_set():
                try:
                    outcomes = deliveries_run(owner=owner)
                except Exception:
                    log.exception("webhooks.error")
                    outcomes = {}
                finally:
                    close_old_connections()
                if not outcomes.get("delivered"):
                    self._deliver_wake.wait(1.0)
                    self._deliver_wake.clear()
        finally:
            connections.close_all()

    def _loop(self) -> None:
        # Exams first, at once: attempts whose deadline passed while no worker ran are
        # closed at their deadline as soon as one starts.
        next_exam_sweep = 0.0
        try:
            while True:
                try:
                    if time.monotonic() >= next_exam_sweep:
                        next_exam_sweep = time.monotonic() + settings.EDUVAULT_EXAM_SWEEP_SECONDS
                        _exam_sweep()
                    inbox_sweep(process_overdue=self.process_overdue)
                    subscription_leases_reclaim()
                    if reconcile_due():
                        threading.Thread(target=_reconcile, name="eduvault-reconcile", daemon=True).start()
                except Exception:
                    log.exception("upkeep.error")
                finally:
                    close_old_connections()
                if self._stop.wait(settings.EDUVAULT_SWEEP_SECONDS):
                    break
        finally:
            connections.close_all()


def reconcile_due() -> bool:
    """Claim the periodic reconcile if it is due (one worker wins)."""
    interval = settings.EDUVAULT_RECONCILE_SECONDS
    if interval <= 0:
        return False
    now = timezone.now()
    Schedule.objects.get_or_create(
        name="reconcile", defaults={"next_run_at": now + timedelta(seconds=interval)}
    )
    claimed = Schedule.objects.filter(name="reconcile", next_run_at__lte=now).update(
        next_run_at=now + timedelta(seconds=interval), last_run_at=now
    )
    return bool(claimed)


def _exam_sweep() -> None:
    from eduvault.assessments.services import attempt_expire_overdue

    attempt_expire_overdue()


def _reconcile() -> None:
    from eduvault.sync.services import sources_reconcile

    try:
        result = sources_reconcile()
        Schedule.objects.filter(name="reconcile").update(last_result=result)
    except Exception:
        log.exception("reconcile.error")
    finally:
        connections.close_all()
