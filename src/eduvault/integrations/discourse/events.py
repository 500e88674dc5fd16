"""Discourse webhook payloads as the work they ask for: posts become ``forum_post`` records,
profile changes ``profile`` records, badges granted in the forum ``badge`` records.

Discourse sends ``{"<type>": {...}}`` with the event's name in ``X-Discourse-Event`` and its
type in ``X-Discourse-Event-Type`` (``app/jobs/regular/emit_web_hook_event.rb``). A retry is a
new ``X-Discourse-Event-Id`` with the same body, so an event is known by what it is about:
the event, the object's id and its version or update time (or, where the payload has
neither, a digest of the payload).

A post names its category, not a course: its record's course is the category's (``<source>:
category:<id>``, linked to a course when a community is set up) and what it is about is its
topic (``topic:<id>``, linked to the course node the topic was made for). Posts by the API
user (Edu Vault's own topics) are Edu Vault's doing, not a learner's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from eduvault.cores.records.policy import KINDS
from eduvault.integrations.base import Arrival, PersonFacts, RecordFacts
from eduvault.kernel.errors import InvalidEvent

#: How much of a post's text a record keeps (the forum keeps the rest).
RAW_LIMIT = 2000


def category_key(source_name: str, category_id: Any) -> str:
    """The course key a forum category stands for, until it is linked to a course."""
    return f"{source_name}:category:{int(category_id)}"


def topic_object(topic_id: Any) -> str:
    return f"topic:{int(topic_id)}"


def parse_time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def person_of(user: Mapping[str, Any], *, connect_ids: str = "") -> PersonFacts:
    """A forum account: its id, username, email (verified once the account is active, as
    Discourse only activates confirmed addresses) and, where the forum signs people in with
    DiscourseConnect, the account elsewhere its ``external_id`` names."""
    user_id = user.get("id", user.get("user_id"))
    if user_id is None:
        raise InvalidEvent("a Discourse user without an id")
    external = user.get("external_id")
    vouched = f"{connect_ids}:{external}" if connect_ids and external not in (None, "") else ""
    email = user.get("email") if isinstance(user.get("email"), str) else ""
    active = user.get("active", True) is not False and not user.get("staged")
    return PersonFacts(
        external_id=str(int(user_id)),
        login=str(user.get("username") or ""),
        email=email,
        email_verified=bool(email) and active,
        name=str(user.get("name") or ""),
        vouched=vouched,
    )


def dedupe_key(event: str, body: Mapping[str, Any], raw: bytes) -> str:
    """What a delivery is about, the same for Discourse's retries of it."""
    (inner,) = body.values() if len(body) == 1 else (body,)
    if isinstance(inner, Mapping) and inner.get("id") is not None:
        version = inner.get("version") or inner.get("updated_at") or inner.get("granted_at")
        if version:
            return f"discourse:{event}:{inner['id']}:{version}"[:255]
    return f"discourse:{event}:{hashlib.sha256(raw).hexdigest()}"


# -- the parsers, one per event ---------------------------------------------------------------


class Context:
    def __init__(self, *, source_name: str, api_username: str, connect_ids: str) -> None:
        self.source_name = source_name
        self.api_username = api_username.lower()
        self.connect_ids = connect_ids


Parser = Callable[[Context, str, Mapping[str, Any]], RecordFacts | None]


def _post(context: Context, event: str, post: Mapping[str, Any]) -> RecordFacts | None:
    if str(post.get("username") or "").lower() == context.api_username:
        return None  # Edu Vault's own topic
    if post.get("category_id") is None or post.get("topic_id") is None:
        return None  # a private message: not a course's
    at = parse_time(post.get("updated_at")) or parse_time(post.get("created_at"))
    if at is None:
        raise InvalidEvent("a Discourse post without created_at or updated_at")
    raw = str(post.get("raw") or "")
    deleted = bool(post.get("deleted_at")) or bool(post.get("user_deleted")) or event == "post_destroyed"
    return RecordFacts(
        kind="forum_post",
        course_key=category_key(context.source_name, post["category_id"]),
        object=f"post:{context.source_name}:{int(post['id'])}",
        about=topic_object(post["topic_id"]),
        person=person_of({"id": post.get("user_id"), "username": post.get("username"), "name": post.get("name")}),
        fields={
            "topic": str(post.get("topic_title") or ""),
            "post_number": int(post.get("post_number") or 0),
            "raw": raw[:RAW_LIMIT],
            "words": len(raw.split()),
            "deleted": deleted,
            "created_at": post.get("created_at"),
        },
        at=at,
        links={
            "post_id": int(post["id"]),
            "topic_id": int(post["topic_id"]),
            "category_id": int(post["category_id"]),
            "url": str(post.get("post_url") or ""),
        },
        actor=f"discourse user {post.get('username') or post.get('user_id')}",
        title=str(post.get("topic_title") or "")[:300],
    )


