"""A course's community on a forum, and what Edu Vault has made there (so that it is made once)."""

from __future__ import annotations

from django.db import models


class Community(models.Model):
    """A course linked to a forum source: its category, a topic per node of one kind, a
    group of its learners, badges for its completions, certificates and masteries."""

    course = models.ForeignKey("content.Course", on_delete=models.CASCADE, related_name="communities")
    source = models.ForeignKey("integrations.Source", on_delete=models.PROTECT, related_name="communities")
    topic_kind = models.CharField(max_length=50, default="subtopic")
    #: The forum's category: given by the operator, or made by Edu Vault.
    place_id = models.CharField(max_length=50, blank=True)
    place_given = models.BooleanField(default=False)
    place_title = models.CharField(max_length=200, blank=True)
    group_id = models.CharField(max_length=50, blank=True)
    group_name = models.CharField(max_length=60, blank=True)
    completion_badge = models.CharField(max_length=50, blank=True)
    certificate_badge = models.CharField(max_length=50, blank=True)
    mastery_badge = models.CharField(max_length=50, blank=True)
    #: Forum participation counted as a grade of an assignment of the course's own platform
    #: (its id there), full credit at ``participation_posts`` posts.
    participation_assignment = models.CharField(max_length=50, blank=True)
    participation_posts = models.PositiveIntegerField(default=3)
    #: Learners enrolled who have no forum account (yet): picked up once they do.
    waiting = models.JSONField(default=list, blank=True)
    #: When each of them was last looked for on the forum ({person id: epoch seconds}), and
    #: when every account of the forum was last listed (for matching by email).
    looked_up = models.JSONField(default=dict, blank=True)
    accounts_read_at = models.DateTimeField(null=True, blank=True)
    last_step_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "source"], name="community_one_per_forum"),
        ]

    def __str__(self) -> str:
        return f"{self.course.key} on {self.source.name}"

    def badge_for(self, cause: str) -> str:
        return {"completion": self.completion_badge, "certificate": self.certificate_badge, "mastery": self.mastery_badge}[cause]


class CommunityTopic(models.Model):
    """The forum topic of one course node."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="topics")
    node = models.CharField(max_length=500)
    external_id = models.CharField(max_length=50)
    topic_id = models.CharField(max_length=50, blank=True)
    title = models.CharField(max_length=255)
    closed = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "node"], name="community_topic_per_node"),
        ]


class CommunityMember(models.Model):
    """A learner Edu Vault put in the course's group."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="+")
    username = models.CharField(max_length=60)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "person"], name="community_member_once"),
        ]


class CommunityGrant(models.Model):
    """A badge granted (or being granted) to a person: never twice."""

    class State(models.TextChoices):
        #: Written before the request: a retry looks the person's badges up first.
        SENDING = "sending"
        GRANTED = "granted"
        #: They held it already (granted in the forum, or by an earlier attempt).
        HELD = "held"

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="grants")
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="+")
    badge_id = models.CharField(max_length=50)
    cause = models.CharField(max_length=20)
    record = models.ForeignKey("records.Record", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=60)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENDING)
    granted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "person", "badge_id"], name="community_grant_once"),
        ]
