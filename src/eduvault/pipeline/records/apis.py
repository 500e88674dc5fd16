"""The learner-records API: records (their open conflicts and history, and an operator's
settle), people and their identities (link, unlink, a new person, merge, undo), enrollments,
and the source-of-truth policies.

Who may call what:

- admins (an admin API token, or a person signed in as an admin) may do everything;
- a consumer API token may read records, within its scopes (its courses and kinds);
- a person signed in as a learner or instructor may read their own records;
- nobody else: 401 without credentials, 403 for credentials that may not.

A record a caller may not see does not exist for them (404), as courses are for tokens.
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.cores.records.policy import KINDS
from eduvault.identity import people as identity_people
from eduvault.identity.models import ApiToken, Identity, Person, Role
from eduvault.identity.permissions import Admin, AnyPerson, HasApiToken, caller_person, caller_role
from eduvault.kernel.errors import InvalidInput
from eduvault.kernel.validation import MAX_ID, one_of, validated, whole_number
from eduvault.pipeline.content.selectors import course_get
from eduvault.pipeline.records import enrollments, people, selectors
from eduvault.pipeline.records.models import Enrollment, Record
from eduvault.pipeline.records.services import record_settle

#: The longest text a settled value may be (a grade's text, a state).
MAX_VALUE_LENGTH = 1000
#: The largest whole number a settled value may be (what every JSON reader keeps exactly).
MAX_SAFE_INTEGER = 2**53
#: The most identity events one request lists.
MAX_EVENTS = 1000

RecordReaders = HasApiToken | AnyPerson


def _actor(request: Request) -> str:
    """Who is acting, for the audit: the signed-in person, or the API token."""
    person = caller_person(request)
    return (str(person) if person is not None else f"token:{request.auth.name}")[:150]


def _flag(value: str | None, name: str) -> bool:
    return one_of(value, name, ("true", "false")) == "true"


# -- who sees which records ---------------------------------------------------------------------


def _own_person_id(request: Request) -> int | None:
    """The person whose records a signed-in learner or instructor sees: their account's, or
    the one it was merged into."""
    signed_in = caller_person(request)
    if signed_in is None:
        return None
    person = Person.objects.filter(user_id=signed_in.id).only("id", "merged_into").first()
    seen: set[int] = set()
    while person is not None and person.merged_into_id is not None and person.pk not in seen:
        seen.add(person.pk)
        person = Person.objects.filter(pk=person.merged_into_id).only("id", "merged_into").first()
    return person.pk if person is not None else None


def _scoped(request: Request, rows: QuerySet[Record]) -> QuerySet[Record]:
    """The records of ``rows`` the caller may see."""
    if caller_role(request) == Role.ADMIN:
        return rows
    token = request.auth
    if isinstance(token, ApiToken):  # a consumer: its courses and kinds
        if token.courses:
            rows = rows.filter(course__key__in=token.courses)
        if token.kinds:
            rows = rows.filter(kind__in=token.kinds)
        return rows
    own = _own_person_id(request)
    return rows.filter(person_id=own) if own is not None else rows.none()


def _visible(request: Request, record_id: int) -> Record:
    """The record, if the caller may see it; 404 otherwise (as if there were none)."""
    record = selectors.record_get(record_id=record_id)
    if caller_role(request) == Role.ADMIN:
        return record
    token = request.auth
    if isinstance(token, ApiToken):
        course = record.course.key if record.course_id else None
        allowed = (not token.courses or (course is not None and token.may_see_course(course))) and (
            token.may_see_kind(record.kind)
        )
    else:
        allowed = record.person_id is not None and record.person_id == _own_person_id(request)
    if not allowed:
        raise selectors.RecordNotFound(f"there is no learner record {record_id}")
    return record


# -- shapes (the selectors build them; these document them) --------------------------------------


class _Shape(serializers.Serializer):
    """A response shape built by a selector: declared here for the schema, rendered by it."""

    @staticmethod
    def shape(instance: Any) -> dict[str, Any]:
        return instance

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return type(self).shape(instance)


class ReplicaOutput(serializers.Serializer):
    links = serializers.DictField(help_text="the platform's ids for the record")
    fields = serializers.DictField(help_text="the fields the platform holds")
    at = serializers.FloatField(allow_null=True, help_text="when it last reported (Unix seconds)")


class RecordOutput(_Shape):
    shape = staticmethod(selectors.record_data)

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=list(KINDS))
    key = serializers.CharField(help_text="<course key>/<object>")
    object = serializers.CharField()
    title = serializers.CharField()
    course = serializers.CharField(allow_null=True)
    person = serializers.IntegerField(allow_null=True)
    person_name = serializers.CharField(allow_null=True)
    held_identity = serializers.IntegerField(
        allow_null=True, help_text="the held identity it came through, while nobody is linked to it"
    )
    home = serializers.CharField(help_text="the replica the object belongs to (eduvault, or a source)")
    fields = serializers.DictField(help_text="the fields as settled")
    vector = serializers.DictField()
    version = serializers.IntegerField()
    conflicts = serializers.IntegerField(help_text="fields with concurrent writes the policy settled")
    replicas = serializers.DictField(child=ReplicaOutput())
    source_time = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class ChangeOutput(_Shape):
    shape = staticmethod(selectors.change_data)

    id = serializers.IntegerField()
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    value = serializers.JSONField(allow_null=True, help_text="what the change said")
    outcome = serializers.ChoiceField(choices=["applied", "lost", "stale", "duplicate"])
    conflict = serializers.BooleanField()
    replica = serializers.CharField()
    platform = serializers.CharField()
    actor = serializers.CharField()
    vector = serializers.DictField()
    source_time = serializers.DateTimeField(allow_null=True)
    cursor = serializers.IntegerField(allow_null=True, help_text="the feed entry that published it")
    created_at = serializers.DateTimeField()


class ConflictOutput(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.JSONField(allow_null=True, help_text="the winning value")
    owner = serializers.ListField(child=serializers.CharField())
    winner = serializers.DictField()
    losers = serializers.ListField(child=serializers.DictField())


class RecordDetailOutput(RecordOutput):
    open_conflicts = ConflictOutput(many=True)
    history = ChangeOutput(many=True, help_text="the field audit, newest first (at most 200)")


class SettledOutput(RecordDetailOutput):
    deliveries = serializers.IntegerField(help_text="deliveries written to the platforms holding it")


def _record_detail(record: Record) -> dict[str, Any]:
    return {
        **selectors.record_data(record),
        "open_conflicts": selectors.record_conflicts(record),
        "history": [selectors.change_data(c) for c in selectors.record_history(record=record)],
    }


class IdentityOutput(_Shape):
    shape = staticmethod(selectors.identity_data)

    id = serializers.IntegerField()
    platform = serializers.CharField()
    realm = serializers.CharField(help_text="the source's name, an LTI issuer, ... ('' for Edu Vault)")
    external_id = serializers.CharField()
    login = serializers.CharField()
    sis_id = serializers.CharField()
    email = serializers.CharField()
    email_verified = serializers.BooleanField()
    name = serializers.CharField()
    person = serializers.IntegerField(allow_null=True)
    state = serializers.ChoiceField(choices=Identity.State.values)
    matched_by = serializers.CharField()
    held_reason = serializers.CharField()
    candidates = serializers.ListField(child=serializers.IntegerField())
    held_records = serializers.IntegerField(help_text="records waiting for it to be linked")


class PersonOutput(_Shape):
    shape = staticmethod(selectors.person_data)

    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    sis_id = serializers.CharField()
    username = serializers.CharField(allow_null=True, help_text="their Edu Vault account, if any")
    merged_into = serializers.IntegerField(allow_null=True)
    identities = IdentityOutput(many=True)


class EnrollmentOutput(_Shape):
    shape = staticmethod(selectors.enrollment_data)

    id = serializers.IntegerField()
    course = serializers.CharField()
    person = serializers.IntegerField()
    person_name = serializers.CharField()
    role = serializers.CharField(help_text=", ".join(Enrollment.Role.values))
    state = serializers.ChoiceField(choices=Enrollment.State.values)
    record = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class IdentityEventOutput(_Shape):
    shape = staticmethod(selectors.identity_event_data)

    id = serializers.IntegerField()
    action = serializers.CharField()
    identity = serializers.IntegerField(allow_null=True)
    identity_name = serializers.CharField(allow_null=True)
    person = serializers.IntegerField(allow_null=True)
    other = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    actor = serializers.CharField()
    undone_by = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class PersonDetailOutput(PersonOutput):
    enrollments = EnrollmentOutput(many=True)
    records = serializers.IntegerField(help_text="how many records are theirs")
    history = IdentityEventOutput(many=True, help_text="links, unlinks and merges, newest first")


class IdentityChangedOutput(serializers.Serializer):
    event = IdentityEventOutput(help_text="the audit entry (undo it at /api/v1/identity-events/{id}/undo)")
    identity = IdentityOutput()


class MergedOutput(serializers.Serializer):
    event = IdentityEventOutput(help_text="the audit entry (undo it at /api/v1/identity-events/{id}/undo)")
    person = PersonOutput()


class UndoneOutput(serializers.Serializer):
    undone = serializers.IntegerField(help_text="the event undone")
    event = IdentityEventOutput(help_text="the event that undid it")


class IdentityEventsOutput(serializers.Serializer):
    results = IdentityEventOutput(many=True)


class PoliciesOutput(serializers.Serializer):
    file = serializers.CharField()
    match = serializers.ListField(child=serializers.CharField(), help_text="identity rules, in order")
    classes = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    kinds = serializers.ListField(child=serializers.DictField())
    text = serializers.CharField()


# -- records ---------------------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(summary="List learner records"))
class RecordListApi(ListAPIView):
    """Records, most recently changed first: every record for admins, those within its scopes
    for a consumer token, a person's own for a signed-in learner or instructor."""

    permission_classes = [RecordReaders]
    serializer_class = RecordOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(KINDS)),
            OpenApiParameter("course", OpenApiTypes.STR, description="a course key"),
            OpenApiParameter("person", OpenApiTypes.INT, description="a person's id"),
            OpenApiParameter("conflicts", OpenApiTypes.BOOL, description="only records with open conflicts"),
            OpenApiParameter("held", OpenApiTypes.BOOL, description="only records of held identities"),
        ],
        operation_id="v1_records_list",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Record]:
        params = self.request.query_params
        rows = selectors.record_list(
            kind=params.get("kind"),
            course=params.get("course") or None,
            person=whole_number(params.get("person"), "person"),
            conflicts=_flag(params.get("conflicts"), "conflicts"),
            held=_flag(params.get("held"), "held"),
        )
        return _scoped(self.request, rows)


