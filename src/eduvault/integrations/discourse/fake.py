"""An in-memory Discourse for unit tests: the REST client's answers held as Discourse-shaped
dicts, every call recorded, failures scripted. No HTTP (the simulator, ``simulator/``, is the
faithful one), but the rules the connector leans on are kept:

- a topic's ``external_id`` is unique (a second one is a 422, as ``PostsController#create``
  answers a failed validation);
- a badge that is not ``multiple_grant`` is granted once: granting it again answers the
  existing ``user_badge`` (``BadgeGranter#grant``), a ``multiple_grant`` one is granted anew;
- adding members sends only those not yet in the group (as :class:`DiscourseClient` does);
  usernames Discourse does not know are dropped, and a request naming only unknown users is
  a 400; removing skips non-members (and is a 400 too when it names only unknown users);
- category, group names and usernames are compared case-insensitively;
- lookups of what is not there answer ``None``; other calls about it raise
  :class:`DiscourseRefused` with status 404.

``installed()`` makes every Discourse source talk to the fake (it patches
:data:`PATCH_TARGET`); ``client()`` gives the fake client directly.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eduvault.integrations.discourse.client import DiscourseRefused
from eduvault.kernel.errors import EduVaultError

#: (module, class, attribute) that ``installed()`` replaces with a factory of fake clients.
PATCH_TARGET = ("eduvault.integrations.discourse.integration", "Discourse", "client")

NOW = "2026-11-30T10:00:00.000Z"
#: Posts in a topic's first chunk (``posts_chunksize``).
CHUNK = 20


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "topic"


@dataclass
class FakeDiscourse:
    """Discourse as REST answers. Keys: categories, topics and badges by id; groups and users
    by lower-cased name; posts by topic id; members by lower-cased group name."""

    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    topics: dict[int, dict[str, Any]] = field(default_factory=dict)
    posts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    badges: dict[int, dict[str, Any]] = field(default_factory=dict)
    user_badges: list[dict[str, Any]] = field(default_factory=list)
    version: str = "3.4.0"
    #: (method, arguments) of every call, in order.
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    #: Raised, one per call, before answering (then the calls succeed again).
    failures: list[EduVaultError] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)

    # -- setting the scene ----------------------------------------------------------------

    def next_id(self, kind: str, start: int = 1) -> int:
        self._ids[kind] = self._ids.get(kind, start - 1) + 1
        return self._ids[kind]

    def add_user(
        self,
        username: str,
        *,
        email: str,
        name: str = "",
        external_id: str | None = None,
        active: bool = True,
        admin: bool = False,
    ) -> dict[str, Any]:
        if username.lower() in self.users:
            raise ValueError(f"the fake Discourse already has a user {username!r}")
        user = {
            "id": self.next_id("user"),
            "username": username,
            "name": name,
            "email": email,
            "secondary_emails": [],
            "unconfirmed_emails": [],
            "active": active,
            "admin": admin,
            "moderator": False,
            "trust_level": 1,
            "created_at": NOW,
            "external_id": external_id,
        }
        self.users[username.lower()] = user
        return user

    def add_badge(
        self, name: str, *, multiple_grant: bool = False, enabled: bool = True, badge_type_id: int = 3
    ) -> dict[str, Any]:
        badge: dict[str, Any] = {
            "id": self.next_id("badge", start=100),
            "name": name,
            "description": "",
            "badge_type_id": badge_type_id,
            "multiple_grant": multiple_grant,
            "enabled": enabled,
            "listable": True,
            "grant_count": 0,
            "system": False,
        }
        self.badges[badge["id"]] = badge
        return badge

    def add_reply(self, topic_id: int, username: str, raw: str) -> dict[str, Any]:
        """A learner's reply, as if posted in Discourse."""
        return _Client(self)._post(self.topics[topic_id], username, raw)

    def call(self, method: str, *args: Any) -> None:
        self.calls.append((method, args))
        if self.failures:
            raise self.failures.pop(0)

    def called(self, method: str) -> list[tuple[Any, ...]]:
        """The arguments of every call of ``method``."""
        return [args for name, args in self.calls if name == method]

    # -- plugging in ----------------------------------------------------------------------

    def client(self) -> _Client:
        return _Client(self)

    @contextmanager
    def installed(self) -> Iterator[FakeDiscourse]:
        """Every Discourse source talks to this fake while the block runs."""
        module_name, class_name, attribute = PATCH_TARGET
        try:
            owner = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise RuntimeError(
                f"cannot install the fake Discourse: {module_name}.{class_name} is not there ({exc}); "
                "use FakeDiscourse.client() directly"
            ) from exc
        original = owner.__dict__.get(attribute)
        setattr(owner, attribute, lambda integration, *args, **kwargs: _Client(self))
        try:
            yield self
        finally:
            if original is None:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)


