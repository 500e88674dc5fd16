"""An operator's links, unlinks and merges of people, with their records following them.
(The identity layer keeps the audit; this layer moves the records.)"""

from __future__ import annotations

from django.db import transaction

from eduvault.identity import people
from eduvault.identity.models import Identity, IdentityEvent, Person
from eduvault.pipeline.records.services import records_merge_people, records_rehome, records_unmerge_people


def identity_link(*, identity_id: int, person_id: int, actor: str) -> IdentityEvent:
    """Link an identity to a person; the records that came through it while it was held
    become the person's."""
    with transaction.atomic():
        event = people.identity_link(identity_id=identity_id, person_id=person_id, actor=actor)
        records_rehome(identity=Identity.objects.get(pk=identity_id))
    return event


def identity_person_create(*, identity_id: int, actor: str) -> IdentityEvent:
    with transaction.atomic():
        event = people.identity_person_create(identity_id=identity_id, actor=actor)
        records_rehome(identity=Identity.objects.get(pk=identity_id))
    return event


def people_merge(*, into_id: int, other_id: int, actor: str) -> IdentityEvent:
    """Two people are one: identities and records of ``other`` become ``into``'s (the event
    remembers which, so that the merge can be undone)."""
    with transaction.atomic():
        event = people.people_merge(into_id=into_id, other_id=other_id, actor=actor)
        moved = records_merge_people(
            into=Person.objects.get(pk=into_id), other=Person.objects.get(pk=other_id)
        )
        event.details = {**event.details, **moved}
        event.save(update_fields=["details"])
    return event


def identity_event_undo(*, event_id: int, actor: str) -> IdentityEvent:
    """Undo a link, an unlink or a merge, with the records following: an identity linked
    again brings back the records that came through it; an undone merge gives the other
    person back their records (one combined with a record of the person kept stays combined
    there too, and is the other person's again)."""
    with transaction.atomic():
        event = IdentityEvent.objects.filter(pk=event_id).first()
        undo = people.identity_event_undo(event_id=event_id, actor=actor)
        if event is None:
            return undo
        if event.action == IdentityEvent.Action.UNLINK and event.identity_id:
            records_rehome(identity=Identity.objects.get(pk=event.identity_id))
        elif event.action == IdentityEvent.Action.MERGE and event.person_id and event.other_id:
            records_unmerge_people(
                into=Person.objects.get(pk=event.person_id),
                other=Person.objects.get(pk=event.other_id),
                moved=event.details.get("records_moved", []),
                combined=event.details.get("records_combined", []),
            )
    return undo
