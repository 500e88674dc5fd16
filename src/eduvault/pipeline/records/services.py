"""Applying learner-record changes: from platforms (events, reads) and from Edu Vault itself
(assessment grades, masteries, operators' overrides), in batches.

One transaction per batch: the records it touches are locked (``SELECT … FOR UPDATE``;
SQLite's write lock), each change is merged field by field (version vectors, then the
policy: :mod:`eduvault.cores.records.merge`), every field a change stated is audited, every
record change that changed a value is one feed entry, and the deliveries it owes the
platforms that hold the record are written, all in that transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from eduvault.cores.records import merge as merging
from eduvault.cores.records.merge import RecordState
from eduvault.cores.records.policy import KINDS, Policies
from eduvault.identity.models import Identity, Person
from eduvault.identity.people import Account, identities_observe
from eduvault.integrations.base import RecordFacts
from eduvault.integrations.models import Source
from eduvault.kernel.errors import Conflict, InvalidInput, NotFound
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.records.apply import (
    HUB,
    Applied,
    Statement,
    apply_statements,
    object_links_of,
    owner_for,
    project_enrollments,
    route_changed,
    save_records,
)
from eduvault.pipeline.records.models import Enrollment, ObjectLink, Record
from eduvault.pipeline.records.policies import current_policies

log = structlog.get_logger(__name__)

#: Facts applied per transaction.
BATCH = 1000
#: The object of a link that makes a place on a platform a course's (a forum category).
COURSE_OBJECT = "course"


# -- from platforms ------------------------------------------------------------------------------


def records_ingest(*, source: Source, facts: Sequence[RecordFacts], manual: bool = False) -> Applied:
    """Apply learner records a platform reported (events, or a reconcile's reads), in batches."""
    total = Applied()
    started = time.perf_counter()
    for i in range(0, len(facts), BATCH):
        with transaction.atomic():
            total.add(_ingest_batch(source, facts[i : i + BATCH], manual=manual))
    log.info(
        "records.ingested",
        source=source.name,
        duration_ms=int((time.perf_counter() - started) * 1000),
        **total.counts(),
    )
    return total


def account_of(facts: PersonFacts) -> Account:
    """An account as a platform stated it, for matching to people."""
    return Account(
        external_id=facts.external_id,
        login=facts.login,
        sis_id=facts.sis_id,
        email=facts.email,
        email_verified=facts.email_verified,
        name=facts.name,
        vouched=facts.vouched,
    )


#: Kinds of record that belong to a person, not to a course.
PERSONAL = frozenset({"profile", "badge"})


def _courses_of(source: Source, keys: set[str]) -> dict[str, Course]:
    """The courses facts name: the source's own, and places on it linked to a course (a
    forum category that is a course's community)."""
    courses = {c.key: c for c in Course.objects.filter(source=source, key__in=keys - {""})}
    missing = keys - set(courses) - {""}
    if missing:
        for link in ObjectLink.objects.filter(
            replica=source.name, alias__in=missing, object=COURSE_OBJECT
        ).select_related("course"):
            if link.course is not None:
                courses[link.alias] = link.course
    return courses


def _ingest_batch(source: Source, facts: Sequence[RecordFacts], *, manual: bool) -> Applied:
    policies = current_policies()
    for fact in facts:
        if fact.kind not in KINDS:
            raise InvalidInput(f"unknown kind of record {fact.kind!r}")
    courses = _courses_of(source, {f.course_key for f in facts})
    tracked = [f for f in facts if f.course_key in courses or (not f.course_key and f.kind in PERSONAL)]
    skipped = len(facts) - len(tracked)
    accounts: dict[str, Account] = {}
    for fact in tracked:
        p = fact.person
        accounts[p.external_id] = account_of(p)
    identities = identities_observe(
        platform=source.platform,
        realm=source.name,
        accounts=accounts.values(),
        rules=policies.match_for(source.platform),
        create_people=source.setting("create_people") == "true",
        actor=source.name,
    )
    aliases = {
        link.alias: link
        for link in ObjectLink.objects.filter(
            replica=source.name,
            alias__in={f"{f.course_key}/{f.object}" for f in tracked}
            | {f"{f.course_key}/{f.about}" for f in tracked if f.about},
        ).select_related("course")
    }
    statements = []
    held = 0
    for fact in tracked:
        identity = identities[fact.person.external_id]
        if identity.person_id is None:
            held += 1
        holder = f"p{identity.person_id}" if identity.person_id else f"i{identity.pk}"
        course = courses.get(fact.course_key)
        link = aliases.get(f"{fact.course_key}/{fact.object}")
        fields, links = dict(fact.fields), {**fact.links, "user_id": fact.person.external_id}
        if link is not None:  # the platform's object stands for another's: that one's record
            # A grade keeps its own score and maximum (the same credit on another scale is
            # worked out when it is written: schema mappings are the connector's); its text
            # belongs to the platform's scale.
            fields = {k: v for k, v in fields.items() if k != "grade"}
            course_id, obj, home = link.course_id, link.object, link.home
            key = link.key
            home_platform = HUB if home == HUB else source.platform
        else:
            obj, home, home_platform = fact.object, source.name, source.platform
            course_id, key = (course.pk, f"{course.key}/{fact.object}") if course else (None, f"/{fact.object}")
            if fact.about:  # what it is about, in Edu Vault's terms where it is linked
                about = aliases.get(f"{fact.course_key}/{fact.about}")
                obj = about.object if about is not None else fact.about
        statements.append(
            Statement(
                kind=fact.kind,
                key=key,
                holder=holder,
                person_id=identity.person_id,
                identity_id=identity.pk,
                course_id=course_id,
                object=obj,
                home=home,
                home_platform=home_platform,
                title=fact.title,
                replica=source.name,
                platform=source.platform,
                fields=fields,
                at=fact.at,
                actor=fact.actor,
                echo=fact.echo,
                links=links,
            )
        )
    applied = apply_statements(statements, policies=policies, manual=manual)
    applied.facts, applied.untracked, applied.held = len(facts), skipped, held
    return applied


# -- from Edu Vault itself -----------------------------------------------------------------------


@dataclass(frozen=True)
class LocalChange:
    """A change Edu Vault makes to a record of its own (an assessment's grade, a mastery)."""

    kind: str
    course: Course | None
    object: str
    person: Person
    fields: Mapping[str, Any]
    title: str = ""
    actor: str = ""
    at: float | None = None

    def statement(self) -> Statement:
        course = self.course
        return Statement(
            kind=self.kind,
            key=f"{course.key if course else ''}/{self.object}",
            holder=f"p{self.person.pk}",
            person_id=self.person.pk,
            identity_id=None,
            course_id=course.pk if course else None,
            object=self.object,
            home=HUB,
            home_platform=HUB,
            title=self.title,
            replica=HUB,
            platform=HUB,
            fields=dict(self.fields),
            at=time.time() if self.at is None else self.at,
            actor=self.actor,
            local=True,
        )


def record_local_changes(*, changes: Sequence[LocalChange], manual: bool = False) -> Applied:
    """Changes Edu Vault makes to records of its own (a submission's grade and the masteries
    it settles), applied together: it has seen each record as it is, so each supersedes what
    came before. One batch (the records locked at once, one feed statement per course and
    priority class); call it inside the transaction that makes the changes. It takes no
    savepoint of its own (one round trip less under the feed's lock): if it fails, the
    caller's transaction is to be rolled back, as it is when the error goes up through it."""
    for change in changes:
        if change.kind not in KINDS:
            raise InvalidInput(f"unknown kind of record {change.kind!r}")
    if not changes:
        return Applied()
    with transaction.atomic(savepoint=False):
        return apply_statements([c.statement() for c in changes], policies=current_policies(), manual=manual)


def record_local_change(
    *,
    kind: str,
    course: Course | None,
    object: str,
    person: Person,
    fields: Mapping[str, Any],
    title: str = "",
    actor: str = "",
    manual: bool = False,
    at: float | None = None,
) -> Applied:
    """One change Edu Vault makes to a record of its own (see :func:`record_local_changes`)."""
    change = LocalChange(
        kind=kind, course=course, object=object, person=person, fields=fields, title=title, actor=actor, at=at
    )
    return record_local_changes(changes=[change], manual=manual)


def record_take(*, record_id: int, replica: str, actor: str) -> Applied:
    """An operator takes one writer's side in a record's open conflicts: every conflicting
    field is settled to what that replica wrote (a grade's score and maximum together)."""
    with transaction.atomic():
        record = Record.objects.select_for_update().filter(pk=record_id).first()
        if record is None:
            raise NotFound(f"no record {record_id}")
        policies = current_policies()
        state = RecordState.from_json(record.frontier, owner=owner_for(policies, record))
        values = {
            name: next(w.value for w in writes if w.replica == replica)
            for name, writes in state.conflicts().items()
            if any(w.replica == replica for w in writes)
        }
        if not values:
            raise Conflict(
                f"record {record_id} has no open conflict with a write of {replica!r}; nothing was changed"
            )
        applied = record_settle(record_id=record_id, values=values, actor=actor)
    log.info("records.taken", record=record_id, replica=replica, fields=sorted(values), actor=actor)
    return applied


def record_settle(
    *,
    record_id: int,
    actor: str,
    field_name: str | None = None,
    value: Any = None,
    values: Mapping[str, Any] | None = None,
) -> Applied:
    """An operator settles a field (a conflict's one-click override, or keeping the winner):
    the value supersedes every write there is, and goes to every platform that holds it."""
    settled = dict(values or {})
    if field_name is not None:
        settled[field_name] = value
    if not settled:
        raise InvalidInput("settle at least one field")
    with transaction.atomic():
        record = Record.objects.select_for_update().filter(pk=record_id).first()
        if record is None:
            raise NotFound(f"no record {record_id}")
        for name, new_value in settled.items():
            if name not in record.frontier:
                raise InvalidInput(f"record {record_id} has no field {name!r}")
            _check_settle(record, name, new_value)
        statement = Statement(
            kind=record.kind,
            key=record.key,
            holder=record.holder,
            person_id=record.person_id,
            identity_id=record.identity_id,
            course_id=record.course_id,
            object=record.object,
            home=record.home,
            home_platform=record.home_platform,
            title=record.title,
            replica=HUB,
            platform=HUB,
            fields=settled,
            at=time.time(),
            actor=actor,
            local=True,
        )
        applied = apply_statements([statement], policies=current_policies(), manual=True)
    log.info("records.settled", record=record_id, fields=sorted(settled), actor=actor)
    return applied


def _check_settle(record: Record, field_name: str, value: Any) -> None:
    """What the typed enrollment rows need of an enrollment record's fields: its role is what
    it is about (another role is another record), and its state one of the states."""
    if record.kind != "enrollment":
        return
    if field_name == "role":
        raise InvalidInput(
            f"record {record.pk} is the enrollment as {record.fields.get('role')!r}: its role is what it "
            "is about and cannot be settled (enroll the person in the other role instead)"
        )
    if field_name == "state" and value not in Enrollment.State.values:
        raise InvalidInput(
            f"value: an enrollment's state is one of {', '.join(Enrollment.State.values)}, not {value!r}"
        )


def records_route(*, key: str, manual: bool = True) -> int:
    """Send the records of one object (``<course key>/<object>``) to every platform that
    should hold them now (an object just linked to a platform's): returns the deliveries."""
    policies = current_policies()
    with transaction.atomic():
        records = list(Record.objects.select_for_update().filter(key=key, merged_into=None))
        links = object_links_of([key]).get(key, [])
        for record in records:
            for link in links:
                linked = record.replicas.setdefault(link.replica, {})
                linked["links"] = {**link.links, **linked.get("links", {})}
        save_records(records, timezone.now())
        return route_changed(
            {r.pk: r for r in records}, {r.pk: set() for r in records}, policies, manual=manual
        )


# -- people found, linked, merged ----------------------------------------------------------------


def records_rehome(*, identity: Identity) -> int:
    """An identity was linked to a person: the records that came through it while it was
    held become the person's (combined with the person's own record of the same object,
    if there is one). Returns how many records moved."""
    if identity.person_id is None:
        return 0
    moved = 0
    policies = current_policies()
    with transaction.atomic():
        for record in Record.objects.select_for_update().filter(holder=f"i{identity.pk}", merged_into=None):
            moved += _move(record, person_id=identity.person_id, policies=policies)
    return moved


def records_merge_people(*, into: Person, other: Person) -> dict[str, list[int]]:
    """Two people are one: ``other``'s records become ``into``'s. Returns the records moved
    as they are, and those combined with ``into``'s record of the same object (kept, marked
    combined), for undoing the merge."""
    moved: list[int] = []
    combined: list[int] = []
    policies = current_policies()
    with transaction.atomic():
        for record in Record.objects.select_for_update().filter(holder=f"p{other.pk}", merged_into=None):
            (moved if _move(record, person_id=into.pk, policies=policies) == 1 else combined).append(
                record.pk
            )
    return {"records_moved": moved, "records_combined": combined}


def records_unmerge_people(*, into: Person, other: Person, moved: list[int], combined: list[int]) -> int:
    """Undo :func:`records_merge_people`: the records moved go back to ``other``, those
    combined are ``other``'s again (the combined record keeps what it received)."""
    with transaction.atomic():
        back = Record.objects.filter(pk__in=moved, holder=f"p{into.pk}").update(
            holder=f"p{other.pk}", person_id=other.pk
        )
        back += Record.objects.filter(pk__in=combined).update(merged_into=None)
        project_enrollments(list(Record.objects.filter(pk__in=moved, kind="enrollment")))
    return back


def _move(record: Record, *, person_id: int, policies: Policies) -> int:
    """1: moved as it is; 2: combined with the person's own record of the object."""
    holder = f"p{person_id}"
    existing = (
        Record.objects.select_for_update()
        .filter(kind=record.kind, key=record.key, holder=holder, merged_into=None)
        .first()
    )
    if existing is None:
        Record.objects.filter(pk=record.pk).update(holder=holder, person_id=person_id)
        if record.kind == "enrollment":
            record.holder, record.person_id = holder, person_id
            project_enrollments([record])
        return 1
    owner = owner_for(policies, existing)
    combined = merging.combine(
        RecordState.from_json(existing.frontier, owner=owner),
        RecordState.from_json(record.frontier, owner=owner),
        owner=owner,
    )
    replicas = {**record.replicas, **existing.replicas}
    Record.objects.filter(pk=existing.pk).update(
        fields=combined.fields,
        frontier=combined.to_json(),
        vector=combined.vector,
        replicas=replicas,
        conflicts=len(combined.conflicts()),
        version=existing.version + 1,
    )
    Record.objects.filter(pk=record.pk).update(merged_into=existing)
    return 2


#: What a person may edit of their own profile (a platform's profile carries more).
PROFILE_FIELDS = ("name", "bio")


def profile_edit(*, person: Person, fields: Mapping[str, Any], actor: str) -> Record:
    """A person edits their own profile (here, or on a school device whose edits arrive
    later): a record of the hub, so each field follows its policy and what loses is kept."""
    unknown = sorted(set(fields) - set(PROFILE_FIELDS))
    if unknown or not fields:
        raise InvalidInput(f"a profile edit sets {' and/or '.join(PROFILE_FIELDS)}" + (f", not {unknown[0]!r}" if unknown else ""))
    for name, value in fields.items():
        if not isinstance(value, str) or len(value) > (200 if name == "name" else 2000) or "\x00" in value:
            raise InvalidInput(f"{name}: text of at most {200 if name == 'name' else 2000} characters")
    record_local_change(
        kind="profile", course=None, object="profile", person=person, fields=dict(fields), title="profile", actor=actor
    )
    return Record.objects.get(kind="profile", key="/profile", holder=f"p{person.pk}")


def device_profile_edits(*, edits: Sequence[tuple[str, str, Any, Any]], replica: str) -> Applied:
    """Profile edits a device made offline, ``(username, field, value, when)`` each, as the
    device's changes (platform ``device``): each field settles by its policy, later changes
    of the owner win, and what loses stays in the record's history. Inside a transaction."""
    from django.contrib.auth import get_user_model

    from eduvault.identity.people import person_for_user

    users = {u.username: u for u in get_user_model().objects.filter(username__in={e[0] for e in edits})}
    statements = []
    for username, field_name, value, at in edits:
        if username not in users:
            raise InvalidInput(f"a profile edit of {username!r}, who is not here")
        person = person_for_user(user=users[username])
        statements.append(
            Statement(
                kind="profile",
                key="/profile",
                holder=f"p{person.pk}",
                person_id=person.pk,
                identity_id=None,
                course_id=None,
                object="profile",
                home=HUB,
                home_platform=HUB,
                title="profile",
                replica=replica,
                platform="device",
                fields={field_name: value},
                at=at.timestamp() if at is not None else time.time(),
                actor=username,
            )
        )
    return apply_statements(statements, policies=current_policies(), manual=False)
