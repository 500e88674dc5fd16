"""Matching platform accounts to people by the operator's rules, holding what cannot be
matched, and the operator's audited, reversible links and merges."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from eduvault.identity.models import Identity, IdentityEvent, Person
from eduvault.identity.people import (
    Account,
    identities_observe,
    identity_event_undo,
    identity_link,
    identity_unlink,
    people_merge,
    person_for_user,
)
from eduvault.kernel.errors import Conflict

pytestmark = pytest.mark.django_db

RULES = ("sis_id", "login", "verified_email")


def observe(*accounts: Account, platform="canvas", realm="school", rules=RULES, create_people=False):
    return identities_observe(
        platform=platform, realm=realm, accounts=accounts, rules=rules, create_people=create_people
    )


def person_with(**identity) -> Person:
    person = Person.objects.create(name=identity.get("name", "someone"))
    Identity.objects.create(platform="openedx", realm="lms", person=person, state="linked", **identity)
    return person


def test_the_first_rule_that_finds_exactly_one_person_links():
    amina = person_with(external_id="amina", login="amina", sis_id="S-1")
    other = person_with(external_id="amina2", login="amina.phiri")
    found = observe(Account("11", login="amina.phiri", sis_id="S-1"))["11"]
    # The SIS id names Amina; the login would have named someone else: the SIS id rule comes first.
    assert (found.person_id, found.matched_by) == (amina.pk, "sis_id")
    assert found.person_id != other.pk
    assert IdentityEvent.objects.filter(action="link", identity=found).count() == 1


def test_an_account_matching_several_people_or_nobody_is_held_never_guessed():
    person_with(external_id="a", sis_id="S-9", name="A")
    person_with(external_id="b", sis_id="S-9", name="B")
    twice = observe(Account("11", sis_id="S-9", name="A"))["11"]
    assert (
        twice.state == "held"
        and twice.held_reason == "matches 2 people by sis id"
        and len(twice.candidates) == 2
    )
    nobody = observe(Account("12", login="zz", name="A"))["12"]  # the same name is no rule
    assert nobody.state == "held" and nobody.held_reason == "matches nobody"
    created = observe(Account("13", login="yy", name="New"), create_people=True)["13"]
    assert created.state == "linked" and created.person.name == "New"


def test_an_email_matches_only_when_verified_on_both_sides():
    person_with(external_id="c", email="c@school.mw", email_verified=True)
    assert observe(Account("11", email="c@school.mw"))["11"].state == "held"
    assert (
        observe(Account("12", email="c@school.mw", email_verified=True))["12"].matched_by == "verified_email"
    )


def test_an_edu_vault_account_is_found_by_its_username():
    user = get_user_model().objects.create_user(username="kondwani", password="x-" * 8)
    found = observe(Account("11", login="Kondwani"))["11"]
    assert found.person == Person.objects.get(user=user)


def test_links_unlinks_and_merges_are_audited_and_reversible():
    person = Person.objects.create(name="Tamanda")
    held = observe(Account("11", login="tamanda"))["11"]
    link = identity_link(identity_id=held.pk, person_id=person.pk, actor="ops")
    assert Identity.objects.get(pk=held.pk).person == person
    identity_event_undo(event_id=link.pk, actor="ops")
    unlinked = Identity.objects.get(pk=held.pk)
    assert unlinked.person is None and unlinked.held_reason == "unlinked by an operator"
    # An identity an operator unlinked is never matched again by itself.
    person_with(external_id="t", login="tamanda")
    assert observe(Account("11", login="tamanda"))["11"].person_id is None
    with pytest.raises(Conflict):
        identity_event_undo(event_id=link.pk, actor="ops")  # undone already

    a, b = (
        person_for_user(user=get_user_model().objects.create_user(username="a1", password="x-" * 8)),
        Person.objects.create(name="B"),
    )
    canvas = observe(Account("21", login="zz1"))["21"]
    identity_link(identity_id=canvas.pk, person_id=b.pk, actor="ops")
    merge = people_merge(into_id=a.pk, other_id=b.pk, actor="ops")
    assert Identity.objects.get(pk=canvas.pk).person == a and Person.objects.get(pk=b.pk).merged_into == a
    identity_event_undo(event_id=merge.pk, actor="ops")
    assert Identity.objects.get(pk=canvas.pk).person == b and Person.objects.get(pk=b.pk).merged_into is None
    unlink = identity_unlink(identity_id=canvas.pk, actor="ops")
    identity_event_undo(event_id=unlink.pk, actor="ops")
    assert Identity.objects.get(pk=canvas.pk).person == b
    assert list(
        IdentityEvent.objects.filter(actor="ops").values_list("action", flat=True).order_by("id")
    ) == [
        "link",
        "unlink",
        "link",
        "merge",
        "unmerge",
        "unlink",
        "link",
    ]
