"""A Canvas course (course, modules with their items, assignments) -> canonical course tree.

Pure Python: no HTTP, no Django. The input is what the REST API answers (see
:class:`~eduvault.integrations.canvas.client.CanvasClient`): ``GET /courses/:id``,
``GET /courses/:id/modules?include[]=items&include[]=content_details`` (with the items of
modules too large to inline read from ``items_url``) and ``GET /courses/:id/assignments``.

- the course is the root (external id ``key``, title its ``name``, ``start`` its ``start_at``);
- each module is a ``topic`` (``module:<id>``, ordered by its ``position``; ``start`` its
  ``unlock_at``);
- each module item is an ``activity`` (``item:<id>``, ordered by its ``position``), SubHeaders
  included where they stand, ``block_type`` its Canvas ``type`` (Assignment, Quiz, Discussion,
  Page, File, SubHeader, ExternalUrl, ExternalTool). An item backed by an assignment (an
  Assignment by its ``content_id``, a Quiz by the assignment's ``quiz_id``, a graded
  Discussion by the assignment's ``discussion_topic``) takes its ``points_possible`` as
  ``weight``, its ``due_at`` as ``due``, and ``graded: true`` when it is worth points and its
  ``grading_type`` is not ``not_graded``. Without its assignment an item falls back to the
  item's ``content_details`` for ``weight`` and ``due`` and is not marked graded.

Deleted modules and items (``workflow_state: "deleted"``) are left out; unpublished ones are
kept, with ``published: false``. ``graded``, ``due`` and ``start`` are inherited fields in
the canonical tree, so each is stored only where it is set (``graded`` only when true).

Some attributes (:data:`OPTIONAL_FIELDS`: ``weight``, ``published``, ``content_id``,
``indent``, ``grading_type``) are kept only on kinds whose handler declares them; a kind that
does not simply goes without them (and a change to those alone is then no change to the tree).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from eduvault.cores.coursetree.kinds import handler_for
from eduvault.cores.coursetree.tree import MAX_NODES, CourseTree, Node, gc_paused, link
from eduvault.kernel.errors import InvalidStructure

#: Canvas level or module item type -> canonical kind. ``item`` is the default for any
#: item type not named; a map may also name an item type (``{"SubHeader": "unit"}``).
DEFAULT_KIND_MAP: dict[str, str] = {"course": "course", "module": "topic", "item": "activity"}

#: Attributes kept only where the kind's handler declares them (``weight`` is declared for
#: activities only; the others, for now, by no kind).
OPTIONAL_FIELDS = ("weight", "published", "content_id", "indent", "grading_type")

#: Item types whose content may be an assignment.
_GRADABLE = ("Assignment", "Quiz", "Discussion")


def normalize_document(document: Any, *, key: str, kind_map: Mapping[str, str] | None = None) -> CourseTree:
    """Normalize a saved course document ``{"course": {...}, "modules": [...],
    "assignments": [...]}`` (parsed, or its JSON text); ``assignments`` may be left out."""
    if isinstance(document, (bytes, str)):
        try:
            document = orjson.loads(document)
        except orjson.JSONDecodeError as exc:
            raise InvalidStructure(f"the Canvas document is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidStructure("the Canvas document is not a JSON object with course and modules")
    if "course" not in document or "modules" not in document:
        raise InvalidStructure("the Canvas document needs both course and modules")
    assignments = document.get("assignments")
    return normalize_course(
        document["course"],
        document["modules"],
        [] if assignments is None else assignments,
        key=key,
        kind_map=kind_map,
    )


def normalize_course(
    course: Any,
    modules: Any,
    assignments: Any,
    *,
    key: str,
    kind_map: Mapping[str, str] | None = None,
) -> CourseTree:
    """Validate a Canvas course and return its canonical tree.

    Raises :class:`InvalidStructure` naming the offending module or item (missing or
    duplicate ids, items that are not a list, more than ``MAX_NODES`` nodes, fields of the
    wrong type); nothing is returned in that case.
    """
    kinds = {**DEFAULT_KIND_MAP, **(kind_map or {})}
    if not isinstance(key, str) or not key:
        raise InvalidStructure("the course needs a key (its external id)")
    if not isinstance(course, dict):
        raise InvalidStructure("the course is not a JSON object")
    if not isinstance(modules, list):
        raise InvalidStructure("modules must be a list")
    if not isinstance(assignments, list):
        raise InvalidStructure("assignments must be a list")
    size = 1 + len(modules) + sum(len(m["items"]) for m in modules if isinstance(m, dict) and _is_list(m))
    if size > MAX_NODES:
        raise InvalidStructure(
            f"the course has {size:,} modules and items; at most {MAX_NODES:,} are accepted"
        )

    with gc_paused():
        gradable = _assignments_by_content(assignments)
        declared: dict[str, Any] = {}

        def fields_for(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
            names = declared.get(kind)
            if names is None:
                names = declared[kind] = handler_for(kind).fields
            return {k: v for k, v in fields.items() if k not in OPTIONAL_FIELDS or k in names}

        title = course.get("name")
        if title is None:
            title = course.get("course_code") or ""
        root_fields: dict[str, Any] = {"title": title, "block_type": "course"}
        if course.get("start_at") is not None:
            root_fields["start"] = course["start_at"]
        root = Node(key, kinds["course"], fields_for(kinds["course"], root_fields), [])
        nodes: dict[str, Node] = {key: root}
        module_of_item: dict[str, Any] = {}

        for module in _ordered(modules, "module"):
            module_id = module["id"]
            node_id = f"module:{module_id}"
            if node_id in nodes:
                raise InvalidStructure(f"module {module_id!r} appears twice")
            fields: dict[str, Any] = {
                "title": _title(module, "name", f"module {module_id!r}"),
                "block_type": "module",
            }
            if module.get("unlock_at") is not None:
                fields["start"] = module["unlock_at"]
            published = _published(module)
            if published is not None:
                fields["published"] = published
            items = module.get("items")
            if items is not None and not isinstance(items, list):
                raise InvalidStructure(f"module {module_id!r}: items must be a list")
            children: list[str] = []
            for item in _ordered(items or [], "item", module_id):
                item_id = item["id"]
                item_node = f"item:{item_id}"
                if item_node in nodes:
                    where = module_of_item.get(item_node)
                    if where == module_id:
                        raise InvalidStructure(f"item {item_id!r} appears twice in module {module_id!r}")
                    raise InvalidStructure(
                        f"item {item_id!r} appears in both module {where!r} and module {module_id!r}"
                    )
                item_type = item.get("type")
                if not isinstance(item_type, str) or not item_type:
                    raise InvalidStructure(f"item {item_id!r} in module {module_id!r} has no type")
                kind = kinds.get(item_type, kinds["item"])
                nodes[item_node] = Node(item_node, kind, fields_for(kind, _item_fields(item, gradable)), [])
                module_of_item[item_node] = module_id
                children.append(item_node)
            kind = kinds["module"]
            nodes[node_id] = Node(node_id, kind, fields_for(kind, fields), children)
            root.children.append(node_id)
        return link(key, nodes)


def _is_list(module: dict[str, Any]) -> bool:
    return isinstance(module.get("items"), list)


def _ordered(entries: list[Any], what: str, module_id: Any = None) -> list[dict[str, Any]]:
    """The modules or items that are not deleted, by Canvas ``position`` (ties, and entries
    without one, keep their order), each checked to be an object with an id."""
    where = "" if module_id is None else f" in module {module_id!r}"
    kept: list[tuple[float, int, dict[str, Any]]] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InvalidStructure(f"{what} #{index + 1}{where} is not a JSON object")
        entry_id = entry.get("id")
        if isinstance(entry_id, bool) or not isinstance(entry_id, (int, str)) or entry_id == "":
            label = entry.get("name") if what == "module" else entry.get("title")
            named = f" ({label!r})" if isinstance(label, str) else ""
            raise InvalidStructure(f"{what} #{index + 1}{named}{where} has no id")
        if entry.get("workflow_state") == "deleted":
            continue
        position = entry.get("position")
        if position is None:
            order = float("inf")
        elif isinstance(position, bool) or not isinstance(position, (int, float)):
            raise InvalidStructure(f"{what} {entry_id!r}{where}: position must be a number, not {position!r}")
        else:
            order = float(position)
        kept.append((order, index, entry))
    kept.sort(key=lambda t: (t[0], t[1]))
    return [entry for _, _, entry in kept]


def _title(entry: dict[str, Any], field: str, label: str) -> str:
    title = entry.get(field)
    if title is None:
        return ""
    if not isinstance(title, str):
        raise InvalidStructure(f"{label}: {field} must be a string, not {title!r}")
    return title


def _published(entry: dict[str, Any]) -> bool | None:
    published = entry.get("published")
    if entry.get("workflow_state") == "unpublished":
        return False
    return published if isinstance(published, bool) else None


def _item_fields(item: dict[str, Any], gradable: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    item_type = item["type"]
    fields: dict[str, Any] = {
        "title": _title(item, "title", f"item {item['id']!r}"),
        "block_type": item_type,
    }
    published = _published(item)
    if published is not None:
        fields["published"] = published
    content_id = item.get("content_id")
    if content_id is not None and not isinstance(content_id, bool):
        fields["content_id"] = str(content_id)
    indent = item.get("indent")
    if indent is not None:
        fields["indent"] = indent
    assignment = gradable.get((item_type, str(content_id))) if item_type in _GRADABLE else None
    if assignment is not None:
        points = assignment.get("points_possible")
        grading_type = assignment.get("grading_type")
        due = assignment.get("due_at")
        if grading_type is not None:
            fields["grading_type"] = grading_type
        if (
            isinstance(points, (int, float))
            and not isinstance(points, bool)
            and points > 0
            and grading_type != "not_graded"
        ):
            fields["graded"] = True
    else:
        details = item.get("content_details")
        details = details if isinstance(details, dict) else {}
        points, due = details.get("points_possible"), details.get("due_at")
    if points is not None:
        fields["weight"] = (
            float(points) if isinstance(points, int) and not isinstance(points, bool) else points
        )
    if due is not None:
        fields["due"] = due
    return fields


def _assignments_by_content(assignments: list[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(item type, content id) -> assignment, for Assignment, Quiz and Discussion items."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    seen: set[str] = set()
    for index, assignment in enumerate(assignments):
        if not isinstance(assignment, dict):
            raise InvalidStructure(f"assignment #{index + 1} is not a JSON object")
        assignment_id = assignment.get("id")
        if (
            isinstance(assignment_id, bool)
            or not isinstance(assignment_id, (int, str))
            or assignment_id == ""
        ):
            name = assignment.get("name")
            named = f" ({name!r})" if isinstance(name, str) else ""
            raise InvalidStructure(f"assignment #{index + 1}{named} has no id")
        if str(assignment_id) in seen:
            raise InvalidStructure(f"assignment {assignment_id!r} appears twice")
        seen.add(str(assignment_id))
        if assignment.get("workflow_state") == "deleted":
            continue
        found[("Assignment", str(assignment_id))] = assignment
        quiz_id = assignment.get("quiz_id")
        if quiz_id is not None:
            found[("Quiz", str(quiz_id))] = assignment
        topic = assignment.get("discussion_topic")
        if isinstance(topic, dict) and topic.get("id") is not None:
            found[("Discussion", str(topic["id"]))] = assignment
    return found
