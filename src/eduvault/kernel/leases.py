"""Leases: work claimed by one process for a while, and taken back when that process dies.

A leased row (:class:`Leased`) records who holds it (``lease_owner``: host, pid, thread, for
people), until when, and which machine and process (:mod:`eduvault.kernel.processes`), so
that a process starting on the same machine takes back at once what a dead process held,
rather than waiting for the lease to expire.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from eduvault.kernel.processes import process_gone, this_process


class Leased(models.Model):
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    #: The machine and the process holding the lease.
    lease_host = models.CharField(max_length=150, blank=True)
    lease_process = models.CharField(max_length=100, blank=True)

    class Meta:
        abstract = True


#: The lease fields of a row nobody holds.
RELEASED: dict[str, Any] = {
    "lease_owner": "",
    "lease_expires_at": None,
    "lease_host": "",
    "lease_process": "",
}


def lease_fields(owner: str, seconds: float, *, now: datetime | None = None) -> dict[str, Any]:
    """The lease fields of a row this process claims for ``seconds``."""
    holder = this_process()
    return {
        "lease_owner": owner,
        "lease_expires_at": (now or timezone.now()) + timedelta(seconds=seconds),
        "lease_host": holder.host,
        "lease_process": holder.process,
    }


def worker_name() -> str:
    """Who holds a lease, for the operator reading it: host, process and thread."""
    return this_process().owner()


def orphaned(rows: QuerySet[Any]) -> QuerySet[Any]:
    """Those of ``rows`` (held rows) whose holder was a process of this machine that has
    since died: a crash, a power cut, a kill."""
    me = this_process()
    mine = rows.filter(lease_host=me.host).exclude(lease_process__in=("", me.process))
    gone = [p for p in mine.values_list("lease_process", flat=True).distinct() if process_gone(p)]
    return mine.filter(lease_process__in=gone) if gone else rows.none()
