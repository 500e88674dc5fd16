"""What the assessments API answers, as serializers the OpenAPI schema is generated from.

The views answer with the selectors' dictionaries; these describe them, field by field
(what is optional is ``required=False``: it is there in some states only). The fuzz checks
every response the served API gives against them, so a selector that changes shape without
its description fails the tests.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from eduvault.learning.assessments.models import Assessment, Attempt


@extend_schema_field({"description": "Any JSON value (its shape is the question type's).", "nullable": True})
class AnyValue(serializers.JSONField):
    """A value whose shape depends on the question's type (an answer, a solution)."""


class AssessmentRef(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Assessment.Kind.choices)


class MasteryRule(serializers.Serializer):
    rule = serializers.CharField(help_text="bkt (threshold), m_of_n (m, n) or streak (n).")
    threshold = serializers.FloatField(required=False)
    m = serializers.IntegerField(required=False)
    n = serializers.IntegerField(required=False)


class AssessmentSettings(serializers.Serializer):
    attempt_limit = serializers.IntegerField(allow_null=True)
    passing_threshold = serializers.FloatField()
    questions_per_attempt = serializers.IntegerField(allow_null=True)
    shuffle = serializers.BooleanField()
    feedback = serializers.ChoiceField(choices=Assessment.Feedback.choices)
    max_tries = serializers.IntegerField()
    time_limit_seconds = serializers.IntegerField(allow_null=True)
    grace_seconds = serializers.IntegerField(allow_null=True)
    opens_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    mastery_rule = MasteryRule()


class AssessmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    course = serializers.CharField(help_text="The course's key.")
    kind = serializers.ChoiceField(choices=Assessment.Kind.choices)
    title = serializers.CharField()
    subtopics = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=Assessment.Status.choices)
    settings = AssessmentSettings()
    question_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    archived_at = serializers.DateTimeField(allow_null=True)


class AssessmentListOutput(serializers.Serializer):
    results = AssessmentOutput(many=True)


class AttemptQuestion(serializers.Serializer):
    position = serializers.IntegerField()
    question = serializers.DictField(
        help_text="The question as the learner sees it: id, type, prompt, points, and its type's "
        "parts (options in the attempt's order), never its answers."
    )
    points = serializers.FloatField()
    version = serializers.IntegerField()
    answered = serializers.BooleanField()
    tries = serializers.IntegerField(required=False, help_text="Immediate feedback only.")
    tries_left = serializers.IntegerField(required=False, help_text="Immediate feedback only.")
    done = serializers.BooleanField(required=False, help_text="Immediate feedback only.")
    answer = AnyValue(required=False, help_text="The answer that counts, once given.")
    correct = serializers.BooleanField(required=False, help_text="Once graded answers are shown.")
    score = serializers.FloatField(required=False, help_text="0 to 1, once graded answers are shown.")
    hints = serializers.ListField(child=serializers.CharField(), required=False)
    explanation = serializers.CharField(required=False, allow_null=True)
    solution = AnyValue(required=False, help_text="Staff only.")


class AttemptOutput(serializers.Serializer):
    id = serializers.UUIDField()
    assessment = AssessmentRef()
    course = serializers.CharField()
    learner = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Attempt.Status.choices)
    feedback = serializers.ChoiceField(choices=Assessment.Feedback.choices)
    started_at = serializers.DateTimeField()
    timed = serializers.BooleanField()
    questions = AttemptQuestion(many=True)
    seconds_remaining = serializers.IntegerField(required=False, help_text="A timed attempt, while open.")
    submitted_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Once closed.")
    closed_by = serializers.CharField(required=False, help_text="Once closed: learner, deadline or device.")
    score = serializers.FloatField(required=False, allow_null=True, help_text="Once closed: points earned.")
    max_score = serializers.FloatField(required=False, allow_null=True)
    percent = serializers.FloatField(required=False)
    passed = serializers.BooleanField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Staff, a timed attempt.")
    deadline = serializers.DateTimeField(required=False, allow_null=True, help_text="Staff: the end plus grace.")


class AttemptBrief(serializers.Serializer):
    id = serializers.UUIDField()
    assessment = serializers.IntegerField()
    learner = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Attempt.Status.choices)
    started_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.CharField(allow_blank=True)
    score = serializers.FloatField(allow_null=True)
    max_score = serializers.FloatField(allow_null=True)
    passed = serializers.BooleanField(allow_null=True)


