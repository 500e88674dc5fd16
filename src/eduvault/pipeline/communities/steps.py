"""What keeping a community in step does, one aspect at a time, against the forum's writer.

Each step compares what the course asks for now with what Edu Vault has made in the forum
(the rows of :mod:`.models`) and sends only the difference; each row is written as soon as
its request succeeded, so a step cut short (the forum down, the rate limit) resumes where it
stopped. A grant is written *before* its request, and granting skips those who hold the badge
already, so a retry of a grant that may have reached the forum grants nothing twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from eduvault.identity.models import Identity
from eduvault.integrations.base import CommunityWriter, TopicSpec
from eduvault.kernel.errors import Conflict, SourceRejected
from eduvault.kernel.registry import Registry
from eduvault.pipeline.communities.people import LOOKUPS_A_STEP, accounts_observe
from eduvault.pipeline.communities.models import Community, CommunityGrant, CommunityMember, CommunityTopic
from eduvault.pipeline.content.models import Node
from eduvault.pipeline.records.models import Enrollment, ObjectLink, Record

HUB = "eduvault"
#: Seconds between reads of a forum's accounts for learners who have none there yet.
ACCOUNTS_REREAD = 900
#: Discourse refuses topic titles shorter than its ``min_topic_title_length`` (15).
TITLE_MIN, TITLE_MAX = 15, 255


@dataclass
class Outcome:
    """What a step did: counts for the log and the delivery's excerpt, and refusals (the
    forum said no to one item: the rest went on)."""

    counts: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    #: The step stopped short on purpose (a batch of lookups) and asks to run again.
    more: bool = False

    def summary(self) -> str:
        done = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()) if v) or "nothing to change"
        return done + (f"; refused: {'; '.join(self.refused[:3])}" if self.refused else "")


Step = Callable[[Community, CommunityWriter], Outcome]
steps: Registry[Step] = Registry("community step")


# -- the place (a forum category) ---------------------------------------------------------------


@steps.register("place")
def keep_place(community: Community, writer: CommunityWriter) -> Outcome:
    outcome = Outcome()
    title = (community.course.title or community.course.key).strip()
    if community.place_id and community.place_title == title and _place_linked(community, writer):
        return outcome
    # A category the operator gave keeps its name until the course is renamed.
    adopting = community.place_given and not community.place_title
    place = writer.ensure_place(place_id=community.place_id, title=title, rename=not adopting)
    taken = (
        ObjectLink.objects.filter(replica=community.source.name, alias=writer.place_key(place))
        .exclude(course=community.course)
        .select_related("course")
        .first()
    )
    if taken is not None:
        raise Conflict(
            f"category {place} of {community.source.name} is the community of {taken.key.rsplit('/', 1)[0]} "
            "already; give this course a category of its own (--category) or remove that community"
        )
    outcome.counts["place created" if place != community.place_id else "place kept"] += 1
    community.place_id, community.place_title = place, title
    community.save(update_fields=["place_id", "place_title"])
    ObjectLink.objects.update_or_create(
        replica=community.source.name,
        key=f"{community.course.key}/course",
        defaults={
            "alias": writer.place_key(place),
            "course": community.course,
            "object": "course",
            "home": _home(community),
            "links": {"place_id": place},
            "created_by": "community",
        },
    )
    return outcome


def _place_linked(community: Community, writer: CommunityWriter) -> bool:
    return ObjectLink.objects.filter(
        replica=community.source.name, alias=writer.place_key(community.place_id)
    ).exists()


def _home(community: Community) -> str:
    return community.course.source.name if community.course.source_id else HUB


# -- topics, one per node of the community's kind -----------------------------------------------


def topic_external_id(course_key: str, node: str) -> str:
    """Made from the node's id (Discourse keeps ``external_id`` to 50 characters)."""
    return "ev-" + hashlib.sha256(f"{course_key}\n{node}".encode()).hexdigest()[:40]


def topic_titles(course_title: str, nodes: list[Node]) -> dict[str, str]:
    """Titles the forum accepts: long enough, and distinct within the course (a forum
    refuses a title it has already)."""
    base = {n.external_id: (n.title or n.kind).strip() for n in nodes}
    seen: Counter[str] = Counter()
    titles = {}
    for node in nodes:
        title = f"{base[node.external_id]} · {course_title}".strip(" ·")
        seen[title.lower()] += 1
        if seen[title.lower()] > 1:
            title = f"{title} ({seen[title.lower()]})"
        if len(title) < TITLE_MIN:
            title = f"{title}: discussion"
        titles[node.external_id] = title[:TITLE_MAX]
    return titles


