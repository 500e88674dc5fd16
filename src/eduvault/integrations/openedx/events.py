"""The Open edX events Edu Vault accepts, as CloudEvents 1.0, and the course each names.

- ``org.openedx.content_authoring.course.published.v1``: relayed by the Edu Vault plugin
  from Studio's ``course_published`` signal; ``data.course_key``.
- ``org.openedx.content_authoring.xblock.published.v1`` and ``…xblock.deleted.v1``: the
  event bus's block events; ``data.xblock_info`` = {usage_key, block_type, version}.
- ``org.openedx.content_authoring.course.catalog_info.changed.v1``: ``data.catalog_info``
  with ``course_key``.

Every accepted type is a trigger to re-read its course's structure (work on the subject
``course``); events are never applied as deltas: the platform's current state is the truth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from eduvault.integrations.base import Arrival
from eduvault.kernel.errors import InvalidEvent, MalformedEvent, UnknownEventType
from eduvault.kernel.registry import Registry

COURSE_PUBLISHED = "org.openedx.content_authoring.course.published.v1"
XBLOCK_PUBLISHED = "org.openedx.content_authoring.xblock.published.v1"
XBLOCK_DELETED = "org.openedx.content_authoring.xblock.deleted.v1"
CATALOG_INFO_CHANGED = "org.openedx.content_authoring.course.catalog_info.changed.v1"

COURSE_KEY = re.compile(r"^course-v1:([^+/\s:]+)\+([^+/\s:]+)\+([^+/\s:]+)$")
USAGE_KEY = re.compile(
    r"^block-v1:([^+/\s:]+)\+([^+/\s:]+)\+([^+/\s:]+)\+(?:[^+]+\+)*type@[^+]+\+block@[^+]+$"
)

#: The subject of every Open edX event: re-read a course's structure.
COURSE = "course"


@dataclass(frozen=True)
class EventType:
    name: str
    #: Reads the course key from the event's ``data``; raises InvalidEvent.
    course_key: Callable[[Any], str]
    default_priority: str = "background"


event_types: Registry[EventType] = Registry("Open edX event type")


def _accepts(
    *names: str, priority: str = "background"
) -> Callable[[Callable[[Any], str]], Callable[[Any], str]]:
    def decorate(course_key: Callable[[Any], str]) -> Callable[[Any], str]:
        for name in names:
            event_types.add(name, EventType(name, course_key, priority))
        return course_key

    return decorate


def course_key_of_usage_key(usage_key: Any) -> str:
    if not isinstance(usage_key, str):
        raise InvalidEvent("xblock_info.usage_key must be a block-v1 usage key string")
    match = USAGE_KEY.match(usage_key)
    if match is None:
        raise InvalidEvent(f"xblock_info.usage_key {usage_key!r} is not a block-v1 usage key")
    return "course-v1:" + "+".join(match.groups())


def checked_course_key(value: Any, where: str) -> str:
    if not isinstance(value, str) or not COURSE_KEY.match(value):
        raise InvalidEvent(f"{where} must be a course key such as course-v1:Org+Number+Run, not {value!r}")
    return value


def _object(data: Any, name: str) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get(name), dict):
        raise InvalidEvent(f"data.{name} must be an object")
    return data[name]


@_accepts(COURSE_PUBLISHED)
def _course_published(data: Any) -> str:
    if not isinstance(data, dict):
        raise InvalidEvent("data must be an object with course_key")
    return checked_course_key(data.get("course_key"), "data.course_key")


@_accepts(XBLOCK_PUBLISHED, XBLOCK_DELETED)
def _xblock(data: Any) -> str:
    info = _object(data, "xblock_info")
    if not isinstance(info.get("block_type"), str):
        raise InvalidEvent("data.xblock_info.block_type must be a string")
    return course_key_of_usage_key(info.get("usage_key"))


@_accepts(CATALOG_INFO_CHANGED)
def _catalog_info(data: Any) -> str:
    return checked_course_key(_object(data, "catalog_info").get("course_key"), "data.catalog_info.course_key")


def event_type(name: str) -> EventType:
    try:
        return event_types.get(name)
    except KeyError:
        raise UnknownEventType(
            f"unknown event type {name!r}; accepted types: {', '.join(event_types)}"
        ) from None


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def parse_cloud_event(body: Any) -> Arrival:
    """A parsed CloudEvents 1.0 JSON object of an accepted type, as the work it asks for."""
    if not isinstance(body, dict):
        raise MalformedEvent("the body must be a CloudEvents 1.0 JSON object")
    if body.get("specversion") != "1.0":
        raise MalformedEvent(f'specversion must be "1.0", not {body.get("specversion")!r}')
    for attribute in ("id", "source", "type"):
        value = body.get(attribute)
        if not isinstance(value, str) or not value.strip():
            raise MalformedEvent(f"the CloudEvent needs a non-empty string {attribute!r}")
    if len(body["id"]) > 200:
        raise MalformedEvent("the CloudEvent id is longer than 200 characters")
    time = body.get("time")
    if time is not None and not isinstance(time, str):
        raise MalformedEvent("the CloudEvent time must be an RFC 3339 string")
    kind = event_type(body["type"])
    return Arrival(
        event_id=body["id"],
        type=body["type"],
        subject=COURSE,
        subject_key=kind.course_key(body.get("data")),
        payload=body,
        priority=kind.default_priority,
        time=_time(time),
    )
