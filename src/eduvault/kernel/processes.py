"""Which process holds a lease, and whether that process is still alive.

A lease records the machine (host name and machine id) and the process (boot id, pid and
the process's start time). A worker starting on the same machine can then tell, without
waiting for the lease to expire, that the holder is gone: the machine has rebooted since
(another boot id), no process has that pid, or the pid now belongs to a younger process.
Power cuts are routine where Edu Vault runs; a server back in seconds takes its work back
in seconds. Leases held on other machines are never judged here: they expire as before.

Pure Python (reads ``/proc`` on Linux; elsewhere only whether the pid exists).
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _stat(pid: int) -> tuple[str, int]:
    """The process's state letter and start time in clock ticks since boot (Linux);
    ``("", 0)`` when unknown."""
    stat = _read(f"/proc/{pid}/stat")
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return fields[0], int(fields[19])  # fields 3 and 22 of the whole line
    except (IndexError, ValueError):
        return "", 0


@dataclass(frozen=True)
class ProcessIdentity:
    #: The machine: its host name and machine id (two machines may share a host name).
    host: str
    #: The process on that machine: ``<boot id>:<pid>:<start time>``.
    process: str

    @property
    def pid(self) -> int:
        return int(self.process.split(":")[1])

    def owner(self) -> str:
        """A readable name for the holder of a lease: ``host:pid:thread``."""
        return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


_current: tuple[int, ProcessIdentity] | None = None


def this_process() -> ProcessIdentity:
    """This process's identity (computed again after a fork)."""
    global _current
    pid = os.getpid()
    if _current is None or _current[0] != pid:
        machine = _read("/etc/machine-id")[:12]
        host = f"{socket.gethostname()}/{machine}" if machine else socket.gethostname()
        boot = _read("/proc/sys/kernel/random/boot_id")
        _current = (pid, ProcessIdentity(host=host[:150], process=f"{boot}:{pid}:{_stat(pid)[1]}"))
    return _current[1]


def process_gone(process: str) -> bool:
    """Whether the process described by ``process`` (of this machine) has ended for sure."""
    try:
        boot, pid_text, started_text = process.rsplit(":", 2)
        pid, started = int(pid_text), int(started_text)
    except ValueError:
        return False  # not ours to judge
    if boot and boot != _read("/proc/sys/kernel/random/boot_id"):
        return True  # the machine has restarted since
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # exists, under another user
    state, now_started = _stat(pid)
    if state in ("Z", "X"):
        return True  # dead, not yet reaped by its parent
    return bool(started) and now_started not in (0, started)  # the pid was reused
