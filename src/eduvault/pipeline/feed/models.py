"""The change feed: one gapless, commit-ordered sequence of entries for every subject.

A course's applied changes (with their before and after: the course's history), a learner's
grades and masteries, and the learner records to come are all :class:`FeedEntry` rows. Each
takes its cursor from :class:`FeedCounter` in the transaction that writes what it reports
(a transactional outbox), so the feed has no gaps and a reader who resumes from its last
cursor misses nothing and sees nothing twice. Outbound webhook subscriptions follow it.
"""

from __future__ import annotations

from django.db import models

from eduvault.kernel.secrets import SealedTextField


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


class FeedEntry(models.Model):
    """One entry: what changed (``kind``, ``op``, ``external_id``), before and after."""

    cursor = models.BigIntegerField(unique=True)
    #: The course it belongs to (None for a subject outside any course, e.g. a profile).
    course = models.ForeignKey(
        "content.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=50)
    op = models.CharField(max_length=10)
    #: What it is about: a node's external id, an attempt's id, a record's id.
    external_id = models.CharField(max_length=500)
    #: The unit of work that wrote it, when there is one: a sync run's id (the feed sits
    #: below the sync, so this is a plain number, not a foreign key), and the order within it.
    run = models.BigIntegerField(null=True, blank=True)
    seq = models.PositiveIntegerField(default=0)
    #: The course's version once the run applied (course changes).
    version = models.PositiveIntegerField(null=True, blank=True)
    #: The priority class consumers should give it (grades: critical; content: background).
    priority = models.CharField(max_length=20, default="background")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["cursor"]
        verbose_name_plural = "feed entries"
        indexes = [
            models.Index(fields=["course", "cursor"], name="feed_course_cursor"),
            models.Index(fields=["course", "external_id"], name="feed_course_subject"),
            models.Index(fields=["run", "seq"], name="feed_run_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.cursor}: {self.op} {self.kind} {self.external_id}"


class Subscription(models.Model):
    """An outbound webhook: every entry its filters (and its token's scope) let through, as a
    delivery in the outbox, in feed order, signed with its secret."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=1000)
    #: Standard Webhooks secret (whsec_…), shown once at creation; stored encrypted.
    secret = SealedTextField()
    #: Filters: course keys, kinds and operations (empty: all).
    courses = models.JSONField(default=list, blank=True)
    kinds = models.JSONField(default=list, blank=True)
    ops = models.JSONField(default=list, blank=True)
    #: A consumer token whose scope the deliveries stay within (None: an admin's, all).
    token = models.ForeignKey("identity.ApiToken", null=True, blank=True, on_delete=models.SET_NULL)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    #: The last feed cursor turned into deliveries (the outbox sends them in order).
    cursor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"

    @property
    def target(self) -> str:
        """Its name as a target of the outbox."""
        return f"subscription:{self.pk}"


class StreamTicket(models.Model):
    """A short-lived, single-use credential for the live stream, for clients that cannot send
    an ``Authorization`` header (a browser's ``EventSource``): ``GET /api/v1/stream?ticket=…``
    with the scope of the token that asked for it. Only its hash is stored."""

    key_hash = models.CharField(max_length=64, unique=True)
    token = models.ForeignKey("identity.ApiToken", on_delete=models.CASCADE, related_name="+")
    #: Narrowed when it was issued (empty: the token's own scope).
    courses = models.JSONField(default=list, blank=True)
    kinds = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="stream_ticket_expiry")]

    def __str__(self) -> str:
        return f"stream ticket of token {self.token_id} until {self.expires_at:%H:%M:%S}"
