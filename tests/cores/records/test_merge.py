"""Merging learner-record changes: version vectors, policies, convergence (no database)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduvault.cores.records import vectors
from eduvault.cores.records.merge import (
    Change,
    RecordState,
    acknowledge,
    combine,
    context_at,
    local_change,
    merge,
    platform_change,
    settle,
)

HUB = "eduvault"
REPLICAS = {"canvas-school": "canvas", "discourse-club": "discourse", "tablet-7": "device"}


def owned_by(*owners: str):
    return lambda field: frozenset(owners)


def change(replica: str, counter: int, at: float, **fields) -> Change:
    return Change(
        replica=replica,
        platform=REPLICAS.get(replica, replica),
        vector={replica: counter},
        fields=fields,
        at=at,
    )


# -- vectors -----------------------------------------------------------------------------------


def test_compare_covers_the_four_orders() -> None:
    assert vectors.compare({}, {}) == "equal"
    assert vectors.compare({"a": 1}, {"a": 2}) == "before"
    assert vectors.compare({"a": 3, "b": 1}, {"a": 2}) == "after"
    assert vectors.compare({"a": 1}, {"b": 1}) == "concurrent"


def test_check_refuses_what_is_not_a_vector() -> None:
    assert vectors.check({"a": 0, "b": 2}) == {"b": 2}
    for bad in ([], {"": 1}, {"a": -1}, {"a": 1.5}, {"a": True}, {"a": 2**63}):
        with pytest.raises(ValueError):
            vectors.check(bad)


vector_st = st.dictionaries(st.sampled_from("abcd"), st.integers(0, 5))


@given(vector_st, vector_st, vector_st)
def test_join_is_a_least_upper_bound(a, b, c) -> None:
    j = vectors.join(a, b)
    assert vectors.covers(j, a) and vectors.covers(j, b)
    assert vectors.join(a, b) == vectors.join(b, a)
    assert vectors.join(vectors.join(a, b), c) == vectors.join(a, vectors.join(b, c))
    if vectors.covers(c, a) and vectors.covers(c, b):
        assert vectors.covers(c, j)


@given(vector_st, vector_st)
def test_compare_is_antisymmetric(a, b) -> None:
    mirror = {"before": "after", "after": "before", "equal": "equal", "concurrent": "concurrent"}
    assert vectors.compare(b, a) == mirror[vectors.compare(a, b)]


# -- merging -----------------------------------------------------------------------------------


def test_a_newer_change_of_one_replica_wins_and_an_older_one_is_stale() -> None:
    owner = owned_by("canvas")
    newer = change("canvas-school", 2000, 2.0, score=8)
    older = change("canvas-school", 1000, 1.0, score=5)
    state = merge(RecordState(), newer, owner=owner).state
    merged = merge(state, older, owner=owner)
    assert merged.state.fields == {"score": 8}
    assert merged.outcomes[0].outcome == "stale"
    assert merged.changed == {}


def test_a_duplicate_is_recognized() -> None:
    owner = owned_by("canvas")
    once = merge(RecordState(), change("canvas-school", 1000, 1.0, score=5), owner=owner).state
    again = merge(once, change("canvas-school", 1000, 1.0, score=5), owner=owner)
    assert again.outcomes[0].outcome == "duplicate"
    assert again.state.frontier == once.frontier


def test_concurrent_changes_are_settled_by_the_owner_and_the_loser_is_kept() -> None:
    owner = owned_by("eduvault")
    hub = Change(replica=HUB, platform=HUB, vector={HUB: 1}, fields={"score": 9}, at=1.0)
    canvas = change("canvas-school", 5000, 5.0, score=7)  # later, but not the owner
    state = merge(RecordState(), hub, owner=owner).state
    merged = merge(state, canvas, owner=owner)
    assert merged.state.fields["score"] == 9
    outcome = merged.outcomes[0]
    assert (outcome.outcome, outcome.conflict) == ("lost", True)
    assert [w.value for w in outcome.losers] == [7]
    assert set(merged.state.conflicts()) == {"score"}


def test_without_an_owner_the_later_source_time_wins() -> None:
    owner = owned_by()
    a = change("canvas-school", 5000, 5.0, score=7)
    b = change("discourse-club", 4000, 4.0, score=6)
    for first, second in ((a, b), (b, a)):
        state = merge(merge(RecordState(), first, owner=owner).state, second, owner=owner).state
        assert state.fields["score"] == 7


def test_a_change_that_saw_the_conflict_settles_it() -> None:
    owner = owned_by("eduvault")
    state = RecordState()
    for c in (
        Change(replica=HUB, platform=HUB, vector={HUB: 1}, fields={"score": 9}, at=1.0),
        change("canvas-school", 5000, 5.0, score=7),
    ):
        state = merge(state, c, owner=owner).state
    settled = merge(
        state, settle(state, field_name="score", value=7, replica=HUB, at=6.0, actor="ops"), owner=owner
    )
    assert settled.state.fields["score"] == 7
    assert settled.state.conflicts() == {}
    assert settled.outcomes[0].outcome == "applied"


def test_fields_merge_independently() -> None:
    owner = owned_by()
    state = merge(RecordState(), change("canvas-school", 1000, 1.0, score=5, grade="5"), owner=owner).state
    state = merge(state, change("canvas-school", 2000, 2.0, grade="B"), owner=owner).state
    assert state.fields == {"score": 5, "grade": "B"}


def test_state_survives_json() -> None:
    owner = owned_by("eduvault")
    state = RecordState()
    for c in (
        Change(replica=HUB, platform=HUB, vector={HUB: 1}, fields={"score": 9, "text": "A"}, at=1.0),
        change("canvas-school", 5000, 5.0, score=7),
    ):
        state = merge(state, c, owner=owner).state
    again = RecordState.from_json(state.to_json(), owner=owner)
    assert (again.fields, again.vector, again.frontier) == (state.fields, state.vector, state.frontier)


def test_acknowledged_writes_become_the_context_of_a_platform_change() -> None:
    acks = acknowledge([], at=10.0, vector={HUB: 3})
    acks = acknowledge(acks, at=20.0, vector={HUB: 4})
    assert context_at(acks, 5.0) == {}
    assert context_at(acks, 15.0) == {HUB: 3}
    assert context_at(acks, 25.0) == {HUB: 4}
    c = platform_change(replica="canvas-school", platform="canvas", acks=acks, fields={"score": 1}, at=15.5)
    assert c.vector == {HUB: 3, "canvas-school": 15500}


def test_a_teacher_edit_after_our_write_supersedes_it_and_one_before_it_conflicts() -> None:
    owner = owned_by("eduvault")
    state = merge(
        RecordState(),
        Change(replica=HUB, platform=HUB, vector={HUB: 1}, fields={"score": 9}, at=1.0),
        owner=owner,
    ).state
    acks = acknowledge([], at=10.0, vector=state.vector)  # Canvas took our 9 at its time 10
    after = platform_change(
        replica="canvas-school", platform="canvas", acks=acks, fields={"score": 6}, at=11.0
    )
    assert merge(state, after, owner=owner).state.fields["score"] == 6
    before = platform_change(
        replica="canvas-school", platform="canvas", acks=acks, fields={"score": 6}, at=9.0
    )
    merged = merge(state, before, owner=owner)
    assert merged.state.fields["score"] == 9 and merged.outcomes[0].conflict


# -- convergence (the contract) ----------------------------------------------------------------

action = st.one_of(
    st.tuples(st.just("edit"), st.sampled_from(sorted(REPLICAS)), st.integers(0, 4)),
    st.tuples(st.just("hub"), st.just(HUB), st.integers(0, 4)),
    st.tuples(st.just("deliver"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("push"), st.sampled_from(sorted(REPLICAS)), st.just(0)),
)
owners_st = st.sampled_from([(), ("eduvault",), ("canvas",), ("discourse", "device")])


def run(actions, owners):
    """Replicas edit and report (messages delivered late, out of order, some twice); the hub
    merges and pushes its value back. Returns the hub's state, every replica's value, and
    every change the hub merged."""
    owner = owned_by(*owners)
    state = RecordState()
    local = {r: None for r in REPLICAS}
    acks: dict[str, list] = {r: [] for r in REPLICAS}
    inflight: list[Change] = []
    merged: list[Change] = []
    clock = 0.0
    for kind, who, arg in actions:
        clock += 1.0
        if kind == "edit":
            local[who] = arg
            inflight.append(
                platform_change(
                    replica=who, platform=REPLICAS[who], acks=acks[who], fields={"v": arg}, at=clock
                )
            )
        elif kind == "hub":
            c = local_change(state, fields={"v": arg}, replica=HUB, at=clock)
            state = merge(state, c, owner=owner).state
            merged.append(c)
        elif kind == "deliver" and inflight:
            c = inflight[who % len(inflight)]
            if not arg:  # delivered, and gone; else delivered and delivered again later
                inflight.remove(c)
            state = merge(state, c, owner=owner).state
            merged.append(c)
        elif kind == "push" and "v" in state.fields:
            local[who] = state.fields["v"]
            acks[who] = acknowledge(acks[who], at=clock, vector=state.vector)
    for c in inflight:  # everything arrives in the end
        state = merge(state, c, owner=owner).state
        merged.append(c)
    for replica in REPLICAS:  # and the hub's value reaches every side
        if "v" in state.fields:
            local[replica] = state.fields["v"]
    return state, local, merged


@settings(max_examples=300, deadline=None)
@given(st.lists(action, max_size=40), owners_st, st.randoms(use_true_random=False))
def test_any_interleaving_with_duplicates_converges_to_the_same_state_everywhere(
    actions, owners, rnd
) -> None:
    state, local, merged = run(actions, owners)
    if "v" in state.fields:
        assert set(local.values()) == {state.fields["v"]}

    # The same changes, in any other order and with repeats, give the same state.
    owner = owned_by(*owners)
    shuffled = merged + [rnd.choice(merged) for _ in range(len(merged) // 2)] if merged else []
    rnd.shuffle(shuffled)
    again = RecordState()
    for c in shuffled:
        again = merge(again, c, owner=owner).state
    assert again.fields == state.fields
    assert again.vector == state.vector
    assert {k: sorted(map(repr, v)) for k, v in again.frontier.items()} == {
        k: sorted(map(repr, v)) for k, v in state.frontier.items()
    }
    # A conflict left open is won by the owner whenever the owner is among the writers.
    for writes in state.conflicts().values():
        owned = [w for w in writes if w.platform in owners or w.replica in owners]
        if owned:
            assert writes[0] in owned


@given(st.lists(st.tuples(st.sampled_from(sorted(REPLICAS)), st.integers(0, 9)), min_size=1, max_size=12))
def test_an_older_change_never_overwrites_a_newer_one_of_the_same_replica(edits) -> None:
    owner = owned_by()
    replica = edits[0][0]
    changes = [change(replica, (i + 1) * 1000, float(i + 1), v=v) for i, (_, v) in enumerate(edits)]
    order = list(changes)
    random.Random(len(edits)).shuffle(order)
    state = RecordState()
    for c in order:
        state = merge(state, c, owner=owner).state
    assert state.fields["v"] == edits[-1][1]
    assert state.conflicts() == {}


def test_combining_two_states_is_merging_all_their_writes() -> None:
    owner = owned_by("canvas")
    a = merge(RecordState(), change("canvas-school", 1000, 1.0, score=5), owner=owner).state
    b = merge(
        RecordState(),
        Change(replica=HUB, platform=HUB, vector={HUB: 1}, fields={"score": 9}, at=2.0),
        owner=owner,
    ).state
    both = combine(a, b, owner=owner)
    assert both.fields["score"] == 5
    assert set(both.conflicts()) == {"score"}
    assert combine(b, a, owner=owner).fields == both.fields
