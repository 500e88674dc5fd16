"""Source-of-truth policies: who owns each field of each kind of learner record, how urgent
each kind is, and the rules by which a platform's account is matched to a person. Read from
one readable TOML file (``policies.toml``); pure Python.

An owner is a platform (``canvas``, ``openedx``, ``discourse``, ``lti``, ``device``,
``eduvault``), a class of platforms declared under ``[platforms]`` (``lms``), or ``home``:
the platform the record's object belongs to (a Canvas assignment's grades: Canvas; an Edu
Vault assessment's grades: Edu Vault).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The kinds of learner record, and the design's priority class of each.
KINDS: dict[str, str] = {
    "grade": "critical",
    "exam_result": "critical",
    "certificate": "critical",
    "completion": "high",
    "badge": "high",
    "submission": "high",
    "enrollment": "high",
    "mastery": "high",
    "profile": "background",
    "forum_post": "background",
}
PRIORITIES = ("critical", "high", "background")
PLATFORMS = ("eduvault", "canvas", "openedx", "discourse", "lti", "device")
#: The rules identities can be matched by, in the order an operator may choose from.
#: ``connect``: the platform vouches for the account (Discourse's DiscourseConnect
#: ``external_id`` names the person's account elsewhere, or their SIS id).
MATCH_RULES = ("connect", "sis_id", "login", "verified_email")
HOME = "home"


class PolicyError(ValueError):
    """The policies file says something Edu Vault cannot follow."""


@dataclass(frozen=True)
class KindPolicy:
    kind: str
    owner: str
    priority: str
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Policies:
    kinds: Mapping[str, KindPolicy]
    classes: Mapping[str, tuple[str, ...]]
    match: tuple[str, ...]
    #: The text it was read from (shown to operators as it is).
    text: str = ""
    #: Rules for one platform's accounts where they differ from ``match`` (a forum's
    #: usernames are not the LMS's logins).
    match_by_platform: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def match_for(self, platform: str) -> tuple[str, ...]:
        return self.match_by_platform.get(platform, self.match)

    def kind(self, kind: str) -> KindPolicy:
        try:
            return self.kinds[kind]
        except KeyError:
            raise PolicyError(f"no policy for records of kind {kind!r}") from None

    def priority(self, kind: str) -> str:
        return self.kind(kind).priority

    def owners(self, kind: str, field_name: str, *, home: str) -> frozenset[str]:
        """The platforms (or replica) that own ``field_name`` of a ``kind`` record whose object
        lives on ``home`` (a platform name, or a source's replica name)."""
        policy = self.kind(kind)
        owner = policy.fields.get(field_name, policy.owner)
        return self._expand(owner, home=home)

    def _expand(self, owner: str, *, home: str) -> frozenset[str]:
        if owner == HOME:
            return frozenset({home})
        if owner in self.classes:
            return frozenset(self.classes[owner])
        return frozenset({owner})

    def describe(self) -> list[dict[str, Any]]:
        """One row per kind, for people: the kind, its priority, its owner, per-field owners."""
        return [
            {"kind": p.kind, "priority": p.priority, "owner": p.owner, "fields": dict(p.fields)}
            for p in self.kinds.values()
        ]


def parse(text: str) -> Policies:
    """Read a policies file; :class:`PolicyError` naming the place of anything wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"the policies file is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"platforms", "identity", "records"})
    if unknown:
        raise PolicyError(f"the policies file has unknown sections: {', '.join(unknown)}")

    classes: dict[str, tuple[str, ...]] = {}
    for name, members in (data.get("platforms") or {}).items():
        if name in PLATFORMS or name == HOME:
            raise PolicyError(f"[platforms] {name}: a class cannot be named like a platform")
        if not isinstance(members, list) or not members or any(m not in PLATFORMS for m in members):
            raise PolicyError(f"[platforms] {name}: a list of platforms from {', '.join(PLATFORMS)}")
        classes[name] = tuple(members)

    owners = set(PLATFORMS) | set(classes) | {HOME}

    def check_owner(where: str, owner: Any) -> str:
        if not isinstance(owner, str) or owner not in owners:
            raise PolicyError(f"{where}: owner {owner!r} is not one of {', '.join(sorted(owners))}")
        return owner

    identity = data.get("identity") or {}
    unknown_identity = sorted(set(identity) - {"match", "platforms"})
    if unknown_identity:
        raise PolicyError(f"[identity] has unknown keys: {', '.join(unknown_identity)}")

    def check_rules(where: str, rules: Any) -> tuple[str, ...]:
        if (
            not isinstance(rules, list)
            or any(rule not in MATCH_RULES for rule in rules)
            or len(set(rules)) != len(rules)
        ):
            raise PolicyError(f"{where}: a list of distinct rules from {', '.join(MATCH_RULES)}")
        return tuple(rules)

    match = check_rules("[identity] match", identity.get("match", [r for r in MATCH_RULES if r != "connect"]))
    per_platform = identity.get("platforms") or {}
    if not isinstance(per_platform, dict):
        raise PolicyError("[identity.platforms] must be a table of platform = [rules]")
    match_by_platform: dict[str, tuple[str, ...]] = {}
    for platform, rules in per_platform.items():
        if platform not in PLATFORMS:
            raise PolicyError(f"[identity.platforms] {platform}: not one of {', '.join(PLATFORMS)}")
        match_by_platform[platform] = check_rules(f"[identity.platforms] {platform}", rules)

    kinds: dict[str, KindPolicy] = {}
    records = data.get("records") or {}
    for kind, default_priority in KINDS.items():
        section = records.get(kind, {})
        if not isinstance(section, dict):
            raise PolicyError(f"[records.{kind}] must be a table")
        extra = sorted(set(section) - {"owner", "priority", "fields"})
        if extra:
            raise PolicyError(f"[records.{kind}] has unknown keys: {', '.join(extra)}")
        owner = check_owner(f"[records.{kind}]", section.get("owner", HOME))
        priority = section.get("priority", default_priority)
        if priority not in PRIORITIES:
            raise PolicyError(f"[records.{kind}] priority {priority!r} is not one of {', '.join(PRIORITIES)}")
        fields_ = section.get("fields", {})
        if not isinstance(fields_, dict):
            raise PolicyError(f"[records.{kind}.fields] must be a table of field = owner")
        per_field = {name: check_owner(f"[records.{kind}.fields] {name}", o) for name, o in fields_.items()}
        kinds[kind] = KindPolicy(kind, owner, priority, per_field)
    unknown_kinds = sorted(set(records) - set(KINDS))
    if unknown_kinds:
        raise PolicyError(
            f"[records] has unknown kinds: {', '.join(unknown_kinds)}; the kinds are {', '.join(KINDS)}"
        )
    return Policies(kinds=kinds, classes=classes, match=match, text=text, match_by_platform=match_by_platform)
