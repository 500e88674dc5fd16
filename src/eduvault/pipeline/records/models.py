"""Learner records, their field audit, and where they live on each platform.

A :class:`Record` is one learner's record of one kind about one object of a course (the
grade of an assignment, the completion of a course, an enrollment): its fields as settled,
each field's frontier of concurrent writes, the join of every version vector seen, and what
each platform replica holds of it. Every change is kept field by field in
:class:`RecordChange`, the winners and the losers.
"""

from __future__ import annotations

from django.db import models


class Record(models.Model):
    kind = models.CharField(max_length=30)
    #: What it is about, as Edu Vault names it: ``<course key>/<object>``.
    key = models.CharField(max_length=400)
    #: Whose: ``p<person id>``, or ``i<identity id>`` while the identity is held.
    holder = models.CharField(max_length=40)
    person = models.ForeignKey(
        "identity.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    identity = models.ForeignKey(
        "identity.Identity", null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    course = models.ForeignKey(
        "content.Course", null=True, blank=True, on_delete=models.CASCADE, related_name="records"
    )
    #: The object in the course: ``assignment:55``, ``assessment:12``, ``course``.
    object = models.CharField(max_length=200)
    #: The replica the object belongs to (``eduvault``, or a source's name) and its platform:
    #: ``home`` in the policies.
    home = models.CharField(max_length=200)
    home_platform = models.CharField(max_length=30)
    title = models.CharField(max_length=300, blank=True)

    #: The fields as settled.
    fields = models.JSONField(default=dict)
    #: Per field, the concurrent writes still standing (the winner first).
    frontier = models.JSONField(default=dict)
    vector = models.JSONField(default=dict)
    #: Per replica holding it: the platform's ids (``links``), the fields it holds, and the
    #: writes of ours it acknowledged (``acks``).
    replicas = models.JSONField(default=dict)
    #: Fields with concurrent writes the policy settled (an operator may override).
    conflicts = models.PositiveIntegerField(default=0)
    #: Changes applied to it.
    version = models.PositiveIntegerField(default=0)
    source_time = models.DateTimeField(null=True, blank=True)
    #: Another record it was combined into (two people found to be one).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key", "holder"], name="record_unique"),
        ]
        indexes = [
            models.Index(fields=["person", "kind"], name="record_person_kind"),
            models.Index(fields=["course", "kind"], name="record_course_kind"),
            models.Index(fields=["conflicts"], name="record_conflicts", condition=models.Q(conflicts__gt=0)),
            models.Index(fields=["holder"], name="record_holder"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} of {self.holder}"


class RecordChange(models.Model):
    """The field audit: one row per field a change stated, what it did, where it came from."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        LOST = "lost", "Lost to the policy"
        STALE = "stale", "Older than what we hold"
        DUPLICATE = "duplicate", "Duplicate"

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=100)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    #: What the change said.
    value = models.JSONField(null=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    conflict = models.BooleanField(default=False)
    replica = models.CharField(max_length=200)
    platform = models.CharField(max_length=30)
    actor = models.CharField(max_length=200, blank=True)
    vector = models.JSONField(default=dict)
    source_time = models.DateTimeField(null=True)
    #: The feed entry that published it (applied changes that changed the value).
    cursor = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["record", "-id"], name="record_change_record")]

    def __str__(self) -> str:
        return f"{self.record_id}.{self.field}: {self.outcome}"


class ObjectLink(models.Model):
    """An object of one platform that is another's: a Canvas assignment that an Edu Vault
    assessment's grades go to. Records of the platform's object are the home object's."""

    #: The replica (a source's name) and its object (``<course key>/<object>``).
    replica = models.CharField(max_length=200)
    alias = models.CharField(max_length=400)
    #: The object it stands for: its course, ``object``, and home.
    course = models.ForeignKey("content.Course", null=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=400)
    object = models.CharField(max_length=200)
    home = models.CharField(max_length=200)
    #: The platform's ids and how its object grades (points, grading type, scheme).
    links = models.JSONField(default=dict)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["replica", "alias"], name="object_link_unique"),
            models.UniqueConstraint(fields=["replica", "key"], name="object_link_one_per_replica"),
        ]

    def __str__(self) -> str:
        return f"{self.replica}:{self.alias} -> {self.key}"


class Enrollment(models.Model):
    """Person, course, role and state: the typed view of enrollment records, for queries."""

    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        INSTRUCTOR = "instructor", "Instructor"
        TA = "ta", "Teaching assistant"
        OBSERVER = "observer", "Observer"
        DESIGNER = "designer", "Designer"

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        INVITED = "invited", "Invited"
        INACTIVE = "inactive", "Inactive"
        COMPLETED = "completed", "Completed"
        DELETED = "deleted", "Removed"

    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="enrollments")
    course = models.ForeignKey("content.Course", on_delete=models.CASCADE, related_name="enrollments")
    role = models.CharField(max_length=20, choices=Role.choices)
    state = models.CharField(max_length=20, choices=State.choices)
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="enrollment")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "role", "person"]
        constraints = [
            models.UniqueConstraint(fields=["person", "course", "role"], name="enrollment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.course_id} as {self.role} ({self.state})"
