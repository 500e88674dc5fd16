"""The communities API (admins only): link a course to a Discourse source, list and read the
links, unlink, and bring one in step now."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.identity.permissions import Admin, caller_person
from eduvault.kernel.errors import NotFound
from eduvault.kernel.validation import validated
from eduvault.pipeline.communities import selectors, services
from eduvault.pipeline.communities.models import Community

_BADGE = {"required": False, "allow_null": True, "max_length": 18}


class CommunityInput(serializers.Serializer):
    course = serializers.CharField(max_length=255, help_text="the course key (any source)")
    discourse = serializers.CharField(max_length=100, help_text="the Discourse source")
    category = serializers.CharField(required=False, allow_null=True, max_length=18, help_text="an existing category id")
    topic_kind = serializers.CharField(required=False, default="subtopic", max_length=50)
    completion_badge = serializers.CharField(**_BADGE)
    certificate_badge = serializers.CharField(**_BADGE)
    mastery_badge = serializers.CharField(**_BADGE)
    participation_assignment = serializers.CharField(**_BADGE)
    participation_posts = serializers.IntegerField(required=False, default=3, min_value=1, max_value=1000)


class CommunityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    course = serializers.CharField()
    course_title = serializers.CharField()
    discourse = serializers.CharField()
    category = serializers.CharField(allow_null=True)
    category_given = serializers.BooleanField()
    topic_kind = serializers.CharField()
    group = serializers.DictField()
    badges = serializers.DictField()
    participation = serializers.DictField(allow_null=True)
    members = serializers.IntegerField(allow_null=True)
    topics = serializers.IntegerField(allow_null=True)
    badges_granted = serializers.IntegerField(allow_null=True)
    waiting_for_forum_account = serializers.IntegerField()
    last_step_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: Any) -> Any:
        return selectors.community_data(instance)


def _community(community_id: int) -> Community:
    found = selectors.community_list().filter(pk=community_id).first()
    if found is None:
        raise NotFound(f"no community {community_id}")
    return found


@extend_schema_view(get=extend_schema(summary="List courses' Discourse communities"), post=extend_schema(summary="Link a course to a Discourse community"))
class CommunityListApi(ListAPIView):
    """Courses and the Discourse communities kept in step with them."""

    permission_classes = [Admin]
    serializer_class = CommunityOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("course", OpenApiTypes.STR, description="a course key"),
            OpenApiParameter("discourse", OpenApiTypes.STR, description="a Discourse source"),
        ],
        operation_id="v1_communities_list",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Community]:
        params = self.request.query_params
        return selectors.community_list(course=params.get("course") or None, source=params.get("discourse") or None)

    @extend_schema(
        request=CommunityInput,
        responses={201: CommunityOutput},
        description="Link a course to a Discourse source; its category, topics, group and badges are brought in step at once.",
    )
    def post(self, request: Request) -> Response:
        data = validated(CommunityInput, request.data)
        community = services.community_add(
            course_key=data["course"],
            source_name=data["discourse"],
            category=data.get("category"),
            topic_kind=data["topic_kind"],
            completion_badge=data.get("completion_badge"),
            certificate_badge=data.get("certificate_badge"),
            mastery_badge=data.get("mastery_badge"),
            participation_assignment=data.get("participation_assignment"),
            participation_posts=data["participation_posts"],
            actor=_actor(request),
        )
        return Response(selectors.community_data(_community(community.pk)), status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(summary="Read a community"), delete=extend_schema(summary="Unlink a course from its Discourse community"))
class CommunityDetailApi(APIView):
    permission_classes = [Admin]

    @extend_schema(responses={200: CommunityOutput})
    def get(self, request: Request, community_id: int) -> Response:
        return Response(selectors.community_data(_community(community_id)))

    @extend_schema(responses={204: None}, description="Unlink (what was made in the forum stays there).")
    def delete(self, request: Request, community_id: int) -> Response:
        community = _community(community_id)
        services.community_remove(
            course_key=community.course.key, source_name=community.source.name, actor=_actor(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(post=extend_schema(summary="Bring a community in step now"))
class CommunitySyncApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        request=None,
        responses={202: inline_serializer("CommunitySyncOutput", {"deliveries": serializers.IntegerField()})},
        description="Bring the community in step now (an operator's own work: no window).",
    )
    def post(self, request: Request, community_id: int) -> Response:
        community = _community(community_id)
        written = services.community_bring_in_step(community=community, actor=_actor(request))
        return Response({"deliveries": written}, status=status.HTTP_202_ACCEPTED)


def _actor(request: Request) -> str:
    """Who is acting, for the audit: the signed-in person, or the API token."""
    person = caller_person(request)
    return (str(person) if person is not None else f"token:{request.auth.name}")[:150]
