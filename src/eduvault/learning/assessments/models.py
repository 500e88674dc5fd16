"""The question bank, assessments, attempts and mastery.

Questions and assessments hang from a course's subtopics by the subtopic's external id
(the source's own key), not by a foreign key to the stored node: nodes come and go with
syncs (and come back with a rollback), while questions, attempts and grades stay.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property

from eduvault.cores.grading import parse_question, searchable_text


class Question(models.Model):
    """One version of a question document. Editing a question adds a version; attempts keep
    pointing at the version they were served."""

    course = models.ForeignKey("content.Course", on_delete=models.PROTECT, related_name="questions")
    #: External id of the subtopic the question belongs to.
    subtopic = models.CharField(max_length=500)
    #: The question's own id (the document's ``id``), unique within the course.
    key = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    type = models.CharField(max_length=50)
    #: The whole validated document (see :mod:`eduvault.cores.grading`).
    document = models.JSONField()
    tags = models.JSONField(default=list, blank=True)
    #: Only the newest version of a question is current.
    current = models.BooleanField(default=True)
    #: Removed from the bank: no longer drawn, still shown in the attempts that used it.
    archived_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: What search finds it by besides its prompt (see ``searchable_text``); set on save.
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["course", "subtopic", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "key", "version"], name="question_unique_version"),
            models.UniqueConstraint(
                fields=["course", "key"], condition=Q(current=True), name="question_one_current"
            ),
        ]
        indexes = [models.Index(fields=["course", "subtopic", "current"], name="question_bank")]

    def __str__(self) -> str:
        return f"{self.key} v{self.version} ({self.type})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = searchable_text(parse_question(self.document))
        super().save(*args, **kwargs)


class Assessment(models.Model):
    class Kind(models.TextChoices):
        PRACTICE = "practice", "Practice"
        EXAM = "exam", "Exam"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    class Feedback(models.TextChoices):
        #: Each answer graded at once: a hint after a wrong answer, the explanation after the
        #: last try or a correct answer.
        IMMEDIATE = "immediate", "Immediate"
        #: Nothing shown until the attempt is submitted (exams).
        ON_SUBMIT = "on_submit", "On submit"

    course = models.ForeignKey("content.Course", on_delete=models.PROTECT, related_name="assessments")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=500)
    #: The subtopics whose questions it draws from (a practice assessment: its own subtopic).
    subtopics = models.JSONField(default=list)
    #: A practice assessment's subtopic ("" for an exam).
    subtopic = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    archived_at = models.DateTimeField(null=True, blank=True)
    # -- settings
    #: Attempts a learner may start (None: no limit).
    attempt_limit = models.PositiveIntegerField(null=True, blank=True)
    #: Fraction of the points needed to pass.
    passing_threshold = models.FloatField(default=0.6)
    #: Questions drawn per attempt, stratified by subtopic (None: all).
    questions_per_attempt = models.PositiveIntegerField(null=True, blank=True)
    #: Shuffle options (deterministically from the attempt's seed).
    shuffle = models.BooleanField(default=True)
    feedback = models.CharField(max_length=20, choices=Feedback.choices, default=Feedback.IMMEDIATE)
    #: Tries per question under immediate feedback.
    max_tries = models.PositiveIntegerField(default=3)
    #: Timed: seconds from the start (None: untimed).
    time_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    #: Answers still taken this long after the time is up (None: EDUVAULT_EXAM_GRACE_SECONDS).
    grace_seconds = models.PositiveIntegerField(null=True, blank=True)
    opens_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    #: Mastery rule (see eduvault.cores.mastery.rules); None: knowledge tracing with the default
    #: threshold.
    mastery_rule = models.JSONField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "subtopic"], condition=Q(kind="practice"), name="assessment_one_practice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.title!r}"


class ExtraTime(models.Model):
    """Extra time granted to one learner on one timed assessment (an accommodation)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="extra_times")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seconds = models.PositiveIntegerField()
    granted_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "learner"], name="extra_time_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.seconds}s extra for {self.learner_id} on {self.assessment_id}"


