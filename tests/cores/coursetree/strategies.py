"""Hypothesis strategies: random canonical trees and random edits of them."""

from __future__ import annotations

from hypothesis import strategies as st

from eduvault.cores.coursetree import CourseTree, Node, link

KINDS = ("topic", "subtopic", "unit", "activity")
TITLES = st.text(alphabet="abcxyz <>&é", min_size=0, max_size=6)
DATES = st.sampled_from([None, "2026-01-10T00:00:00Z", "2026-02-01T23:59:00+00:00"])


@st.composite
def node_fields(draw, kind: str) -> dict:
    fields = {"title": draw(TITLES)}
    if draw(st.booleans()):
        fields["graded"] = draw(st.booleans())
    if draw(st.booleans()):
        fields["due"] = draw(DATES)
    if kind == "activity" and draw(st.booleans()):
        fields["weight"] = draw(st.sampled_from([0, 1, 1.0, 2.5]))
    return fields


def build(root: str, spec: dict[str, tuple[str, dict, list[str]]]) -> CourseTree:
    nodes = {i: Node(i, kind, dict(fields), list(children)) for i, (kind, fields, children) in spec.items()}
    return link(root, nodes)


@st.composite
def trees(draw, max_nodes: int = 40, id_pool: int = 60) -> CourseTree:
    size = draw(st.integers(min_value=1, max_value=max_nodes))
    ids = draw(st.lists(st.integers(0, id_pool), min_size=size, max_size=size, unique=True))
    ids = [f"n{i}" for i in ids]
    spec: dict[str, tuple[str, dict, list[str]]] = {}
    root = ids[0]
    spec[root] = ("course", {"title": draw(TITLES)}, [])
    for i, node_id in enumerate(ids[1:], start=1):
        parent = ids[draw(st.integers(0, i - 1))]
        kind = draw(st.sampled_from(KINDS))
        spec[node_id] = (kind, draw(node_fields(kind)), [])
        siblings = spec[parent][2]
        siblings.insert(draw(st.integers(0, len(siblings))), node_id)
    return build(root, spec)


def _spec_of(tree: CourseTree) -> dict[str, tuple[str, dict, list[str]]]:
    return {n.id: (n.kind, dict(n.fields), list(n.children)) for n in tree.nodes.values()}


def _subtree(spec, node_id) -> list[str]:
    out, stack = [], [node_id]
    while stack:
        x = stack.pop()
        out.append(x)
        stack.extend(spec[x][2])
    return out


@st.composite
def edited(draw, tree: CourseTree, max_edits: int = 12) -> CourseTree:
    """``tree`` after random author edits: renames, field changes, moves across parents,
    reorders, inserts of new nodes and subtrees, and deletes of subtrees."""
    spec = _spec_of(tree)
    root = tree.root
    fresh = iter(f"new{i}" for i in range(10_000))
    for _ in range(draw(st.integers(0, max_edits))):
        ids = list(spec)
        action = draw(st.sampled_from(["rename", "fields", "move", "reorder", "insert", "delete"]))
        target = draw(st.sampled_from(ids))
        kind, fields, children = spec[target]
        if action == "rename":
            fields["title"] = draw(TITLES)
        elif action == "fields":
            spec[target] = (kind, draw(node_fields(kind)) | {"title": fields["title"]}, children)
        elif action == "move" and target != root:
            inside = set(_subtree(spec, target))
            parents = [p for p in ids if p not in inside]
            new_parent = draw(st.sampled_from(parents))
            for other in spec.values():
                if target in other[2]:
                    other[2].remove(target)
            siblings = spec[new_parent][2]
            siblings.insert(draw(st.integers(0, len(siblings))), target)
        elif action == "reorder" and len(children) > 1:
            spec[target] = (kind, fields, draw(st.permutations(children)))
        elif action == "insert":
            for _ in range(draw(st.integers(1, 3))):
                node_id = next(fresh)
                new_kind = draw(st.sampled_from(KINDS))
                spec[node_id] = (new_kind, draw(node_fields(new_kind)), [])
                siblings = spec[target][2]
                siblings.insert(draw(st.integers(0, len(siblings))), node_id)
                target = draw(st.sampled_from([target, node_id]))
        elif action == "delete" and target != root:
            for other in spec.values():
                if target in other[2]:
                    other[2].remove(target)
            for gone in _subtree(spec, target):
                del spec[gone]
    return build(root, spec)
