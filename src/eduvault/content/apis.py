"""Read API: courses and their trees."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.content.models import Course
from eduvault.content.selectors import course_get, course_list
from eduvault.core.models import ApiToken
from eduvault.core.validation import whole_number
from eduvault.exceptions import CourseNotFound
from eduvault.sync.selectors import course_tree_at


class CourseSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Course
        fields = [
            "key",
            "title",
            "source",
            "platform",
            "version",
            "node_count",
            "content_hash",
            "source_version",
            "source_timestamp",
            "last_synced_at",
            "created_at",
        ]


def course_for(request: Request, key: str) -> Course:
    """The course, if this token may see it (otherwise it does not exist, for this token)."""
    token: ApiToken = request.auth
    if not token.may_see_course(key):
        raise CourseNotFound(f"no course with key {key!r} has been synchronized")
    return course_get(key=key)


class CourseListApi(ListAPIView):
    serializer_class = CourseSerializer

    def get_queryset(self):
        return course_list(token=self.request.auth)


class CourseDetailApi(APIView):
    @extend_schema(responses=CourseSerializer)
    def get(self, request: Request, key: str) -> Response:
        return Response(CourseSerializer(course_for(request, key)).data)


class CourseTreeApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("version", OpenApiTypes.INT, description="A past version (default: current)")
        ],
        responses=OpenApiTypes.OBJECT,
        description="The course tree as nested objects: id, kind, title, attributes, children.",
    )
    def get(self, request: Request, key: str) -> Response:
        course = course_for(request, key)
        version = whole_number(request.query_params.get("version"), "version")
        tree = course_tree_at(course=course, version=version)
        return Response(
            {"course": course.key, "version": version or course.version, "tree": tree.to_nested()}
        )
