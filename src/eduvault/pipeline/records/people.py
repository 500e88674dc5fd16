"""An operator's links, unlinks and merges of people, with their records following them.
(The identity layer keeps the audit; this layer moves the records.)"""

from __future__ import annotations

from django.db import transaction

from eduvault.identity import people
from eduvault.identity.models import Identity, IdentityEvent, Person
from eduvault.pipeline.records.services import records_merge_people, records_rehome


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
    """Two people are one: identities and records of ``other`` become ``into``'s."""
    with transaction.atomic():
        event = people.people_merge(into_id=into_id, other_id=other_id, actor=actor)
        records_merge_people(into=Person.objects.get(pk=into_id), other=Person.objects.get(pk=other_id))
    return event
