"""People and their identities on every platform: observing accounts the platforms report,
matching them to people by the operator's rules, holding what cannot be matched, and the
operator's links, unlinks and merges (each audited, each reversible).

Matching never guesses: an identity is linked by the first rule (in the operator's order)
under which it matches exactly one person; one that matches several people, or nobody, is
held until an operator links it (or, where the operator chose so for a source, one that
matches nobody becomes a new person). A display name is never a rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from eduvault.identity.models import Identity, IdentityEvent, Person
from eduvault.kernel.errors import Conflict, InvalidInput, NotFound

log = structlog.get_logger(__name__)

Action = IdentityEvent.Action
LINKED, HELD = Identity.State.LINKED, Identity.State.HELD
#: Held by an operator's hand: never matched again automatically.
UNLINKED_BY_OPERATOR = "unlinked by an operator"


class IdentityNotFound(NotFound):
    """No such identity."""


class PersonMissing(NotFound):
    """No such person."""


@dataclass(frozen=True)
class Account:
    """An account as a platform reports it."""

    external_id: str
    login: str = ""
    sis_id: str = ""
    email: str = ""
    email_verified: bool = False
    name: str = ""
    #: ``<realm>:<id>``: the account elsewhere the platform vouches this one is.
    vouched: str = ""


# -- Edu Vault's own accounts ----------------------------------------------------------------------


def person_for_user_id(*, user_id: int) -> Person:
    """The person of the Edu Vault account ``user_id`` (one query once it exists; see
    :func:`person_for_user`)."""
    person = Person.objects.filter(user_id=user_id).first()
    if person is not None:
        return person
    return person_for_user(user=get_user_model().objects.get(pk=user_id))


def person_for_user(*, user: AbstractBaseUser) -> Person:
    """The person of an Edu Vault account (created with its ``eduvault`` identity the first
    time it is asked for)."""
    person = Person.objects.filter(user=user).first()
    if person is not None:
        return person
    with transaction.atomic():
        email = getattr(user, "email", "") or ""
        name = (user.get_full_name() if hasattr(user, "get_full_name") else "") or user.get_username()
        try:
            with transaction.atomic():
                person = Person.objects.create(user=user, name=name, email=email)
        except IntegrityError:  # created meanwhile by another request
            return Person.objects.get(user=user)
        identity, _ = Identity.objects.get_or_create(
            platform="eduvault",
            realm="",
            external_id=user.get_username(),
            defaults={
                "login": user.get_username(),
                "email": email,
                "email_verified": bool(email),
                "name": name,
            },
        )
        if identity.person_id is None:
            identity.person, identity.state, identity.matched_by = person, LINKED, "account"
            identity.save(update_fields=["person", "state", "matched_by", "updated_at"])
        IdentityEvent.objects.create(
            action=Action.CREATE,
            identity=identity,
            person=person,
            reason="an Edu Vault account",
            actor="eduvault",
        )
    return person


# -- observing what platforms report ---------------------------------------------------------------


def identities_observe(
    *,
    platform: str,
    realm: str,
    accounts: Iterable[Account],
    rules: Sequence[str],
    create_people: bool = False,
    actor: str = "",
) -> dict[str, Identity]:
    """Record accounts a platform reported (creating or refreshing their identities) and
    match the unlinked ones; returns them by external id. Call inside a transaction."""
    given: dict[str, Account] = {}
    for account in accounts:
        if not account.external_id:
            raise InvalidInput(f"an account of {platform} {realm} without an id")
        given[str(account.external_id)] = account
    found = {
        i.external_id: i
        for i in Identity.objects.filter(platform=platform, realm=realm, external_id__in=list(given))
    }
    new = [
        Identity(platform=platform, realm=realm, external_id=external_id, **_attributes(account, None))
        for external_id, account in given.items()
        if external_id not in found
    ]
    if new:
        Identity.objects.bulk_create(new, ignore_conflicts=True)
        found = {
            i.external_id: i
            for i in Identity.objects.filter(platform=platform, realm=realm, external_id__in=list(given))
        }
    changed: list[Identity] = []
    for external_id, account in given.items():
        identity = found[external_id]
        attributes = _attributes(account, identity)
        if any(getattr(identity, k) != v for k, v in attributes.items()):
            for k, v in attributes.items():
                setattr(identity, k, v)
            changed.append(identity)
    if changed:
        Identity.objects.bulk_update(
            changed, ["login", "sis_id", "email", "email_verified", "name", "vouched"]
        )
    # Match what is new or says more than before, and look again at held ones now and then
    # (somebody may have been given an account since); not at every event of a held one.
    fresh = {i.pk for i in changed} | {
        i.pk for i in found.values() if i.external_id in {n.external_id for n in new}
    }
    stale_before = timezone.now() - timedelta(seconds=REMATCH_AFTER)
    for identity in found.values():
        if identity.person_id is not None or identity.held_reason == UNLINKED_BY_OPERATOR:
            continue
        if identity.pk in fresh or not identity.held_reason or identity.updated_at < stale_before:
            _match(identity, rules=rules, create_people=create_people, actor=actor)
    return found


#: Seconds before a held identity is matched again although nothing about it changed.
REMATCH_AFTER = 900


def _attributes(account: Account, identity: Identity | None) -> dict[str, object]:
    """What an account states; a platform that says less this time (an event without the
    login) does not erase what a fuller report said."""

    def keep(name: str, value: object) -> object:
        return value if value or identity is None else getattr(identity, name)

    return {
        "login": keep("login", account.login[:200]),
        "sis_id": keep("sis_id", account.sis_id[:100]),
        "email": keep("email", account.email[:254]),
        "email_verified": account.email_verified or bool(identity and identity.email_verified),
        "name": keep("name", account.name[:200]),
        "vouched": keep("vouched", account.vouched[:400]),
    }


def _platform_of(realm: str) -> str | None:
    """The platform of the accounts of a realm (a source's name), from those already seen."""
    return Identity.objects.filter(realm=realm).values_list("platform", flat=True).first()


def candidates_by(rule: str, identity: Identity) -> list[int]:
    """The people an identity matches under one rule (ids, at most a few)."""
    live = Person.objects.filter(merged_into__isnull=True)
    others = Q(identities__state=LINKED) & ~Q(identities__pk=identity.pk)
    if rule == "connect":
        realm, _, vouched = identity.vouched.partition(":")
        if not (realm and vouched):
            return []
        if realm == "sis":
            query = Q(sis_id=vouched) | (others & Q(identities__sis_id=vouched))
        elif realm == "eduvault":
            query = Q(user__username__iexact=vouched)
        else:  # an account of a source: its platform too, so the unique index finds it
            platform = _platform_of(realm)
            if platform is None:
                return []
            query = others & Q(
                identities__platform=platform, identities__realm=realm, identities__external_id=vouched
            )
    elif rule == "sis_id":
        if not identity.sis_id:
            return []
        query = Q(sis_id=identity.sis_id) | (others & Q(identities__sis_id=identity.sis_id))
    elif rule == "login":
        if not identity.login:
            return []
        # An Edu Vault account with that username is somebody, whether or not anything made
        # them a person yet.
        users = get_user_model().objects.filter(username__iexact=identity.login, person__isnull=True)
        for user in users[:5]:
            person_for_user(user=user)
        query = Q(user__username__iexact=identity.login) | (
            others & Q(identities__login__iexact=identity.login)
        )
    elif rule == "verified_email":
        if not (identity.email and identity.email_verified):
            return []
        query = others & Q(identities__email__iexact=identity.email, identities__email_verified=True)
    else:
        raise InvalidInput(f"unknown matching rule {rule!r}")
    return sorted(set(live.filter(query).values_list("pk", flat=True)[:10]))


def _match(identity: Identity, *, rules: Sequence[str], create_people: bool, actor: str) -> None:
    for rule in rules:
        people = candidates_by(rule, identity)
        if len(people) == 1:
            _link(identity, Person.objects.get(pk=people[0]), matched_by=rule, actor=actor or "matching")
            return
        if len(people) > 1:
            _hold(identity, f"matches {len(people)} people by {rule.replace('_', ' ')}", people, actor)
            return
    if create_people:
        person = Person.objects.create(name=identity.name or identity.login, sis_id=identity.sis_id)
        IdentityEvent.objects.create(
            action=Action.CREATE, identity=identity, person=person, reason="matched nobody", actor=actor
        )
        _link(identity, person, matched_by="new person", actor=actor or "matching")
        return
    _hold(identity, "matches nobody", [], actor)


#: Platforms whose names and emails for a person are the person's (the policies' default:
#: the LMS owns names and emails).
NAMING_PLATFORMS = ("canvas", "openedx", "lti")


def _link(
    identity: Identity, person: Person, *, matched_by: str, actor: str, reason: str = ""
) -> IdentityEvent:
    previous = identity.person_id
    if identity.platform in NAMING_PLATFORMS:
        changed = []
        if identity.name and person.name != identity.name:
            person.name = identity.name
            changed.append("name")
        if identity.email and not person.email:
            person.email = identity.email
            changed.append("email")
        if changed:
            person.save(update_fields=[*changed, "updated_at"])
    identity.person, identity.state = person, LINKED
    identity.matched_by, identity.held_reason, identity.candidates = matched_by, "", []
    identity.save(update_fields=["person", "state", "matched_by", "held_reason", "candidates", "updated_at"])
    return IdentityEvent.objects.create(
        action=Action.LINK,
        identity=identity,
        person=person,
        other_id=previous,
        reason=reason or f"matched by {matched_by.replace('_', ' ')}",
        actor=actor,
    )


def _hold(identity: Identity, reason: str, candidates: list[int], actor: str) -> None:
    if identity.state == HELD and identity.held_reason == reason and identity.candidates == candidates:
        Identity.objects.filter(pk=identity.pk).update(updated_at=timezone.now())  # looked at again now
        return
    identity.person, identity.state = None, HELD
    identity.held_reason, identity.candidates, identity.matched_by = reason, candidates, ""
    identity.save(update_fields=["person", "state", "held_reason", "candidates", "matched_by", "updated_at"])
    IdentityEvent.objects.create(action=Action.HOLD, identity=identity, reason=reason, actor=actor)


# -- an operator's hand ----------------------------------------------------------------------------


def _identity(identity_id: int, *, lock: bool = True) -> Identity:
    rows = Identity.objects.select_for_update() if lock else Identity.objects
    try:
        return rows.get(pk=identity_id)
    except Identity.DoesNotExist:
        raise IdentityNotFound(f"no identity {identity_id}") from None


def _person(person_id: int) -> Person:
    try:
        person = Person.objects.get(pk=person_id)
    except Person.DoesNotExist:
        raise PersonMissing(f"no person {person_id}") from None
    if person.merged_into_id is not None:
        raise Conflict(f"person {person_id} was merged into person {person.merged_into_id}; link to that one")
    return person


def identity_link(*, identity_id: int, person_id: int, actor: str) -> IdentityEvent:
    """Link an identity to a person (held or linked elsewhere before)."""
    with transaction.atomic():
        identity = _identity(identity_id)
        person = _person(person_id)
        if identity.person_id == person.pk:
            raise Conflict(f"{identity} is already linked to {person}")
        clash = person.identities.filter(platform=identity.platform, realm=identity.realm).exclude(
            pk=identity.pk
        )
        if clash.exists():
            raise Conflict(
                f"{person} already has an identity on {identity.platform} {identity.realm}".strip()
            )
        event = _link(identity, person, matched_by="operator", actor=actor, reason="linked by an operator")
    log.info("identity.linked", identity=identity.pk, person=person.pk, actor=actor)
    return event


def identity_unlink(*, identity_id: int, actor: str) -> IdentityEvent:
    """Unlink an identity from its person; it is held (and never matched again by itself)."""
    with transaction.atomic():
        identity = _identity(identity_id)
        if identity.person_id is None:
            raise Conflict(f"{identity} is not linked to anyone")
        previous = identity.person_id
        identity.person, identity.state = None, HELD
        identity.held_reason, identity.matched_by, identity.candidates = UNLINKED_BY_OPERATOR, "", []
        identity.save(
            update_fields=["person", "state", "held_reason", "matched_by", "candidates", "updated_at"]
        )
        event = IdentityEvent.objects.create(
            action=Action.UNLINK,
            identity=identity,
            other_id=previous,
            reason=UNLINKED_BY_OPERATOR,
            actor=actor,
        )
    log.info("identity.unlinked", identity=identity.pk, person=previous, actor=actor)
    return event


def identity_person_create(*, identity_id: int, actor: str) -> IdentityEvent:
    """A held identity is somebody new: create their person and link it."""
    with transaction.atomic():
        identity = _identity(identity_id)
        if identity.person_id is not None:
            raise Conflict(f"{identity} is already linked to a person")
        person = Person.objects.create(name=identity.name or identity.login, sis_id=identity.sis_id)
        IdentityEvent.objects.create(
            action=Action.CREATE,
            identity=identity,
            person=person,
            reason="created by an operator",
            actor=actor,
        )
        return _link(
            identity, person, matched_by="operator", actor=actor, reason="a new person, by an operator"
        )


def people_merge(*, into_id: int, other_id: int, actor: str) -> IdentityEvent:
    """Two people are one: ``other``'s identities move to ``into``; ``other`` is kept, marked
    merged, so the merge can be undone. (The records layer moves their records.)"""
    if into_id == other_id:
        raise InvalidInput("a person cannot be merged into themselves")
    with transaction.atomic():
        into, other = _person(into_id), _person(other_id)
        moved = list(other.identities.values_list("pk", flat=True))
        # One account per platform source, so that writing to it is never a guess; Edu Vault's
        # own accounts may be several (a person who was given two).
        theirs = [i for i in other.identities.all() if i.platform != "eduvault"]
        clash = (
            into.identities.filter(
                Q(*[Q(platform=i.platform, realm=i.realm) for i in theirs], _connector=Q.OR)
            )
            if theirs
            else Identity.objects.none()
        )
        if clash.exists():
            names = ", ".join(str(i) for i in clash[:3])
            raise Conflict(f"both have an identity on the same platform ({names}); unlink one first")
        Identity.objects.filter(pk__in=moved).update(person=into)
        other.merged_into = into
        other.save(update_fields=["merged_into", "updated_at"])
        event = IdentityEvent.objects.create(
            action=Action.MERGE,
            person=into,
            other=other,
            reason="merged by an operator",
            actor=actor,
            details={"identities": moved},
        )
    log.info("people.merged", into=into.pk, other=other.pk, identities=len(moved), actor=actor)
    return event


def identity_event_undo(*, event_id: int, actor: str) -> IdentityEvent:
    """Undo a link (unlink), an unlink (link again), or a merge (the identities go back)."""
    with transaction.atomic():
        try:
            event = IdentityEvent.objects.select_for_update().get(pk=event_id)
        except IdentityEvent.DoesNotExist:
            raise NotFound(f"no identity event {event_id}") from None
        if event.undone_by_id is not None:
            raise Conflict(f"event {event_id} was undone already (by event {event.undone_by_id})")
        if event.action == Action.LINK and event.identity_id:
            undo = identity_unlink(identity_id=event.identity_id, actor=actor)
        elif event.action == Action.UNLINK and event.identity_id and event.other_id:
            undo = identity_link(identity_id=event.identity_id, person_id=event.other_id, actor=actor)
        elif event.action == Action.MERGE and event.person_id and event.other_id:
            other = Person.objects.get(pk=event.other_id)
            moved = event.details.get("identities", [])
            Identity.objects.filter(pk__in=moved, person_id=event.person_id).update(person=other)
            other.merged_into = None
            other.save(update_fields=["merged_into", "updated_at"])
            undo = IdentityEvent.objects.create(
                action=Action.UNMERGE,
                person=event.person,
                other=other,
                reason=f"undoing event {event.pk}",
                actor=actor,
                details=event.details,
            )
        else:
            raise Conflict(f"a {event.get_action_display().lower()} event cannot be undone")
        event.undone_by = undo
        event.save(update_fields=["undone_by"])
    return undo


# -- reading ---------------------------------------------------------------------------------------


def identity_of(*, person: Person, platform: str, realm: str) -> Identity | None:
    """A person's identity on one platform (a source, an issuer), if they have one."""
    return person.identities.filter(platform=platform, realm=realm, state=LINKED).first()


def held_identities(*, limit: int = 200) -> list[Identity]:
    return list(Identity.objects.filter(state=HELD).order_by("-updated_at")[:limit])
