"""Reading learner records, people and their identities, enrollments and the policies: what
the API, the console and the command line show (one shape for all three)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from eduvault.cores.records.merge import RecordState
from eduvault.cores.records.policy import KINDS
from eduvault.identity.models import Identity, IdentityEvent, Person
from eduvault.kernel.errors import NotFound
from eduvault.kernel.validation import one_of
from eduvault.pipeline.records.models import Enrollment, ObjectLink, Record, RecordChange
from eduvault.pipeline.records.policies import current_policies, policies_path


class RecordNotFound(NotFound):
    """No such learner record."""


class PersonMissing(NotFound):
    """No such person."""


# -- records -------------------------------------------------------------------------------------


def record_list(
    *,
    kind: str | None = None,
    course: str | None = None,
    person: int | None = None,
    conflicts: bool = False,
    held: bool = False,
) -> QuerySet[Record]:
    """Records, most recently changed first (combined ones left out)."""
    rows = (
        Record.objects.filter(merged_into=None)
        .select_related("course", "person")
        .order_by("-updated_at", "-id")
    )
    kind = one_of(kind, "kind", list(KINDS))
    if kind:
        rows = rows.filter(kind=kind)
    if course:
        rows = rows.filter(course__key=course)
    if person is not None:
        rows = rows.filter(person_id=person)
    if conflicts:
        rows = rows.filter(conflicts__gt=0)
    if held:
        rows = rows.filter(person__isnull=True)
    return rows


def record_get(*, record_id: int) -> Record:
    try:
        return Record.objects.select_related("course", "person", "identity").get(pk=record_id)
    except Record.DoesNotExist:
        raise RecordNotFound(f"there is no learner record {record_id}") from None


def record_data(record: Record) -> dict[str, Any]:
    return {
        "id": record.pk,
        "kind": record.kind,
        "key": record.key,
        "object": record.object,
        "title": record.title,
        "course": record.course.key if record.course_id else None,
        "person": record.person_id,
        "person_name": record.person.name if record.person_id else None,
        "held_identity": record.identity_id if record.person_id is None else None,
        "home": record.home,
        "fields": record.fields,
        "vector": record.vector,
        "version": record.version,
        "conflicts": record.conflicts,
        "replicas": {
            name: {"links": r.get("links", {}), "fields": r.get("fields", {}), "at": r.get("at")}
            for name, r in record.replicas.items()
        },
        "source_time": record.source_time,
        "updated_at": record.updated_at,
    }


def record_conflicts(record: Record) -> list[dict[str, Any]]:
    """The record's open conflicts: per field, the winning value and the losing ones."""
    policies = current_policies()

    def owner(name: str) -> frozenset[str]:
        return policies.owners(record.kind, name, home=record.home_platform)

    state = RecordState.from_json(record.frontier, owner=owner)
    out = []
    for name, writes in state.conflicts().items():
        winner, *losers = writes
        out.append(
            {
                "field": name,
                "value": winner.value,
                "owner": sorted(owner(name)),
                "winner": winner.to_json(),
                "losers": [w.to_json() for w in losers],
            }
        )
    return out


def record_history(*, record: Record, limit: int = 200) -> list[RecordChange]:
    return list(RecordChange.objects.filter(record=record).order_by("-id")[:limit])


def change_data(change: RecordChange) -> dict[str, Any]:
    return {
        "id": change.pk,
        "field": change.field,
        "before": change.before,
        "after": change.after,
        "value": change.value,
        "outcome": change.outcome,
        "conflict": change.conflict,
        "replica": change.replica,
        "platform": change.platform,
        "actor": change.actor,
        "vector": change.vector,
        "source_time": change.source_time,
        "cursor": change.cursor,
        "created_at": change.created_at,
    }


