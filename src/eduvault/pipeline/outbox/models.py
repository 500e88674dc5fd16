"""The outbox: every write Edu Vault owes a platform or a consumer, stored before it is sent.

A :class:`Delivery` is written in the transaction that causes it (or, for outbound webhooks,
in the one that takes the feed entries it carries), so it exists if and only if its cause
committed. It names its ``target`` (who receives it: a subscription, a platform source) and
its ``channel`` (the registered handler that knows how to send it), carries an
``idempotency_key`` unique per target (the platform, or the receiver, uses it to drop a
repeat), and is sent, retried with backoff, dead-lettered and replayed by the outbox.
"""

from __future__ import annotations

from django.db import models

from eduvault.kernel.leases import Leased


class Delivery(Leased):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting to be sent, or for its next attempt
        SENDING = "sending", "Sending"  # claimed by a worker, under a lease
        DONE = "done", "Delivered"
        FAILED = "failed", "Failed"  # refused for good by the target: not retried
        DEAD = "dead", "Dead letter"  # transient failures until the last attempt

    target = models.CharField(max_length=200)
    channel = models.CharField(max_length=50)
    idempotency_key = models.CharField(max_length=300)
    priority = models.CharField(max_length=20, default="background")
    #: What it is about and which platform receives it (``grade.canvas``): with RabbitMQ, its
    #: send task's routing key is ``<priority>.<route>``.
    route = models.CharField(max_length=100, blank=True)
    #: What to send, as the channel reads it.
    payload = models.JSONField()
    #: What it is about, for people: "grade 12 of amina", "change 4017".
    summary = models.CharField(max_length=300, blank=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    #: When it first failed (a target failing for too long may be disabled by its channel).
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_code = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["target", "idempotency_key"], name="delivery_unique_key"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_due"),
            models.Index(fields=["target", "status", "id"], name="delivery_target_status"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} to {self.target} ({self.status})"


class DeliveryAttempt(models.Model):
    """Every attempt to send a delivery: what came back, how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempt = models.PositiveIntegerField()
    ok = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["delivery", "-id"], name="attempt_delivery")]

    def __str__(self) -> str:
        return f"attempt {self.attempt} of delivery {self.delivery_id}: {self.status_code or self.error}"