@extend_schema_view(get=extend_schema(summary="Read a learner record with conflicts and history"))
class RecordDetailApi(APIView):
    permission_classes = [RecordReaders]

    @extend_schema(
        responses=RecordDetailOutput,
        description="A record, its open conflicts (per field: the winner and the losers) and its field history.",
    )
    def get(self, request: Request, record_id: int) -> Response:
        return Response(_record_detail(_visible(request, record_id)))


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": MAX_VALUE_LENGTH},
            {"type": "number"},
            {"type": "boolean"},
        ],
        "nullable": True,
    }
)
class ScalarField(serializers.JSONField):
    """A JSON scalar: text, a number, true, false or null."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        data = super().to_internal_value(data)
        if isinstance(data, str):
            if len(data) > MAX_VALUE_LENGTH:
                raise serializers.ValidationError(f"text of at most {MAX_VALUE_LENGTH} characters")
        elif isinstance(data, int) and not isinstance(data, bool):
            if abs(data) > MAX_SAFE_INTEGER:
                raise serializers.ValidationError(f"a whole number between -2^53 and 2^53, not {data}")
        elif isinstance(data, float):
            if not math.isfinite(data):
                raise serializers.ValidationError("a finite number")
        elif data is not None and not isinstance(data, bool):
            raise serializers.ValidationError("a number, text, true, false or null (not a list or an object)")
        return data


class SettleInput(serializers.Serializer):
    field = serializers.CharField(max_length=100, help_text="the field to settle (one the record has)")
    value = ScalarField(help_text="the value every platform holding the record is to have")


@extend_schema_view(post=extend_schema(summary="Settle a field of a record"))
class RecordSettleApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        request=SettleInput,
        responses=SettledOutput,
        description=(
            "Settle a field of a record (an operator's override of a conflict, or keeping the winner): "
            "the value supersedes every write there is, and goes to every platform holding the record."
        ),
    )
    def post(self, request: Request, record_id: int) -> Response:
        data = validated(SettleInput, request.data)
        applied = record_settle(
            record_id=record_id, field_name=data["field"], value=data["value"], actor=_actor(request)
        )
        record = selectors.record_get(record_id=record_id)
        return Response({**_record_detail(record), "deliveries": applied.deliveries})


# -- people ------------------------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(summary="List people"))
class PeopleListApi(ListAPIView):
    """People (not those merged into another), by name."""

    permission_classes = [Admin]
    serializer_class = PersonOutput

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search", OpenApiTypes.STR, description="part of a name; a SIS id, login or username"
            )
        ],
        operation_id="v1_people_list",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Person]:
        search = self.request.query_params.get("search") or None
        if search is not None and len(search) > 200:
            raise InvalidInput("search must be at most 200 characters")
        return selectors.people_list(search=search)


@extend_schema_view(get=extend_schema(summary="Read a person with identities and enrollments"))
class PersonDetailApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        responses=PersonDetailOutput,
        description="A person, their identities, their enrollments and their identity history.",
    )
    def get(self, request: Request, person_id: int) -> Response:
        person = selectors.person_get(person_id=person_id)
        return Response(
            {
                **selectors.person_data(person),
                "enrollments": [
                    selectors.enrollment_data(e) for e in selectors.enrollment_list(person=person.pk)
                ],
                "records": selectors.record_list(person=person.pk).count(),
                "history": [
                    selectors.identity_event_data(e) for e in selectors.identity_events(person=person.pk)
                ],
            }
        )


class MergeInput(serializers.Serializer):
    into = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="the person who remains")
    other = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="the person merged into them (kept, so it can be undone)"
    )


@extend_schema_view(post=extend_schema(summary="Merge two people into one"))
class PeopleMergeApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        request=MergeInput,
        responses=MergedOutput,
        description="Two people are one: the other's identities and records become theirs. Undoable.",
    )
    def post(self, request: Request) -> Response:
        data = validated(MergeInput, request.data)
        event = people.people_merge(into_id=data["into"], other_id=data["other"], actor=_actor(request))
        return Response(
            {
                "event": selectors.identity_event_data(event),
                "person": selectors.person_data(selectors.person_get(person_id=data["into"])),
            }
        )


# -- identities ------------------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(summary="List identities on every platform"))
class IdentityListApi(ListAPIView):
    """Identities on every platform, most recently changed first."""

    permission_classes = [Admin]
    serializer_class = IdentityOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=Identity.State.values),
            OpenApiParameter("platform", OpenApiTypes.STR, description="canvas, openedx, lti, eduvault, ..."),
            OpenApiParameter("source", OpenApiTypes.STR, description="the source (or issuer) it is of"),
        ],
        operation_id="v1_identities_list",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Identity]:
        params = self.request.query_params
        return selectors.identity_list(
            state=params.get("state"),
            platform=params.get("platform") or None,
            realm=params.get("source") or None,
        )


def _identity_changed(event: Any, identity_id: int) -> dict[str, Any]:
    return {
        "event": selectors.identity_event_data(event),
        "identity": selectors.identity_data(selectors.identity_get(identity_id=identity_id)),
    }


class IdentityLinkInput(serializers.Serializer):
    person = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="the person it is")


@extend_schema_view(post=extend_schema(summary="Link an identity to a person"))
class IdentityLinkApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        request=IdentityLinkInput,
        responses=IdentityChangedOutput,
        description="Link an identity to a person; the records held for it become the person's.",
    )
    def post(self, request: Request, identity_id: int) -> Response:
        data = validated(IdentityLinkInput, request.data)
        event = people.identity_link(identity_id=identity_id, person_id=data["person"], actor=_actor(request))
        return Response(_identity_changed(event, identity_id))


@extend_schema_view(post=extend_schema(summary="Unlink an identity from its person"))
class IdentityUnlinkApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        request=None,
        responses=IdentityChangedOutput,
        description="Unlink an identity from its person: it is held (and never matched again by itself).",
    )
    def post(self, request: Request, identity_id: int) -> Response:
        event = identity_people.identity_unlink(identity_id=identity_id, actor=_actor(request))
        return Response(_identity_changed(event, identity_id))


@extend_schema_view(post=extend_schema(summary="Make a held identity a new person"))
class IdentityNewPersonApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        request=None,
        responses={201: IdentityChangedOutput},
        description="A held identity is somebody new: create their person, link it, and give them its records.",
    )
    def post(self, request: Request, identity_id: int) -> Response:
        event = people.identity_person_create(identity_id=identity_id, actor=_actor(request))
        return Response(_identity_changed(event, identity_id), status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(summary="The identity audit"))
class IdentityEventListApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        parameters=[
            OpenApiParameter("person", OpenApiTypes.INT, description="events about this person"),
            OpenApiParameter("identity", OpenApiTypes.INT, description="events about this identity"),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"at most this many (≤ {MAX_EVENTS})"),
        ],
        responses=IdentityEventsOutput,
        operation_id="v1_identity_events_list",
        description="The identity audit (links, unlinks, new people, merges, undos), newest first.",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        limit = whole_number(params.get("limit"), "limit", minimum=1)
        rows = selectors.identity_events(
            person=whole_number(params.get("person"), "person"),
            identity=whole_number(params.get("identity"), "identity"),
            limit=min(limit or 100, MAX_EVENTS),
        )
        return Response({"results": [selectors.identity_event_data(e) for e in rows]})


@extend_schema_view(post=extend_schema(summary="Undo an identity event"))
class IdentityEventUndoApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        request=None,
        responses=UndoneOutput,
        description="Undo a link (the identity is held), an unlink (linked again) or a merge (the identities go back).",
    )
    def post(self, request: Request, identity_event_id: int) -> Response:
        undo = people.identity_event_undo(event_id=identity_event_id, actor=_actor(request))
        return Response({"undone": identity_event_id, "event": selectors.identity_event_data(undo)})


# -- enrollments -----------------------------------------------------------------------------------


class EnrollmentInput(serializers.Serializer):
    course = serializers.CharField(max_length=255, help_text="the course key")
    username = serializers.CharField(max_length=150, help_text="the Edu Vault account")
    role = serializers.ChoiceField(choices=Enrollment.Role.values, default=Enrollment.Role.LEARNER)
    source = serializers.CharField(
        max_length=100, required=False, help_text="the course's source, when two sources have that key"
    )


def _enrollment_course(data: dict[str, Any]) -> Any:
    return course_get(key=data["course"], source=data.get("source"))


@extend_schema_view(get=extend_schema(summary="List enrollments"), post=extend_schema(summary="Enroll an account in a course"), delete=extend_schema(summary="Remove an account from a course"))
class EnrollmentListApi(ListAPIView):
    """Enrollments, by course: who is enrolled where, as what, in which state."""

    permission_classes = [Admin]
    serializer_class = EnrollmentOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("course", OpenApiTypes.STR, description="a course key"),
            OpenApiParameter("person", OpenApiTypes.INT, description="a person's id"),
            OpenApiParameter("state", OpenApiTypes.STR, enum=Enrollment.State.values),
        ],
        operation_id="v1_enrollments_list",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Enrollment]:
        params = self.request.query_params
        return selectors.enrollment_list(
            course=params.get("course") or None,
            person=whole_number(params.get("person"), "person"),
            state=params.get("state"),
        )

    @extend_schema(
        request=EnrollmentInput,
        responses={201: EnrollmentOutput},
        description="Enroll an Edu Vault account in a course (active), or make its removed enrollment active again.",
    )
    def post(self, request: Request) -> Response:
        data = validated(EnrollmentInput, request.data)
        enrollment = enrollments.enrollment_add(
            course=_enrollment_course(data),
            username=data["username"],
            role=data["role"],
            actor=_actor(request),
        )
        return Response(selectors.enrollment_data(enrollment), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("course", OpenApiTypes.STR, description="the course key (required)"),
            OpenApiParameter("username", OpenApiTypes.STR, description="the Edu Vault account (required)"),
            OpenApiParameter("role", OpenApiTypes.STR, enum=Enrollment.Role.values, description="(learner)"),
            OpenApiParameter("source", OpenApiTypes.STR, description="the course's source, if ambiguous"),
        ],
        responses={200: EnrollmentOutput},
        description=(
            "Remove an account from a course (the enrollment is kept, as removed). Name it in the "
            "query, or in a JSON body of the same fields as enrolling."
        ),
    )
    def delete(self, request: Request) -> Response:
        given = request.data if request.data else request.query_params
        data = validated(EnrollmentInput, given)
        enrollment = enrollments.enrollment_remove(
            course=_enrollment_course(data),
            username=data["username"],
            role=data["role"],
            actor=_actor(request),
        )
        return Response(selectors.enrollment_data(enrollment))


# -- policies ----------------------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(summary="The source-of-truth policies in force"))
class PoliciesApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        responses=PoliciesOutput,
        description="The source-of-truth policies in force: who owns which kind of record (and field), "
        "and the rules identities are matched by.",
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.policies_data())


def _own_person(request: Request) -> Person:
    from django.contrib.auth import get_user_model

    signed = caller_person(request)
    if signed is None:
        raise InvalidInput("only a signed-in person has a profile")
    return identity_people.person_for_user(user=get_user_model().objects.get(pk=signed.id))


class ProfileApi(APIView):
    """The signed-in person's own profile (a record of the hub)."""

    permission_classes = [AnyPerson]

    class ProfileInput(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False, allow_blank=True, trim_whitespace=False)
        bio = serializers.CharField(max_length=2000, required=False, allow_blank=True, trim_whitespace=False)

    class ProfileOutput(serializers.Serializer):
        name = serializers.CharField(required=False)
        bio = serializers.CharField(required=False)

    @extend_schema(summary="Your profile", responses={200: ProfileOutput})
    def get(self, request: Request) -> Response:
        person = _own_person(request)
        record = Record.objects.filter(kind="profile", key="/profile", holder=f"p{person.pk}").first()
        return Response(record.fields if record else {})

    @extend_schema(summary="Edit your profile (name, bio)", request=ProfileInput, responses={200: ProfileOutput})
    def patch(self, request: Request) -> Response:
        from eduvault.pipeline.records.services import profile_edit

        data = validated(self.ProfileInput, request.data)
        record = profile_edit(person=_own_person(request), fields=data, actor=request.user.username)
        return Response(record.fields)
