"""What LTI launches leave behind: the platforms' contexts and the courses they are."""

from __future__ import annotations

from django.db import models


class LtiContext(models.Model):
    """A course on an LTI platform (its ``context``), and the Edu Vault course it is, once
    known (named by a launch's custom ``course``, or by the assessment it opens)."""

    source = models.ForeignKey("integrations.Source", on_delete=models.CASCADE, related_name="+")
    context_id = models.CharField(max_length=255)
    title = models.CharField(max_length=500, blank=True)
    label = models.CharField(max_length=255, blank=True)
    course = models.ForeignKey("content.Course", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    #: Its roster's address (NRPS), as the last launch gave it, and when it was last read.
    memberships_url = models.CharField(max_length=2000, blank=True)
    roster_read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "context_id"], name="lti_context_once")]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.context_id}"
