"""Sync runs: who synced what, when, why and with what outcome. The changes each applied,
with their before and after, are the run's entries in the change feed (the course's history)."""

from __future__ import annotations

from django.db import models


class SyncRun(models.Model):
    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        UNCHANGED = "unchanged", "Unchanged"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        CLI = "cli", "Command line"
        FILE = "file", "Blocks file"
        DEMO = "demo", "Demo"
        ROLLBACK = "rollback", "Rollback"
        API = "api", "API"
        WEBHOOK = "webhook", "Webhook"
        BUS = "bus", "Event bus"
        RECONCILE = "reconcile", "Reconcile"

    #: Null only for a failed first sync of a course that was never stored.
    course = models.ForeignKey(
        "content.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    course_key = models.CharField(max_length=255, db_index=True)
    source = models.ForeignKey(
        "integrations.Source", null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    #: What started it: a file name, an event id, the version rolled back to, ...
    trigger_detail = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    version_before = models.PositiveIntegerField(null=True, blank=True)
    version_after = models.PositiveIntegerField(null=True, blank=True)
    creates = models.PositiveIntegerField(default=0)
    updates = models.PositiveIntegerField(default=0)
    moves = models.PositiveIntegerField(default=0)
    deletes = models.PositiveIntegerField(default=0)
    node_count = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["course", "version_after"], name="run_course_version"),
            models.Index(fields=["outcome", "started_at"], name="run_outcome_started"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} {self.course_key} {self.outcome}"

    @property
    def counts(self) -> dict[str, int]:
        return {"create": self.creates, "update": self.updates, "move": self.moves, "delete": self.deletes}

    @property
    def change_count(self) -> int:
        return self.creates + self.updates + self.moves + self.deletes