def _profile(context: Context, event: str, user: Mapping[str, Any]) -> RecordFacts | None:
    if str(user.get("username") or "").lower() == context.api_username:
        return None
    fields: dict[str, Any] = {"name": str(user.get("name") or "")}
    if isinstance(user.get("email"), str) and user["email"]:
        fields["email"] = user["email"]
    for theirs, ours in (("bio_raw", "bio"), ("website", "website"), ("location", "location")):
        if isinstance(user.get(theirs), str):
            fields[ours] = user[theirs]
    if isinstance(user.get("avatar_template"), str):
        fields["avatar"] = user["avatar_template"]
    at = parse_time(user.get("updated_at")) or datetime.now(UTC).timestamp()
    return RecordFacts(
        kind="profile",
        course_key="",
        object="profile",
        person=person_of(user, connect_ids=context.connect_ids),
        fields=fields,
        at=at,
        links={"user_id": int(user["id"]), "username": str(user.get("username") or "")},
        actor=f"discourse user {user.get('username')}",
        title="profile",
    )


def _user_badge(context: Context, event: str, grant: Mapping[str, Any]) -> RecordFacts | None:
    badge_id, user_id = grant.get("badge_id"), grant.get("user_id")
    if badge_id is None or user_id is None:
        raise InvalidEvent("a Discourse user badge without badge_id and user_id")
    user = grant.get("user") if isinstance(grant.get("user"), Mapping) else {"id": user_id}
    at = parse_time(grant.get("granted_at")) or parse_time(grant.get("created_at"))
    if at is None:
        raise InvalidEvent("a Discourse user badge without granted_at")
    badge = grant.get("badge") if isinstance(grant.get("badge"), Mapping) else {}
    return RecordFacts(
        kind="badge",
        course_key="",
        object=f"badge:{context.source_name}:{int(badge_id)}",
        person=person_of({**user, "id": user.get("id", user_id)}, connect_ids=context.connect_ids),
        fields={"granted": True, "badge": str(badge.get("name") or badge_id), "count": int(grant.get("count") or 1)},
        at=at,
        links={"badge_id": int(badge_id), "user_badge_id": grant.get("id")},
        actor=f"discourse user {grant.get('granted_by_id') or 'system'}",
        title=str(badge.get("name") or f"badge {badge_id}")[:300],
    )


PARSERS: dict[str, tuple[str, Parser]] = {
    "post_created": ("post", _post),
    "post_edited": ("post", _post),
    "post_destroyed": ("post", _post),
    "post_recovered": ("post", _post),
    "user_created": ("user", _profile),
    "user_updated": ("user", _profile),
    "user_approved": ("user", _profile),
    "user_badge_granted": ("user_badge", _user_badge),
}


def parse_webhook(
    *, event: str, event_type: str, body: Any, raw: bytes, context: Context
) -> list[Arrival]:
    """The work one webhook delivery asks for ([] for ping and for events Edu Vault does not
    follow: answered, so Discourse neither retries nor deactivates the hook)."""
    if not isinstance(body, Mapping):
        raise InvalidEvent("a Discourse webhook body is a JSON object")
    if event == "ping" or event_type == "ping":
        return []
    wanted = PARSERS.get(event)
    if wanted is None:
        return []
    root, parse = wanted
    inner = body.get(root)
    if not isinstance(inner, Mapping):
        raise InvalidEvent(f"a Discourse {event} event without its {root!r} object")
    try:
        fact = parse(context, event, inner)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"a Discourse {event} event without what it needs: {exc}") from None
    if fact is None:
        return []
    return [
        Arrival(
            event_id=dedupe_key(event, body, raw),
            type=f"discourse.{event}",
            subject="record",
            subject_key=f"{fact.kind}:{fact.course_key}/{fact.object}/{fact.person.external_id}"[:255],
            payload={"records": [fact.to_json()]},
            priority=KINDS[fact.kind],
            time=datetime.fromtimestamp(fact.at, tz=UTC),
        )
    ]
