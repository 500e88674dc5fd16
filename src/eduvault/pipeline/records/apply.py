"""Applying changes to learner records: the one way in, for every service that changes a
record (a platform's reports, Edu Vault's own changes, an operator's settlement).

One transaction per batch: the records it touches are locked (``SELECT … FOR UPDATE``;
SQLite's write lock), each change is merged field by field (version vectors, then the
policy: :mod:`eduvault.cores.records.merge`), every field a change stated is audited, every
record change that changed a value is one feed entry, and the deliveries it owes the
platforms that hold the record are written, all in that transaction.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import reduce
from typing import Any

from django.db.models import Q
from django.utils import timezone

from eduvault.cores.records import merge as merging
from eduvault.cores.records.merge import RecordState
from eduvault.cores.records.policy import Policies
from eduvault.kernel import bulk
from eduvault.kernel.registry import Registry
from eduvault.kernel.priorities import PRIORITIES
from eduvault.pipeline.feed.services import Entry, feed_append
from eduvault.pipeline.outbox.services import deliveries_enqueue
from eduvault.pipeline.records import routing
from eduvault.pipeline.records.models import Enrollment, ObjectLink, Record, RecordChange

HUB = "eduvault"

#: What else follows record changes (a course's community grants badges for completions):
#: ``watcher(changed records, manual) -> deliveries written``, called in the transaction
#: that changed them. Registered by the apps above this one.
RecordWatcher = Callable[[list[Record], bool], int | None]
watchers: Registry[RecordWatcher] = Registry("record watcher")


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


def owner_for(policies: Policies, record: Record):  # type: ignore[no-untyped-def]
    def owner(field_name: str) -> frozenset[str]:
        return policies.owners(record.kind, field_name, home=record.home_platform)

    return owner


# -- the one way in ------------------------------------------------------------------------------


#: Conditions OR-ed in one query (SQLite parses an OR chain as a tree no deeper than 1,000).
_TERMS_A_QUERY = 100


def _pairs_matching(wanted: Iterable[tuple[str, str, str]]) -> Iterator[Q]:
    """Conditions that select exactly the (key, holder) pairs wanted, not their cross
    product (a batch's 50 assignments and 1,000 learners are 1,000 records, not 50,000): one
    ``key = … AND holder IN (…)`` term per key, or per holder where there are fewer of those,
    at most ``_TERMS_A_QUERY`` terms a query."""
    by_key: dict[str, set[str]] = defaultdict(set)
    by_holder: dict[str, set[str]] = defaultdict(set)
    for _, key, holder in wanted:
        by_key[key].add(holder)
        by_holder[holder].add(key)
    if len(by_key) <= len(by_holder):
        terms = [Q(key=key, holder__in=sorted(holders)) for key, holders in by_key.items()]
    else:
        terms = [Q(holder=holder, key__in=sorted(keys)) for holder, keys in by_holder.items()]
    for start in range(0, len(terms), _TERMS_A_QUERY):
        yield reduce(operator.or_, terms[start : start + _TERMS_A_QUERY])


def _lock_records(statements: Sequence[Statement]) -> dict[tuple[str, str, str], Record]:
    wanted = {(s.kind, s.key, s.holder): s for s in statements}

    def load() -> dict[tuple[str, str, str], Record]:
        found: dict[tuple[str, str, str], Record] = {}
        for pairs in _pairs_matching(wanted):
            for r in Record.objects.select_for_update().filter(pairs, merged_into=None).order_by("pk"):
                if (r.kind, r.key, r.holder) in wanted:
                    found[(r.kind, r.key, r.holder)] = r
        return found

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


def apply_statements(statements: Sequence[Statement], *, policies: Policies, manual: bool) -> Applied:
    """Merge statements into their records, audit, publish and route; inside a transaction."""
    result = Applied()
    if not statements:
        return result
    records = _lock_records(statements)
    links_by_key = object_links_of({r.key for r in records.values() if r.home == HUB})
    states: dict[int, RecordState] = {}
    new: set[int] = {r.pk for r in records.values() if r.version == 0}
    touched: dict[int, Record] = {}
    audit: list[dict[str, Any]] = []
    entries: list[tuple[Record, Entry, list[int]]] = []  # the entry, and its audit rows
    origins: dict[int, set[str]] = {}
    now = timezone.now()
    for s in statements:
        record = records[(s.kind, s.key, s.holder)]
        owner = owner_for(policies, record)
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
    save_records(touched.values(), now)
    project_enrollments([touched[pk] for pk in states if touched[pk].kind == "enrollment"])
    result.deliveries = route_changed(touched, origins, policies, manual=manual)
    changed_records = [touched[pk] for pk in origins]
    for _name, watcher in watchers.items():
        result.deliveries += watcher(changed_records, manual) or 0
    # Last: the feed's cursors are taken under a lock every publishing transaction waits on
    # until this one commits (see ``feed_reserve``), so nothing else is done while holding it.
    _publish(entries, audit, policies, result)
    if audit:
        bulk.insert_rows(RecordChange, audit)
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


def object_links_of(keys: Iterable[str]) -> dict[str, list[ObjectLink]]:
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


def save_records(records: Iterable[Record], now: datetime) -> None:
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


def project_enrollments(records: Sequence[Record]) -> None:
    """Keep the typed enrollment rows in step with enrollment records (of known people): one
    statement (an upsert by record) whatever their number."""
    now = timezone.now()
    rows = [
        Enrollment(
            record=record,
            person_id=record.person_id,
            course_id=record.course_id,
            role=record.fields.get("role") or "learner",
            state=record.fields.get("state") or "active",
            updated_at=now,
        )
        for record in records
        if record.person_id is not None and record.course_id is not None
    ]
    if rows:
        Enrollment.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["record"],
            update_fields=["person", "course", "role", "state", "updated_at"],
        )


def route_changed(
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
