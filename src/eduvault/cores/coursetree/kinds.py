"""Kinds of nodes in the canonical course tree, each with a registered handler.

A handler says which fields a kind carries (the diff engine compares exactly these) and
how a node of that kind is validated. Adding a new kind of entity is one registration::

    @register("quiz")
    class QuizHandler(KindHandler):
        fields = {"title": str, "time_limit": int}

and nothing in the engine changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from eduvault.kernel.errors import InvalidStructure


def is_timestamp(value: Any) -> bool:
    """An ISO 8601 date-time string, as the platforms' APIs send them."""
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


#: A field type is a Python type or a predicate over the value.
FieldType = type | Callable[[Any], bool]

TYPE_NAMES: dict[Any, str] = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    is_timestamp: "an ISO 8601 date-time",
    is_number: "a number",
}


class KindHandler:
    """How one kind of node is compared and validated."""

    kind: str = ""
    #: field name -> type; the diff engine compares these fields, in this order.
    fields: Mapping[str, FieldType] = {"title": str}
    #: fields every node of this kind must have.
    required: tuple[str, ...] = ("title",)
    #: fields whose value may be None (set explicitly to "none" where a parent has a value).
    nullable: frozenset[str] = frozenset()

    def plain_classes(self) -> dict[str, frozenset[type]]:
        """field -> the classes its value may have without a closer look (a fast path:
        a node whose values all pass it, and that has a title, is valid)."""
        plain: dict[str, frozenset[type]] = {}
        for name, expected in self.fields.items():
            if expected is is_number:
                classes: set[type] = {int, float}
            elif isinstance(expected, type):
                classes = {expected}
            else:
                continue
            if name in self.nullable:
                classes.add(type(None))
            plain[name] = frozenset(classes)
        return plain

    def validate(self, node_id: str, fields: Mapping[str, Any]) -> str | None:
        """Return a problem with this node's fields, naming the node, or None if it is valid."""
        for name in self.required:
            if name not in fields:
                return f"{self.kind} {node_id!r} has no {name}"
        for name, value in fields.items():
            expected = self.fields.get(name)
            if expected is None:
                return f"{self.kind} {node_id!r} has field {name!r}, which {self.kind} nodes do not have"
            if value is None and name in self.nullable:
                continue
            ok = isinstance(value, expected) if isinstance(expected, type) else expected(value)
            if not ok or (expected is int and isinstance(value, bool)):
                wanted = TYPE_NAMES.get(expected, getattr(expected, "__name__", "valid"))
                return f"{self.kind} {node_id!r}: {name} must be {wanted}, not {value!r}"
        return None


_REGISTRY: dict[str, KindHandler] = {}


def register(kind: str) -> Callable[[type[KindHandler]], type[KindHandler]]:
    """Class decorator: register a handler for ``kind`` (replacing any earlier one)."""

    def decorate(cls: type[KindHandler]) -> type[KindHandler]:
        handler = cls()
        handler.kind = kind
        _REGISTRY[kind] = handler
        return cls

    return decorate


def handler_for(kind: str) -> KindHandler:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise InvalidStructure(f"no handler is registered for kind {kind!r}") from None


# The learning-platform fields every canonical kind carries. ``graded``, ``due`` and ``start``
# are inherited down the tree: a node stores them only where they differ from its parent.
LEARNING_FIELDS: dict[str, FieldType] = {
    "title": str,
    "block_type": str,
    "graded": bool,
    "format": str,
    "due": is_timestamp,
    "start": is_timestamp,
}
INHERITED_FIELDS: tuple[str, ...] = ("graded", "due", "start")


class LearningNodeHandler(KindHandler):
    fields = LEARNING_FIELDS
    nullable = frozenset({"due", "start", "format"})


@register("course")
class CourseHandler(LearningNodeHandler):
    pass


@register("topic")
class TopicHandler(LearningNodeHandler):
    #: Canvas modules may be unpublished.
    fields = {**LEARNING_FIELDS, "published": bool}


@register("subtopic")
class SubtopicHandler(LearningNodeHandler):
    pass


@register("unit")
class UnitHandler(LearningNodeHandler):
    pass


@register("activity")
class ActivityHandler(LearningNodeHandler):
    #: ``weight``: points (Open edX) or points possible (Canvas); the rest are Canvas module
    #: items' own: published, the content they show, their indent, how they are graded.
    fields = {
        **LEARNING_FIELDS,
        "weight": is_number,
        "published": bool,
        "content_id": str,
        "indent": int,
        "grading_type": str,
    }
    nullable = frozenset({"due", "start", "format", "weight"})
