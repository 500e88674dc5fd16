"""Event types the inbox accepts: a registry of what each type means and how urgent it is.

A type is registered with the function that reads, from a CloudEvent's ``data``, the key of
the course it concerns; every registered type is a trigger to re-read that course (events
are never applied as deltas: the platform's current state is the truth). The priority class
of each type is configuration (``EDUVAULT_EVENT_PRIORITIES``), with the type's default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eduvault.exceptions import InvalidInput

PRIORITIES = ("critical", "high", "background")


class UnknownEventType(InvalidInput):
    """This event type is not one Edu Vault accepts."""

    status = 422


class InvalidEvent(InvalidInput):
    """The event is not a valid CloudEvent of its type."""

    status = 422


class MalformedEvent(InvalidInput):
    """The body is not a CloudEvents 1.0 JSON object."""

    status = 400


@dataclass(frozen=True)
class EventType:
    name: str
    #: Reads the course key from the event's ``data``; raises InvalidEvent.
    course_key: Callable[[Any], str]
    default_priority: str = "background"


_TYPES: dict[str, EventType] = {}


def register_event_type(name: str, *, default_priority: str = "background") -> Callable:
    def decorate(course_key: Callable[[Any], str]) -> Callable[[Any], str]:
        if default_priority not in PRIORITIES:
            raise ValueError(f"unknown priority class {default_priority!r}")
        _TYPES[name] = EventType(name, course_key, default_priority)
        return course_key

    return decorate


def event_type(name: str) -> EventType:
    try:
        return _TYPES[name]
    except KeyError:
        raise UnknownEventType(
            f"unknown event type {name!r}; accepted types: {', '.join(sorted(_TYPES))}"
        ) from None


def priority_of(name: str, overrides: dict[str, str]) -> str:
    return overrides.get(name) or event_type(name).default_priority


def registered_types() -> list[str]:
    return sorted(_TYPES)


@dataclass(frozen=True)
class CloudEvent:
    """A validated CloudEvents 1.0 structured event."""

    id: str
    type: str
    source: str
    time: str | None
    data: Any
    course_key: str


def parse_cloud_event(body: Any) -> CloudEvent:
    """Validate a parsed CloudEvents 1.0 JSON object of a registered type."""
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
    course_key = kind.course_key(body.get("data"))
    return CloudEvent(body["id"], body["type"], body["source"], time, body.get("data"), course_key)
