"""Sync runs and the changes they applied: the audit trail and the course's history."""

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
        "connectors.Source", null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
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


class Change(models.Model):
    """One applied change, with the node's state before and after it.

    ``before``/``after`` are the change's stored states (see
    :meth:`eduvault.coursetree.Change.before`), enough to undo it.
    """

    class Op(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        MOVE = "move"
        DELETE = "delete"

    # Both indexed by the composite indexes below, which lead with them.
    run = models.ForeignKey(SyncRun, on_delete=models.PROTECT, related_name="changes", db_index=False)
    #: Position in the change feed: handed out in commit order, with no gaps.
    cursor = models.BigIntegerField(unique=True)
    course = models.ForeignKey(
        "content.Course", on_delete=models.PROTECT, related_name="changes", db_index=False
    )
    #: Order within the run.
    seq = models.PositiveIntegerField()
    op = models.CharField(max_length=10, choices=Op.choices)
    external_id = models.CharField(max_length=500)
    kind = models.CharField(max_length=50)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["cursor"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="change_unique_run_seq")]
        indexes = [
            models.Index(fields=["course", "cursor"], name="change_course_cursor"),
            models.Index(fields=["course", "external_id"], name="change_course_node"),
        ]

    def __str__(self) -> str:
        return f"{self.op} {self.kind} {self.external_id}"
