"""Read API: courses and their trees."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.identity.models import ApiToken
from eduvault.kernel.errors import CourseNotFound
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.content.selectors import course_get, course_list


class CourseSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

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


@extend_schema_view(get=extend_schema(summary="List synchronized courses"))
class CourseListApi(ListAPIView):
    serializer_class = CourseSerializer

    def get_queryset(self):
        return course_list(token=self.request.auth)


@extend_schema_view(get=extend_schema(summary="Read a course"))
class CourseDetailApi(APIView):
    @extend_schema(responses=CourseSerializer)
    def get(self, request: Request, key: str) -> Response:
        return Response(CourseSerializer(course_for(request, key)).data)
