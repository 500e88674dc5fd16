"""An in-memory Open edX for unit tests: courses held as Blocks API responses, every call
recorded, failures scripted. No HTTP: the simulator (``simulator/``) is the faithful one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eduvault.integrations.base import FetchedCourse, StructureReader
from eduvault.integrations.openedx.integration import OpenEdx
from eduvault.integrations.openedx.normalize import normalize_blocks
from eduvault.kernel.errors import CourseNotFoundAtSource, EduVaultError


@dataclass
class FakeOpenEdx:
    #: course key -> a Blocks API response (``SimulatedCourse.blocks_response()``).
    courses: dict[str, Any] = field(default_factory=dict)
    #: (method, argument) of every call, in order.
    calls: list[tuple[str, str]] = field(default_factory=list)
    #: Raised, one per call, before answering (then the calls succeed again).
    failures: list[EduVaultError] = field(default_factory=list)

    def reader(self, source: Any) -> StructureReader:
        return _Reader(self)

    @contextmanager
    def installed(self) -> Iterator[FakeOpenEdx]:
        """Every Open edX source reads from this fake while the block runs."""
        original = OpenEdx.structure
        OpenEdx.structure = lambda integration: self.reader(integration.source)  # type: ignore[method-assign]
        try:
            yield self
        finally:
            OpenEdx.structure = original  # type: ignore[method-assign]

    def _call(self, method: str, argument: str) -> None:
        self.calls.append((method, argument))
        if self.failures:
            raise self.failures.pop(0)


class _Reader:
    def __init__(self, fake: FakeOpenEdx) -> None:
        self.fake = fake

    def fetch_course(self, course_key: str) -> FetchedCourse:
        self.fake._call("fetch_course", course_key)
        if course_key not in self.fake.courses:
            raise CourseNotFoundAtSource(f"the fake has no course {course_key!r}")
        tree = normalize_blocks(self.fake.courses[course_key])
        return FetchedCourse(key=course_key, title=tree[tree.root].title, tree=tree)

    def list_courses(self) -> Iterator[str]:
        self.fake._call("list_courses", "")
        yield from sorted(self.fake.courses)

    def close(self) -> None:
        pass
