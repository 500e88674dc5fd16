"""Reading communities: for the command line, the API and the console."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from eduvault.pipeline.communities.models import Community, CommunityGrant


def community_list(*, course: str | None = None, source: str | None = None) -> QuerySet[Community]:
    rows = Community.objects.select_related("course", "source").annotate(
        member_count=Count("members", distinct=True),
        topic_count=Count("topics", filter=Q(topics__closed=False), distinct=True),
        badge_count=Count(
            "grants",
            filter=Q(grants__state__in=[CommunityGrant.State.GRANTED, CommunityGrant.State.HELD]),
            distinct=True,
        ),
    )
    if course:
        rows = rows.filter(course__key=course)
    if source:
        rows = rows.filter(source__name=source)
    return rows.order_by("course__key", "source__name")


def community_data(c: Community) -> dict[str, Any]:
    return {
        "id": c.pk,
        "course": c.course.key,
        "course_title": c.course.title,
        "discourse": c.source.name,
        "category": c.place_id or None,
        "category_given": c.place_given,
        "topic_kind": c.topic_kind,
        "group": {"id": c.group_id or None, "name": c.group_name},
        "badges": {
            "completion": c.completion_badge or None,
            "certificate": c.certificate_badge or None,
            "mastery": c.mastery_badge or None,
        },
        "members": getattr(c, "member_count", None),
        "topics": getattr(c, "topic_count", None),
        "badges_granted": getattr(c, "badge_count", None),
        "participation": (
            {"assignment": c.participation_assignment, "posts_for_full_credit": c.participation_posts}
            if c.participation_assignment
            else None
        ),
        "waiting_for_forum_account": len(c.waiting or []),
        "last_step_at": c.last_step_at,
        "created_by": c.created_by,
        "created_at": c.created_at,
    }
