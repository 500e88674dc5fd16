"""Driving the simulated forum from Python, as its people would in the browser, and its webhooks.

:class:`Forum` wraps :class:`~.state.ForumState` with the methods the demo and the tests call in
process (no HTTP): add people and badges, post and reply as a learner, edit, grant, and configure,
fault and watch the webhooks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from eduvault.integrations.discourse.simulator import serialize as ser
from eduvault.integrations.discourse.simulator import serialize_topics as tser
from eduvault.integrations.discourse.simulator.models import (
    Badge,
    Category,
    Group,
    Post,
    Topic,
    User,
    UserBadge,
)
from eduvault.integrations.discourse.simulator.rest import Reply
from eduvault.integrations.discourse.simulator.rules import Settings
from eduvault.integrations.discourse.simulator.state import ForumState
from eduvault.integrations.discourse.simulator.webhooks import (
    DISCOURSE_RETRY_DELAYS,
    Delivery,
    Event,
    Sink,
    WebhookSender,
)

VERSION = "3.4.3"


class Forum(ForumState):
    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        settings: Settings | None = None,
        retry_delays: Iterable[float] = DISCOURSE_RETRY_DELAYS,
        version: str = VERSION,
        title: str = "Edu Vault Community",
        description: str = "Where the course's learners meet",
        contact_email: str = "admin@example.edu",
        id_offset: int = 0,
    ) -> None:
        self.version = version
        self.title, self.description, self.contact_email = title, description, contact_email
        self.webhooks = WebhookSender(
            instance=lambda: self.base_url, version=version, retry_delays=retry_delays
        )
        super().__init__(
            clock=clock or time.time, emit=self.webhooks.emit, settings=settings or Settings(), id_offset=id_offset
        )
        self.created_at = self.clock()
        self._memo: dict[Any, tuple[float, Reply]] = {}
        self._memo_lock = threading.Lock()

    @property
    def base_url(self) -> str:  # overridden by the server
        return "http://localhost"

    # -- people, badges, content ---------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        email: str,
        name: str = "",
        external_id: str | None = None,
        admin: bool = False,
        moderator: bool = False,
    ) -> dict[str, Any]:
        """A person signs up (through DiscourseConnect when ``external_id`` is given): ``user_created``."""
        user = self.create_user(
            username, email=email, name=name, external_id=external_id, admin=admin, moderator=moderator
        )
        with self.lock:
            return ser.user(self, user, admin_view=True, webhook=True)

    def add_badge(
        self, name: str, *, multiple_grant: bool = False, enabled: bool = True, description: str = ""
    ) -> dict[str, Any]:
        badge = self.create_badge(
            name, multiple_grant=multiple_grant, enabled=enabled, description=description
        )
        return ser.badge(badge)

    def add_category(self, name: str, **fields: Any) -> dict[str, Any]:
        category = self.create_category(name, **fields)
        with self.lock:
            return ser.category(self, category)

    def new_topic(self, username: str, *, category_id: int, title: str, raw: str) -> dict[str, Any]:
        """A learner opens a topic: ``topic_created`` and ``post_created``; the first post answered."""
        post = self.create_post(self._person(username), raw=raw, title=title, category=category_id)
        with self.lock:
            return tser.post(self, post, include_raw=True)

    def post(
        self, username: str, *, topic_id: int, raw: str, reply_to_post_number: int | None = None
    ) -> dict[str, Any]:
        """A learner replies: ``post_created``."""
        post = self.create_post(
            self._person(username), raw=raw, topic_id=topic_id, reply_to_post_number=reply_to_post_number
        )
        with self.lock:
            return tser.post(self, post, include_raw=True)

    def edit_post(self, post_id: int, raw: str) -> dict[str, Any]:
        """Its author edits a post: a new version, ``post_edited``."""
        post = self.revise_post(post_id, raw)
        with self.lock:
            return tser.post(self, post, include_raw=True)

    def edit_profile(self, username: str, **fields: Any) -> dict[str, Any]:
        """A person edits their profile (name, email, title, bio_raw, …): ``user_updated``."""
        user = self.update_user(username, **fields)
        with self.lock:
            return ser.user(self, user, admin_view=True, webhook=True)

    def grant(self, username: str, badge_id: int, *, granted_by: str | None = None) -> dict[str, Any]:
        """An admin grants a badge in Discourse: ``user_badge_granted`` (once for a single-grant badge)."""
        granter = self._person(granted_by) if granted_by else self.system
        granted = self.grant_badge(self.badges[int(badge_id)], self._person(username), granted_by=granter)
        with self.lock:
            return ser.user_badge(self, granted)

    def join_group(self, group_name: str, *usernames: str) -> list[str]:
        group = self.group_named(group_name)
        if group is None:
            raise KeyError(group_name)
        return [u.username for u in self.add_members(group, [self._person(n) for n in usernames])]

    def _person(self, username: str) -> User:
        user = self.user_named(username)
        if user is None:
            raise KeyError(username)
        return user

    # -- lookups --------------------------------------------------------------------------------------

    def user(self, username: str) -> User:
        return self._person(username)

    def category(self, category_id: int) -> Category:
        return self.categories[int(category_id)]

    def topic(self, topic_id: int) -> Topic:
        return self.topics[int(topic_id)]

    def post_by_id(self, post_id: int) -> Post:
        return self.posts[int(post_id)]

    def topic_posts(self, topic_id: int) -> list[Post]:
        return [self.posts[i] for i in self.topic(topic_id).post_ids]

    def badge(self, badge_id: int) -> Badge:
        return self.badges[int(badge_id)]

    def group(self, group_id: int) -> Group:
        return self.groups[int(group_id)]

    def granted(self, username: str) -> list[UserBadge]:
        return self.user_badges_of(username)

    # -- API create memo ---------------------------------------------------------------------------------

    def memoized(self, key: Any, make: Callable[[], Reply]) -> Reply:
        """``DistributedMemoizer.memoize(signature, 120)``: the same API create within the window
        answers what the first one answered, without creating anything again."""
        now = self.clock()
        with self._memo_lock:
            hit = self._memo.get(key)
            if hit is not None and hit[0] > now:
                return Reply(hit[1].status, hit[1].body, dict(hit[1].headers))
            reply = make()
            self._memo[key] = (now + self.settings.api_create_memo_seconds, reply)
            return reply

    # -- webhooks -------------------------------------------------------------------------------------------

    def webhook(self, url: str, secret: str = "", *, events: Iterable[str] | None = None) -> None:
        """Send webhooks to ``url`` signed with ``secret``; ``events``: event names or types (None: all)."""
        self.webhooks.configure(url, secret, events)

    @property
    def sink(self) -> Sink | None:
        return self.webhooks.sink

    @sink.setter
    def sink(self, sink: Sink | None) -> None:
        self.webhooks.sink = sink

    @property
    def deliveries(self) -> list[Delivery]:
        with self.webhooks._cond:
            return list(self.webhooks.deliveries)

    @property
    def webhook_events(self) -> list[Event]:
        with self.webhooks._cond:
            return list(self.webhooks.emitted)

    def ping(self) -> None:
        """The admin's "Ping" button: ``X-Discourse-Event-Type: ping``, body ``{"ping":"OK"}``."""
        self.webhooks.emit(Event("ping", "ping", "OK"))

    def drop_next_webhooks(self, count: int = 1) -> None:
        self.webhooks.drop_next(count)

    def hold_webhooks(self) -> None:
        self.webhooks.hold()

    def release_webhooks(self, order: str = "original") -> None:
        self.webhooks.release(order)

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return self.webhooks.flush(timeout)
