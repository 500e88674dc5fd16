"""``GET /api/v1/search``: full-text search within the caller's scope."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.identity.models import ApiToken
from eduvault.identity.permissions import AnyCaller, caller_person
from eduvault.kernel.validation import whole_number
from eduvault.learning.search.engines import TYPES
from eduvault.learning.search.selectors import MAX_LIMIT, MAX_OFFSET, Caller, search
from eduvault.learning.search.syntax import MAX_QUERY

class SearchHitOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPES)
    course = serializers.CharField(help_text="The course's key.")
    ref = serializers.CharField(
        help_text="content: the node's external id; question: the question's key; post: the record's id."
    )
    title = serializers.CharField()
    kind = serializers.CharField(help_text="content: the node kind; question: its type; post: forum_post.")
    snippet = serializers.CharField(help_text="HTML: the matching text escaped, the words found in <mark> elements.")
    score = serializers.FloatField(help_text="Relevance, higher first (comparable within one answer).")


class SearchApi(APIView):
    permission_classes = [AnyCaller]

    @extend_schema(
        summary="Search course content, the question bank and forum posts",
        description=(
            "Full-text search (PostgreSQL full-text search, or SQLite FTS5 on the embedded default) "
            "within the caller's scope: staff and admin tokens see everything; a consumer token its "
            "courses' content and forum posts; a learner the courses they are enrolled in, with "
            "practice questions only (never an exam's). `q` takes web-search syntax: words are all "
            'required, "quoted words" are a phrase, `or` takes either side, `-word` leaves out.'
        ),
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description=f"At most {MAX_QUERY} characters."),
            OpenApiParameter("course", OpenApiTypes.STR, description="Only this course (its key)."),
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                description=f"Only these types, comma-separated: {', '.join(TYPES)}.",
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {MAX_LIMIT} (default 20)."),
            OpenApiParameter("offset", OpenApiTypes.INT, description=f"0 to {MAX_OFFSET}."),
        ],
        responses=inline_serializer(
            "SearchResults", {"query": serializers.CharField(), "results": SearchHitOutput(many=True)}
        ),
        examples=[
            OpenApiExample(
                "Two hits",
                response_only=True,
                value={
                    "query": "quadratic",
                    "results": [
                        {
                            "type": "content",
                            "course": "course-v1:MIE+MATH-T+2026_T1",
                            "ref": "block-v1:MIE+MATH-T+2026_T1+type@sequential+block@quadratics",
                            "title": "Quadratics",
                            "kind": "subtopic",
                            "snippet": "<mark>Quadratics</mark>",
                            "score": 0.6079,
                        }
                    ],
                },
            )
        ],
        operation_id="v1_search",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        types = [t.strip() for t in (params.get("type") or "").split(",") if t.strip()] or None
        hits = search(
            query=params.get("q") or "",
            caller=Caller(
                person=caller_person(request),
                token=request.auth if isinstance(request.auth, ApiToken) else None,
            ),
            course=params.get("course") or None,
            types=types,
            limit=whole_number(params.get("limit"), "limit", minimum=1, maximum=MAX_LIMIT) or 20,
            offset=whole_number(params.get("offset"), "offset", maximum=MAX_OFFSET) or 0,
        )
        return Response({"query": params.get("q", ""), "results": [h.as_dict() for h in hits]})