def records_summary() -> dict[str, Any]:
    """Counts for the console's overview: records by kind, open conflicts, held identities."""
    by_kind = dict(
        Record.objects.filter(merged_into=None)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    return {
        "by_kind": by_kind,
        "conflicts": Record.objects.filter(merged_into=None, conflicts__gt=0).count(),
        "held_identities": Identity.objects.filter(state=Identity.State.HELD).count(),
        "people": Person.objects.filter(merged_into=None).count(),
    }


# -- people and identities -----------------------------------------------------------------------


def people_list(*, search: str | None = None) -> QuerySet[Person]:
    rows = (
        Person.objects.filter(merged_into=None)
        .annotate(identity_count=Count("identities", distinct=True))
        .order_by("name", "id")
    )
    if search:
        rows = rows.filter(
            Q(name__icontains=search)
            | Q(sis_id=search)
            | Q(identities__login__iexact=search)
            | Q(user__username__iexact=search)
        ).distinct()
    return rows


def person_get(*, person_id: int) -> Person:
    try:
        return Person.objects.select_related("user").get(pk=person_id)
    except Person.DoesNotExist:
        raise PersonMissing(f"there is no person {person_id}") from None


def person_data(person: Person) -> dict[str, Any]:
    return {
        "id": person.pk,
        "name": person.name,
        "email": person.email,
        "sis_id": person.sis_id,
        "username": person.user.get_username() if person.user_id else None,
        "merged_into": person.merged_into_id,
        "identities": [identity_data(i) for i in person.identities.order_by("platform", "realm")],
    }


def identity_list(
    *, state: str | None = None, platform: str | None = None, realm: str | None = None
) -> QuerySet[Identity]:
    rows = Identity.objects.select_related("person").order_by("-updated_at", "-id")
    state = one_of(state, "state", Identity.State.values)
    if state:
        rows = rows.filter(state=state)
    if platform:
        rows = rows.filter(platform=platform)
    if realm:
        rows = rows.filter(realm=realm)
    return rows


def identity_get(*, identity_id: int) -> Identity:
    try:
        return Identity.objects.select_related("person").get(pk=identity_id)
    except Identity.DoesNotExist:
        raise NotFound(f"there is no identity {identity_id}") from None


def identity_data(identity: Identity) -> dict[str, Any]:
    return {
        "id": identity.pk,
        "platform": identity.platform,
        "realm": identity.realm,
        "external_id": identity.external_id,
        "login": identity.login,
        "sis_id": identity.sis_id,
        "email": identity.email,
        "email_verified": identity.email_verified,
        "name": identity.name,
        "person": identity.person_id,
        "state": identity.state,
        "matched_by": identity.matched_by,
        "held_reason": identity.held_reason,
        "candidates": identity.candidates,
        "held_records": Record.objects.filter(holder=f"i{identity.pk}", merged_into=None).count()
        if identity.person_id is None
        else 0,
    }


def identity_events(
    *, person: int | None = None, identity: int | None = None, limit: int = 100
) -> list[IdentityEvent]:
    rows = IdentityEvent.objects.select_related("identity").order_by("-id")
    if person is not None:
        rows = rows.filter(Q(person_id=person) | Q(other_id=person))
    if identity is not None:
        rows = rows.filter(identity_id=identity)
    return list(rows[:limit])


def identity_event_data(event: IdentityEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "action": event.action,
        "identity": event.identity_id,
        "identity_name": str(event.identity) if event.identity_id else None,
        "person": event.person_id,
        "other": event.other_id,
        "reason": event.reason,
        "actor": event.actor,
        "undone_by": event.undone_by_id,
        "created_at": event.created_at,
    }


# -- enrollments, links, policies ----------------------------------------------------------------


def enrollment_list(
    *, course: str | None = None, person: int | None = None, state: str | None = None
) -> QuerySet[Enrollment]:
    rows = Enrollment.objects.select_related("person", "course").order_by(
        "course__key", "role", "person__name"
    )
    if course:
        rows = rows.filter(course__key=course)
    if person is not None:
        rows = rows.filter(person_id=person)
    state = one_of(state, "state", Enrollment.State.values)
    if state:
        rows = rows.filter(state=state)
    return rows


def enrollment_data(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "id": enrollment.pk,
        "course": enrollment.course.key,
        "person": enrollment.person_id,
        "person_name": enrollment.person.name,
        "role": enrollment.role,
        "state": enrollment.state,
        "record": enrollment.record_id,
        "updated_at": enrollment.updated_at,
    }


def object_links(*, key: str | None = None) -> QuerySet[ObjectLink]:
    rows = ObjectLink.objects.order_by("key", "replica")
    return rows.filter(key=key) if key else rows


def object_link_data(link: ObjectLink) -> dict[str, Any]:
    return {
        "source": link.replica,
        "alias": link.alias,
        "key": link.key,
        "object": link.object,
        "links": link.links,
        "created_by": link.created_by,
        "created_at": link.created_at,
    }


def policies_data() -> dict[str, Any]:
    policies = current_policies()
    return {
        "file": str(policies_path()),
        "match": list(policies.match),
        "match_by_platform": {k: list(v) for k, v in policies.match_by_platform.items()},
        "classes": {k: list(v) for k, v in policies.classes.items()},
        "kinds": policies.describe(),
        "text": policies.text,
    }
