"""A forum's accounts matched to people, by the hub's identity rules for the platform: the
account its single sign-on vouches for (looked up for the learners still waiting), else a
verified email (every account read, a page of a hundred a request)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any

from django.db import transaction

from eduvault.identity.models import Identity, Person
from eduvault.identity.people import Account, identities_observe
from eduvault.integrations.base import PersonFacts
from eduvault.integrations.models import Source
from eduvault.pipeline.records.policies import current_policies
from eduvault.pipeline.records.services import account_of

#: Accounts looked up one by one in a step, at most (each is a request of the forum's budget).
LOOKUPS_A_STEP = 200


def _vouched_ids(realm: str, people: Iterable[int]) -> dict[int, str]:
    """What the realm calls each person (their SIS id, Edu Vault username, or account id)."""
    wanted = list(people)
    if realm == "sis":
        return {p: s for p, s in Person.objects.filter(pk__in=wanted).exclude(sis_id="").values_list("pk", "sis_id")}
    if realm == "eduvault":
        return dict(
            Person.objects.filter(pk__in=wanted, user__isnull=False).values_list("pk", "user__username")
        )
    return dict(
        Identity.objects.filter(realm=realm, person_id__in=wanted, state=Identity.State.LINKED).values_list(
            "person_id", "external_id"
        )
    )


def accounts_observe(
    *, source: Source, writer: Any, waiting: Iterable[int] = (), list_all: bool = False
) -> int:
    """Match the forum's accounts of the people waiting for one (looked up by the id its
    single sign-on vouches with) and, with ``list_all`` where the rules match by email, every
    account; returns how many accounts are linked to a person now."""
    rules = current_policies().match_for(source.platform)
    facts: list[PersonFacts] = []
    realm = writer.vouches() if "connect" in rules else ""
    if realm:
        for _, external_id in list(_vouched_ids(realm, waiting).items())[:LOOKUPS_A_STEP]:
            found = writer.account_vouched(external_id)
            if found is not None:
                facts.append(found)
    if list_all and "verified_email" in rules:
        facts.extend(writer.accounts())
    if not facts:
        return 0
    accounts: dict[str, Account] = {}
    for p in facts:  # one account read twice (looked up, and listed) keeps what either said
        seen, given = accounts.get(p.external_id), account_of(p)
        if seen is not None:
            given = replace(
                given, **{f.name: getattr(given, f.name) or getattr(seen, f.name) for f in fields(Account)}
            )
        accounts[p.external_id] = given
    with transaction.atomic():
        found = identities_observe(
            platform=source.platform,
            realm=source.name,
            accounts=accounts.values(),
            rules=rules,
            create_people=source.setting("create_people") == "true",
            actor=source.name,
        )
    return sum(1 for i in found.values() if i.state == Identity.State.LINKED)