@steps.register("topics")
def keep_topics(community: Community, writer: CommunityWriter) -> Outcome:
    outcome = keep_place(community, writer) if not community.place_id else Outcome()
    course = community.course
    nodes = list(Node.objects.filter(course=course, kind=community.topic_kind).order_by("position", "external_id"))
    titles = topic_titles(course.title or course.key, nodes)
    rows = {r.node: r for r in community.topics.all()}
    for node in nodes:
        spec = TopicSpec(
            external_id=topic_external_id(course.key, node.external_id),
            title=titles[node.external_id],
            body=f"This is the place to talk about “{node.title or node.kind}” of {course.title or course.key}.",
        )
        row = rows.get(node.external_id)
        if row is not None and row.topic_id and row.title == spec.title and not row.closed:
            continue
        try:
            state = writer.ensure_topic(place_id=community.place_id, spec=spec, topic_id=row.topic_id if row else "")
        except SourceRejected as exc:
            outcome.refused.append(f"{node.external_id}: {exc}")
            continue
        outcome.counts["topics made" if row is None or not row.topic_id else "topics kept"] += 1
        CommunityTopic.objects.update_or_create(
            community=community,
            node=node.external_id,
            defaults={"external_id": spec.external_id, "topic_id": state.topic_id, "title": spec.title, "closed": False},
        )
        ObjectLink.objects.update_or_create(
            replica=community.source.name,
            key=f"{course.key}/node:{node.external_id}",
            defaults={
                "alias": f"{writer.place_key(community.place_id)}/{writer.topic_object(state.topic_id)}",
                "course": course,
                "object": f"node:{node.external_id}",
                "home": _home(community),
                "links": {"topic_id": state.topic_id},
                "created_by": "community",
            },
        )
    live = {n.external_id for n in nodes}
    for row in rows.values():
        if row.node not in live and row.topic_id and not row.closed:
            writer.close_topic(topic_id=row.topic_id)
            row.closed = True
            row.save(update_fields=["closed", "updated_at"])
            outcome.counts["topics closed"] += 1
    return outcome


# -- the group of the course's learners ------------------------------------------------------------


def forum_usernames(community: Community, people: list[int]) -> dict[int, str]:
    """The forum accounts of people (linked identities on the community's source)."""
    return dict(
        Identity.objects.filter(
            platform=community.source.platform,
            realm=community.source.name,
            state=Identity.State.LINKED,
            person_id__in=people,
        )
        .exclude(login="")
        .values_list("person_id", "login")
    )


@steps.register("members")
def keep_members(community: Community, writer: CommunityWriter) -> Outcome:
    outcome = Outcome()
    learners = sorted(
        set(
            Enrollment.objects.filter(
                course=community.course, role=Enrollment.Role.LEARNER, state=Enrollment.State.ACTIVE
            ).values_list("person_id", flat=True)
        )
    )
    usernames = forum_usernames(community, learners)
    waiting = [p for p in learners if p not in usernames]
    if waiting and _look_for_accounts(community, writer, waiting, outcome):
        usernames = forum_usernames(community, learners)
        waiting = [p for p in learners if p not in usernames]
    if community.waiting != waiting[:1000]:
        community.waiting = waiting[:1000]
        community.save(update_fields=["waiting"])
    current = {m.person_id: m for m in community.members.all()}
    add = {p: usernames[p] for p in learners if p in usernames and p not in current}
    remove = [m for p, m in current.items() if p not in usernames]
    if (add or remove) and not community.group_id:
        community.group_id = writer.ensure_group(
            group_id="", name=community.group_name, title=community.course.title or community.course.key
        )
        community.save(update_fields=["group_id"])
    if add:
        writer.add_members(
            group_id=community.group_id, group_name=community.group_name, usernames=sorted(add.values())
        )
        CommunityMember.objects.bulk_create(
            [CommunityMember(community=community, person_id=p, username=u) for p, u in add.items()],
            ignore_conflicts=True,
        )
        outcome.counts["members added"] += len(add)
    if remove:
        writer.remove_members(
            group_id=community.group_id,
            group_name=community.group_name,
            usernames=sorted(m.username for m in remove),
        )
        CommunityMember.objects.filter(pk__in=[m.pk for m in remove]).delete()
        outcome.counts["members removed"] += len(remove)
    outcome.counts["waiting for a forum account"] = len(waiting)
    return outcome


