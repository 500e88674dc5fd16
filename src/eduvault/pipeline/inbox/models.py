"""The inbox: every event a source sends, stored before it is acknowledged.

It is the source of truth for event processing: the broker only carries ids, and whatever
a broker loses, the sweeper finds here again. An event asks for work on a subject (re-read a
course's structure; later, a learner record, an enrollment): events of one subject are
processed together, by the handler registered for that kind of subject, one worker at a
time under a lease.
"""

from __future__ import annotations

from django.db import models

from eduvault.kernel.leases import Leased


class InboundEvent(Leased):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting to be processed, or for its next attempt
        PROCESSING = "processing", "Processing"  # claimed by a worker, under a lease
        DONE = "done", "Done"
        FAILED = "failed", "Failed"  # a permanent failure: not retried
        DEAD = "dead", "Dead letter"  # transient failures until the last attempt

    class Via(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        BUS = "bus", "Event bus"

    source = models.ForeignKey("integrations.Source", on_delete=models.PROTECT, related_name="events")
    #: The platform's id for the event (or a key derived from what it is about): with the
    #: source, what makes a delivery a duplicate.
    event_id = models.CharField(max_length=200)
    type = models.CharField(max_length=200)
    priority = models.CharField(max_length=20)
    #: The work it asks for: the kind of subject (``course``, ...) and which one (a key).
    subject = models.CharField(max_length=50)
    subject_key = models.CharField(max_length=255)
    #: The event as received.
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
    #: When it was last handed to the broker (the sweeper hands it again if nothing happened).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_code = models.CharField(max_length=100, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    #: What the work came to, as its handler reports it (e.g. ``{"run": 12}``, the sync run
    #: that several coalesced events shared).
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="inbox_unique_source_event"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="inbox_status_due"),
            models.Index(fields=["source", "subject", "subject_key", "status"], name="inbox_subject_status"),
        ]

    def __str__(self) -> str:
        return f"event {self.pk} {self.type} {self.subject} {self.subject_key} ({self.status})"
