"""What asks a community to be brought in step: a sync that changed its course (its title,
its nodes), and record changes (an enrollment, a completion, a certificate, a mastery; a
forum account's profile, which may be a waiting learner's)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count

from eduvault.cores.records.policy import KINDS
from eduvault.pipeline.communities.models import Community
from eduvault.identity.models import Person
from eduvault.pipeline.communities.services import community_request, participation_object
from eduvault.pipeline.records.services import record_local_change
from eduvault.pipeline.records.apply import watchers
from eduvault.pipeline.records.models import Enrollment, Record
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.subscriptions import subscribe

#: Record kinds a community follows, and the aspect each asks for.
ASPECT_OF = {
    "enrollment": "members",
    "completion": "badges",
    "certificate": "badges",
    "mastery": "badges",
}
#: Syncs an operator started: not held back by a window.
BY_HAND = {SyncRun.Trigger.CLI, SyncRun.Trigger.DEMO, SyncRun.Trigger.API, SyncRun.Trigger.FILE}


@subscribe()
def course_changed(*, course: Any, run: Any, changes: list[Any]) -> None:
    communities = list(Community.objects.filter(course=course).select_related("source", "course"))
    if not communities:
        return
    manual = run.trigger in BY_HAND
    for community in communities:
        aspects = ["topics"] if any(c.kind == community.topic_kind for c in changes) else []
        if any(c.kind == "course" or c.external_id == course.key for c in changes):
            aspects.insert(0, "place")
        if aspects:
            community_request(community=community, aspects=aspects, priority="background", manual=manual)


def records_changed(records: list[Record], manual: bool) -> int:
    by_course: dict[int, dict[str, str]] = defaultdict(dict)  # course -> aspect -> priority
    profiles = []
    for record in records:
        aspect = ASPECT_OF.get(record.kind)
        if aspect and record.course_id is not None:
            current = by_course[record.course_id].get(aspect)
            priority = KINDS[record.kind]
            if current is None or _rank(priority) < _rank(current):
                by_course[record.course_id][aspect] = priority
        elif record.kind == "profile" and record.person_id is not None:
            profiles.append(record.person_id)
    written = _participation([r for r in records if r.kind == "forum_post" and r.course_id and r.person_id])
    if profiles:  # a forum account appeared or changed: the learner's courses' groups
        for course_id in Enrollment.objects.filter(person_id__in=profiles).values_list("course_id", flat=True):
            by_course[course_id].setdefault("members", "background")
    if not by_course:
        return written
    for community in Community.objects.filter(course_id__in=list(by_course)).select_related("source", "course"):
        for aspect, priority in by_course[community.course_id].items():
            written += community_request(community=community, aspects=[aspect], priority=priority, manual=manual)
    return written


def _rank(priority: str) -> int:
    return ("critical", "high", "background").index(priority)


watchers.add("communities", records_changed)


def _participation(posts: list[Record]) -> int:
    """A learner's posts in a course's forum, counted as the grade of the assignment the
    community links its participation to (full credit at ``participation_posts``)."""
    if not posts:
        return 0
    wanted = {(r.course_id, r.person_id) for r in posts}
    communities = Community.objects.filter(
        course_id__in={c for c, _ in wanted}, source__name__in={r.home for r in posts}
    ).exclude(participation_assignment="").select_related("course", "source")
    written = 0
    for community in communities:
        people = sorted(p for c, p in wanted if c == community.course_id)
        counts = dict(
            Record.objects.filter(
                kind="forum_post", course=community.course, home=community.source.name, person_id__in=people
            )
            .exclude(fields__deleted=True)
            .values_list("person_id")
            .annotate(n=Count("pk"))
        )
        for person in Person.objects.filter(pk__in=people):
            needed = community.participation_posts
            applied = record_local_change(
                kind="grade",
                course=community.course,
                object=participation_object(community),
                person=person,
                fields={"score": float(min(counts.get(person.pk, 0), needed)), "max": float(needed)},
                title=f"Forum participation ({community.source.name})",
                actor="community",
            )
            written += applied.deliveries
    return written