def _look_for_accounts(community: Community, writer: CommunityWriter, waiting: list[int], outcome: Outcome) -> int:
    """Look for the forum accounts of learners who have none linked: each learner looked up
    once (a request each, at most ``LOOKUPS_A_STEP`` a step; the step asks for another if
    more are left), again after ``ACCOUNTS_REREAD``; and every account listed (a page of a
    hundred a request) when an email could match them, at most as often. Returns the
    accounts linked now (0 when nothing was looked at)."""
    now = timezone.now()
    stale = now.timestamp() - ACCOUNTS_REREAD
    looked = {k: v for k, v in (community.looked_up or {}).items() if int(k) in set(waiting)}
    due = [p for p in waiting if looked.get(str(p), 0.0) < stale]
    batch = due[:LOOKUPS_A_STEP]
    listing = (
        community.accounts_read_at is None or community.accounts_read_at.timestamp() < stale
    ) and Identity.objects.filter(person_id__in=waiting, email_verified=True).exists()
    if not batch and not listing:
        return 0
    linked = accounts_observe(source=community.source, writer=writer, waiting=batch, list_all=listing)
    looked.update({str(p): now.timestamp() for p in batch})
    community.looked_up = looked
    fields = ["looked_up"]
    if listing:
        community.accounts_read_at = now
        fields.append("accounts_read_at")
    community.save(update_fields=fields)
    outcome.counts["accounts looked up"] += len(batch)
    outcome.counts["accounts linked"] += linked
    outcome.more = len(due) > len(batch)
    return linked or 1


# -- badges for completions, certificates and masteries ----------------------------------------------

#: cause -> (kind of record, whether a record's fields earn the badge)
CAUSES: Mapping[str, tuple[str, Callable[[Mapping[str, Any]], bool]]] = {
    "completion": ("completion", lambda f: bool(f.get("completed"))),
    "certificate": ("certificate", lambda f: f.get("revoked") is not True),
    "mastery": ("mastery", lambda f: bool(f.get("mastered"))),
}


@steps.register("badges")
def keep_badges(community: Community, writer: CommunityWriter) -> Outcome:
    outcome = Outcome()
    earned: dict[tuple[int, str], tuple[str, Record]] = {}
    for cause, (kind, earns) in CAUSES.items():
        badge = community.badge_for(cause)
        if not badge:
            continue
        records = Record.objects.filter(
            course=community.course, kind=kind, person__isnull=False, merged_into=None
        ).order_by("pk")
        for record in records:
            if earns(record.fields) and record.person_id is not None:
                earned.setdefault((record.person_id, badge), (cause, record))
    if not earned:
        return outcome
    grants = {(g.person_id, g.badge_id): g for g in community.grants.all()}
    usernames = forum_usernames(community, sorted({p for p, _ in earned}))
    due: dict[str, list[CommunityGrant]] = defaultdict(list)
    for (person, badge), (cause, record) in earned.items():
        grant = grants.get((person, badge))
        if grant is not None and grant.state != CommunityGrant.State.SENDING:
            continue
        username = usernames.get(person)
        if username is None:
            outcome.counts["badges waiting for a forum account"] += 1
            continue
        if grant is None:  # written before the request: a retry sends it again, harmlessly
            grant = CommunityGrant.objects.create(
                community=community, person_id=person, badge_id=badge, cause=cause, record=record, username=username
            )
        due[badge].append(grant)
    for badge, batch in due.items():
        try:
            outcome.counts["requests"] += writer.grant_badge(badge_id=badge, usernames=[g.username for g in batch])
        except SourceRejected as exc:
            outcome.refused.append(f"badge {badge}: {exc}")
            continue
        CommunityGrant.objects.filter(pk__in=[g.pk for g in batch]).update(
            state=CommunityGrant.State.GRANTED, granted_at=timezone.now()
        )
        outcome.counts["badges granted"] += len(batch)
    return outcome
