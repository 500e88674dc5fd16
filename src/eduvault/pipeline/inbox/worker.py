"""A worker without a broker: :class:`InboxWorker` drains the inbox from inside a process
(``eduvault serve`` and ``eduvault worker`` when no broker is configured). Its threads take
due subjects one at a time, woken at once when this process stores an event, else polling.
"""

from __future__ import annotations

import threading
import time

import structlog
from django.db import close_old_connections, connections
from django.utils import timezone

from eduvault.integrations.models import Source
from eduvault.kernel.leases import worker_name
from eduvault.pipeline.inbox import dispatch
from eduvault.pipeline.inbox.services import subject_process, subjects_due

log = structlog.get_logger(__name__)

Key = tuple[int, str, str]


class InboxWorker:
    def __init__(
        self, *, threads: int = 2, poll: float = 0.5, priorities: tuple[str, ...] | None = None
    ) -> None:
        self.threads = threads
        self.poll = poll
        self.priorities = priorities
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._busy: set[Key] = set()
        self._busy_lock = threading.Lock()
        #: Subjects in a burst, not to be tried again before the time they are due.
        self._not_before: dict[Key, float] = {}
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

    def _take(self) -> Key | None:
        now = time.monotonic()
        for due in subjects_due(limit=20):
            if self.priorities and due.priority not in self.priorities:
                continue
            key = (due.source_id, due.subject, due.key)
            with self._busy_lock:
                if key in self._busy or self._not_before.get(key, 0) > now:
                    continue
                self._busy.add(key)
                self._not_before.pop(key, None)
            return key
        return None

    def _wait_time(self) -> float:
        """Until the next subject in a burst is due, or the poll interval."""
        with self._busy_lock:
            soonest = min(self._not_before.values(), default=None)
        if soonest is None:
            return self.poll
        return max(0.0, min(self.poll, soonest - time.monotonic()))

    def _loop(self) -> None:
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
                        outcome = subject_process(source=source, subject=key[1], key=key[2], owner=owner)
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
