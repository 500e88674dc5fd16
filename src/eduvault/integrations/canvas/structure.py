"""Reading Canvas courses: the course, its modules with their items, its assignments,
normalized; and its enrollments (with the users' logins and SIS ids), as records that come
with the structure."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from eduvault.integrations.base import FetchedCourse
from eduvault.integrations.canvas.client import CanvasClient
from eduvault.integrations.canvas.normalize import normalize_course
from eduvault.integrations.canvas.people import enrollment_facts
from eduvault.kernel.errors import InvalidInput


def course_id_of(source: Any, course_key: str) -> str:
    """The Canvas course id in a course key ``<source>:<id>`` (a bare id is taken as is)."""
    prefix = f"{source.name}:"
    raw = course_key[len(prefix) :] if course_key.startswith(prefix) else course_key
    if not raw.isdigit():
        raise InvalidInput(
            f"{course_key!r} is not a Canvas course of {source.name} (expected {prefix}<course id>)"
        )
    return raw


class CanvasStructure:
    def __init__(self, source: Any, client: CanvasClient) -> None:
        self.source = source
        self.client = client

    def fetch_course(self, course_key: str) -> FetchedCourse:
        course_id = course_id_of(self.source, course_key)
        key = f"{self.source.name}:{course_id}"
        t0 = time.perf_counter()
        course = self.client.course(course_id)
        modules = self.client.modules(course_id)
        assignments = self.client.assignments(course_id)
        t1 = time.perf_counter()
        tree = normalize_course(course, modules, assignments, key=key)
        t2 = time.perf_counter()
        records = enrollment_facts(
            key, course_id, self.client.enrollments(course_id), self.client.users(course_id)
        )
        t3 = time.perf_counter()
        return FetchedCourse(
            key=key,
            title=tree[tree.root].title,
            tree=tree,
            records=records,
            stats={
                "fetch_ms": int((t1 - t0) * 1000),
                "normalize_ms": int((t2 - t1) * 1000),
                "people_ms": int((t3 - t2) * 1000),
                "blocks": len(tree),
                "enrollments": len(records),
            },
        )

    def list_courses(self) -> Iterator[str]:
        for course in self.client.courses():
            yield f"{self.source.name}:{course['id']}"

    def close(self) -> None:
        self.client.close()
