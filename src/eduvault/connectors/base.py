"""The interface every connector implements, and the registry of connectors.

A connector is one module per source platform: its HTTP client, its webhook verification
(later) and its normalizer to the canonical tree. The sync services only see this
interface, so a connector is swappable (tests use an in-memory fake).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from eduvault.coursetree import CourseTree


@dataclass
class FetchedCourse:
    """A course structure read from a source and normalized."""

    key: str
    title: str
    tree: CourseTree
    #: The platform's own version or publish time, when it reports one.
    source_version: str = ""
    source_timestamp: datetime | None = None
    stats: dict[str, Any] = field(default_factory=dict)


class Connector(Protocol):
    platform: str

    def fetch_course(self, course_key: str) -> FetchedCourse: ...

    def list_courses(self) -> Iterator[str]: ...

    def close(self) -> None: ...


#: platform -> factory(source) -> Connector
_CONNECTORS: dict[str, Callable[[Any], Connector]] = {}


def register_connector(platform: str) -> Callable[[Callable[[Any], Connector]], Callable[[Any], Connector]]:
    def decorate(factory: Callable[[Any], Connector]) -> Callable[[Any], Connector]:
        _CONNECTORS[platform] = factory
        return factory

    return decorate


def connector_for(source: Any) -> Connector:
    """The connector for a registered :class:`~eduvault.connectors.models.Source`."""
    from eduvault.exceptions import InvalidInput

    try:
        factory = _CONNECTORS[source.platform]
    except KeyError:
        raise InvalidInput(f"no connector is registered for platform {source.platform!r}") from None
    return factory(source)
