"""A course as Open edX's modulestore holds it, editable from Python like an author in Studio.

Each block stores only the settings set on it; :meth:`SimulatedCourse.blocks_response`
renders the Course Blocks API response the way the LMS does, with inherited settings
(``graded``, ``due``, ``start``) reported on every descendant and null fields left out.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Settings a child inherits from its parent unless it sets its own (XBlock inheritance).
INHERITED = ("graded", "due", "start")
SETTINGS = ("graded", "format", "due", "start", "weight")


@dataclass
class Block:
    block_type: str
    display_name: str
    children: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


class SimulatedCourse:
    """One course run: ``course-v1:ORG+NUMBER+RUN`` and its blocks."""

    def __init__(self, org: str, number: str, run: str, title: str, **settings: Any) -> None:
        self.org, self.number, self.run = org, number, run
        self.course_key = f"course-v1:{org}+{number}+{run}"
        self.blocks: dict[str, Block] = {}
        self.root = self.usage_key("course", "course")
        self.blocks[self.root] = Block("course", title, settings=dict(settings))
        self._parent: dict[str, str] = {}
        #: bumped on every publish; the simulator reports it like a published version.
        self.version = 1

    # -- keys -------------------------------------------------------------------------

    def usage_key(self, block_type: str, block_id: str) -> str:
        return f"block-v1:{self.org}+{self.number}+{self.run}+type@{block_type}+block@{block_id}"

    @staticmethod
    def block_id(usage_key: str) -> str:
        return usage_key.rsplit("+block@", 1)[1]

    @property
    def title(self) -> str:
        return self.blocks[self.root].display_name

    # -- author edits -----------------------------------------------------------------

    def add(
        self,
        parent: str,
        block_type: str,
        display_name: str,
        *,
        index: int | None = None,
        block_id: str | None = None,
        **settings: Any,
    ) -> str:
        """Add a block under ``parent`` (at ``index``, last by default); return its usage key."""
        key = self.usage_key(block_type, block_id or secrets.token_hex(16))
        if key in self.blocks:
            raise ValueError(f"{key} already exists")
        siblings = self.blocks[parent].children
        siblings.insert(len(siblings) if index is None else index, key)
        self.blocks[key] = Block(block_type, display_name, settings=dict(settings))
        self._parent[key] = parent
        return key

    def rename(self, key: str, display_name: str) -> None:
        self.blocks[key].display_name = display_name

    def set(self, key: str, **settings: Any) -> None:
        """Set (or with None, clear) settings on one block."""
        own = self.blocks[key].settings
        for name, value in settings.items():
            if value is None:
                own.pop(name, None)
            else:
                own[name] = value

    def move(self, key: str, new_parent: str, index: int | None = None) -> None:
        if key == self.root or new_parent in self.subtree(key):
            raise ValueError("cannot move a block under itself")
        self.blocks[self.parent_of(key)].children.remove(key)
        siblings = self.blocks[new_parent].children
        siblings.insert(len(siblings) if index is None else index, key)
        self._parent[key] = new_parent

    def reorder(self, parent: str, order: Iterable[str]) -> None:
        order = list(order)
        if sorted(order) != sorted(self.blocks[parent].children):
            raise ValueError("reorder must list exactly the current children")
        self.blocks[parent].children = order

    def delete(self, key: str) -> None:
        self.blocks[self.parent_of(key)].children.remove(key)
        for gone in self.subtree(key):
            del self.blocks[gone]
            del self._parent[gone]

    def publish(self) -> None:
        self.version += 1

    # -- reading ----------------------------------------------------------------------

    def parent_of(self, key: str) -> str:
        return self._parent[key]

    def subtree(self, key: str) -> list[str]:
        out, stack = [], [key]
        while stack:
            k = stack.pop()
            out.append(k)
            stack.extend(self.blocks[k].children)
        return out

    def walk(self) -> Iterable[tuple[str, int]]:
        stack = [(self.root, 0)]
        while stack:
            key, depth = stack.pop()
            yield key, depth
            stack.extend((c, depth + 1) for c in reversed(self.blocks[key].children))

    def copy(self) -> SimulatedCourse:
        return copy.deepcopy(self)

    def blocks_response(
        self,
        base_url: str = "http://localhost:18000",
        requested_fields: Iterable[str] = ("children", "display_name", "type", *SETTINGS),
        return_type: str = "dict",
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """The Course Blocks API response for this course, as the LMS renders it."""
        requested = set(requested_fields)
        base = base_url.rstrip("/")
        out: dict[str, dict[str, Any]] = {}
        stack: list[tuple[str, dict[str, Any]]] = [(self.root, {"graded": False})]
        while stack:
            key, inherited = stack.pop()
            block = self.blocks[key]
            effective = {**inherited, **{k: v for k, v in block.settings.items() if k in INHERITED}}
            data: dict[str, Any] = {
                "id": key,
                "block_id": self.block_id(key),
                "lms_web_url": f"{base}/courses/{self.course_key}/jump_to/{key}",
                "legacy_web_url": f"{base}/courses/{self.course_key}/jump_to/{key}?experience=legacy",
                "student_view_url": f"{base}/xblock/{key}",
                "type": block.block_type,
                "display_name": block.display_name,
            }
            for name in SETTINGS:
                if name not in requested:
                    continue
                value = effective.get(name) if name in INHERITED else block.settings.get(name)
                if value is not None:
                    data[name] = value
            if "children" in requested and block.children:
                data["children"] = list(block.children)
            out[key] = data
            stack.extend((c, effective) for c in block.children)
        if return_type == "list":
            return list(out.values())
        return {"root": self.root, "blocks": out}
