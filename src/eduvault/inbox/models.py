"""The inbox: every event a source sends, stored before it is acknowledged.

It is the source of truth for event processing: the broker only carries ids, and whatever
a broker loses, the sweeper finds here again.
"""

from __future__ import annotations

from django.db import models


class InboundEvent(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting to be processed, or for its next attempt
        PROCESSING = "processing", "Processing"  # claimed by a worker, under a lease
        DONE = "done", "Done"
        FAILED = "failed", "Failed"  # a permanent failure: not retried
        DEAD = "dead", "Dead letter"  # transient failures until the last attempt

    class Via(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        BUS = "bus", "Event bus"

    source = models.ForeignKey("connectors.Source", on_delete=models.PROTECT, related_name="events")
    #: The CloudEvent id (and webhook-id): with the source, what makes a delivery a duplicate.
    event_id = models.CharField(max_length=200)
    type = models.CharField(max_length=200)
    priority = models.CharField(max_length=20)
    course_key = models.CharField(max_length=255)
    #: The whole CloudEvent as received.
    payload = models.JSONField()
    event_time = models.DateTimeField(null=True, blank=True)
    via = models.CharField(max_length=20, choices=Via.choices, default=Via.WEBHOOK)
    received_at = models.DateTimeField()
    #: The id of the request that delivered it (``X-Request-ID``), carried into the worker's
    #: log lines so one event can be followed from the webhook to the applied change.
    request_id = models.CharField(max_length=64, blank=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    #: The machine and the process holding the lease (eduvault.core.processes): a worker
    #: starting on that machine takes back at once the leases of a process that has died.
    lease_host = models.CharField(max_length=150, blank=True)
    lease_process = models.CharField(max_length=100, blank=True)
    #: When it was last handed to the broker (the sweeper hands it again if nothing happened).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_code = models.CharField(max_length=100, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    #: The sync run that handled it (several coalesced events share one).
    run = models.ForeignKey(
        "sync.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="inbox_unique_source_event"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="inbox_status_due"),
            models.Index(fields=["source", "course_key", "status"], name="inbox_course_status"),
        ]

    def __str__(self) -> str:
        return f"event {self.pk} {self.type} {self.course_key} ({self.status})"


class Schedule(models.Model):
    """A periodic job's next due time, claimed by one worker at a time (e.g. reconcile)."""

    name = models.CharField(max_length=50, primary_key=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run_at:%Y-%m-%d %H:%M})"
