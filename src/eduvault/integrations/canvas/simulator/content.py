"""Modules and module items, edited as an author would in Canvas's Modules page.

Canvas behaviours kept on purpose (instructure/canvas-lms ``app/models/context_module.rb``,
``app/models/content_tag.rb`` with acts_as_list, and the ``module_item_updated`` event doc):

- inserting or moving an item emits ``module_item_updated`` for that item only: Canvas shifts its
  siblings with ``update_all``, which fires no callbacks and so no events;
- deleting an item is a soft delete (``workflow_state: deleted``) that leaves a gap in positions;
- ``module_item_updated`` fires only when a field in its body changes (position, module,
  workflow_state): renaming or re-indenting an item emits nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eduvault.integrations.canvas.simulator import bodies
from eduvault.integrations.canvas.simulator.core import StateCore
from eduvault.integrations.canvas.simulator.models import ITEM_TYPES, Module, ModuleItem, parse_time


class Content(StateCore):
    # -- modules and items ----------------------------------------------------------------------

    def add_module(
        self,
        course_id: int,
        name: str,
        *,
        position: int | None = None,
        published: bool = True,
        unlock_at: str | datetime | None = None,
        require_sequential_progress: bool = False,
        prerequisite_module_ids: list[int] | None = None,
        actor_id: int | None = None,
    ) -> Module:
        course = self.course(course_id)
        with self._change(course, actor_id) as emit:
            live = course.visible_modules()
            position = position or (max((m.position for m in live), default=0) + 1)
            for other in live:  # acts_as_list insert_at: update_all, no events for the others
                if other.position >= position:
                    other.position += 1
            mod = Module(
                self._next_id("module"),
                course.id,
                name,
                position,
                "active" if published else "unpublished",
                parse_time(unlock_at),
                require_sequential_progress,
                list(prerequisite_module_ids or []),
            )
            course.modules[mod.id] = mod
            emit("module_created", bodies.module(mod))
        return mod

    def _update_module(self, course_id: int, module_id: int, actor_id: int | None, **fields: Any) -> Module:
        mod = self.module(course_id, module_id)
        with self._change(self.course(course_id), actor_id) as emit:
            before = bodies.module(mod)
            for key, value in fields.items():
                setattr(mod, key, value)
            if bodies.module(mod) != before:
                emit("module_updated", bodies.module(mod))
        return mod

    def rename_module(
        self, course_id: int, module_id: int, name: str, *, actor_id: int | None = None
    ) -> Module:
        return self._update_module(course_id, module_id, actor_id, name=name)

    def publish_module(self, course_id: int, module_id: int, *, actor_id: int | None = None) -> Module:
        return self._update_module(course_id, module_id, actor_id, workflow_state="active")

    def unpublish_module(self, course_id: int, module_id: int, *, actor_id: int | None = None) -> Module:
        return self._update_module(course_id, module_id, actor_id, workflow_state="unpublished")

    def delete_module(self, course_id: int, module_id: int, *, actor_id: int | None = None) -> Module:
        return self._update_module(course_id, module_id, actor_id, workflow_state="deleted")

    def add_item(
        self,
        course_id: int,
        module_id: int,
        *,
        type: str,
        title: str | None = None,
        content_id: int | None = None,
        page_url: str | None = None,
        external_url: str | None = None,
        new_tab: bool = False,
        indent: int = 0,
        position: int | None = None,
        completion_requirement: dict[str, Any] | None = None,
        published: bool | None = None,
        details: dict[str, Any] | None = None,
        actor_id: int | None = None,
    ) -> ModuleItem:
        if type not in ITEM_TYPES:
            raise ValueError(f"type must be one of {ITEM_TYPES}")
        course = self.course(course_id)
        mod = self.module(course_id, module_id)
        if type == "Assignment" and content_id is not None:
            target = course.assignments[int(content_id)]
            title = title or target.name
            published = target.published if published is None else published
        if title is None:
            raise ValueError("a module item needs a title")
        with self._change(course, actor_id) as emit:
            live = mod.visible_items()
            position = position or (max((i.position for i in live), default=0) + 1)
            for other in live:
                if other.position >= position:
                    other.position += 1
            item = ModuleItem(
                self._next_id("item"),
                mod.id,
                position,
                title,
                type,
                indent,
                content_id,
                page_url,
                external_url,
                new_tab,
                completion_requirement,
                "active" if published in (None, True) else "unpublished",
                dict(details or {}),
            )
            mod.items.append(item)
            emit("module_item_created", bodies.module_item(course.id, item))
        return item

    def update_item(
        self, course_id: int, item_id: int, *, actor_id: int | None = None, **fields: Any
    ) -> ModuleItem:
        """Change item fields; ``module_item_updated`` only when position or workflow_state change."""
        item = self.item(course_id, item_id)
        with self._change(self.course(course_id), actor_id) as emit:
            before = bodies.module_item(int(course_id), item)
            for key, value in fields.items():
                if not hasattr(item, key) or key in ("id", "module_id"):
                    raise AttributeError(key)
                setattr(item, key, value)
            if bodies.module_item(int(course_id), item) != before:
                emit("module_item_updated", bodies.module_item(int(course_id), item))
        return item

    def move_item(
        self,
        course_id: int,
        item_id: int,
        *,
        position: int,
        module_id: int | None = None,
        actor_id: int | None = None,
    ) -> ModuleItem:
        """Move an item to ``position`` (1-based) of its module, or of another module."""
        course = self.course(course_id)
        item = self.item(course_id, item_id)
        source = course.modules[item.module_id]
        target = course.modules[int(module_id)] if module_id is not None else source
        with self._change(course, actor_id) as emit:
            for other in source.visible_items():
                if other is not item and other.position > item.position:
                    other.position -= 1
            for other in target.visible_items():
                if other is not item and other.position >= position:
                    other.position += 1
            if target is not source:
                source.items.remove(item)
                target.items.append(item)
                item.module_id = target.id
            item.position = position
            emit("module_item_updated", bodies.module_item(course.id, item))
        return item

    def delete_item(self, course_id: int, item_id: int, *, actor_id: int | None = None) -> ModuleItem:
        return self.update_item(course_id, item_id, workflow_state="deleted", actor_id=actor_id)

    def publish_item(self, course_id: int, item_id: int, *, actor_id: int | None = None) -> ModuleItem:
        return self.update_item(course_id, item_id, workflow_state="active", actor_id=actor_id)

    def unpublish_item(self, course_id: int, item_id: int, *, actor_id: int | None = None) -> ModuleItem:
        return self.update_item(course_id, item_id, workflow_state="unpublished", actor_id=actor_id)
