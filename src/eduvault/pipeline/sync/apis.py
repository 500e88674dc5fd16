"""Read API: sync runs and the changes they applied."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.identity.models import ApiToken
from eduvault.kernel.errors import RunNotFound
from eduvault.kernel.openapi import documented_schemas
from eduvault.kernel.validation import one_of, whole_number
from eduvault.pipeline.content.apis import course_for
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.selectors import course_tree_at, run_changes, run_get, run_list


class SyncRunSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    counts = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    trigger_detail = serializers.SerializerMethodField()

    def get_trigger_detail(self, run: SyncRun) -> dict[str, Any]:
        """What started the run. A file's path on the server is the operators' business:
        anyone else is shown its name only."""
        detail = dict(run.trigger_detail or {})
        request = self.context.get("request")
        auth = getattr(request, "auth", None)
        if "file" in detail and not (isinstance(auth, ApiToken) and auth.is_admin):
            detail["file"] = PurePath(str(detail["file"])).name
        return detail

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "course_key",
            "source",
            "trigger",
            "trigger_detail",
            "actor",
            "outcome",
            "version_before",
            "version_after",
            "counts",
            "node_count",
            "content_hash",
            "error",
            "error_code",
            "started_at",
            "finished_at",
            "duration_ms",
        ]


class ChangeSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="external_id")

    class Meta:
        model = FeedEntry
        fields = ["cursor", "run", "seq", "op", "kind", "id", "before", "after"]


@extend_schema_view(get=extend_schema(summary="List a course's sync runs"))
class CourseRunsApi(ListAPIView):
    serializer_class = SyncRunSerializer

    def get_queryset(self):
        course = course_for(self.request, self.kwargs["key"])
        outcome = one_of(self.request.query_params.get("outcome"), "outcome", SyncRun.Outcome.values)
        return run_list(course=course, outcome=outcome)


def run_for(request: Request, run_id: int) -> SyncRun:
    run = run_get(run_id=run_id)
    if not request.auth.may_see_course(run.course_key):
        raise RunNotFound(f"there is no sync run {run_id}")
    return run


@extend_schema_view(get=extend_schema(summary="Read a sync run"))
class RunDetailApi(APIView):
    @extend_schema(responses=SyncRunSerializer)
    def get(self, request: Request, run_id: int) -> Response:
        return Response(SyncRunSerializer(run_for(request, run_id), context={"request": request}).data)


@extend_schema_view(get=extend_schema(summary="The changes a sync run applied"))
class RunChangesApi(ListAPIView):
    serializer_class = ChangeSerializer

    def get_queryset(self):
        return run_changes(run=run_for(self.request, self.kwargs["run_id"]))


documented_schemas.add(
    "TreeNode",
    {
        "type": "object",
        "description": "A node of the course tree, with its children in order.",
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "description": "course, chapter, sequential, vertical, problem…"},
            "title": {"type": "string"},
            "attributes": {"type": "object", "additionalProperties": {}},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/TreeNode"}},
        },
        "required": ["id", "kind", "title", "attributes", "children"],
    },
)


@extend_schema_field({"$ref": "#/components/schemas/TreeNode"})
class TreeField(serializers.JSONField):
    """The nested course tree (a recursive shape, described by hand)."""


CourseTreeOutput = inline_serializer(
    "CourseTree",
    {"course": serializers.CharField(), "version": serializers.IntegerField(), "tree": TreeField()},
)


@extend_schema_view(get=extend_schema(summary="Read a course's tree, now or at a version"))
class CourseTreeApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("version", OpenApiTypes.INT, description="A past version (default: current)")
        ],
        responses=CourseTreeOutput,
        description="The course tree as nested objects: id, kind, title, attributes, children.",
    )
    def get(self, request: Request, key: str) -> Response:
        course = course_for(request, key)
        version = whole_number(request.query_params.get("version"), "version")
        tree = course_tree_at(course=course, version=version)
        return Response(
            {"course": course.key, "version": version or course.version, "tree": tree.to_nested()}
        )
