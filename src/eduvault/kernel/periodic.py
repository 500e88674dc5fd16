"""Periodic jobs: registered in one place, run by every worker, with or without a broker.

An app registers its jobs in its ``jobs.py`` (imported by its ``AppConfig.ready``)::

    @periodic("sync.reconcile", every=lambda: settings.EDUVAULT_RECONCILE_SECONDS, exclusive=True)
    def reconcile() -> dict: ...

Every worker process (``eduvault worker``, and ``eduvault serve`` without a broker) runs a
:class:`JobRunner`: one thread per job, which runs it when a worker starts and then every
``every()`` seconds (a job returning 0 or less is off), or at once when the job is woken
(``listen`` registers the waker, e.g. a commit in this process). An ``exclusive`` job runs in
one worker at a time: each run is claimed through the :class:`Schedule` table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.db import close_old_connections, connections
from django.utils import timezone

from eduvault.kernel.models import Schedule
from eduvault.kernel.registry import Registry

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], Any]
    #: Seconds between runs, read before each wait (0 or less: the job is off).
    every: Callable[[], float]
    #: One worker at a time (claimed through the Schedule table).
    exclusive: bool = False
    #: Registers a callable that wakes the job early (e.g. when this process commits work).
    listen: Callable[[Callable[[], None]], None] | None = None
    #: Unregisters it.
    unlisten: Callable[[Callable[[], None]], None] | None = None


jobs: Registry[Job] = Registry("periodic job")


def periodic(
    name: str,
    *,
    every: Callable[[], float],
    exclusive: bool = False,
    listen: Callable[[Callable[[], None]], None] | None = None,
    unlisten: Callable[[Callable[[], None]], None] | None = None,
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    def decorate(run: Callable[[], Any]) -> Callable[[], Any]:
        jobs.add(name, Job(name, run, every, exclusive, listen, unlisten))
        return run

    return decorate


def claim(job: Job) -> bool:
    """Whether this worker may run an exclusive job now (and, if so, it is claimed until
    its next due time)."""
    interval = job.every()
    if interval <= 0:
        return False
    now = timezone.now()
    Schedule.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    return bool(
        Schedule.objects.filter(name=job.name, next_run_at__lte=now).update(
            next_run_at=now + timedelta(seconds=interval), last_run_at=now
        )
    )


def run_once(job: Job) -> Any:
    """Run a job now (if it is exclusive, only when this worker claims it); log failures."""
    try:
        if job.exclusive and not claim(job):
            return None
        result = job.run()
        if job.exclusive and isinstance(result, dict):
            Schedule.objects.filter(name=job.name).update(last_result=result)
        return result
    except Exception:
        log.exception("job.failed", job=job.name)
        return None
    finally:
        close_old_connections()


class JobRunner:
    """Runs the registered jobs (or those named) on threads of this process."""

    def __init__(self, names: list[str] | None = None) -> None:
        self.jobs = [jobs.get(n) for n in names] if names is not None else [job for _, job in jobs.items()]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._wakers: list[tuple[Job, Callable[[], None]]] = []
        self._sleeps: list[threading.Event] = []

    def start(self) -> JobRunner:
        for job in self.jobs:
            woken = threading.Event()
            self._sleeps.append(woken)
            if job.listen is not None:
                job.listen(woken.set)
                self._wakers.append((job, woken.set))
            thread = threading.Thread(
                target=self._loop, args=(job, woken), name=f"job-{job.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        log.info("jobs.started", jobs=[job.name for job in self.jobs])
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for job, wake in self._wakers:
            if job.unlisten is not None:
                job.unlisten(wake)
        for woken in self._sleeps:  # every job's wait ends now, not at its next interval
            woken.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self, job: Job, woken: threading.Event) -> None:
        try:
            while not self._stop.is_set():
                if job.every() > 0:
                    run_once(job)
                interval = job.every()
                woken.wait(interval if interval > 0 else 5.0)
                woken.clear()
        finally:
            connections.close_all()
