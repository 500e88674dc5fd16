"""Telling whether the process that holds a lease on this machine is still alive."""

from __future__ import annotations

import os
import subprocess
import sys

from eduvault.kernel.processes import _stat, process_gone, this_process


def finished_child() -> str:
    """The identity of a process that has run and ended (its pid not reused yet, most likely)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    boot = this_process().process.split(":")[0]
    started = _stat(child.pid)[1]
    child.wait()
    return f"{boot}:{child.pid}:{started}"


def test_this_process_is_alive():
    me = this_process()
    assert me.pid == os.getpid()
    assert not process_gone(me.process)


def test_a_process_that_ended_is_gone():
    assert process_gone(finished_child())


def test_a_live_child_is_alive_until_it_ends():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        boot = this_process().process.split(":")[0]
        identity = f"{boot}:{child.pid}:{_stat(child.pid)[1]}"
        assert not process_gone(identity)
    finally:
        child.kill()
        child.wait()
    assert process_gone(identity)


def test_a_reused_pid_or_another_boot_means_gone():
    boot, pid, started = this_process().process.split(":")
    assert process_gone(f"{boot}:{pid}:{int(started) + 1}")  # the pid belongs to a younger process
    assert process_gone(f"another-boot:{pid}:{started}")  # the machine has restarted since


def test_what_it_cannot_read_is_never_judged_gone():
    assert not process_gone("garbage")
    assert not process_gone("")
