"""Linking a course to a forum, and asking for its community to be brought in step."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from eduvault.cores.records.usernames import discourse_username
from eduvault.integrations.base import Integration, integration_for
from eduvault.integrations.models import Source
from eduvault.kernel.errors import Conflict, InvalidInput, NotFound, SourceError
from eduvault.pipeline.communities.models import Community
from eduvault.pipeline.communities.steps import Outcome, steps
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.outbox.services import Outgoing, deliveries_enqueue, target_lock
from eduvault.pipeline.records.links import object_link_set
from eduvault.pipeline.records.models import ObjectLink
from eduvault.pipeline.records.routing import due_at

log = structlog.get_logger(__name__)

CHANNEL = "community"
#: In the order they are brought in step (topics need the place; badges need members' accounts).
ASPECTS = ("place", "topics", "members", "badges")
BADGE_CAUSES = ("completion", "certificate", "mastery")


def _badge(value: Any, option: str) -> str:
    if value in (None, ""):
        return ""
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18:
        raise InvalidInput(f"--{option} takes a badge id (a whole number), not {value!r}")
    return text


def group_name_for(course_key: str, title: str = "") -> str:
    """A group name the forum accepts (its usernames' rules: at most 20 characters), from
    the course's title and a digest of its key (two courses of one title differ)."""
    digest = hashlib.sha256(course_key.encode()).hexdigest()[:6]
    stem = discourse_username(title or course_key.split(":")[-1] or "course", max_length=13)
    return f"{stem}_{digest}"


def community_add(
    *,
    course_key: str,
    source_name: str,
    actor: str,
    category: str | None = None,
    topic_kind: str = "subtopic",
    completion_badge: Any = None,
    certificate_badge: Any = None,
    mastery_badge: Any = None,
    participation_assignment: Any = None,
    participation_posts: int = 3,
) -> Community:
    """Link a course (of any source) to a forum source, then bring its community in step at
    once (an operator's own work is not held back by a window)."""
    course = Course.objects.filter(key=course_key).first()
    if course is None:
        raise NotFound(f"no course {course_key!r}; sync it first")
    source = Source.objects.filter(name=source_name).first()
    if source is None:
        raise NotFound(f"no source {source_name!r}")
    if type(integration_for(source)).community is Integration.community:
        raise InvalidInput(f"{source.name} ({source.platform}) keeps no course communities")
    if category not in (None, "") and not str(category).strip().isdigit():
        raise InvalidInput(f"--category takes a category id (a whole number), not {category!r}")
    if category and Community.objects.filter(source=source, place_id=str(category).strip()).exclude(course=course).exists():
        raise Conflict(f"category {category} of {source.name} is another course's community already")
    if not topic_kind or len(topic_kind) > 50:
        raise InvalidInput("--topic-kind takes a kind of course node, such as topic or subtopic")
    assignment = str(participation_assignment or "").strip()
    if assignment and not assignment.isdigit():
        raise InvalidInput(f"--participation-assignment takes an assignment id, not {participation_assignment!r}")
    if assignment and course.source is None:
        raise InvalidInput(f"{course.key} has no platform of its own to count forum participation in")
    if not 1 <= int(participation_posts) <= 1000:
        raise InvalidInput("--participation-posts is between 1 and 1000")
    values = {
        "participation_assignment": assignment,
        "participation_posts": int(participation_posts),
        "topic_kind": topic_kind,
        "place_id": str(category).strip() if category else "",
        "place_given": bool(category),
        "group_name": group_name_for(course.key, course.title),
        "completion_badge": _badge(completion_badge, "completion-badge"),
        "certificate_badge": _badge(certificate_badge, "certificate-badge"),
        "mastery_badge": _badge(mastery_badge, "mastery-badge"),
        "created_by": actor[:150],
    }
    try:
        with transaction.atomic():
            community = Community.objects.create(course=course, source=source, **values)
            community_request(community=community, aspects=ASPECTS, priority="critical", manual=True)
    except IntegrityError:
        raise Conflict(f"{course.key} has a community on {source.name} already") from None
    if assignment:
        participation_link(community=community, actor=actor)
    log.info("community.added", course=course.key, source=source.name, actor=actor, category=values["place_id"])
    return community


def participation_object(community: Community) -> str:
    return f"participation:{community.source.name}"


def participation_link(*, community: Community, actor: str) -> None:
    """Link the community's forum participation to the assignment of the course's own
    platform: the learners' participation grades go there under the policy (Edu Vault's own
    object: it owns them)."""
    course, platform = community.course, community.course.source
    prefix = f"{platform.name}:"
    course_id = course.key[len(prefix) :] if course.key.startswith(prefix) else course.key
    object_link_set(
        source=platform,
        course_id=course_id,
        assignment_id=community.participation_assignment,
        home_course=course,
        home_object=participation_object(community),
        actor=actor,
    )


def community_remove(*, course_key: str, source_name: str, actor: str) -> int:
    """Unlink: Edu Vault stops keeping the community (what it made in the forum stays there)."""
    community = Community.objects.filter(course__key=course_key, source__name=source_name).first()
    if community is None:
        raise NotFound(f"{course_key} has no community on {source_name}")
    with transaction.atomic():
        ObjectLink.objects.filter(
            replica=source_name, course=community.course, created_by="community"
        ).delete()
        if community.participation_assignment and community.course.source is not None:
            ObjectLink.objects.filter(
                replica=community.course.source.name,
                key=f"{community.course.key}/{participation_object(community)}",
            ).delete()
        community.delete()
    log.info("community.removed", course=course_key, source=source_name, actor=actor)
    return 1


def community_request(
    *, community: Community, aspects: Iterable[str], priority: str, manual: bool = False
) -> int:
    """Deliveries that bring aspects of a community in step, due by the priority's window;
    every request of one window is one delivery (the step reads the state when it runs)."""
    due = due_at(priority, manual=manual)
    now = timezone.now()
    stamp = uuid.uuid4().hex if due <= now else str(int(due.timestamp()))
    wanted = [aspect for aspect in aspects if aspect in steps]
    if due <= now:
        # A step of the same aspect still waiting to go out now reads the state when it runs
        # (the target's lock keeps it from being claimed before this commits): one is enough,
        # however many changes ask for it.
        target_lock(community.source.name)
        waiting = set(
            Delivery.objects.filter(
                channel=CHANNEL,
                target=community.source.name,
                status=Delivery.Status.PENDING,
                next_attempt_at__lte=now,
                payload__community=community.pk,
            ).values_list("payload__aspect", flat=True)
        )
        wanted = [aspect for aspect in wanted if aspect not in waiting]
    outgoing = [
        Outgoing(
            target=community.source.name,
            channel=CHANNEL,
            idempotency_key=f"community:{community.pk}:{aspect}:{stamp}",
            payload={"community": community.pk, "aspect": aspect},
            priority=priority,
            summary=f"{aspect} of {community.course.key}"[:300],
            route=f"community.{community.source.platform}",
        )
        for aspect in wanted
    ]
    return deliveries_enqueue(deliveries=outgoing, at=max(due, now))


def community_bring_in_step(*, community: Community, actor: str) -> int:
    """An operator's "now": every aspect at once, the forum's accounts looked up again for
    learners waiting for one."""
    with transaction.atomic():
        Community.objects.filter(pk=community.pk).update(accounts_read_at=None, looked_up={})
        written = community_request(community=community, aspects=ASPECTS, priority="critical", manual=True)
    log.info("community.requested", community=community.pk, actor=actor, deliveries=written)
    return written


def community_step(*, community: Community, aspect: str, writer: Any) -> Outcome:
    """Bring one aspect of a community in step (raises SourceError: the step resumes later)."""
    started = time.perf_counter()
    try:
        outcome = steps.get(aspect)(community, writer)
    except SourceError as exc:
        log.warning("community.step_failed", community=community.pk, aspect=aspect, error=str(exc))
        raise
    Community.objects.filter(pk=community.pk).update(last_step_at=timezone.now())
    if outcome.more:  # a batch of lookups done, more to do: at once, not after a window
        with transaction.atomic():
            community_request(community=community, aspects=[aspect], priority="critical", manual=True)
    log.info(
        "community.step",
        community=community.pk,
        course=community.course.key,
        aspect=aspect,
        duration_ms=int((time.perf_counter() - started) * 1000),
        refused=len(outcome.refused),
        **{k.replace(" ", "_"): v for k, v in outcome.counts.items()},
    )
    return outcome


def communities_reconcile() -> dict[str, int]:
    """Every community brought in step again (what a lost event or a step cut short missed),
    and the forums' accounts matched to people (a learner who made an account since)."""
    requested = 0
    with transaction.atomic():
        # (Learners waiting for a forum account are looked for again by the members step,
        # each at most every so often.)
        for community in Community.objects.select_related("source", "course").filter(source__enabled=True):
            requested += community_request(community=community, aspects=ASPECTS, priority="background")
    return {"deliveries": requested}