class Attempt(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"

    class ClosedBy(models.TextChoices):
        LEARNER = "learner", "The learner"
        DEADLINE = "deadline", "The deadline"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="attempts")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attempts")
    #: 1 for a learner's first attempt at the assessment, and so on.
    number = models.PositiveIntegerField()
    #: Drives the question draw and option order: a resumed attempt looks the same.
    seed = models.CharField(max_length=32)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField()
    #: When the time is up (time limit plus extra time, capped at the due date); None: untimed.
    ends_at = models.DateTimeField(null=True, blank=True)
    #: The last moment an answer is taken: ``ends_at`` plus the grace period.
    deadline = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=20, choices=ClosedBy.choices, blank=True)
    #: Points earned and possible, and whether that passes.
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(default=0)
    passed = models.BooleanField(null=True, blank=True)
    #: The replica it was started on (``""``: this one; a device's replica name otherwise).
    origin = models.CharField(max_length=64, blank=True)
    #: What a sync found doubtful about it (a device clock that disagrees with the server's).
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "learner", "number"], name="attempt_unique_number"),
            models.UniqueConstraint(
                fields=["assessment", "learner"],
                condition=Q(status="in_progress"),
                name="attempt_one_open",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="attempt_overdue"),
            models.Index(fields=["learner", "assessment"], name="attempt_learner"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.learner_id} at {self.assessment_id} ({self.status})"

    @cached_property
    def responses_in_order(self) -> list[Response]:
        """Its responses by position, each with its question. A service that has just
        written or read them sets this, so that showing the attempt reads them no more."""
        return list(self.responses.select_related("question").order_by("position"))


class Response(models.Model):
    """Where one question of an attempt stands."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    tries = models.PositiveIntegerField(default=0)
    wrong_tries = models.PositiveIntegerField(default=0)
    #: The answer that counts (the last one), its fraction of the question's points after
    #: penalties, and whether it was right.
    answer = models.JSONField(null=True, blank=True)
    score = models.FloatField(default=0)
    correct = models.BooleanField(default=False)
    #: Answered right, or out of tries: no more answers taken.
    done = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="response_unique_question"),
        ]

    def __str__(self) -> str:
        return f"question {self.position} of {self.attempt_id}: {self.score:g}"


class Answer(models.Model):
    """Every answer a learner sent, once: a retried request with the same client id gets the
    first one's result back instead of counting again."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    client_id = models.CharField(max_length=100)
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    try_number = models.PositiveIntegerField()
    answer = models.JSONField()
    score = models.FloatField()
    raw_score = models.FloatField()
    correct = models.BooleanField()
    #: What the learner was shown in return, sent again on a retry.
    result = models.JSONField()
    #: When it was answered (on a device: by the device's clock, kept through the sync).
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "client_id"], name="answer_unique_client_id"),
        ]

    def __str__(self) -> str:
        return f"answer {self.client_id} in {self.attempt_id}"


class SkillParameters(models.Model):
    """Knowledge-tracing parameters of one subtopic, estimated by ``eduvault mastery fit``."""

    course = models.ForeignKey("content.Course", on_delete=models.PROTECT, related_name="+")
    subtopic = models.CharField(max_length=500)
    prior = models.FloatField()
    learn = models.FloatField()
    guess = models.FloatField()
    slip = models.FloatField()
    #: How many answers (and learners) the estimate came from.
    answers = models.PositiveIntegerField(default=0)
    learners = models.PositiveIntegerField(default=0)
    fitted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "subtopic"], name="skill_parameters_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.subtopic}: prior {self.prior:.3f} learn {self.learn:.3f} guess {self.guess:.3f} slip {self.slip:.3f}"


class Mastery(models.Model):
    """What we believe one learner knows of one subtopic."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mastery")
    course = models.ForeignKey("content.Course", on_delete=models.PROTECT, related_name="+")
    subtopic = models.CharField(max_length=500)
    #: Probability that the skill is known (Bayesian knowledge tracing).
    p_known = models.FloatField()
    answers = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    #: The most recent outcomes, oldest first, for the m-of-n and streak rules.
    recent = models.JSONField(default=list)
    mastered = models.BooleanField(default=False)
    mastered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "mastery"
        constraints = [
            models.UniqueConstraint(fields=["learner", "course", "subtopic"], name="mastery_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} on {self.subtopic}: {self.p_known:.3f}"
