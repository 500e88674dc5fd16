"""A course's community on Discourse: its category, a topic per node, a group of its
learners, its badges. Every operation looks before it creates (a category by name, a topic by
the ``external_id`` made from its node, a group by name, a person's badges when a grant may
have reached the forum already), so a retry never makes a second one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eduvault.integrations.base import PersonFacts, TopicSpec, TopicState
from eduvault.integrations.discourse.client import DiscourseClient
from eduvault.integrations.discourse.events import category_key, person_of, topic_object

#: Discourse's limit on a category's name (``Category`` validates 50 characters).
CATEGORY_NAME_LIMIT = 50


class DiscourseCommunity:
    def __init__(self, source: Any, client: DiscourseClient) -> None:
        self.source = source
        self.client = client

    def place_key(self, place_id: str) -> str:
        return category_key(self.source.name, place_id)

    def topic_object(self, topic_id: str) -> str:
        return topic_object(topic_id)

    def ensure_place(self, *, place_id: str, title: str, rename: bool = True) -> str:
        name = title.strip()[:CATEGORY_NAME_LIMIT] or "Course"
        category = self.client.category(place_id) if place_id else None
        if category is None:
            category = next(
                (c for c in self.client.categories() if str(c.get("name", "")).lower() == name.lower()), None
            )
        if category is None:
            category = self.client.create_category(name)
        elif rename and category.get("name") != name:
            self.client.update_category(category["id"], name=name)
        return str(category["id"])

    def ensure_topic(self, *, place_id: str, spec: TopicSpec, topic_id: str = "") -> TopicState:
        topic = self.client.topic(topic_id) if topic_id else None
        if topic is None:
            topic = self.client.topic_by_external_id(spec.external_id)
        if topic is None:
            post = self.client.create_topic(
                title=spec.title, raw=spec.body, category_id=int(place_id), external_id=spec.external_id
            )
            return TopicState(topic_id=str(post["topic_id"]), title=spec.title)
        changes: dict[str, Any] = {}
        if topic.get("title") != spec.title:
            changes["title"] = spec.title
        if str(topic.get("category_id")) != str(place_id):
            changes["category_id"] = int(place_id)
        if changes:
            self.client.update_topic(topic["id"], **changes)
        if topic.get("closed"):  # its node is back
            self.client.set_topic_status(topic["id"], status="closed", enabled=False)
        return TopicState(topic_id=str(topic["id"]), title=spec.title)

    def close_topic(self, *, topic_id: str) -> None:
        topic = self.client.topic(topic_id)
        if topic is not None and not topic.get("closed"):
            self.client.set_topic_status(topic_id, status="closed", enabled=True)

    def ensure_group(self, *, group_id: str, name: str, title: str) -> str:
        group = self.client.group(name)
        if group is None:
            group = self.client.create_group(name=name, full_name=title[:100])
        return str(group["id"])

    def add_members(self, *, group_id: str, group_name: str, usernames: Sequence[str]) -> list[str]:
        if not usernames:
            return []
        return list(self.client.add_group_members(int(group_id), usernames, group_name=group_name))

    def remove_members(self, *, group_id: str, group_name: str, usernames: Sequence[str]) -> list[str]:
        return list(self.client.remove_group_members(int(group_id), usernames)) if usernames else []

    def grant_badge(self, *, badge_id: str, usernames: Sequence[str]) -> int:
        # The mass award skips holders (a user_badges POST would grant a multiple_grant
        # badge again): one request for up to 50,000 people.
        return self.client.mass_award(int(badge_id), usernames) if usernames else 0

    def accounts(self) -> Iterator[PersonFacts]:
        connect_ids = self.source.setting("connect_ids") or ""
        api_user = (self.source.setting("api_username") or "").lower()
        for user in self.client.users():
            if str(user.get("username", "")).lower() == api_user or user.get("id", 0) <= 0:
                continue  # Edu Vault's own account, the system user
            yield person_of(user, connect_ids=connect_ids)

    def vouches(self) -> str:
        return self.source.setting("connect_ids") or ""

    def account_vouched(self, external_id: str) -> PersonFacts | None:
        user = self.client.user_by_external_id(external_id)
        if user is None:
            return None
        return person_of({**user, "external_id": external_id}, connect_ids=self.vouches())

    def close(self) -> None:
        self.client.close()
