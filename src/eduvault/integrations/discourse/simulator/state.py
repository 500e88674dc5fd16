"""The simulated Discourse's state: users, groups, badges (here) and content (:mod:`.content`).

Every change happens under one lock and queues the webhooks Discourse would send for it; they are
handed to the sender after the lock is released (a receiver may call the API back). The methods
raise :class:`~.rules.Invalid` with Discourse's messages when Discourse would refuse the change.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eduvault.integrations.discourse.simulator import rules
from eduvault.integrations.discourse.simulator import serialize as ser
from eduvault.integrations.discourse.simulator.content import Content
from eduvault.integrations.discourse.simulator.models import (
    AUTO_GROUPS,
    Badge,
    Category,
    Group,
    User,
    UserBadge,
)
from eduvault.integrations.discourse.simulator.rules import Invalid, Settings
from eduvault.integrations.discourse.simulator.webhooks import Event

Emit = Callable[[str, str, Any], None]
_ID_STARTS = {
    "user": 1,
    "category": 2,
    "topic": 1,
    "post": 1,
    "group": 41,
    "badge": 100,
    "user_badge": 1,
    "group_user": 1,
}
#: A few of Discourse's system badges (ids below 100 are reserved for them).
_SYSTEM_BADGES = [(1, "Basic User", 3), (2, "Member", 2), (3, "Regular", 1), (5, "Welcome", 3)]


class ForumState(Content):
    def __init__(
        self,
        *,
        clock: Callable[[], float],
        emit: Callable[[Event], None],
        settings: Settings,
        id_offset: int = 0,
    ) -> None:
        self.clock = clock
        self.settings = settings
        self.lock = threading.RLock()
        self._emit = emit
        #: ``id_offset``: ids of a forum of their own (a demo run against a database that knew
        #: an earlier run's forum).
        self._ids = {kind: itertools.count(start + id_offset) for kind, start in _ID_STARTS.items()}
        self.users: dict[int, User] = {}
        self.categories: dict[int, Category] = {}
        self.topics: dict[int, Any] = {}
        self.posts: dict[int, Any] = {}
        self.groups: dict[int, Group] = {}
        self.badges: dict[int, Badge] = {}
        self.user_badges: dict[int, UserBadge] = {}
        now = clock()
        self.system = User(-1, "system", "system", "no_email", now, admin=True, moderator=True, trust_level=4)
        self.users[-1] = self.system
        self.uncategorized_id = 1
        self.categories[1] = Category(
            1, "Uncategorized", "uncategorized", "0088CC", "FFFFFF", now, updated_at=now
        )
        for name, group_id in AUTO_GROUPS.items():
            self.groups[group_id] = Group(
                group_id, name, now, automatic=True, visibility_level=1, updated_at=now
            )
        for badge_id, name, type_id in _SYSTEM_BADGES:
            self.badges[badge_id] = Badge(
                badge_id, name, now, badge_type_id=type_id, system=True, badge_grouping_id=4
            )

    def _next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    @contextmanager
    def _change(self) -> Iterator[Emit]:
        pending: list[Event] = []
        with self.lock:
            yield lambda type_, name, payload: pending.append(Event(type_, name, payload))
        for event in pending:
            self._emit(event)

    # -- lookups ------------------------------------------------------------------------------------

    def user_named(self, username: str) -> User | None:
        wanted = str(username).lower()
        return next((u for u in self.users.values() if u.username.lower() == wanted), None)

    def user_by_external_id(self, external_id: str) -> User | None:
        return next((u for u in self.users.values() if u.external_id == str(external_id)), None)

    def group_named(self, name: str) -> Group | None:
        wanted = str(name).lower()
        return next((g for g in self.groups.values() if g.name.lower() == wanted), None)

    def members(self, group_name: str) -> list[str]:
        group = self.group_named(group_name)
        if group is None:
            raise KeyError(group_name)
        return sorted(self.users[uid].username for uid in group.members)

    def user_badges_of(self, username: str) -> list[UserBadge]:
        user = self.user_named(username)
        if user is None:
            raise KeyError(username)
        return [ub for ub in self.user_badges.values() if ub.user_id == user.id]

    def last_posted_at(self, user_id: int) -> float | None:
        times = [p.created_at for p in self.posts.values() if p.user_id == user_id]
        return max(times) if times else None

    def post_count(self, user_id: int) -> int:
        return sum(1 for p in self.posts.values() if p.user_id == user_id)

    # -- users ---------------------------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        *,
        email: str,
        name: str = "",
        external_id: str | None = None,
        admin: bool = False,
        moderator: bool = False,
    ) -> User:
        with self._change() as emit:
            errors = [f"Username {e}" for e in rules.username_errors(username, self.settings)]
            if not errors and (self.user_named(username) or self.group_named(username)):
                errors.append("Username must be unique")
            if "@" not in email:
                errors.append("Primary email is invalid.")
            elif any(u.email.lower() == email.lower() for u in self.users.values()):
                errors.append("Primary email has already been taken")
            if external_id is not None and self.user_by_external_id(external_id):
                errors.append("External has already been taken")
            if errors:
                raise Invalid(errors)
            now = self.clock()
            user = User(
                self._next_id("user"),
                username,
                name,
                email,
                now,
                admin=admin,
                moderator=moderator,
                external_id=None if external_id is None else str(external_id),
                updated_at=now,
            )
            self.users[user.id] = user
            for group_name in ("trust_level_0", "trust_level_1") + (("admins", "staff") if admin else ()):
                self.groups[AUTO_GROUPS[group_name]].members[user.id] = now
            emit("user", "user_created", ser.user(self, user, admin_view=True, webhook=True))
        return user

    def update_user(self, username: str, **fields: Any) -> User:
        editable = {"name", "email", "title", "bio_raw", "location", "website", "external_id", "username"}
        unknown = set(fields) - editable
        if unknown:
            raise TypeError(f"cannot edit {sorted(unknown)}")
        with self._change() as emit:
            user = self.user_named(username)
            if user is None:
                raise KeyError(username)
            if "username" in fields:
                errors = [f"Username {e}" for e in rules.username_errors(fields["username"], self.settings)]
                if errors:
                    raise Invalid(errors)
            for key, value in fields.items():
                setattr(user, key, value)
            user.updated_at = self.clock()
            emit("user", "user_updated", ser.user(self, user, admin_view=True, webhook=True))
        return user

    # -- groups ----------------------------------------------------------------------------------------

    def create_group(
        self,
        name: str,
        *,
        full_name: str | None = None,
        visibility_level: int = 0,
        usernames: list[str] = (),  # type: ignore[assignment]
        owner_usernames: list[str] = (),  # type: ignore[assignment]
    ) -> Group:
        """``Admin::GroupsController#create`` and the ``Group`` validations on ``name``."""
        with self._change() as emit:
            name = str(name or "").strip()
            errors = [f"Name {e}" for e in rules.username_errors(name, self.settings)]
            if not errors and (self.group_named(name) or self.user_named(name)):
                errors.append("Name has already been taken")
            if errors:
                raise Invalid(errors)
            now = self.clock()
            group = Group(
                self._next_id("group"),
                name,
                now,
                full_name=full_name or None,
                visibility_level=int(visibility_level or 0),
                updated_at=now,
            )
            for uname in list(owner_usernames) + list(usernames):
                user = self.user_named(uname)
                if user is not None:
                    group.members.setdefault(user.id, now)
                    if uname in owner_usernames:
                        group.owners.add(user.id)
            self.groups[group.id] = group
            emit("group", "group_created", ser.basic_group(self, group))
        return group

    def add_members(self, group: Group, users: list[User]) -> list[User]:
        """Adds those not yet members; ``user_added_to_group`` for each added."""
        with self._change() as emit:
            added = []
            for user in users:
                if user.id in group.members:
                    continue
                group.members[user.id] = self.clock()
                added.append(user)
                membership = ser.group_user_webhook(group, user, self._next_id("group_user"))
                emit("group_user", "user_added_to_group", membership)
        return added

    def remove_members(self, group: Group, users: list[User]) -> tuple[list[User], list[User]]:
        with self._change() as emit:
            removed, skipped = [], []
            for user in users:
                if user.id not in group.members:
                    skipped.append(user)
                    continue
                membership = ser.group_user_webhook(group, user, self._next_id("group_user"))
                del group.members[user.id]
                group.owners.discard(user.id)
                removed.append(user)
                emit("group_user", "user_removed_from_group", membership)
        return removed, skipped

    # -- badges ------------------------------------------------------------------------------------------

    def create_badge(
        self, name: str, *, multiple_grant: bool = False, enabled: bool = True, description: str = ""
    ) -> Badge:
        with self.lock:
            if any(b.name.lower() == name.lower() for b in self.badges.values()):
                raise Invalid(["Name has already been taken"])
            badge = Badge(
                self._next_id("badge"),
                name,
                self.clock(),
                description=description,
                multiple_grant=multiple_grant,
                enabled=enabled,
            )
            self.badges[badge.id] = badge
        return badge

    def grant_badge(
        self, badge: Badge, user: User, *, granted_by: User, post_id: int | None = None
    ) -> UserBadge:
        """``BadgeGranter#grant``: a badge that is not ``multiple_grant`` is granted once; granting
        it again answers the existing user badge and changes nothing."""
        with self._change() as emit:
            existing = [
                ub for ub in self.user_badges.values() if ub.badge_id == badge.id and ub.user_id == user.id
            ]
            if badge.multiple_grant and post_id is not None:
                existing = [ub for ub in existing if ub.post_id == post_id]
            if existing and not (badge.multiple_grant and post_id is None):
                return existing[0]
            seq = len(existing) if badge.multiple_grant else 0
            granted = UserBadge(
                self._next_id("user_badge"), badge.id, user.id, self.clock(), granted_by.id, post_id, seq
            )
            self.user_badges[granted.id] = granted
            badge.grant_count += 1
            emit("user_badge", "user_badge_granted", ser.user_badge_webhook(granted))
        return granted
