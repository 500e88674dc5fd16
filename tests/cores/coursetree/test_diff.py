"""Properties of the diff engine on random trees (no database)."""

from __future__ import annotations

import copy
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduvault.cores.coursetree import Change, apply, count_ops, diff, invert
from eduvault.cores.coursetree.diff import longest_increasing_subsequence

from .strategies import build, edited, trees


@st.composite
def pairs(draw):
    a = draw(trees())
    b = draw(edited(a))
    return a, b


def lis_length(seq: list[int]) -> int:
    """Reference O(n^2) longest increasing subsequence, independent of the engine's."""
    best = [1] * len(seq)
    for i in range(len(seq)):
        for j in range(i):
            if seq[j] < seq[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


def minimum_moves(a, b) -> int:
    """Nodes that must move: every change of parent, plus, per parent, the siblings that
    stay under it minus the most that can keep their relative order."""
    moves = 0
    for node_id, n in b.nodes.items():
        o = a.nodes.get(node_id)
        if o is not None and o.parent != n.parent:
            moves += 1
    for parent_id, n in b.nodes.items():
        o = a.nodes.get(parent_id)
        if o is None:
            continue
        stayed = [c for c in n.children if c in o.children]
        moves += len(stayed) - lis_length([o.children.index(c) for c in stayed])
    return moves


@settings(max_examples=400, deadline=None)
@given(pairs())
def test_applying_the_diff_gives_the_new_tree(pair):
    a, b = pair
    before = copy.deepcopy(a.to_nested())
    changes = diff(a, b)
    assert apply(changes, a) == b
    assert a.to_nested() == before, "diff and apply must not modify their inputs"


@settings(max_examples=400, deadline=None)
@given(pairs())
def test_the_number_of_moves_is_the_minimum(pair):
    a, b = pair
    assert count_ops(diff(a, b))["move"] == minimum_moves(a, b)


@settings(max_examples=300, deadline=None)
@given(pairs())
def test_creates_and_deletes_are_exact(pair):
    a, b = pair
    changes = diff(a, b)
    created = {c.id for c in changes if c.op == "create"}
    assert created == b.nodes.keys() - a.nodes.keys()
    deleted_roots = [c.id for c in changes if c.op == "delete"]
    gone = a.nodes.keys() - b.nodes.keys()
    assert sorted(deleted_roots) == sorted(x for x in gone if a.nodes[x].parent not in gone)
    updated = [c.id for c in changes if c.op == "update"]
    assert len(updated) == len(set(updated))
    assert set(updated) == {
        x for x in a.nodes.keys() & b.nodes.keys() if a.nodes[x].fields != b.nodes[x].fields
    }


@settings(max_examples=300, deadline=None)
@given(trees())
def test_diff_of_a_tree_with_itself_is_empty(a):
    assert diff(a, a) == []
    assert diff(a, a.copy()) == []


@settings(max_examples=300, deadline=None)
@given(pairs())
def test_the_inverse_undoes_the_change_set(pair):
    a, b = pair
    changes = diff(a, b)
    assert apply(invert(changes), b) == a


@settings(max_examples=200, deadline=None)
@given(pairs())
def test_changes_survive_their_stored_form(pair):
    a, b = pair
    changes = diff(a, b)
    stored = [Change.from_states(c.op, c.id, c.kind, c.before(), c.after()) for c in changes]
    assert apply(invert(stored), b) == a


@settings(max_examples=200, deadline=None)
@given(trees(), trees())
def test_unrelated_trees(a, b):
    # Trees drawn independently share ids by chance, and may even have different roots.
    assert apply(diff(a, b), a) == b
    assert apply(diff(None, b), None) == b


def test_moving_one_node_among_a_hundred_siblings_is_one_move():
    children = [f"c{i}" for i in range(100)]
    spec = {"root": ("course", {"title": "r"}, children)}
    spec |= {c: ("topic", {"title": c}, []) for c in children}
    a = build("root", spec)
    moved = [*children[1:60], children[0], *children[60:]]
    b = build("root", spec | {"root": ("course", {"title": "r"}, moved)})
    changes = diff(a, b)
    assert [c.to_line() for c in changes] == [
        {"op": "move", "kind": "topic", "id": "c0", "parent": "root", "position": 59}
    ]


def test_a_node_moved_out_of_a_deleted_subtree_survives():
    a = build(
        "r",
        {
            "r": ("course", {"title": "r"}, ["t1", "t2"]),
            "t1": ("topic", {"title": "doomed"}, ["s1", "keep"]),
            "s1": ("subtopic", {"title": "s1"}, ["u1"]),
            "u1": ("unit", {"title": "u1"}, []),
            "keep": ("subtopic", {"title": "keep"}, ["u2"]),
            "u2": ("unit", {"title": "u2"}, []),
            "t2": ("topic", {"title": "t2"}, []),
        },
    )
    b = build(
        "r",
        {
            "r": ("course", {"title": "r"}, ["t2"]),
            "t2": ("topic", {"title": "t2"}, ["keep"]),
            "keep": ("subtopic", {"title": "keep"}, ["u2"]),
            "u2": ("unit", {"title": "u2"}, []),
        },
    )
    changes = diff(a, b)
    assert [(c.op, c.id) for c in changes] == [("move", "keep"), ("delete", "t1")]
    assert [entry[0] for entry in changes[1].subtree] == ["s1", "u1"]
    assert apply(changes, a) == b


def test_a_subsection_due_date_change_is_one_update():
    spec = {
        "r": ("course", {"title": "r"}, ["t"]),
        "t": ("topic", {"title": "t"}, ["s"]),
        "s": ("subtopic", {"title": "s", "due": "2026-01-01T00:00:00Z"}, ["u"]),
        "u": ("unit", {"title": "u"}, []),
    }
    a = build("r", spec)
    b = build("r", spec | {"s": ("subtopic", {"title": "s", "due": "2026-02-01T00:00:00Z"}, ["u"])})
    assert [c.to_line() for c in diff(a, b)] == [
        {
            "op": "update",
            "kind": "subtopic",
            "id": "s",
            "fields": {"due": ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"]},
        }
    ]


@pytest.mark.parametrize(
    ("seq", "length"),
    [
        ([], 0),
        ([1], 1),
        ([3, 1, 2], 2),
        ([0, 1, 2, 3], 4),
        ([3, 2, 1, 0], 1),
        ([2, 5, 3, 7, 11, 8, 10, 13, 6], 6),
    ],
)
def test_longest_increasing_subsequence(seq, length):
    keep = sorted(longest_increasing_subsequence(seq))
    assert len(keep) == length
    assert all(seq[i] < seq[j] for i, j in pairwise(keep))


@settings(max_examples=300, deadline=None)
@given(pairs())
def test_skipping_by_subtree_hash_gives_the_same_change_set(pair):
    a, b = pair
    direct = diff(a, b)
    a.subtree_hashes()
    b.subtree_hashes()
    assert a.has_subtree_hashes and b.has_subtree_hashes
    assert diff(a, b) == direct
    same = b.copy()
    same.subtree_hashes()
    assert diff(b, same) == []