def _refused(message: str, status: int) -> DiscourseRefused:
    return DiscourseRefused(f"the fake Discourse refused: {message}", status=status)


class _Client:
    """Every :class:`DiscourseClient` method, answered from the fake."""

    def __init__(self, fake: FakeDiscourse) -> None:
        self.fake = fake

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pass

    # -- the site -------------------------------------------------------------------------

    def site(self) -> dict[str, Any]:
        self.fake.call("site")
        return {
            "categories": [dict(c) for c in self.fake.categories.values()],
            "groups": [{"id": g["id"], "name": g["name"]} for g in self.fake.groups.values()],
            "default_archetype": "regular",
        }

    def about(self) -> dict[str, Any]:
        self.fake.call("about")
        return {"title": "Fake forum", "version": self.fake.version, "stats": {}}

    # -- categories -----------------------------------------------------------------------

    def categories(self) -> list[dict[str, Any]]:
        self.fake.call("categories")
        return [dict(c) for c in self.fake.categories.values()]

    def category(self, category_id: Any) -> dict[str, Any] | None:
        self.fake.call("category", category_id)
        found = self.fake.categories.get(_int(category_id))
        return dict(found) if found else None

    def create_category(
        self,
        name: str,
        *,
        color: str = "0088CC",
        text_color: str = "FFFFFF",
        slug: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        self.fake.call("create_category", name)
        if not name.strip():
            raise _refused("Name can't be blank", 422)
        if any(c["name"].lower() == name.lower() for c in self.fake.categories.values()):
            raise _refused("Category Name has already been taken", 422)
        slug = slug or _slug(name)
        if any(c["slug"] == slug for c in self.fake.categories.values()):
            raise _refused("Slug is already in use", 422)
        category: dict[str, Any] = {
            "id": self.fake.next_id("category", start=10),
            "name": name,
            "slug": slug,
            "color": color,
            "text_color": text_color,
            "description": description,
            "topic_count": 0,
            "post_count": 0,
            "read_restricted": False,
            "parent_category_id": None,
        }
        self.fake.categories[category["id"]] = category
        return dict(category)

    def update_category(self, category_id: Any, *, name: str | None = None, **fields: Any) -> dict[str, Any]:
        self.fake.call("update_category", category_id, name, tuple(sorted(fields.items())))
        category = self._category(category_id)
        if name is not None:
            if any(
                c["name"].lower() == name.lower() and c["id"] != category["id"]
                for c in self.fake.categories.values()
            ):
                raise _refused("Category Name has already been taken", 422)
            category["name"] = name
        category.update({k: v for k, v in fields.items() if v is not None})
        return dict(category)

    def category_topics(self, category_id: Any) -> Iterator[dict[str, Any]]:
        self.fake.call("category_topics", category_id)
        key = self._category(category_id)["id"]
        for topic in list(self.fake.topics.values()):
            if topic["category_id"] == key:
                yield self._listed(topic)

    def _category(self, category_id: Any) -> dict[str, Any]:
        found = self.fake.categories.get(_int(category_id))
        if found is None:
            raise _refused(f"no category {category_id}", 404)
        return found

    # -- topics ---------------------------------------------------------------------------

    def topic(self, topic_id: Any) -> dict[str, Any] | None:
        self.fake.call("topic", topic_id)
        found = self.fake.topics.get(_int(topic_id))
        return self._view(found) if found else None

    def topic_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        self.fake.call("topic_by_external_id", external_id)
        for topic in self.fake.topics.values():
            if topic.get("external_id") and topic["external_id"].lower() == str(external_id).lower():
                return self._view(topic)
        return None

    def create_topic(
        self, *, title: str, raw: str, category_id: Any, external_id: str | None = None
    ) -> dict[str, Any]:
        self.fake.call("create_topic", title, category_id, external_id)
        if not title.strip():
            raise _refused("Title can't be blank", 422)
        if not raw.strip():
            raise _refused("Body can't be blank", 422)
        category = self.fake.categories.get(_int(category_id))
        if category is None:
            raise _refused("Category can't be blank", 422)
        if external_id is not None:
            if len(external_id) > 50:
                raise _refused("External ID is too long (maximum is 50 characters)", 422)
            if any(
                (t.get("external_id") or "").lower() == external_id.lower() for t in self.fake.topics.values()
            ):
                raise _refused("External ID has already been taken", 422)
        topic = {
            "id": self.fake.next_id("topic", start=100),
            "title": title,
            "fancy_title": title,
            "slug": _slug(title),
            "category_id": category["id"],
            "external_id": external_id,
            "closed": False,
            "archived": False,
            "visible": True,
            "pinned": False,
            "created_at": NOW,
            "user_id": None,
        }
        self.fake.topics[topic["id"]] = topic
        self.fake.posts[topic["id"]] = []
        category["topic_count"] += 1
        return self._post(topic, "system", raw)

    def update_topic(
        self, topic_id: Any, *, title: str | None = None, category_id: Any = None
    ) -> dict[str, Any]:
        self.fake.call("update_topic", topic_id, title, category_id)
        topic = self._topic(topic_id)
        if category_id is not None:
            if _int(category_id) not in self.fake.categories:
                raise _refused("category not found", 422)
            topic["category_id"] = _int(category_id)
        if title is not None:
            if not title.strip():
                raise _refused("Title can't be blank", 422)
            topic.update(title=title, fancy_title=title, slug=_slug(title))
        return {
            "id": topic["id"],
            "title": topic["title"],
            "fancy_title": topic["fancy_title"],
            "slug": topic["slug"],
            "posts_count": len(self.fake.posts[topic["id"]]),
        }

    def set_topic_status(self, topic_id: Any, *, status: str = "closed", enabled: bool = True) -> None:
        self.fake.call("set_topic_status", topic_id, status, enabled)
        topic = self._topic(topic_id)
        if status not in ("closed", "archived", "visible", "pinned", "pinned_globally"):
            raise _refused(f"invalid parameters: status {status!r}", 400)
        topic["pinned" if status == "pinned_globally" else status] = bool(enabled)

    def topic_posts(self, topic_id: Any) -> Iterator[dict[str, Any]]:
        self.fake.call("topic_posts", topic_id)
        topic = self._topic(topic_id)
        for post in list(self.fake.posts[topic["id"]]):
            yield dict(post)

    def _topic(self, topic_id: Any) -> dict[str, Any]:
        found = self.fake.topics.get(_int(topic_id))
        if found is None:
            raise _refused(f"no topic {topic_id}", 404)
        return found

    def _view(self, topic: dict[str, Any]) -> dict[str, Any]:
        posts = self.fake.posts[topic["id"]]
        return {
            **topic,
            "posts_count": len(posts),
            "post_stream": {"posts": [dict(p) for p in posts[:CHUNK]], "stream": [p["id"] for p in posts]},
        }

    def _listed(self, topic: dict[str, Any]) -> dict[str, Any]:
        posts = self.fake.posts[topic["id"]]
        return {
            **{k: v for k, v in topic.items() if k != "user_id"},
            "posts_count": len(posts),
            "reply_count": max(0, len(posts) - 1),
            "last_posted_at": posts[-1]["created_at"] if posts else None,
        }

    def _post(self, topic: dict[str, Any], username: str, raw: str) -> dict[str, Any]:
        posts = self.fake.posts[topic["id"]]
        user = self.fake.users.get(username.lower())
        post = {
            "id": self.fake.next_id("post", start=1000),
            "topic_id": topic["id"],
            "topic_slug": topic["slug"],
            "post_number": len(posts) + 1,
            "username": user["username"] if user else username,
            "user_id": user["id"] if user else -1,
            "raw": raw,
            "cooked": f"<p>{raw}</p>",
            "created_at": NOW,
            "updated_at": NOW,
        }
        posts.append(post)
        return dict(post)

    # -- groups ---------------------------------------------------------------------------

    def group(self, name: str) -> dict[str, Any] | None:
        self.fake.call("group", name)
        found = self.fake.groups.get(name.lower())
        return self._group_view(found) if found else None

    def create_group(self, *, name: str, full_name: str = "", visibility_level: int = 0) -> dict[str, Any]:
        self.fake.call("create_group", name)
        if not re.fullmatch(r"[\w.\-]{3,60}", name):
            raise _refused("Name must be 3 to 60 letters, digits, dots, dashes or underscores", 422)
        if name.lower() in self.fake.groups or name.lower() in self.fake.users:
            raise _refused("Name has already been taken", 422)
        group = {
            "id": self.fake.next_id("group", start=40),
            "name": name,
            "full_name": full_name,
            "visibility_level": visibility_level,
            "automatic": False,
        }
        self.fake.groups[name.lower()] = group
        self.fake.members[name.lower()] = []
        return self._group_view(group)

    def group_members(self, name: str) -> Iterator[dict[str, Any]]:
        self.fake.call("group_members", name)
        if name.lower() not in self.fake.groups:
            raise _refused(f"no group {name!r}", 404)
        for username in list(self.fake.members[name.lower()]):
            user = self.fake.users[username]
            yield {"id": user["id"], "username": user["username"], "name": user["name"]}

    def add_group_members(
        self, group_id: Any, usernames: Iterable[str], *, group_name: str | None = None
    ) -> list[str]:
        wanted = _unique(usernames)
        self.fake.call("add_group_members", group_id, tuple(wanted))
        key = self._group_key(group_id)
        members = self.fake.members[key]
        todo = [u for u in wanted if u.lower() not in members]
        if not todo:
            return []
        known = [self.fake.users[u.lower()] for u in todo if u.lower() in self.fake.users]
        if not known:
            raise _refused("invalid parameters: usernames", 400)
        members += [u["username"].lower() for u in known]
        return [u["username"] for u in known]

    def remove_group_members(self, group_id: Any, usernames: Iterable[str]) -> list[str]:
        wanted = _unique(usernames)
        self.fake.call("remove_group_members", group_id, tuple(wanted))
        key = self._group_key(group_id)
        members = self.fake.members[key]
        if wanted and not any(u.lower() in self.fake.users for u in wanted):
            raise _refused("invalid parameters: usernames", 400)
        removed = [self.fake.users[u.lower()]["username"] for u in wanted if u.lower() in members]
        self.fake.members[key] = [m for m in members if m not in {u.lower() for u in removed}]
        return removed

    def _group_key(self, group_id: Any) -> str:
        for key, group in self.fake.groups.items():
            if group["id"] == _int(group_id):
                return key
        raise _refused(f"no group {group_id}", 404)

    def _group_view(self, group: dict[str, Any]) -> dict[str, Any]:
        return {**group, "user_count": len(self.fake.members[group["name"].lower()])}

    # -- badges ---------------------------------------------------------------------------

    def badges(self) -> list[dict[str, Any]]:
        self.fake.call("badges")
        return [dict(b) for b in self.fake.badges.values()]

    def user_badges(self, username: str) -> list[dict[str, Any]]:
        self.fake.call("user_badges", username)
        user = self._user(username)
        return [dict(ub) for ub in self.fake.user_badges if ub["user_id"] == user["id"]]

    def grant_badge(self, *, username: str, badge_id: Any, reason: str | None = None) -> dict[str, Any]:
        self.fake.call("grant_badge", username, badge_id)
        user = self._user(username)
        badge = self.fake.badges.get(_int(badge_id))
        if badge is None or not badge["enabled"]:
            raise _refused(f"no badge {badge_id}", 404)
        if not badge["multiple_grant"]:
            for held in self.fake.user_badges:
                if held["user_id"] == user["id"] and held["badge_id"] == badge["id"]:
                    return dict(held)
        granted = {
            "id": self.fake.next_id("user_badge"),
            "badge_id": badge["id"],
            "user_id": user["id"],
            "granted_at": NOW,
            "post_id": None,
            "reason": reason,
        }
        self.fake.user_badges.append(granted)
        badge["grant_count"] += 1
        return dict(granted)

    def mass_award(self, badge_id: Any, usernames: Iterable[str]) -> int:
        """``Admin::BadgesController#mass_award``: holders are skipped (no
        ``grant_existing_holders``), unknown usernames ignored; one request."""
        names = list(usernames)
        self.fake.call("mass_award", badge_id, tuple(names))
        badge = self.fake.badges.get(_int(badge_id))
        if badge is None:
            raise _refused("Invalid parameters", 400)
        if not badge["enabled"]:
            raise _refused(f"Badge {badge['name']} is disabled", 422)
        for name in names:
            user = self.fake.users.get(name.lower())
            if user is None or any(
                h["user_id"] == user["id"] and h["badge_id"] == badge["id"] for h in self.fake.user_badges
            ):
                continue
            self.fake.user_badges.append(
                {
                    "id": self.fake.next_id("user_badge"),
                    "badge_id": badge["id"],
                    "user_id": user["id"],
                    "granted_at": NOW,
                    "post_id": None,
                    "reason": None,
                }
            )
            badge["grant_count"] += 1
        return 1

    # -- users ----------------------------------------------------------------------------

    def user(self, username: str) -> dict[str, Any] | None:
        self.fake.call("user", username)
        found = self.fake.users.get(username.lower())
        return self._public(found) if found else None

    def user_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        self.fake.call("user_by_external_id", external_id)
        for user in self.fake.users.values():
            if user.get("external_id") is not None and str(user["external_id"]) == str(external_id):
                return self._public(user)
        return None

    def user_emails(self, username: str) -> dict[str, Any]:
        self.fake.call("user_emails", username)
        user = self._user(username)
        return {
            "email": user["email"],
            "secondary_emails": list(user["secondary_emails"]),
            "unconfirmed_emails": list(user["unconfirmed_emails"]),
            "associated_accounts": [],
        }

    def users(self) -> Iterator[dict[str, Any]]:
        self.fake.call("users")
        for user in list(self.fake.users.values()):
            if user["active"]:
                yield {k: v for k, v in user.items() if k not in ("external_id",)}

    def _user(self, username: str) -> dict[str, Any]:
        found = self.fake.users.get(str(username).lower())
        if found is None:
            raise _refused(f"no user {username!r}", 404)
        return found

    def _public(self, user: dict[str, Any]) -> dict[str, Any]:
        """``/u/{username}.json``'s ``user``: no email (it is read from ``/emails.json``)."""
        return {k: v for k, v in user.items() if k not in ("email", "secondary_emails", "unconfirmed_emails")}


def _int(value: Any) -> int:
    """An id as the fake keys it; -1 (no such thing) for what is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _unique(usernames: Iterable[str]) -> list[str]:
    if isinstance(usernames, str):
        usernames = [usernames]
    found: dict[str, str] = {}
    for username in usernames:
        text = str(username).strip()
        if text:
            found.setdefault(text.lower(), text)
    return list(found.values())
