"""The canonical course tree: plain data, no Django.

A tree is a dict of :class:`Node` keyed by external id, plus the id of the root. Every node
knows its parent and its ordered children. :func:`link` turns a bag of nodes (what a
connector's normalizer produces) into a validated tree, rejecting anything that is not a
tree with a message that names the offending node.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

import orjson

from eduvault.cores.coursetree.kinds import KindHandler, handler_for
from eduvault.kernel.errors import InvalidStructure

MAX_DEPTH = 32
MAX_NODES = 200_000
#: How many problems one rejection reports at most.
MAX_PROBLEMS = 20

_dumps = orjson.dumps
_SORT = orjson.OPT_SORT_KEYS
# SHA-256 (hardware-accelerated on current x86 and ARM CPUs), cut to 128 bits. Copying a
# fresh hasher is cheaper than constructing one per call.
_new_hash = hashlib.sha256().copy


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building or comparing large trees.

    They allocate hundreds of thousands of small objects, none in cycles; without this the
    collector re-scans the whole heap (the parsed JSON included) many times over.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _hexdigest(data: bytes) -> str:
    h = _new_hash()
    h.update(data)
    return h.hexdigest()[:32]


def content_hash(kind: str, fields: Mapping[str, Any]) -> str:
    """Hash of a node's own content (its kind and fields), 32 hex digits."""
    return _hexdigest(_dumps((kind, fields), option=_SORT))


class Node:
    """One node of the canonical tree. ``hash`` (its content hash) is computed on first use."""

    __slots__ = ("_hash", "children", "fields", "id", "kind", "parent")

    def __init__(
        self,
        id: str,
        kind: str,
        fields: dict[str, Any],
        children: list[str] | None = None,
        parent: str | None = None,
        hash: str | None = None,
    ) -> None:
        self.id = id
        self.kind = kind
        self.fields = fields
        self.children = children if children is not None else []
        self.parent = parent
        self._hash = hash

    @property
    def hash(self) -> str:
        if self._hash is None:
            self._hash = content_hash(self.kind, self.fields)
        return self._hash

    def touch(self) -> None:
        """Forget the cached content hash after changing kind or fields."""
        self._hash = None

    @property
    def title(self) -> str:
        return self.fields.get("title", "")

    def copy(self) -> Node:
        return Node(self.id, self.kind, dict(self.fields), list(self.children), self.parent, self._hash)

    def __repr__(self) -> str:
        return f"Node({self.id!r}, {self.kind!r}, {self.fields!r}, children={len(self.children)})"


#: A node as plain data: (id, kind, fields, children, parent, content hash or None).
Row = tuple[str, str, dict[str, Any], list[str], str | None, str | None]


