"""The change feed's cursor, and outbound webhook subscriptions.

The feed itself is the change history (:class:`eduvault.sync.models.Change`): each change
gets its cursor from :class:`FeedCounter` in the same transaction that writes it.
"""

from __future__ import annotations

from django.db import models


class FeedCounter(models.Model):
    """One row: the last cursor handed out.

    A transaction takes its cursors with ``UPDATE … SET head = head + n``; the row lock it
    then holds until commit makes the next transaction wait, so cursors are handed out in
    commit order, and a transaction that rolls back gives its cursors back. The feed has no
    gaps and a reader never sees a cursor below one it has already read.
    """

    head = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"feed head {self.head}"


class FeedEvent(models.Model):
    """An entry of the change feed that is not a change to a course tree: a grade, a
    subtopic mastered. It takes its cursor from the same counter, in the same transaction
    as what it reports, so the feed stays one gapless sequence."""

    cursor = models.BigIntegerField(unique=True)
    course = models.ForeignKey("content.Course", on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=50)
    op = models.CharField(max_length=10)
    #: What the event is about, e.g. an attempt's id.
    external_id = models.CharField(max_length=500)
    #: The priority class consumers should give it (grades: critical).
    priority = models.CharField(max_length=20)
    data = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["cursor"]
        indexes = [models.Index(fields=["course", "cursor"], name="feedevent_course_cursor")]

    def __str__(self) -> str:
        return f"{self.kind} {self.op} {self.external_id}"


class Subscription(models.Model):
    """An outbound webhook: every change its filters (and its token's scope) let through,
    delivered in order, signed with its secret."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=1000)
    #: Standard Webhooks secret (whsec_…), shown once at creation.
    secret = models.CharField(max_length=200)
    #: Filters: course keys, kinds and operations (empty: all).
    courses = models.JSONField(default=list, blank=True)
    kinds = models.JSONField(default=list, blank=True)
    ops = models.JSONField(default=list, blank=True)
    #: A consumer token whose scope the deliveries stay within (None: an admin's, all).
    token = models.ForeignKey("core.ApiToken", null=True, blank=True, on_delete=models.SET_NULL)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    #: The last cursor delivered (deliveries go out in order, one at a time).
    cursor = models.BigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    #: The machine and process delivering (eduvault.core.processes), as the inbox's leases.
    lease_host = models.CharField(max_length=150, blank=True)
    lease_process = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"


class DeliveryAttempt(models.Model):
    """Every attempt to deliver one change to one subscription."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="attempts_log")
    #: Stable across retries: receivers use it to drop duplicates.
    delivery_id = models.CharField(max_length=100)
    cursor = models.BigIntegerField()
    attempt = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["subscription", "-id"], name="delivery_subscription")]

    def __str__(self) -> str:
        return f"{self.delivery_id} attempt {self.attempt}: {self.status_code or self.error}"
