"""The stored canonical course tree: one Course, many Nodes."""

from __future__ import annotations

import uuid

from django.db import models


class Course(models.Model):
    """A course of one source, under the source's own key (unique per source)."""

    #: The source's own key, e.g. ``course-v1:Org+Num+Run`` (Open edX).
    key = models.CharField(max_length=255)
    title = models.CharField(max_length=500, blank=True)
    source = models.ForeignKey(
        "integrations.Source", null=True, blank=True, on_delete=models.PROTECT, related_name="courses"
    )
    #: The platform its structure comes from (the source's, or the file's format).
    platform = models.CharField(max_length=20, default="openedx")
    #: Rises by exactly one per applied sync run; 0 is the empty course before its first sync.
    version = models.PositiveIntegerField(default=0)
    #: The platform's own version and publish time of the structure we hold, when known.
    source_version = models.CharField(max_length=100, blank=True)
    source_timestamp = models.DateTimeField(null=True, blank=True)
    #: Hash of the whole stored tree (structure and content).
    content_hash = models.CharField(max_length=32, blank=True)
    node_count = models.PositiveIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "key"],
                condition=models.Q(source__isnull=False),
                name="course_unique_per_source",
            ),
            # A course synced from a file belongs to no source: its key is unique among those.
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(source__isnull=True), name="course_unique_without_source"
            ),
        ]
        indexes = [models.Index(fields=["key"], name="course_key")]

    def __str__(self) -> str:
        return self.key


class Node(models.Model):
    """One node of a course's current tree. Past versions live in the change history."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by the (course, external_id) constraint below.
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="nodes", db_index=False)
    #: The source's stable id, e.g. a ``block-v1:…`` usage key.
    external_id = models.CharField(max_length=500)
    kind = models.CharField(max_length=50)
    # Whole subtrees are deleted in one statement by the sync, so no cascade in Python.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="children"
    )
    #: 0-based index among the parent's children.
    position = models.PositiveIntegerField(default=0)
    title = models.TextField(blank=True)
    #: Typed attributes: graded, format, due, start, weight, block_type, ...
    attributes = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=32)
    #: Hash of the whole subtree under an inner node ("" for a leaf), kept so that the next
    #: diff can skip the subtrees that did not change.
    subtree_hash = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "external_id"], name="node_unique_external_id"),
        ]
        indexes = [models.Index(fields=["course", "kind"], name="node_course_kind")]
        ordering = ["course", "parent_id", "position"]

    def __str__(self) -> str:
        return f"{self.kind} {self.title!r} ({self.external_id})"

    @property
    def fields(self) -> dict:
        return {"title": self.title, **self.attributes}
