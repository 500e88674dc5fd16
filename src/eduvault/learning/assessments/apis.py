"""The assessments API: question bank, assessments, attempts, results and mastery.

Learners, instructors and admins call it with the JWT access token they get from
``/api/v1/auth/token``; admin API tokens are let in as admins (scripts, operators).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.cores.grading import question_schema, question_types
from eduvault.cores.grading.base import answer_shapes
from eduvault.identity.models import Role
from eduvault.identity.permissions import Admin, AnyPerson, Staff, caller_person, caller_role
from eduvault.identity.tokens import SignedIn
from eduvault.kernel.errors import InvalidInput, NotFound, PermissionDenied, QuestionNotFound
from eduvault.kernel.validation import one_of, validated, whole_number
from eduvault.kernel.lean import LeanRequest
from eduvault.learning.assessments import answer_route, outputs, selectors
from eduvault.learning.assessments.analysis import item_analysis
from eduvault.learning.assessments.models import Assessment
from eduvault.learning.assessments.services import (
    assessment_link,
    assessment_unlink,
    assessment_update,
    attempt_expire_overdue,
    attempt_read,
    attempt_start,
    attempt_submit,
    exam_create,
    extra_time_grant,
    question_archive,
    question_save,
    questions_import,
)
from eduvault.pipeline.content.selectors import course_get
from eduvault.pipeline.records.selectors import object_link_data, object_links


def _actor(request: Request) -> str:
    person = caller_person(request)
    return str(person) if person is not None else f"token:{request.auth.name}"


def _person(request: Request) -> SignedIn:
    """The caller as a person (an admin API token acts as a nameless admin)."""
    person = caller_person(request)
    if person is not None:
        return person
    return SignedIn(id=0, username=f"token:{request.auth.name}", role=Role.ADMIN)


def _signed_in(request: Request) -> SignedIn:
    person = caller_person(request)
    if person is None:
        raise PermissionDenied("attempts belong to people: sign in at /api/v1/auth/token")
    return person


# -- question bank ------------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(summary="Each question type with its JSON Schema"))
class QuestionTypesApi(APIView):
    permission_classes = [Staff]

    @extend_schema(responses={200: outputs.QUESTION_TYPES}, description="Each question type with its JSON Schema.")
    def get(self, request: Request) -> Response:
        return Response({name: question_schema(name) for name in question_types()})


@extend_schema_view(get=extend_schema(summary="List a course's questions"), post=extend_schema(summary="Add a question to a subtopic's bank"))
class QuestionListApi(APIView):
    permission_classes = [Staff]

    class NewQuestionInput(serializers.Serializer):
        subtopic = serializers.CharField(max_length=500)
        document = serializers.JSONField()

    @extend_schema(
        parameters=[
            OpenApiParameter("subtopic", OpenApiTypes.STR),
            OpenApiParameter("tag", OpenApiTypes.STR),
        ],
        responses=outputs.QuestionListOutput,
        operation_id="v1_courses_questions_list",
    )
    def get(self, request: Request, key: str) -> Response:
        course = course_get(key=key)
        rows = selectors.questions_list(
            course=course, subtopic=request.query_params.get("subtopic"), tag=request.query_params.get("tag")
        )
        return Response({"results": [selectors.question_data(q) for q in rows]})

    @extend_schema(request=NewQuestionInput, responses={201: outputs.QuestionSaved, 200: outputs.QuestionSaved})
    def post(self, request: Request, key: str) -> Response:
        data = validated(self.NewQuestionInput, request.data)
        question, outcome = question_save(
            course=course_get(key=key),
            subtopic=data["subtopic"],
            document=data["document"],
            actor=_actor(request),
        )
        code = status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK
        return Response({**selectors.question_data(question), "outcome": outcome}, status=code)


@extend_schema_view(get=extend_schema(summary="Read a question"), put=extend_schema(summary="Save a new version of a question"), delete=extend_schema(summary="Take a question out of the bank"))
class QuestionDetailApi(APIView):
    permission_classes = [Staff]

    class QuestionVersionInput(serializers.Serializer):
        subtopic = serializers.CharField(max_length=500, required=False)
        document = serializers.JSONField()

    def _current(self, key: str, question_key: str) -> Any:
        course = course_get(key=key)
        question = selectors.questions_list(course=course).filter(key=question_key).first()
        if question is None:
            raise QuestionNotFound(f"{course.key} has no question {question_key!r}")
        return course, question

    @extend_schema(responses=outputs.QuestionOutput)
    def get(self, request: Request, key: str, question_key: str) -> Response:
        return Response(selectors.question_data(self._current(key, question_key)[1]))

    @extend_schema(
        request=QuestionVersionInput,
        responses=outputs.QuestionSaved,
        description="Save a new version of the question.",
    )
    def put(self, request: Request, key: str, question_key: str) -> Response:
        data = validated(self.QuestionVersionInput, request.data)
        course, current = self._current(key, question_key)
        question, outcome = question_save(
            course=course,
            subtopic=data.get("subtopic") or current.subtopic,
            document=data["document"],
            actor=_actor(request),
            key=question_key,
        )
        return Response({**selectors.question_data(question), "outcome": outcome})

    @extend_schema(responses={204: None}, description="Take the question out of the bank (attempts keep it).")
    def delete(self, request: Request, key: str, question_key: str) -> Response:
        question_archive(course=course_get(key=key), key=question_key, actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(post=extend_schema(summary="Import questions into a subtopic"))
class QuestionImportApi(APIView):
    permission_classes = [Staff]

    class QuestionImportInput(serializers.Serializer):
        subtopic = serializers.CharField(max_length=500)
        questions = serializers.JSONField()
        partial = serializers.BooleanField(default=False)

    @extend_schema(
        request=QuestionImportInput,
        responses=outputs.ImportReport,
        description="Import questions. If any is invalid, nothing is imported (422 listing each) unless partial.",
    )
    def post(self, request: Request, key: str) -> Response:
        data = validated(self.QuestionImportInput, request.data)
        report = questions_import(
            course=course_get(key=key),
            subtopic=data["subtopic"],
            documents=data["questions"],
            partial=data["partial"],
            actor=_actor(request),
        )
        return Response(report.as_dict())


@extend_schema_view(get=extend_schema(summary="Export a subtopic's questions"))
class QuestionExportApi(APIView):
    permission_classes = [Staff]

    @extend_schema(
        parameters=[OpenApiParameter("subtopic", OpenApiTypes.STR, required=True)],
        responses=outputs.QuestionExport,
    )
    def get(self, request: Request, key: str) -> Response:
        subtopic = request.query_params.get("subtopic")
        if not subtopic:
            raise InvalidInput("subtopic: give the subtopic whose questions to export")
        return Response(selectors.questions_export(course=course_get(key=key), subtopic=subtopic))


# -- assessments ----------------------------------------------------------------------------------


class SettingsInput(serializers.Serializer):
    title = serializers.CharField(max_length=500, required=False)
    attempt_limit = serializers.IntegerField(min_value=1, max_value=1000, allow_null=True, required=False)
    passing_threshold = serializers.FloatField(min_value=0, max_value=1, required=False)
    questions_per_attempt = serializers.IntegerField(
        min_value=1, max_value=1000, allow_null=True, required=False
    )
    shuffle = serializers.BooleanField(required=False)
    feedback = serializers.ChoiceField(choices=Assessment.Feedback.choices, required=False)
    max_tries = serializers.IntegerField(min_value=1, max_value=100, required=False)
    time_limit_seconds = serializers.IntegerField(
        min_value=1, max_value=30 * 86400, allow_null=True, required=False
    )
    grace_seconds = serializers.IntegerField(min_value=0, max_value=3600, allow_null=True, required=False)
    opens_at = serializers.DateTimeField(allow_null=True, required=False)
    due_at = serializers.DateTimeField(allow_null=True, required=False)
    mastery_rule = serializers.JSONField(allow_null=True, required=False)
    subtopics = serializers.ListField(
        child=serializers.CharField(max_length=500), max_length=500, required=False
    )


@extend_schema_view(get=extend_schema(summary="List assessments"), post=extend_schema(summary="Create an exam"))
class AssessmentListApi(APIView):
    permission_classes = [AnyPerson]

    class ExamInput(SettingsInput):
        course = serializers.CharField(max_length=255)
        title = serializers.CharField(max_length=500)
        subtopics = serializers.ListField(
            child=serializers.CharField(max_length=500), min_length=1, max_length=500
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("course", OpenApiTypes.STR),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=Assessment.Kind.values),
            OpenApiParameter("subtopic", OpenApiTypes.STR),
        ],
        responses=outputs.AssessmentListOutput,
        operation_id="v1_assessments_list",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        rows = selectors.assessments_list(
            person=_person(request),
            course=params.get("course"),
            kind=one_of(params.get("kind"), "kind", Assessment.Kind.values),
            subtopic=params.get("subtopic"),
        )
        return Response({"results": selectors.assessments_data(rows[:1000])})

    @extend_schema(
        request=ExamInput, responses={201: outputs.AssessmentOutput}, description="Create an exam (staff)."
    )
    def post(self, request: Request) -> Response:
        if caller_role(request) not in (Role.INSTRUCTOR, Role.ADMIN):
            raise PermissionDenied("only instructors and admins create exams")
        data = validated(self.ExamInput, request.data)
        course = course_get(key=data.pop("course"))
        exam = exam_create(
            course=course,
            title=data.pop("title"),
            subtopics=data.pop("subtopics"),
            actor=_actor(request),
            **data,
        )
        return Response(selectors.assessment_data(exam), status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(summary="Read an assessment"), patch=extend_schema(summary="Change an assessment's settings"))
class AssessmentDetailApi(APIView):
    permission_classes = [AnyPerson]

    @extend_schema(responses=outputs.AssessmentOutput)
    def get(self, request: Request, assessment_id: int) -> Response:
        return Response(selectors.assessment_data(selectors.assessment_get(assessment_id=assessment_id)))

    @extend_schema(
        request=SettingsInput, responses=outputs.AssessmentOutput, description="Change settings (staff)."
    )
    def patch(self, request: Request, assessment_id: int) -> Response:
        if caller_role(request) not in (Role.INSTRUCTOR, Role.ADMIN):
            raise PermissionDenied("only instructors and admins change assessments")
        data = validated(SettingsInput, request.data)
        assessment = assessment_update(assessment_id=assessment_id, actor=_actor(request), **data)
        return Response(selectors.assessment_data(assessment))


@extend_schema_view(post=extend_schema(summary="Grant a learner extra time on a timed assessment"))
class ExtraTimeApi(APIView):
    permission_classes = [Staff]

    class ExtraTimeInput(serializers.Serializer):
        learner = serializers.CharField(max_length=150)
        seconds = serializers.IntegerField(min_value=0, max_value=7 * 86400)

    @extend_schema(
        request=ExtraTimeInput, responses=outputs.ExtraTimeOutput, description="Grant a learner extra time."
    )
    def post(self, request: Request, assessment_id: int) -> Response:
        data = validated(self.ExtraTimeInput, request.data)
        grant = extra_time_grant(assessment_id=assessment_id, actor=_actor(request), **data)
        return Response({"assessment": assessment_id, "learner": data["learner"], "seconds": grant.seconds})


@extend_schema_view(get=extend_schema(summary="Results of an assessment per learner"))
class AssessmentResultsApi(APIView):
    permission_classes = [Staff]

    @extend_schema(responses=outputs.AssessmentResults, description="Results per learner, and totals.")
    def get(self, request: Request, assessment_id: int) -> Response:
        attempt_expire_overdue(assessment_id=assessment_id)
        assessment = selectors.assessment_get(assessment_id=assessment_id)
        return Response(selectors.assessment_results(assessment=assessment))


_OptionOutput = inline_serializer(
    "ItemOption",
    {
        "id": serializers.CharField(),
        "text": serializers.CharField(),
        "correct": serializers.BooleanField(),
        "picks": serializers.IntegerField(help_text="Submitted attempts whose final answer chose it."),
    },
)


class ItemOutput(serializers.Serializer):
    question = serializers.CharField(help_text="The question's key.")
    version = serializers.IntegerField()
    type = serializers.CharField()
    prompt = serializers.CharField()
    points = serializers.FloatField()
    attempts = serializers.IntegerField(help_text="Submitted attempts that were served it.")
    answered = serializers.IntegerField()
    facility = serializers.FloatField(allow_null=True, help_text="Share of those attempts that answered it right.")
    mean_credit = serializers.FloatField(allow_null=True, help_text="Mean credit, 0 to 1, after penalties.")
    discrimination = serializers.FloatField(
        allow_null=True,
        help_text="Correlation of its score with the rest of the attempt's (item-rest); null without spread.",
    )
    options = serializers.ListField(child=_OptionOutput, allow_null=True, help_text="Choice questions only.")
    unpicked_distractors = serializers.ListField(child=serializers.CharField())
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=["hard", "easy", "weak discrimination", "unpicked distractors"])
    )


class ItemAnalysisApi(APIView):
    permission_classes = [Staff]

    @extend_schema(
        summary="Item analysis: facility, discrimination and option choices per question",
        responses=inline_serializer(
            "ItemAnalysis",
            {
                "assessment": inline_serializer(
                    "ItemAnalysisAssessment",
                    {"id": serializers.IntegerField(), "title": serializers.CharField(), "kind": serializers.CharField()},
                ),
                "submitted_attempts": serializers.IntegerField(),
                "min_attempts_for_flags": serializers.IntegerField(),
                "items": ItemOutput(many=True),
                "unpicked_distractors": serializers.ListField(child=serializers.CharField()),
            },
        ),
        description=(
            "Per question served in the assessment's submitted attempts (staff). Computed by the "
            "database in a fixed number of queries, whatever the number of attempts."
        ),
    )
    def get(self, request: Request, assessment_id: int) -> Response:
        attempt_expire_overdue(assessment_id=assessment_id)
        assessment = selectors.assessment_get(assessment_id=assessment_id)
        return Response(item_analysis(assessment=assessment))


# -- attempts ------------------------------------------------------------------------------------------


@extend_schema_view(post=extend_schema(summary="Start an attempt, or resume the open one"))
class AttemptStartApi(APIView):
    permission_classes = [AnyPerson]

    @extend_schema(
        request=None,
        responses={201: outputs.AttemptOutput, 200: outputs.AttemptOutput},
        description="Start an attempt (201), or resume the one already open (200).",
    )
    def post(self, request: Request, assessment_id: int) -> Response:
        person = _signed_in(request)
        attempt, new = attempt_start(assessment_id=assessment_id, person=person)
        return Response(
            selectors.attempt_data(attempt, person=person),
            status=status.HTTP_201_CREATED if new else status.HTTP_200_OK,
        )


@extend_schema_view(get=extend_schema(summary="List attempts"))
class AttemptListApi(APIView):
    permission_classes = [AnyPerson]

    @extend_schema(
        parameters=[
            OpenApiParameter("assessment", OpenApiTypes.INT),
            OpenApiParameter("learner", OpenApiTypes.STR),
        ],
        responses=outputs.AttemptListOutput,
        description="Your attempts (staff: anyone's, filtered by learner).",
        operation_id="v1_attempts_list",
    )
    def get(self, request: Request) -> Response:
        person = _person(request)
        params = request.query_params
        assessment_id = whole_number(params.get("assessment"), "assessment")
        if person.role == Role.LEARNER:
            attempt_expire_overdue(learner_id=person.id)
        rows = selectors.attempts_list(
            person=person, assessment_id=assessment_id, learner=params.get("learner")
        )
        return Response({"results": [selectors.attempt_brief(a) for a in rows[:500]]})


@extend_schema_view(get=extend_schema(summary="Read an attempt: its questions as the learner sees them"))
class AttemptDetailApi(APIView):
    permission_classes = [AnyPerson]

    @extend_schema(responses=outputs.AttemptOutput)
    def get(self, request: Request, attempt_id: str) -> Response:
        person = _person(request)
        attempt = attempt_read(attempt_id=attempt_id, person=person)
        return Response(selectors.attempt_data(attempt, person=person))


@extend_schema_field(
    {
        "anyOf": [
            {"title": name, **schema, "example": example} for name, (schema, example) in answer_shapes().items()
        ],
        "nullable": True,
        "description": "The answer, in the shape of the question's type (each type's shape is one of these).",
    }
)
class AnswerField(serializers.JSONField):
    """A learner's answer: its shape is the question type's (see ``Grader.answer_schema``)."""


class AnswerApi(APIView):
    # The handler authenticates and reads the body itself (one implementation with the lean
    # route `eduvault serve` answers this path with): DRF only routes and documents it.
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    class AnswerInput(serializers.Serializer):
        client_id = serializers.CharField(max_length=100, help_text="New for each answer; a retry sends it again.")
        question = serializers.CharField(max_length=100, help_text="The question's id in the attempt.")
        answer = AnswerField(allow_null=True)

    @extend_schema(
        summary="Answer one question of an attempt",
        request=AnswerInput,
        responses={201: outputs.AnswerResult, 200: outputs.AnswerResult},
        auth=[{"bearer": []}],
        description=(
            "Answer one question. Send a new client_id with each answer; sending the same one again "
            "(a retry) returns the first result (200) and counts once."
        ),
    )
    def post(self, request: Request, attempt_id: str) -> Response:
        django_request = request._request
        status_code, body = answer_route.answer(
            LeanRequest(
                django_request.path,
                {"attempt_id": attempt_id},
                {k.lower(): v for k, v in django_request.headers.items()},
                django_request.body,
            )
        )
        return Response(body, status=status_code)


@extend_schema_view(post=extend_schema(summary="Submit an attempt for grading"))
class SubmitApi(APIView):
    permission_classes = [AnyPerson]

    @extend_schema(request=None, responses=outputs.AttemptOutput, description="Submit (idempotent).")
    def post(self, request: Request, attempt_id: str) -> Response:
        person = _signed_in(request)
        attempt = attempt_submit(attempt_id=attempt_id, person=person)
        return Response(selectors.attempt_data(attempt, person=person))


# -- learners and mastery ----------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(summary="A learner's attempts and scores"))
class LearnerResultsApi(APIView):
    permission_classes = [AnyPerson]

    @extend_schema(parameters=[OpenApiParameter("course", OpenApiTypes.STR)], responses=outputs.LearnerResults)
    def get(self, request: Request, username: str) -> Response:
        person = _person(request)
        if person.role == Role.LEARNER and username != person.username:
            raise PermissionDenied("learners see their own results only")
        user = selectors.learner_get(username=username)
        attempt_expire_overdue(learner_id=user.pk)
        return Response(
            {
                "learner": {"id": user.pk, "username": username},
                **selectors.learner_results(learner_id=user.pk, course=request.query_params.get("course")),
            }
        )


@extend_schema_view(get=extend_schema(summary="Mastery per subtopic"))
class MasteryApi(APIView):
    permission_classes = [AnyPerson]

    @extend_schema(
        parameters=[
            OpenApiParameter("course", OpenApiTypes.STR),
            OpenApiParameter("learner", OpenApiTypes.STR),
        ],
        responses=outputs.MasteryListOutput,
        description="Mastery per subtopic: yours, or (staff) a learner's.",
    )
    def get(self, request: Request) -> Response:
        person = _person(request)
        learner = request.query_params.get("learner")
        if learner and learner != person.username:
            if person.role == Role.LEARNER:
                raise PermissionDenied("learners see their own mastery only")
            learner_id = selectors.learner_get(username=learner).pk
        else:
            learner_id = person.id
        return Response(
            {
                "results": selectors.mastery_list(
                    learner_id=learner_id, course=request.query_params.get("course")
                )
            }
        )


# -- links to platforms' objects ------------------------------------------------------------------------


class ObjectLinkOutput(serializers.Serializer):
    source = serializers.CharField(help_text="the source the grades go to")
    alias = serializers.CharField(help_text="the platform's object, as <course key>/<object>")
    key = serializers.CharField(help_text="the assessment, as <course key>/assessment:<id>")
    object = serializers.CharField()
    links = serializers.DictField(help_text="the platform's ids, and how its object grades")
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()


@extend_schema_view(get=extend_schema(summary="List where an assessment's grades go"), post=extend_schema(summary="Send an assessment's grades to a platform's assignment"))
class AssessmentLinksApi(APIView):
    """Where an assessment's grades go: assignments of platforms' courses (admins)."""

    permission_classes = [Admin]

    class AssessmentLinkInput(serializers.Serializer):
        source = serializers.CharField(max_length=100, help_text="the source's name (a Canvas source)")
        course = serializers.CharField(max_length=100, help_text="the platform's course id")
        assignment = serializers.CharField(max_length=100, help_text="the platform's assignment id")

    @extend_schema(
        responses=inline_serializer("ObjectLinks", {"results": ObjectLinkOutput(many=True)}),
        operation_id="v1_assessments_links_list",
    )
    def get(self, request: Request, assessment_id: int) -> Response:
        assessment = selectors.assessment_get(assessment_id=assessment_id)
        links = object_links(key=f"{assessment.course.key}/assessment:{assessment.pk}")
        return Response({"results": [object_link_data(link) for link in links]})

    @extend_schema(
        request=AssessmentLinkInput,
        responses={201: ObjectLinkOutput},
        description=(
            "Send the assessment's grades to an assignment of a platform's course (read from the "
            "platform now); the grades it has already go there too."
        ),
    )
    def post(self, request: Request, assessment_id: int) -> Response:
        data = validated(self.AssessmentLinkInput, request.data)
        link = assessment_link(
            assessment_id=assessment_id,
            source_name=data["source"],
            course_id=data["course"],
            assignment_id=data["assignment"],
            actor=_actor(request)[:150],
        )
        return Response(object_link_data(link), status=status.HTTP_201_CREATED)


@extend_schema_view(delete=extend_schema(summary="Stop sending an assessment's grades to a source"))
class AssessmentLinkDetailApi(APIView):
    permission_classes = [Admin]

    @extend_schema(responses={204: None}, description="Stop sending the assessment's grades to that source.")
    def delete(self, request: Request, assessment_id: int, source_name: str) -> Response:
        if not assessment_unlink(assessment_id=assessment_id, source_name=source_name):
            raise NotFound(f"assessment {assessment_id} is not linked to anything of {source_name}")
        return Response(status=status.HTTP_204_NO_CONTENT)
