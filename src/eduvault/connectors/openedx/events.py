"""The Open edX events Edu Vault accepts, and how each names its course.

- ``org.openedx.content_authoring.course.published.v1``: relayed by the Edu Vault plugin
  from Studio's ``course_published`` signal; ``data.course_key``.
- ``org.openedx.content_authoring.xblock.published.v1`` and ``…xblock.deleted.v1``: the
  event bus's block events; ``data.xblock_info`` = {usage_key, block_type, version}.
- ``org.openedx.content_authoring.course.catalog_info.changed.v1``: ``data.catalog_info``
  with ``course_key``.
"""

from __future__ import annotations

import re
from typing import Any

from eduvault.inbox.types import InvalidEvent, register_event_type

COURSE_PUBLISHED = "org.openedx.content_authoring.course.published.v1"
XBLOCK_PUBLISHED = "org.openedx.content_authoring.xblock.published.v1"
XBLOCK_DELETED = "org.openedx.content_authoring.xblock.deleted.v1"
CATALOG_INFO_CHANGED = "org.openedx.content_authoring.course.catalog_info.changed.v1"

COURSE_KEY = re.compile(r"^course-v1:([^+/\s:]+)\+([^+/\s:]+)\+([^+/\s:]+)$")
USAGE_KEY = re.compile(
    r"^block-v1:([^+/\s:]+)\+([^+/\s:]+)\+([^+/\s:]+)\+(?:[^+]+\+)*type@[^+]+\+block@[^+]+$"
)


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


@register_event_type(COURSE_PUBLISHED)
def _course_published(data: Any) -> str:
    if not isinstance(data, dict):
        raise InvalidEvent("data must be an object with course_key")
    return checked_course_key(data.get("course_key"), "data.course_key")


@register_event_type(XBLOCK_PUBLISHED)
@register_event_type(XBLOCK_DELETED)
def _xblock(data: Any) -> str:
    info = _object(data, "xblock_info")
    if not isinstance(info.get("block_type"), str):
        raise InvalidEvent("data.xblock_info.block_type must be a string")
    return course_key_of_usage_key(info.get("usage_key"))


@register_event_type(CATALOG_INFO_CHANGED)
def _catalog_info(data: Any) -> str:
    return checked_course_key(_object(data, "catalog_info").get("course_key"), "data.catalog_info.course_key")