class AttemptListOutput(serializers.Serializer):
    results = AttemptBrief(many=True)


class AnswerResult(serializers.Serializer):
    client_id = serializers.CharField()
    question = serializers.CharField()
    tries = serializers.IntegerField(help_text="Tries of this question so far.")
    recorded = serializers.BooleanField(required=False, help_text="Feedback on submit: the answer is kept.")
    correct = serializers.BooleanField(required=False, help_text="Immediate feedback only (also below).")
    score = serializers.FloatField(required=False, help_text="0 to 1.")
    feedback = serializers.CharField(required=False, allow_blank=True, help_text="Written for the answer given.")
    hints = serializers.ListField(child=serializers.CharField(), required=False)
    explanation = serializers.CharField(required=False, allow_null=True)
    tries_left = serializers.IntegerField(required=False)
    done = serializers.BooleanField(required=False)
    seconds_remaining = serializers.IntegerField(required=False, help_text="A timed attempt.")


class QuestionOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The question's key in the course.")
    version = serializers.IntegerField()
    type = serializers.CharField()
    subtopic = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    archived = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_blank=True)
    document = serializers.DictField(help_text="The whole question document (answers included: staff only).")


class QuestionSaved(QuestionOutput):
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"])


class QuestionListOutput(serializers.Serializer):
    results = QuestionOutput(many=True)


class QuestionExport(serializers.Serializer):
    format = serializers.CharField()
    course = serializers.CharField()
    subtopic = serializers.CharField()
    exported_at = serializers.DateTimeField()
    questions = serializers.ListField(child=serializers.DictField())


class ImportInvalid(serializers.Serializer):
    index = serializers.IntegerField(help_text="Its place in the input, from 0.")
    id = AnyValue(help_text="Its id as given (any JSON value, or null).")
    problems = serializers.ListField(child=serializers.CharField())


class ImportIds(serializers.Serializer):
    created = serializers.ListField(child=serializers.CharField())
    updated = serializers.ListField(child=serializers.CharField())
    unchanged = serializers.ListField(child=serializers.CharField())


class ImportReport(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    invalid = ImportInvalid(many=True)
    ids = ImportIds()


class ExtraTimeOutput(serializers.Serializer):
    assessment = serializers.IntegerField()
    learner = serializers.CharField()
    seconds = serializers.IntegerField()


class LearnerRef(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class LearnerResult(serializers.Serializer):
    learner = LearnerRef()
    attempts = serializers.IntegerField()
    submitted = serializers.IntegerField()
    best_score = serializers.FloatField(allow_null=True)
    last = AttemptBrief(allow_null=True)
    passed = serializers.BooleanField()


class ResultTotals(serializers.Serializer):
    learners = serializers.IntegerField()
    submitted_attempts = serializers.IntegerField()
    mean_score = serializers.FloatField(allow_null=True)
    pass_rate = serializers.FloatField(allow_null=True)


class AssessmentResults(serializers.Serializer):
    assessment = AssessmentOutput()
    totals = ResultTotals()
    learners = LearnerResult(many=True)


class MasteryOutput(serializers.Serializer):
    course = serializers.CharField()
    subtopic = serializers.CharField()
    p_known = serializers.FloatField(help_text="Probability the skill is known (knowledge tracing).")
    answers = serializers.IntegerField()
    correct = serializers.IntegerField()
    mastered = serializers.BooleanField()
    mastered_at = serializers.DateTimeField(allow_null=True)


class MasteryListOutput(serializers.Serializer):
    results = MasteryOutput(many=True)


class LearnerAttempt(AttemptBrief):
    title = serializers.CharField()
    course = serializers.CharField()


class LearnerResults(serializers.Serializer):
    learner = LearnerRef()
    attempts = LearnerAttempt(many=True)
    mastery = MasteryOutput(many=True)


#: Question type -> the JSON Schema of its documents (a map: a raw schema, not a serializer).
QUESTION_TYPES = {
    "type": "object",
    "additionalProperties": {"type": "object", "description": "The type's JSON Schema."},
    "description": "Each question type's name, with the JSON Schema of its documents.",
}
