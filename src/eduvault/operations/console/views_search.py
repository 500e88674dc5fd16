"""Console search: the header's search box, over every course's content, question bank and
forum posts (staff see everything)."""

from __future__ import annotations

from collections import Counter

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from eduvault.kernel.errors import InvalidInput
from eduvault.learning.search.engines import TYPES
from eduvault.learning.search.selectors import MAX_LIMIT, Caller, search
from eduvault.pipeline.content.models import Course
from eduvault.operations.console.views import staff_only


@staff_only
def search_view(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    course = request.GET.get("course") or None
    type_ = request.GET.get("type") or None
    hits, problem = [], None
    if query:
        try:
            hits = search(
                query=query,
                caller=Caller(),
                course=course,
                types=[type_] if type_ else None,
                limit=MAX_LIMIT,
            )
        except InvalidInput as exc:
            problem = exc.detail
    counts = Counter(h.type for h in hits)
    return render(
        request,
        "console/search.html",
        {
            "query": query,
            "course": course or "",
            "type": type_ or "",
            "types": TYPES,
            "courses": Course.objects.order_by("key").values_list("key", flat=True)[:500],
            "hits": hits,
            "counts": [(t, counts.get(t, 0)) for t in TYPES],
            "problem": problem,
            "limit": MAX_LIMIT,
        },
    )
