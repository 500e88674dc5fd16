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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
from eduvault.kernel import bulk
from eduvault.kernel.errors import Conflict, InvalidInput, NotFound
from eduvault.kernel.priorities import PRIORITIES
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.feed.services import Entry, feed_append
from eduvault.pipeline.outbox.services import deliveries_enqueue
from eduvault.pipeline.records import routing
from eduvault.pipeline.records.models import Enrollment, ObjectLink, Record, RecordChange
from eduvault.pipeline.records.policies import current_policies

log = structlog.get_logger(__name__)

HUB = "eduvault"
#: Facts applied per transaction.
BATCH = 1000


@dataclass
class Statement:
    """One change to apply to one record, with everything it was resolved to."""

    kind: str
    key: str
    holder: str
    person_id: int | None
    identity_id: int | None
    course_id: int | None
    object: str
    home: str
    home_platform: str
    title: str
    replica: str
    platform: str
    fields: dict[str, Any]
    at: float
    actor: str = ""
    #: The replica reports our own write: an acknowledgement, not a change.
    echo: bool = False
    #: The replica's ids for the record (kept per replica, for writing back).
    links: dict[str, Any] = field(default_factory=dict)
    #: A change made here (Edu Vault's own): it has seen the record as it is.
    local: bool = False


@dataclass
class Applied:
    """What a batch did."""

    facts: int = 0
    records: int = 0
    applied: int = 0
    lost: int = 0
    stale: int = 0
    duplicate: int = 0
    echoes: int = 0
    conflicts: int = 0
    untracked: int = 0
    held: int = 0
    published: int = 0
    deliveries: int = 0
    record_ids: list[int] = field(default_factory=list)

    def add(self, other: Applied) -> None:
        for name in self.__dataclass_fields__:
            if name == "record_ids":
                self.record_ids.extend(other.record_ids)
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if k != "record_ids" and v}


def _time(at: float) -> datetime:
    return datetime.fromtimestamp(at, tz=UTC)


def _owner(policies: Policies, record: Record):  # type: ignore[no-untyped-def]
    def owner(field_name: str) -> frozenset[str]:
        return policies.owners(record.kind, field_name, home=record.home_platform)

    return owner


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


def _ingest_batch(source: Source, facts: Sequence[RecordFacts], *, manual: bool) -> Applied:
    policies = current_policies()
    for fact in facts:
        if fact.kind not in KINDS:
            raise InvalidInput(f"unknown kind of record {fact.kind!r}")
    courses = {c.key: c for c in Course.objects.filter(source=source, key__in={f.course_key for f in facts})}
    tracked = [f for f in facts if f.course_key in courses]
    skipped = len(facts) - len(tracked)
    accounts: dict[str, Account] = {}
    for fact in tracked:
        p = fact.person
        accounts[p.external_id] = Account(
            external_id=p.external_id,
            login=p.login,
            sis_id=p.sis_id,
            email=p.email,
            email_verified=p.email_verified,
            name=p.name,
        )
    identities = identities_observe(
        platform=source.platform,
        realm=source.name,
        accounts=accounts.values(),
        rules=policies.match,
        create_people=source.setting("create_people") == "true",
        actor=source.name,
    )
    aliases = {
        link.alias: link
        for link in ObjectLink.objects.filter(
            replica=source.name, alias__in={f"{f.course_key}/{f.object}" for f in tracked}
        ).select_related("course")
    }
    statements = []
    held = 0
    for fact in tracked:
        identity = identities[fact.person.external_id]
        if identity.person_id is None:
            held += 1
        holder = f"p{identity.person_id}" if identity.person_id else f"i{identity.pk}"
        course = courses[fact.course_key]
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
            course_id, obj, home, key = course.pk, fact.object, source.name, f"{course.key}/{fact.object}"
            home_platform = source.platform
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
    applied = _apply(statements, policies=policies, manual=manual)
    applied.facts, applied.untracked, applied.held = len(facts), skipped, held
    return applied


