"""The diff engine: the minimal change set that turns one course tree into another.

Linear in the size of the course. When both trees carry their subtree hashes (a stored tree
keeps them, and an incoming tree has them once its course hash is taken), unchanged subtrees
are skipped whole; otherwise nodes are compared directly, which costs less than hashing both
trees first. Among siblings that keep their parent, only those outside a longest increasing
subsequence of old positions move. The change set is ordered so that, applied in order
(:func:`eduvault.cores.coursetree.patch.apply`), it turns the old tree into the new one:
creates, moves and updates in the new tree's preorder (a parent is always in place before
its children arrive), then deletes, one per removed subtree root, after every node that
survives has been moved out of it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from typing import Any

from eduvault.cores.coursetree.changes import Change
from eduvault.cores.coursetree.kinds import handler_for
from eduvault.cores.coursetree.tree import CourseTree, Node, Positions, gc_paused

_MISSING = object()


def diff(old: CourseTree | None, new: CourseTree) -> list[Change]:
    """The ordered, minimal change set from ``old`` (None for a new course) to ``new``."""
    with gc_paused():
        return _diff(old, new)


def _diff(old: CourseTree | None, new: CourseTree) -> list[Change]:
    if old is None or not old.nodes:
        return _create_all(new)
    old_nodes, new_nodes = old.nodes, new.nodes
    hashed = old.has_subtree_hashes and new.has_subtree_hashes
    old_hashes = old.subtree_hashes() if hashed else {}
    new_hashes = new.subtree_hashes() if hashed else {}
    if hashed and old.root == new.root and old.hash == new.hash:
        return []

    out: list[Change] = []
    emit = out.append
    old_position = Positions(old)

    reorder: set[str] = set()
    stack: list[tuple[str, int]] = [(new.root, 0)]
    pop, push = stack.pop, stack.extend
    while stack:
        node_id, position = pop()
        n = new_nodes[node_id]
        o = old_nodes.get(node_id)
        if o is None:
            emit(Change("create", node_id, n.kind, n.parent, position, dict(n.fields)))
            push(_children_in_reverse(n))
            continue
        if o.parent != n.parent or node_id in reorder:
            emit(
                Change(
                    "move",
                    node_id,
                    n.kind,
                    n.parent,
                    position,
                    old_parent=o.parent,
                    old_position=old_position(o),
                )
            )
        if n.children:
            if hashed and old_hashes.get(node_id) == new_hashes[node_id]:
                continue  # the whole subtree is unchanged (it may have moved as a unit)
        elif not o.children and o.fields == n.fields and o.kind == n.kind:
            continue  # an unchanged leaf
        if o.fields != n.fields or o.kind != n.kind:
            emit(_update(o, n))
        if o.children != n.children:
            reorder.update(_reordered_children(o, n))
        push(_children_in_reverse(n))

    gone = old_nodes.keys() - new_nodes.keys()
    roots = [old_nodes[x] for x in gone if old_nodes[x].parent not in gone]
    if len(roots) > 1:
        roots.sort(key=lambda o: _place(o, old_nodes, old_position))
    out.extend(_delete(o, old, gone, old_position(o)) for o in roots)
    return out


def _place(node: Node, nodes: dict[str, Node], position: Callable[[Node], int]) -> list[int]:
    """Sort key putting nodes in preorder: the positions on the path from the root."""
    path = []
    while node.parent is not None:
        path.append(position(node))
        node = nodes[node.parent]
    path.reverse()
    return path


def _children_in_reverse(n: Node) -> Iterator[tuple[str, int]]:
    """(child, position) pairs, last child first, for a stack that pops the first one first."""
    children = n.children
    return zip(reversed(children), range(len(children) - 1, -1, -1))


def _create_all(new: CourseTree) -> list[Change]:
    out: list[Change] = []
    stack: list[tuple[str, int]] = [(new.root, 0)]
    while stack:
        node_id, position = stack.pop()
        n = new.nodes[node_id]
        out.append(Change("create", node_id, n.kind, n.parent, position, dict(n.fields)))
        stack.extend(_children_in_reverse(n))
    return out


def _update(o: Node, n: Node) -> Change:
    old_fields: dict[str, Any] = {}
    new_fields: dict[str, Any] = {}
    if o.kind != n.kind:
        old_fields["kind"], new_fields["kind"] = o.kind, n.kind
        names = list(handler_for(n.kind).fields)
        names += [f for f in handler_for(o.kind).fields if f not in names]
    else:
        names = list(handler_for(n.kind).fields)
    of, nf = o.fields, n.fields
    for name in names:
        before, after = of.get(name, _MISSING), nf.get(name, _MISSING)
        if before != after or type(before) is not type(after):
            if before is not _MISSING:
                old_fields[name] = before
            if after is not _MISSING:
                new_fields[name] = after
    return Change("update", n.id, n.kind, fields=new_fields, old_fields=old_fields)


def _reordered_children(o: Node, n: Node) -> list[str]:
    """Children that stay under this parent but must move to reach their new order.

    Those that keep their relative order (a longest increasing subsequence of their old
    positions) stay; the rest move.
    """
    old_index = {c: i for i, c in enumerate(o.children)}
    stayed = [c for c in n.children if c in old_index]
    positions = [old_index[c] for c in stayed]
    if positions == sorted(positions):
        return []
    keep = longest_increasing_subsequence(positions)
    return [c for i, c in enumerate(stayed) if i not in keep]


def longest_increasing_subsequence(seq: list[int]) -> set[int]:
    """Indices into ``seq`` of one longest strictly increasing subsequence, in O(n log n)."""
    tails: list[int] = []  # tails[k]: smallest tail value of an increasing run of length k+1
    tail_at: list[int] = []  # index in seq of that tail
    back: list[int] = [-1] * len(seq)
    for i, value in enumerate(seq):
        k = bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_at.append(i)
        else:
            tails[k] = value
            tail_at[k] = i
        back[i] = tail_at[k - 1] if k else -1
    out: set[int] = set()
    i = tail_at[-1] if tail_at else -1
    while i != -1:
        out.add(i)
        i = back[i]
    return out


def _delete(o: Node, old: CourseTree, gone: set[str], position: int) -> Change:
    subtree: list[tuple[str, str, str, int, dict[str, Any]]] = []
    nodes = old.nodes
    stack = [(c, i, o.id) for i, c in reversed(list(enumerate(o.children)))]
    while stack:
        node_id, i, parent = stack.pop()
        if node_id not in gone:
            continue  # it survives elsewhere: it was moved out before this delete
        node = nodes[node_id]
        subtree.append((node_id, node.kind, parent, i, dict(node.fields)))
        stack.extend((c, j, node_id) for j, c in reversed(list(enumerate(node.children))))
    return Change(
        "delete",
        o.id,
        o.kind,
        old_fields=dict(o.fields),
        old_parent=o.parent,
        old_position=position,
        subtree=subtree,
    )
