"""The kernel's one table: when each exclusive periodic job is next due."""

from __future__ import annotations

from django.db import models


class Schedule(models.Model):
    """An exclusive periodic job's next due time, claimed by one worker at a time (the
    reconcile, say), and what its last run came to."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run_at:%Y-%m-%d %H:%M})"
