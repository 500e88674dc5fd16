"""What asks a community to be brought in step: a sync that changed its course (its title,
its nodes), and record changes (an enrollment, a completion, a certificate, a mastery; a
forum account's profile, which may be a waiting learner's)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from eduvault.cores.records.policy import KINDS
from eduvault.pipeline.communities.models import Community
from eduvault.pipeline.communities.services import community_request
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
    if profiles:  # a forum account appeared or changed: the learner's courses' groups
        for course_id in Enrollment.objects.filter(person_id__in=profiles).values_list("course_id", flat=True):
            by_course[course_id].setdefault("members", "background")
    if not by_course:
        return 0
    written = 0
    for community in Community.objects.filter(course_id__in=list(by_course)).select_related("source", "course"):
        for aspect, priority in by_course[community.course_id].items():
            written += community_request(community=community, aspects=[aspect], priority=priority, manual=manual)
    return written


def _rank(priority: str) -> int:
    return ("critical", "high", "background").index(priority)


watchers.add("communities", records_changed)
