"""Periodic jobs: registered once, run by every worker; an exclusive one by one worker at a time."""

from __future__ import annotations

import threading

import pytest

from eduvault.kernel.models import Schedule
from eduvault.kernel.periodic import JobRunner, jobs, periodic, run_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registered():
    names: list[str] = []
    yield names
    for name in names:
        jobs.remove(name)


def test_every_app_registers_its_jobs_in_one_registry():
    assert {
        "inbox.sweep",
        "outbox.deliver",
        "outbox.sweep",
        "feed.subscriptions",
        "sync.reconcile",
        "assessments.expire",
        "identity.purge",
        "records.reconcile",
        "communities.reconcile",
        "lti.rosters",
        "lti.logins_purge",
        "devices.sessions_purge",
    } <= set(jobs)


def test_an_exclusive_job_runs_in_one_worker_until_it_is_due_again(registered):
    runs: list[int] = []

    @periodic("test.exclusive", every=lambda: 3600, exclusive=True)
    def job() -> dict:
        runs.append(1)
        return {"done": len(runs)}

    registered.append("test.exclusive")
    entry = jobs.get("test.exclusive")
    assert run_once(entry) == {"done": 1}
    assert run_once(entry) is None  # another worker, the same hour: not due
    assert runs == [1] and Schedule.objects.get(name="test.exclusive").last_result == {"done": 1}


def test_a_runner_runs_its_jobs_at_start_and_when_woken(registered):
    ran = threading.Event()
    count = []
    listeners: list = []

    @periodic("test.woken", every=lambda: 3600, listen=listeners.append, unlisten=listeners.remove)
    def job() -> None:
        count.append(1)
        ran.set()

    registered.append("test.woken")
    runner = JobRunner(["test.woken"]).start()
    try:
        assert ran.wait(5)  # at start
        ran.clear()
        listeners[0]()  # woken (as a commit in this process does)
        assert ran.wait(5) and len(count) == 2
    finally:
        runner.stop()
    assert listeners == []


def test_a_failing_job_is_logged_and_does_not_stop_the_runner(registered, caplog):
    @periodic("test.failing", every=lambda: 3600)
    def job() -> None:
        raise RuntimeError("boom")

    registered.append("test.failing")
    assert run_once(jobs.get("test.failing")) is None


def test_stopping_a_runner_ends_every_jobs_wait_at_once(registered):
    """A job that waits an hour between runs does not hold a stopping worker for that hour
    (nor for the join's timeout): a SIGTERM'd `eduvault worker` exits promptly."""
    ran = threading.Event()

    @periodic("test.hourly", every=lambda: 3600)
    def job() -> None:
        ran.set()

    registered.append("test.hourly")
    runner = JobRunner(["test.hourly"]).start()
    assert ran.wait(5)
    runner.stop(timeout=30)
    assert not any(thread.is_alive() for thread in runner._threads)