class CourseTree:
    """A validated course tree. ``nodes`` holds every node with each parent before its
    children (preorder from :func:`link` and ``apply``, level order from a normalizer)."""

    __slots__ = ("_subtree_hashes", "nodes", "root")
    _subtree_hashes: dict[str, str] | None

    def __init__(self, root: str, nodes: dict[str, Node]) -> None:
        self.root = root
        self.nodes = nodes
        self._subtree_hashes: dict[str, str] | None = None

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.nodes

    def __getitem__(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def __eq__(self, other: object) -> bool:
        """Same root, same nodes with the same kinds, fields, parents and child order."""
        if not isinstance(other, CourseTree):
            return NotImplemented
        if self.root != other.root or self.nodes.keys() != other.nodes.keys():
            return False
        theirs = other.nodes
        for node_id, a in self.nodes.items():
            b = theirs[node_id]
            if (a.kind, a.parent, a.children, a.fields) != (b.kind, b.parent, b.children, b.fields):
                return False
        return True

    def copy(self) -> CourseTree:
        return CourseTree(self.root, {k: n.copy() for k, n in self.nodes.items()})

    def preorder(self, start: str | None = None) -> Iterator[tuple[Node, int]]:
        """Yield (node, depth) from ``start`` (the root by default), parents before children."""
        nodes = self.nodes
        stack = [(start or self.root, 0)]
        while stack:
            node_id, depth = stack.pop()
            node = nodes[node_id]
            yield node, depth
            stack.extend((c, depth + 1) for c in reversed(node.children))

    def subtree_hashes(self) -> dict[str, str]:
        """Hash of each inner node's whole subtree (ids, kinds, fields and order), computed
        once; leaves have no entry."""
        if self._subtree_hashes is None:
            self._subtree_hashes = _subtree_hashes(self)
        return self._subtree_hashes

    @property
    def has_subtree_hashes(self) -> bool:
        return self._subtree_hashes is not None

    def set_subtree_hashes(self, hashes: dict[str, str]) -> None:
        """Adopt subtree hashes computed earlier (a stored tree keeps them with its nodes)."""
        self._subtree_hashes = hashes

    def invalidate(self) -> None:
        self._subtree_hashes = None

    @property
    def hash(self) -> str:
        """The content hash of the whole course."""
        root = self.nodes[self.root]
        inner = self.subtree_hashes().get(self.root)
        return _hexdigest(_dumps((self.root, inner or (root.kind, root.fields)), option=_SORT))

    def to_rows(self) -> tuple[str, list[Row], dict[str, str] | None]:
        """The tree as plain data (root, rows in the tree's order, subtree hashes if known),
        cheap to send to another process (``marshal``, ``pickle``); :meth:`from_rows`
        rebuilds it exactly."""
        rows = [(n.id, n.kind, n.fields, n.children, n.parent, n._hash) for n in self.nodes.values()]
        return self.root, rows, self._subtree_hashes

    @classmethod
    def from_rows(
        cls, root: str, rows: list[Row], subtree_hashes: dict[str, str] | None = None
    ) -> CourseTree:
        with gc_paused():
            tree = cls(root, {row[0]: Node(*row) for row in rows})
        if subtree_hashes is not None:
            tree.set_subtree_hashes(subtree_hashes)
        return tree

    def to_nested(self, start: str | None = None) -> dict[str, Any]:
        """Nested JSON-ready objects: id, kind, title, attributes, children."""
        built: dict[str, dict[str, Any]] = {}
        order = [node for node, _ in self.preorder(start)]
        for node in reversed(order):
            attributes = {k: v for k, v in node.fields.items() if k != "title"}
            built[node.id] = {
                "id": node.id,
                "kind": node.kind,
                "title": node.title,
                "attributes": attributes,
                "children": [built.pop(c) for c in node.children],
            }
        return built[start or self.root]


def _subtree_hashes(tree: CourseTree) -> dict[str, str]:
    """Hash of every inner node's subtree: its kind, fields and child ids, and for each
    child its subtree hash (None for a leaf) plus its kind and fields. Leaves get no entry of
    their own (compare their content directly), which keeps this to one hash per inner node
    with the per-child work done by C-level maps."""
    nodes = tree.nodes
    out: dict[str, str] = {}
    hash_of, node_at = out.get, nodes.__getitem__
    # nodes are kept parents first, so reversed they come children first; a parent hashed
    # before one of its inner children would mean they were not, so check for that.
    for node in reversed(nodes.values()):
        children = node.children
        if children:
            if node.parent in out:
                return _subtree_hashes(CourseTree(tree.root, {n.id: n for n, _ in tree.preorder()}))
            kids = list(map(node_at, children))
            content = (
                node.kind,
                node.fields,
                children,
                list(map(hash_of, children)),
                list(map(_kind_of, kids)),
                list(map(_fields_of, kids)),
            )
            out[node.id] = _hexdigest(_dumps(content, option=_SORT))
    return out


_kind_of = attrgetter("kind")
_fields_of = attrgetter("fields")


def link(root: str, nodes: dict[str, Node], *, validate_fields: bool = True) -> CourseTree:
    """Validate that ``nodes`` form one tree under ``root``; set parents; return the tree.

    Rejects (with :class:`InvalidStructure`, every message naming the offending node):
    more than ``MAX_NODES`` nodes, a missing root, children missing from ``nodes``, a node
    listed as the child of two parents (or twice by one), cycles, nodes unreachable from the
    root, depth over ``MAX_DEPTH``, and nodes whose fields their kind's handler rejects.
    The input nodes are modified (their ``parent`` is set) only when the whole tree is valid.
    """
    if len(nodes) > MAX_NODES:
        raise InvalidStructure(f"the structure has {len(nodes):,} nodes; at most {MAX_NODES:,} are accepted")
    if root not in nodes:
        raise InvalidStructure(f"the root {root!r} is not among the nodes")

    problems: list[str] = []

    def problem(message: str) -> None:
        problems.append(message)
        if len(problems) >= MAX_PROBLEMS:
            raise InvalidStructure(problems)

    parent_of: dict[str, str] = {}
    second_parents: list[tuple[str, str]] = []
    for node_id, node in nodes.items():
        for child in node.children:
            if child not in nodes:
                problem(f"{node_id!r} lists child {child!r}, which is missing from the structure")
                continue
            first = parent_of.get(child)
            if first is None:
                parent_of[child] = node_id
            elif first == node_id:
                problem(f"{node_id!r} lists child {child!r} twice")
            else:
                second_parents.append((child, node_id))
    for child, other in second_parents:
        # A node listed under one of its own descendants is a cycle, not a second parent.
        path = [other]
        while path[-1] != child and path[-1] in parent_of and len(path) <= len(nodes):
            path.append(parent_of[path[-1]])
        if path[-1] == child:
            cycle = " -> ".join(repr(x) for x in [*reversed(path), child])
            problem(f"cycle: {cycle}")
        else:
            problem(f"{child!r} is listed as a child of both {parent_of[child]!r} and {other!r}")
    if root in parent_of:
        problem(f"cycle: the root {root!r} is listed as a child of {parent_of[root]!r}")
    if problems:
        raise InvalidStructure(problems)

    # Walk from the root, in preorder, checking depth and each node's fields.
    ordered: dict[str, Node] = {}
    too_deep = False
    stack = [(root, 0)]
    while stack:
        node_id, depth = stack.pop()
        node = nodes[node_id]
        if depth > MAX_DEPTH:
            too_deep = True
            problem(f"{node_id!r} is at depth {depth}; the deepest allowed is {MAX_DEPTH}")
            continue
        ordered[node_id] = node
        stack.extend((c, depth + 1) for c in reversed(node.children))

    if len(ordered) < len(nodes) and not too_deep:
        # Every node has at most one parent, so what the walk missed is orphans and cycles.
        # Follow parents up from each: either we come back around (a cycle) or reach an orphan.
        done: set[str] = set()
        for node_id in nodes:
            if node_id in ordered or node_id in done:
                continue
            path = [node_id]
            on_path = {node_id}
            up = parent_of.get(node_id)
            while up is not None and up not in on_path and up not in done:
                path.append(up)
                on_path.add(up)
                up = parent_of.get(up)
            done.update(path)
            if up is None:
                problem(f"{path[-1]!r} is not reachable from the root {root!r}")
            elif up in on_path:
                loop = path[path.index(up) :]
                cycle = " -> ".join(repr(x) for x in [*reversed(loop), loop[-1]])
                problem(f"cycle: {cycle}")
    if problems:
        raise InvalidStructure(problems)

    for child, parent in parent_of.items():
        nodes[child].parent = parent
    nodes[root].parent = None
    tree = CourseTree(root, ordered)
    if validate_fields:
        check_fields(tree)
    return tree


def check_fields(tree: CourseTree, node_ids: Iterable[str] | None = None) -> None:
    """Reject nodes whose fields their kind's handler does not accept (all nodes, or just
    ``node_ids``), naming each, at most ``MAX_PROBLEMS`` of them."""
    problems: list[str] = []
    handlers: dict[str, KindHandler] = {}
    fast: dict[str, tuple[dict[str, frozenset[type]], tuple[str, ...]]] = {}
    nodes = tree.nodes
    for node in nodes.values() if node_ids is None else map(nodes.__getitem__, node_ids):
        entry = fast.get(node.kind)
        if entry is None:
            handler = handlers[node.kind] = handler_for(node.kind)
            entry = fast[node.kind] = (handler.plain_classes(), handler.required)
        plain, required = entry
        fields = node.fields
        for name, value in fields.items():
            classes = plain.get(name)
            if classes is None or value.__class__ not in classes:
                break
        else:
            for name in required:
                if name not in fields:
                    break
            else:
                continue
        message = handlers[node.kind].validate(node.id, fields)
        if message:
            problems.append(message)
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise InvalidStructure(problems)


class Positions:
    """Each node's index among its siblings in ``tree``, indexed per parent on first use."""

    def __init__(self, tree: CourseTree | None) -> None:
        self._nodes = tree.nodes if tree is not None else {}
        self._by_parent: dict[str, dict[str, int]] = {}

    def __call__(self, node: Node) -> int:
        if node.parent is None:
            return 0
        index = self._by_parent.get(node.parent)
        if index is None:
            siblings = self._nodes[node.parent].children
            index = self._by_parent[node.parent] = {c: i for i, c in enumerate(siblings)}
        return index[node.id]

    def of_children(self, parent: str) -> dict[str, int]:
        """child -> index for one parent's children (empty if the parent is not in the tree)."""
        if parent not in self._nodes:
            return {}
        index = self._by_parent.get(parent)
        if index is None:
            index = self._by_parent[parent] = {c: i for i, c in enumerate(self._nodes[parent].children)}
        return index