# -- from Edu Vault itself -----------------------------------------------------------------------


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
    """A change Edu Vault makes to a record of its own (an assessment's grade, a mastery):
    it has seen the record as it is, so it supersedes what came before. Call it inside the
    transaction that makes the change."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind of record {kind!r}")
    key = f"{course.key if course else ''}/{object}"
    statement = Statement(
        kind=kind,
        key=key,
        holder=f"p{person.pk}",
        person_id=person.pk,
        identity_id=None,
        course_id=course.pk if course else None,
        object=object,
        home=HUB,
        home_platform=HUB,
        title=title,
        replica=HUB,
        platform=HUB,
        fields=dict(fields),
        at=time.time() if at is None else at,
        actor=actor,
        local=True,
    )
    with transaction.atomic():
        return _apply([statement], policies=current_policies(), manual=manual)


def record_take(*, record_id: int, replica: str, actor: str) -> Applied:
    """An operator takes one writer's side in a record's open conflicts: every conflicting
    field is settled to what that replica wrote (a grade's score and maximum together)."""
    with transaction.atomic():
        record = Record.objects.select_for_update().filter(pk=record_id).first()
        if record is None:
            raise NotFound(f"no record {record_id}")
        policies = current_policies()
        state = RecordState.from_json(record.frontier, owner=_owner(policies, record))
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
        applied = _apply([statement], policies=current_policies(), manual=True)
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


# -- the one way in ------------------------------------------------------------------------------


def _lock_records(statements: Sequence[Statement]) -> dict[tuple[str, str, str], Record]:
    wanted = {(s.kind, s.key, s.holder): s for s in statements}

    def load() -> dict[tuple[str, str, str], Record]:
        keys = {k for _, k, _ in wanted}
        holders = {h for _, _, h in wanted}
        rows = Record.objects.select_for_update().filter(key__in=keys, holder__in=holders, merged_into=None)
        return {(r.kind, r.key, r.holder): r for r in rows if (r.kind, r.key, r.holder) in wanted}

    found = load()
    missing = [s for k, s in wanted.items() if k not in found]
    if missing:
        Record.objects.bulk_create(
            [
                Record(
                    kind=s.kind,
                    key=s.key,
                    holder=s.holder,
                    person_id=s.person_id,
                    identity_id=s.identity_id,
                    course_id=s.course_id,
                    object=s.object,
                    home=s.home,
                    home_platform=s.home_platform,
                    title=s.title,
                )
                for s in missing
            ],
            ignore_conflicts=True,
        )
        found = load()
    return found


def _apply(statements: Sequence[Statement], *, policies: Policies, manual: bool) -> Applied:
    """Merge statements into their records, audit, publish and route; inside a transaction."""
    result = Applied()
    if not statements:
        return result
    records = _lock_records(statements)
    links_by_key = _object_links({r.key for r in records.values() if r.home == HUB})
    states: dict[int, RecordState] = {}
    new: set[int] = {r.pk for r in records.values() if r.version == 0}
    touched: dict[int, Record] = {}
    audit: list[dict[str, Any]] = []
    entries: list[tuple[Record, Entry, list[int]]] = []  # the entry, and its audit rows
    origins: dict[int, set[str]] = {}
    now = timezone.now()
    for s in statements:
        record = records[(s.kind, s.key, s.holder)]
        owner = _owner(policies, record)
        state = states.get(record.pk)
        if state is None:
            state = states[record.pk] = RecordState.from_json(record.frontier, owner=owner)
        replica = record.replicas.setdefault(s.replica, {}) if s.replica != HUB else {}
        if s.links:
            replica["links"] = {**replica.get("links", {}), **s.links}
        for link in links_by_key.get(record.key, []):  # where our object's records also go
            linked = record.replicas.setdefault(link.replica, {})
            linked["links"] = {**link.links, **linked.get("links", {})}
        touched[record.pk] = record
        if s.echo:
            replica["acks"] = merging.acknowledge(replica.get("acks", []), at=s.at, vector=state.vector)
            if s.at >= replica.get("at", 0.0):
                replica["fields"], replica["at"] = {**replica.get("fields", {}), **s.fields}, s.at
            result.echoes += 1
            continue
        if s.local:
            change = merging.local_change(state, fields=s.fields, replica=HUB, at=s.at, actor=s.actor)
        else:
            change = merging.platform_change(
                replica=s.replica,
                platform=s.platform,
                acks=replica.get("acks", []),
                fields=s.fields,
                at=s.at,
                actor=s.actor,
            )
        merged = merging.merge(state, change, owner=owner)
        states[record.pk] = merged.state
        if s.replica != HUB and s.at >= replica.get("at", 0.0):
            # What the replica holds: its latest report (an older one arriving late says
            # nothing about now).
            replica["fields"], replica["at"] = {**replica.get("fields", {}), **s.fields}, s.at
        rows = []
        for outcome in merged.outcomes:
            setattr(result, outcome.outcome, getattr(result, outcome.outcome) + 1)
            if outcome.outcome == "duplicate" or (
                outcome.outcome == "stale"
                and (outcome.value == outcome.after or _told_before(record, outcome.field, s, audit))
            ):
                continue  # stored once: a repeat (or an old report of what we hold) adds nothing
            result.conflicts += int(outcome.conflict and outcome.outcome in ("applied", "lost"))
            rows.append(len(audit))
            audit.append(
                {
                    "record": record.pk,
                    "field": outcome.field,
                    "before": outcome.before,
                    "after": outcome.after,
                    "value": outcome.value,
                    "outcome": outcome.outcome,
                    "conflict": outcome.conflict,
                    "replica": s.replica,
                    "platform": s.platform,
                    "actor": s.actor[:200],
                    "vector": dict(change.vector),
                    "source_time": _time(s.at).isoformat(),
                    "cursor": None,
                    "created_at": now.isoformat(),
                }
            )
        changed = merged.changed
        if changed:
            record.version += 1
            record.source_time = _time(s.at)
            origins.setdefault(record.pk, set()).add(s.replica)
            entries.append(
                (
                    record,
                    Entry(
                        kind=record.kind,
                        op="create" if record.pk in new else "update",
                        external_id=f"record:{record.pk}",
                        before={"fields": {k: b for k, (b, _) in changed.items()}},
                        after={
                            "fields": dict(merged.state.fields),
                            "changed": sorted(changed),
                            "record": _describe(record),
                            "from": s.replica,
                            "conflict": any(o.conflict for o in merged.outcomes if o.field in changed),
                        },
                    ),
                    rows,
                )
            )
            new.discard(record.pk)
    for pk, state in states.items():
        record = touched[pk]
        record.fields, record.frontier, record.vector = state.fields, state.to_json(), state.vector
        record.conflicts = len(state.conflicts())
    _publish(entries, audit, policies, result)
    if audit:
        bulk.insert_rows(RecordChange, audit)
    _save(touched.values(), now)
    _project_enrollments([touched[pk] for pk in states if touched[pk].kind == "enrollment"])
    result.deliveries = _route(touched, origins, policies, manual=manual)
    result.records = len(touched)
    result.record_ids = sorted(touched)
    return result


def _told_before(record: Record, field_name: str, s: Statement, audit: list[dict[str, Any]]) -> bool:
    """This replica's report of this field at this time is in the history already (a late
    repeat: a reconcile reading an old state again, a redelivered event)."""
    when = _time(s.at)
    if any(
        row["record"] == record.pk
        and row["field"] == field_name
        and row["replica"] == s.replica
        and row["source_time"] == when.isoformat()
        for row in audit
    ):
        return True
    return RecordChange.objects.filter(
        record=record, field=field_name, replica=s.replica, source_time=when
    ).exists()


def _describe(record: Record) -> dict[str, Any]:
    return {
        "id": record.pk,
        "kind": record.kind,
        "key": record.key,
        "object": record.object,
        "person": record.person_id,
        "holder": record.holder,
        "home": record.home,
    }


def _object_links(keys: Iterable[str]) -> dict[str, list[ObjectLink]]:
    out: dict[str, list[ObjectLink]] = {}
    keys = list(keys)
    if keys:
        for link in ObjectLink.objects.filter(key__in=keys):
            out.setdefault(link.key, []).append(link)
    return out


def _publish(
    entries: list[tuple[Record, Entry, list[int]]],
    audit: list[dict[str, Any]],
    policies: Policies,
    result: Applied,
) -> None:
    """One feed entry per record change, grouped by course and priority class (one statement
    each); the audit rows of a change name its entry's cursor."""
    groups: dict[tuple[int | None, str], list[tuple[Entry, list[int]]]] = {}
    for record, entry, rows in entries:
        groups.setdefault((record.course_id, policies.priority(record.kind)), []).append((entry, rows))
    for (course_id, priority), items in sorted(
        groups.items(), key=lambda g: (PRIORITIES.index(g[0][1]), g[0][0] or 0)
    ):
        first = feed_append(entries=[e for e, _ in items], course_id=course_id, priority=priority)
        for offset, (_, rows) in enumerate(items):
            for row in rows:
                audit[row]["cursor"] = first + offset
        result.published += len(items)


def _save(records: Iterable[Record], now: datetime) -> None:
    rows = [
        {
            "id": r.pk,
            "fields": r.fields,
            "frontier": r.frontier,
            "vector": r.vector,
            "replicas": r.replicas,
            "conflicts": r.conflicts,
            "version": r.version,
            "source_time": r.source_time.isoformat() if r.source_time else None,
            "title": r.title,
            "updated_at": now.isoformat(),
        }
        for r in records
    ]
    bulk.update_rows(Record, rows)


def _project_enrollments(records: Sequence[Record]) -> None:
    """Keep the typed enrollment rows in step with enrollment records (of known people)."""
    for record in records:
        if record.person_id is None or record.course_id is None:
            continue
        role = record.fields.get("role") or "learner"
        state = record.fields.get("state") or "active"
        Enrollment.objects.update_or_create(
            record=record,
            defaults={
                "person_id": record.person_id,
                "course_id": record.course_id,
                "role": role,
                "state": state,
            },
        )


def _route(
    touched: Mapping[int, Record], origins: Mapping[int, set[str]], policies: Policies, *, manual: bool
) -> int:
    """The deliveries the changed records owe the platforms that hold them."""
    changed = [touched[pk] for pk in origins]
    if not changed:
        return 0
    names = {n for r in changed for n in r.replicas} | {r.home for r in changed}
    sources = routing.sources_named(names)
    by_due: dict[datetime, list[Any]] = {}
    now = timezone.now()
    for record in changed:
        priority = policies.priority(record.kind)
        for target in routing.targets(record, origin="", sources=sources):
            due = routing.due_at(priority, now=now, manual=manual)
            outgoing = routing.outgoing(
                record, target=target, priority=priority, platform=sources[target].platform
            )
            by_due.setdefault(due, []).append(outgoing)
    for due, outgoing in by_due.items():
        deliveries_enqueue(deliveries=outgoing, at=due)
    return sum(len(v) for v in by_due.values())


def records_route(*, key: str, manual: bool = True) -> int:
    """Send the records of one object (``<course key>/<object>``) to every platform that
    should hold them now (an object just linked to a platform's): returns the deliveries."""
    policies = current_policies()
    with transaction.atomic():
        records = list(Record.objects.select_for_update().filter(key=key, merged_into=None))
        links = _object_links([key]).get(key, [])
        for record in records:
            for link in links:
                linked = record.replicas.setdefault(link.replica, {})
                linked["links"] = {**link.links, **linked.get("links", {})}
        _save(records, timezone.now())
        return _route({r.pk: r for r in records}, {r.pk: set() for r in records}, policies, manual=manual)


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
        _project_enrollments(list(Record.objects.filter(pk__in=moved, kind="enrollment")))
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
            _project_enrollments([record])
        return 1
    owner = _owner(policies, existing)
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
