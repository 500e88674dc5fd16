"""Applying a change set to a tree in memory, and computing its inverse.

Semantics of a change set (see :mod:`eduvault.cores.coursetree.changes`): changes apply in order;
``create`` and ``move`` attach a node under its new parent and declare its final index
there; when the whole set has been applied, each touched parent's children are arranged so
that every declared node sits at its declared index and the others keep their relative
order in the remaining places.
"""

from __future__ import annotations

from eduvault.cores.coursetree.changes import Change
from eduvault.cores.coursetree.tree import CourseTree, Node
from eduvault.kernel.errors import ChangeSetConflict


def apply(changes: list[Change], tree: CourseTree | None, *, in_place: bool = False) -> CourseTree:
    """Return a new tree: ``tree`` (None for an empty course) with ``changes`` applied.

    With ``in_place`` the nodes of ``tree`` are reused and modified (faster when the old
    tree is not needed again).

    Raises :class:`ChangeSetConflict` if a change does not fit the tree (an id that already
    exists or is missing, a move under its own subtree, impossible positions).
    """
    if tree is None:
        nodes: dict[str, Node] = {}
    elif in_place:
        nodes = dict(tree.nodes)
    else:
        nodes = {k: n.copy() for k, n in tree.nodes.items()}
    roots: set[str] = set() if tree is None else {tree.root}
    declared: dict[str, dict[str, int]] = {}

    def conflict(change: Change, why: str) -> ChangeSetConflict:
        return ChangeSetConflict(f"{change.op} {change.id!r}: {why}")

    def attach(change: Change, node: Node) -> None:
        if change.parent is None:
            roots.add(node.id)
            node.parent = None
            return
        parent = nodes.get(change.parent)
        if parent is None:
            raise conflict(change, f"the parent {change.parent!r} does not exist")
        node.parent = parent.id
        parent.children.append(node.id)
        declared.setdefault(parent.id, {})[node.id] = change.position or 0

    def detach(node: Node) -> None:
        if node.parent is None:
            roots.discard(node.id)
            return
        parent = nodes[node.parent]
        parent.children.remove(node.id)
        pending = declared.get(parent.id)
        if pending:
            pending.pop(node.id, None)

    for change in changes:
        node = nodes.get(change.id)
        if change.op == "create":
            if node is not None:
                raise conflict(change, "a node with this id already exists")
            node = Node(change.id, change.kind, dict(change.fields))
            nodes[change.id] = node
            attach(change, node)
        elif node is None:
            raise conflict(change, "no node with this id")
        elif change.op == "update":
            fields = node.fields
            for name in change.old_fields:
                if name != "kind":
                    fields.pop(name, None)
            for name, value in change.fields.items():
                if name == "kind":
                    node.kind = value
                else:
                    fields[name] = value
            node.touch()
        elif change.op == "move":
            up = change.parent
            while up is not None:
                if up == change.id:
                    raise conflict(change, "cannot move a node under its own subtree")
                up = nodes[up].parent if up in nodes else None
            detach(node)
            attach(change, node)
        elif change.op == "delete":
            detach(node)
            stack = [change.id]
            while stack:
                gone = nodes.pop(stack.pop())
                declared.pop(gone.id, None)
                stack.extend(gone.children)
        else:
            raise conflict(change, "unknown operation")

    for parent_id, placed in declared.items():
        parent = nodes[parent_id]
        parent.children = _arrange(parent.children, placed, parent_id)

    if len(roots) != 1:
        raise ChangeSetConflict(f"the change set leaves {len(roots)} roots instead of one")
    (root,) = roots
    ordered = CourseTree(root, {})
    for node, _ in CourseTree(root, nodes).preorder():
        ordered.nodes[node.id] = node
    if len(ordered.nodes) != len(nodes):
        raise ChangeSetConflict("the change set leaves nodes outside the tree")
    return ordered


def _arrange(children: list[str], placed: dict[str, int], parent_id: str) -> list[str]:
    """Put each placed child at its index; the rest keep their order in the gaps."""
    size = len(children)
    slots: list[str | None] = [None] * size
    for child, index in placed.items():
        if not 0 <= index < size or slots[index] is not None:
            raise ChangeSetConflict(f"position {index} under {parent_id!r} is out of range or taken twice")
        slots[index] = child
    rest = iter([c for c in children if c not in placed])
    return [slot if slot is not None else next(rest) for slot in slots]


def invert(changes: list[Change]) -> list[Change]:
    """The change set that undoes ``changes`` (apply(invert(cs), apply(cs, t)) == t)."""
    out: list[Change] = []
    for ch in reversed(changes):
        if ch.op == "create":
            out.append(
                Change(
                    "delete",
                    ch.id,
                    ch.kind,
                    old_fields=dict(ch.fields),
                    old_parent=ch.parent,
                    old_position=ch.position,
                )
            )
        elif ch.op == "delete":
            out.append(Change("create", ch.id, ch.kind, ch.old_parent, ch.old_position, dict(ch.old_fields)))
            out.extend(
                Change("create", node_id, kind, parent, position, dict(fields))
                for node_id, kind, parent, position, fields in ch.subtree
            )
        elif ch.op == "update":
            kind = ch.old_fields.get("kind", ch.kind)
            out.append(Change("update", ch.id, kind, fields=dict(ch.old_fields), old_fields=dict(ch.fields)))
        else:
            out.append(
                Change(
                    "move",
                    ch.id,
                    ch.kind,
                    ch.old_parent,
                    ch.old_position,
                    old_parent=ch.parent,
                    old_position=ch.position,
                )
            )
    return out
