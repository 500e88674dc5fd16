"""Console pages of course communities: each course's forum, how far it is in step (members,
learners waiting for a forum account, topics, badges), its deliveries, and a button that
brings it in step now."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from eduvault.kernel.errors import NotFound
from eduvault.operations.console.charts import horizontal_bars
from eduvault.operations.console.views import actor_of, staff_only
from eduvault.pipeline.communities.selectors import community_list
from eduvault.integrations.models import Source
from eduvault.pipeline.communities.services import (
    CHANNEL,
    community_add,
    community_bring_in_step,
    community_remove,
)
from eduvault.pipeline.outbox.models import Delivery

@staff_only
def communities(request: HttpRequest) -> HttpResponse:
    rows = list(community_list())
    pending = Counter(
        (d["target"], d["payload__community"], d["status"])
        for d in Delivery.objects.filter(channel=CHANNEL)
        .exclude(status=Delivery.Status.DONE)
        .values("target", "payload__community", "status")
    )
    table = [
        {
            "community": c,
            "waiting": len(c.waiting or []),
            "deliveries": {
                status: n for (target, cid, status), n in pending.items() if target == c.source.name and cid == c.pk
            },
        }
        for c in rows
    ]
    bars, top, height = horizontal_bars(
        [(f"{c.course.key} members", c.member_count) for c in rows]
        + [(f"{c.course.key} waiting", len(c.waiting or [])) for c in rows]
    )
    return render(
        request,
        "console/communities.html",
        {
            "rows": table,
            "bars": bars,
            "top": top,
            "height": height,
            "described": ", ".join(f"{b.count} {b.label}" for b in bars) or "no communities yet",
            "forums": list(Source.objects.filter(platform="discourse").order_by("name").values_list("name", flat=True)),
        },
    )


@staff_only
@require_POST
def community_sync_view(request: HttpRequest, community_id: int) -> HttpResponse:
    community = community_list().filter(pk=community_id).first()
    if community is None:
        raise NotFound(f"no community {community_id}")
    written = community_bring_in_step(community=community, actor=actor_of(request))
    messages.success(request, f"{community.course.key} on {community.source.name}: {written} steps asked for now.")
    return redirect("console:communities")


@staff_only
@require_POST
def community_add_view(request: HttpRequest) -> HttpResponse:
    form = request.POST
    community = community_add(
        course_key=form.get("course", "").strip()[:255],
        source_name=form.get("discourse", "").strip()[:100],
        category=form.get("category", "").strip()[:18] or None,
        topic_kind=form.get("topic_kind", "").strip()[:50] or "subtopic",
        completion_badge=form.get("completion_badge", "").strip()[:18] or None,
        certificate_badge=form.get("certificate_badge", "").strip()[:18] or None,
        mastery_badge=form.get("mastery_badge", "").strip()[:18] or None,
        actor=actor_of(request),
    )
    messages.success(
        request, f"{community.course.key} now has a community on {community.source.name}; it is being brought in step."
    )
    return redirect("console:communities")


@staff_only
@require_POST
def community_remove_view(request: HttpRequest, community_id: int) -> HttpResponse:
    community = community_list().filter(pk=community_id).first()
    if community is None:
        raise NotFound(f"no community {community_id}")
    community_remove(course_key=community.course.key, source_name=community.source.name, actor=actor_of(request))
    messages.success(
        request,
        f"{community.course.key} no longer has a community on {community.source.name} (the forum keeps what was made).",
    )
    return redirect("console:communities")
