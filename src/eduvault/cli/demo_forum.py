"""The demo's third part: a forum follows the Canvas course (a Discourse simulator).

The Canvas course of the second part gets a community: a category, a topic for its module
and a group of its learners who have a forum account (matched through DiscourseConnect's
external id; Kondwani has none, and waits). A module added in Canvas becomes a topic, a
course completed in Canvas grants the forum badge once, and a learner's post, signed by
Discourse, enters the change feed as a ``forum_post`` record.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rich.rule import Rule

from eduvault.integrations.discourse.simulator import DiscourseSimulator
from eduvault.integrations.models import Source
from eduvault.integrations.services import source_add, source_disable, source_point_to
from eduvault.pipeline.communities.models import Community, CommunityTopic
from eduvault.pipeline.communities.services import community_add, community_remove
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.inbox.services import event_receive
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.outbox.services import deliveries_run
from eduvault.pipeline.records.models import Record

SOURCE_NAME = "demo-forum"
API_KEY_BYTES = 24


class ForumDemo:
    def __init__(self, console: Any, err: Any, *, process: Callable[[], None]) -> None:
        self.console, self.err = console, err
        #: Hands the Canvas Live Events waiting to Edu Vault and works through the inbox.
        self.process = process
        self.webhooks: list[tuple[bytes, dict[str, str]]] = []

    def run(self, *, canvas: Any, world: dict[str, Any], course_key: str, canvas_source: str) -> None:
        out = self.console
        key, secret = secrets.token_urlsafe(API_KEY_BYTES), secrets.token_urlsafe(API_KEY_BYTES)
        learner, kondwani = world["students"]
        # Another run of the demo against this database gets forum ids of its own (a real
        # forum never gives an id twice; a simulator that starts afresh would).
        offset = 0 if not Source.objects.filter(name=SOURCE_NAME).exists() else (int(time.time()) % 100_000) * 1000
        with DiscourseSimulator(api_keys={key: "system"}, per_minute=600, id_offset=offset) as forum:
            forum.sink = self._keep
            forum.webhook("https://eduvault.invalid/api/v1/webhooks/demo-forum", secret)
            account = forum.add_user(
                learner.login_id, email=f"{learner.login_id}@school.mw", name=learner.name, external_id=str(learner.id)
            )
            badge = forum.add_badge("Completed Form 3 Mathematics")
            self._source(forum, key, secret, canvas_source)
            for earlier in Community.objects.filter(source__name=SOURCE_NAME).select_related("course"):
                # An earlier run's forum stopped with its simulator: its communities with it.
                community_remove(course_key=earlier.course.key, source_name=SOURCE_NAME, actor="demo")
            self.webhooks.clear()  # the forum's own news of the accounts made above

            out.print(Rule("A forum follows the course: Discourse"))
            community = community_add(
                course_key=course_key,
                source_name=SOURCE_NAME,
                topic_kind="topic",
                completion_badge=badge["id"],
                actor="demo",
            )
            with self.err.status("bringing the course's community in step", spinner="dots"):
                self._deliver()
            community = Community.objects.get(pk=community.pk)
            topics = [t.title for t in CommunityTopic.objects.filter(community=community)]
            out.print(
                f"A Discourse simulator is listening on {forum.base_url}. The course got category "
                f"{community.place_id} ({community.place_title!r}), a topic per module ({', '.join(map(repr, topics))}) "
                f"and group {community.group_name!r} with {', '.join(forum.members(community.group_name))} "
                f"(matched by DiscourseConnect's external id); {kondwani.name}, held in Canvas for an operator, "
                "is not in it until someone links him.",
                markup=False,
            )

            canvas.add_module(world["course"].id, "Geometry")
            self.process()
            waiting = Delivery.objects.filter(channel="community", status=Delivery.Status.PENDING).first()
            due = f" (due at {timezone.localtime(waiting.next_attempt_at):%H:%M})" if waiting else ""
            self._deliver(now=True)
            topics = [t.title for t in CommunityTopic.objects.filter(community=community, closed=False)]
            out.print(
                f"A teacher added the module 'Geometry' in Canvas: its Live Event re-read the course and the "
                f"topic went out in the background class's batch{due}; the demo does not wait out the "
                f"window. Topics now: {', '.join(map(repr, topics))}.",
                markup=False,
            )

            canvas.complete_course(world["course"].id, learner.id)
            self.process()
            self._deliver(now=True)
            self._deliver(now=True)  # and again: a badge is granted once
            held = [ub for ub in forum.user_badges_of(learner.login_id) if ub.badge_id == badge["id"]]
            out.print(
                f"{learner.name} completed the course in Canvas: the forum badge {badge['name']!r} was granted "
                f"{len(held)} time(s), whatever the retries.",
                markup=False,
            )

            topic = CommunityTopic.objects.filter(community=community, closed=False).order_by("pk").first()
            forum.post(account["username"], topic_id=int(topic.topic_id), raw="Is the discriminant always real?")
            forum.wait_for_webhooks(5)
            received = self._receive()
            self.process()
            post = Record.objects.filter(kind="forum_post", course=community.course).order_by("-pk").first()
            entry = FeedEntry.objects.filter(kind="forum_post").order_by("-cursor").first()
            if post is None or entry is None:
                out.print(f"[red]The learner's post did not reach the feed[/red] (webhooks received: {received})")
            else:
                out.print(
                    f"{learner.name} asked a question in {topic.title!r}: Discourse's signed webhook became "
                    f"forum_post record {post.pk} about {post.object}, at feed cursor {entry.cursor} "
                    f"(priority {entry.priority}).",
                    markup=False,
                )
        source_disable(name=SOURCE_NAME, reason="the demo's Discourse simulator has stopped; 'eduvault demo' starts it again")

    def _source(self, forum: DiscourseSimulator, key: str, secret: str, canvas_source: str) -> Source:
        values = {"api_key": key, "api_username": "system", "connect_ids": canvas_source, "per_minute": "600"}
        if Source.objects.filter(name=SOURCE_NAME).exists():
            source = source_point_to(name=SOURCE_NAME, base_url=forum.base_url, **values)
            source.webhook_secrets = [secret]
            source.save(update_fields=["webhook_secrets"])
            return source
        return source_add(
            platform="discourse", name=SOURCE_NAME, base_url=forum.base_url, webhook_secret=secret, **values
        )

    def _keep(self, body: bytes, headers: dict[str, str]) -> int:
        self.webhooks.append((body, headers))
        return 200

    def _receive(self) -> dict[str, int]:
        waiting, self.webhooks = self.webhooks, []
        received: dict[str, int] = {}
        for body, headers in waiting:
            event = headers.get("X-Discourse-Event", "?")
            received[event] = received.get(event, 0) + 1
            event_receive(source_name=SOURCE_NAME, body=body, headers=headers)
        return received

    def _deliver(self, *, now: bool = False) -> None:
        if now:  # what the window would send later, sent now
            Delivery.objects.filter(channel="community", status=Delivery.Status.PENDING).update(
                next_attempt_at=timezone.now() - timedelta(seconds=1)
            )
        for _ in range(10):
            if not deliveries_run(owner="demo"):
                return
