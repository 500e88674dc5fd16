"""Open edX Course Blocks API response -> canonical course tree (pure Python, no Django).

The response is what ``GET /api/courses/v2/blocks/?course_id=…&all_blocks=true&depth=all``
returns: ``{"root": <usage key>, "blocks": {<usage key>: {...}, ...}}`` (or, with
``return_type=list``, a list of blocks). Each block has ``id``, ``type``, ``display_name``
and the requested fields; ``children`` only when it has any; fields whose value is null are
left out.

The Blocks API reports inherited settings (``graded``, ``due``, ``start``) on every
descendant of the block that sets them. The canonical tree keeps such a value only where it
differs from the parent's, so changing a subsection's due date is one change, not one per
unit and problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eduvault.cores.coursetree.kinds import INHERITED_FIELDS, handler_for
from eduvault.cores.coursetree.tree import (
    MAX_DEPTH,
    MAX_NODES,
    CourseTree,
    Node,
    check_fields,
    gc_paused,
    link,
)
from eduvault.kernel.errors import InvalidStructure

#: The fields Edu Vault asks the Blocks API for.
REQUESTED_FIELDS = ("children", "display_name", "type", "graded", "format", "due", "start", "weight")

#: Open edX block type -> canonical kind; any other type is an ``activity``.
DEFAULT_KIND_MAP: dict[str, str] = {
    "course": "course",
    "chapter": "topic",
    "sequential": "subtopic",
    "vertical": "unit",
}
DEFAULT_OTHER_KIND = "activity"


def normalize_blocks(
    response: Any,
    *,
    kind_map: Mapping[str, str] | None = None,
    other_kind: str = DEFAULT_OTHER_KIND,
) -> CourseTree:
    """Validate a Blocks API response and return its canonical tree.

    Raises :class:`InvalidStructure` (naming the offending block) for anything that is not
    a well-formed course tree; nothing is returned in that case.
    """
    kinds = {**DEFAULT_KIND_MAP, **(kind_map or {})}
    with gc_paused():
        root, blocks = _blocks_of(response)
        if len(blocks) > MAX_NODES:
            raise InvalidStructure(
                f"the course has {len(blocks):,} blocks; at most {MAX_NODES:,} are accepted"
            )
        walked = _walk(root, blocks, kinds, other_kind)
        if walked is None:
            # Not a tree: build the nodes as they are and let link() name every problem.
            nodes = {
                key: Node(key, "unit", {"title": ""}, list(_children(key, block)), hash="")
                for key, block in blocks.items()
            }
            link(root, nodes, validate_fields=False)
            raise InvalidStructure("the structure is not a tree")  # pragma: no cover
        tree, suspects = walked
        check_fields(tree, suspects)  # the handlers' full validation, for nodes that need it
    return tree


def _plain_checks(kind: str) -> tuple[Any, ...]:
    """For one kind, the classes each Open edX field may have to pass without a closer look
    (from the kind's handler), in the order title, block_type, format, weight, graded, due,
    start. A field the handler does not declare, or types with a predicate (timestamps),
    gets an empty set, so nodes that carry it go to the handler's full validation."""
    handler = handler_for(kind)
    plain = handler.plain_classes()
    names = ("title", "block_type", "format", "weight", "graded", "due", "start")
    checks = tuple(plain.get(name, frozenset()) for name in names)
    if set(handler.required) - {"title", "block_type"}:
        return (frozenset(),) * len(names)  # every node of this kind gets the full check
    return checks


def _children(key: str, block: Any) -> list[str]:
    if not isinstance(block, dict):
        raise InvalidStructure(f"block {key!r} is not a JSON object")
    children = block.get("children")
    if children is None:
        return []
    if not isinstance(children, list) or not all(isinstance(c, str) for c in children):
        raise InvalidStructure(f"block {key!r}: children must be a list of block ids")
    return children


def _walk(
    root: str, blocks: dict[str, Any], kinds: Mapping[str, str], other_kind: str
) -> tuple[CourseTree, list[str]] | None:
    """Build the canonical tree in one walk from the root, level by level (parents before
    children), or return None if the blocks do not form a tree: a child missing or seen
    twice, a block unreachable, or the tree too deep.

    Field types are checked on the way against each kind's handler; nodes that do not pass
    the quick check are returned as suspects for the handler's full validation.
    """
    nodes: dict[str, Node] = {}
    suspects: list[str] = []
    suspect = suspects.append
    checks_by_kind: dict[str, tuple[Any, ...]] = {}
    names = INHERITED_FIELDS
    block_of, kind_of, new_node = blocks.get, kinds.get, Node
    # One entry per parent: its key, its children, its effective graded/due/start.
    level: list[tuple[str | None, list[str], tuple[Any, Any, Any]]] = [(None, [root], (False, None, None))]
    depth = 0
    try:
        while level:
            if depth > MAX_DEPTH:
                return None
            below: list[tuple[str | None, list[str], tuple[Any, Any, Any]]] = []
            add = below.append
            for parent, children, inherited in level:
                for key in children:
                    if key in nodes:
                        return None
                    block = block_of(key)
                    if block.__class__ is not dict:
                        return None if block is None else _children(key, block)  # type: ignore[return-value]
                    get = block.get
                    if get("id", key) != key:
                        raise InvalidStructure(f"block {key!r} has a different id, {get('id')!r}")
                    block_type = get("type")
                    if block_type.__class__ is not str or not block_type:
                        raise InvalidStructure(f"block {key!r} has no type")
                    kind = kind_of(block_type, other_kind)
                    checks = checks_by_kind.get(kind)
                    if checks is None:
                        checks = checks_by_kind[kind] = _plain_checks(kind)
                    title = get("display_name")
                    if title is None:
                        title = ""
                    fields: dict[str, Any] = {"title": title, "block_type": block_type}
                    ok = title.__class__ in checks[0] and str in checks[1]
                    value = get("format")
                    if value is not None:
                        fields["format"] = value
                        ok = ok and value.__class__ in checks[2]
                    value = get("weight")
                    if value is not None:
                        if value.__class__ is int:
                            value = float(value)
                        fields["weight"] = value
                        ok = ok and value.__class__ in checks[3]
                    mine = (get("graded", False), get("due"), get("start"))
                    if mine != inherited:
                        for i in (0, 1, 2):
                            if mine[i] != inherited[i]:
                                fields[names[i]] = value = mine[i]
                                ok = ok and value.__class__ in checks[4 + i]
                    if not ok:
                        suspect(key)
                    grandchildren = get("children")
                    if grandchildren:
                        if grandchildren.__class__ is not list:
                            _children(key, block)
                        nodes[key] = new_node(key, kind, fields, grandchildren, parent)
                        add((key, grandchildren, mine))
                    else:
                        if grandchildren is not None and grandchildren.__class__ is not list:
                            _children(key, block)
                        nodes[key] = new_node(key, kind, fields, [], parent)
            level = below
            depth += 1
    except TypeError:  # an unhashable child id
        for key, block in blocks.items():
            _children(key, block)
        raise
    if len(nodes) != len(blocks):
        return None
    return CourseTree(root, nodes), suspects


def _blocks_of(response: Any) -> tuple[str, dict[str, Any]]:
    """(root, {key: block}) from either return_type of the Blocks API."""
    if isinstance(response, list):
        blocks: dict[str, Any] = {}
        root = None
        for i, block in enumerate(response):
            if not isinstance(block, dict) or not isinstance(block.get("id"), str):
                raise InvalidStructure(f"block #{i} of the list has no id")
            key = block["id"]
            if key in blocks:
                raise InvalidStructure(f"block {key!r} appears twice in the list")
            blocks[key] = block
            if block.get("type") == "course":
                if root is not None:
                    raise InvalidStructure(f"two course blocks: {root!r} and {key!r}")
                root = key
        if root is None:
            raise InvalidStructure("the list has no block of type course")
        return root, blocks
    if not isinstance(response, dict):
        raise InvalidStructure("the response is not a JSON object with root and blocks")
    root = response.get("root")
    blocks_in = response.get("blocks")
    if not isinstance(root, str) or not root:
        raise InvalidStructure("the response has no root")
    if isinstance(blocks_in, list):
        _, blocks = _blocks_of(blocks_in)
        if root not in blocks:
            raise InvalidStructure(f"the root {root!r} is missing from blocks")
        return root, blocks
    if not isinstance(blocks_in, dict):
        raise InvalidStructure("the response has no blocks object")
    if root not in blocks_in:
        raise InvalidStructure(f"the root {root!r} is missing from blocks")
    return root, blocks_in
