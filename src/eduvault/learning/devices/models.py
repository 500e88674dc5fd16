"""Offline school devices, and the replication state every replica keeps.

On the server: the :class:`Device` rows (paired devices, their courses, credentials).
On a device: one :class:`Pairing` (the server it syncs with). On both: this replica's name and
counter (:class:`Replica`), one :class:`Entry` per replicated object (its partition, version
vector, last change and digest), what this replica has :class:`Seen` of each partition, and
the :class:`TransferSession` rows with their :class:`TransferChunk` frames, so that a transfer
cut anywhere resumes where it stopped.
"""

from __future__ import annotations

import uuid

from django.db import models

from eduvault.kernel.secrets import SealedTextField


class Replica(models.Model):
    """This replica: its name in version vectors and its change counter (one row)."""

    name = models.CharField(max_length=64, unique=True)
    counter = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.counter}"


class Device(models.Model):
    """A school device paired with this server (server side)."""

    name = models.CharField(max_length=100, unique=True)
    #: The device's replica name in version vectors.
    replica = models.CharField(max_length=64, unique=True)
    courses = models.ManyToManyField("content.Course", related_name="+")
    #: The one-time pairing code, hashed; cleared when used.
    code_hash = models.CharField(max_length=64, blank=True, db_index=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    paired_at = models.DateTimeField(null=True, blank=True)
    #: The device's credential (``evd_…``), hashed; its first characters to find it by.
    credential_prefix = models.CharField(max_length=16, blank=True, db_index=True)
    credential_hash = models.CharField(max_length=64, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    #: The device's clock minus the server's at its last sync (seconds).
    clock_skew_seconds = models.FloatField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Pairing(models.Model):
    """The server this device syncs with (device side; one row)."""

    server_url = models.CharField(max_length=500)
    device_name = models.CharField(max_length=100)
    server_replica = models.CharField(max_length=64)
    credential = SealedTextField()
    courses = models.JSONField(default=list)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=300, blank=True)
    #: This replica's counter up to which the server has acknowledged its changes.
    pushed_counter = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.device_name} of {self.server_url}"


class Entry(models.Model):
    """One replicated object: what it is, where it lives, and which change it is at."""

    kind = models.CharField(max_length=30)
    #: Its natural key within the kind (the same on every replica).
    key = models.CharField(max_length=600)
    partition = models.CharField(max_length=500)
    vector = models.JSONField(default=dict)
    #: The replica that made its last change, and that replica's counter then.
    last = models.CharField(max_length=64)
    counter = models.BigIntegerField()
    #: Digest of the object as last serialized or applied: a change shows as a new digest.
    digest = models.CharField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="device_entry_unique")]
        indexes = [models.Index(fields=["partition", "last", "counter"], name="device_entry_unseen")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.last}@{self.counter})"


class Seen(models.Model):
    """The highest counter of ``replica`` whose changes to ``partition`` this replica holds."""

    partition = models.CharField(max_length=500)
    replica = models.CharField(max_length=64)
    counter = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partition", "replica"], name="device_seen_unique")]

    def __str__(self) -> str:
        return f"{self.partition}: {self.replica}@{self.counter}"


class TransferSession(models.Model):
    """One transfer, stored by both sides: who sends, how far the receiver has applied."""

    class Direction(models.TextChoices):
        PUSH = "push", "Device to server"
        PULL = "pull", "Server to device"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        ABANDONED = "abandoned", "Abandoned"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    direction = models.CharField(max_length=4, choices=Direction.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    #: Server side: the device; device side: null.
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions")
    #: The frames' HMAC key.
    key = SealedTextField()
    partitions = models.JSONField(default=list)
    #: What the sender had seen of those partitions when the session began.
    sender_seen = models.JSONField(default=dict)
    chunks = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    #: Receiver: the first chunk not yet applied, and the bytes held of it so far.
    next_seq = models.PositiveIntegerField(default=0)
    partial = models.BinaryField(default=b"")
    applied_records = models.PositiveIntegerField(default=0)
    #: Bytes of frames received (or sent), resends included: what the wire carried.
    wire_bytes = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.direction} {self.id} ({self.state})"


class TransferChunk(models.Model):
    """A frame the sender made for a session: resent byte for byte after a cut."""

    session = models.ForeignKey(TransferSession, on_delete=models.CASCADE, related_name="frames")
    seq = models.PositiveIntegerField()
    records = models.PositiveIntegerField()
    frame = models.BinaryField()

    class Meta:
        ordering = ["session", "seq"]
        constraints = [models.UniqueConstraint(fields=["session", "seq"], name="device_chunk_unique")]

    def __str__(self) -> str:
        return f"chunk {self.seq} of {self.session_id}"
