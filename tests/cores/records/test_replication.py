"""Replicas exchanging what the other has not seen (the device sync's bookkeeping), as a
model: a server and two devices edit overlapping objects for a week offline, sync in any
order, connections cut mid-transfer; at the end everything converges, and no attempt or
answer is lost or doubled. The model uses the same functions the sync does
(:mod:`eduvault.cores.records.replication`, :mod:`eduvault.cores.records.vectors`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from eduvault.cores.records.replication import decide, merged_vector, seen_join, unseen
from eduvault.cores.records.vectors import bump

PARTITIONS = ("l:c:amina", "l:c:chikondi")


@dataclass
class Replica:
    name: str
    counter: int = 0
    #: key -> [partition, vector, last, counter, value]
    entries: dict = field(default_factory=dict)
    seen: dict = field(default_factory=dict)
    #: Live objects: attempts (key -> status) and answers (key -> value, immutable).
    live: dict = field(default_factory=dict)
    digests: dict = field(default_factory=dict)

    def edit(self, key: str, partition: str, value) -> None:
        if key.startswith("answer") and key in self.live:
            return  # answers are immutable
        if key.startswith("attempt") and self.live.get(key) == "submitted":
            return  # a submitted attempt never changes again
        self.live[key] = (partition, value)

    def refresh(self) -> None:
        counter = self.counter + 1
        changed = False
        for key, (partition, value) in self.live.items():
            if self.digests.get(key) != value:
                old = self.entries.get(key)
                vector = bump(old[1] if old else {}, self.name, counter)
                self.entries[key] = [partition, vector, self.name, counter, value]
                self.digests[key] = value
                changed = True
        if changed:
            self.counter = counter

    def seen_of(self) -> dict:
        out = {p: dict(self.seen.get(p, {})) for p in PARTITIONS}
        for p in PARTITIONS:
            out[p][self.name] = max(out[p].get(self.name, 0), self.counter)
        return out


def merge(key: str, local, incoming):
    if key.startswith("attempt"):
        # A submitted attempt beats an open one; the same on both sides.
        return "submitted" if "submitted" in (local, incoming) else local
    return min(local, incoming)


def transfer(sender: Replica, receiver: Replica, *, cut_after: int | None) -> None:
    """Send what the receiver has not seen; a cut stops after ``cut_after`` records (what was
    applied stays applied) and the receiver's seen is then not advanced."""
    sender.refresh()
    theirs = receiver.seen_of()
    outgoing = [
        (key, e) for key, e in sorted(sender.entries.items())
        if unseen(partition=e[0], last=e[2], counter=e[3], seen=theirs)
    ]
    sender_seen = sender.seen_of()
    for i, (key, (partition, vector, last, counter, value)) in enumerate(outgoing):
        if cut_after is not None and i >= cut_after:
            return
        local = receiver.entries.get(key)
        decision = decide(local=local[1] if local else None, incoming=vector)
        if decision == "skip":
            continue
        if decision == "merge":
            receiver.counter += 1
            value = merge(key, local[4], value)
            vector = merged_vector(local[1], vector, me=receiver.name, counter=receiver.counter)
            last, counter = receiver.name, receiver.counter
        receiver.entries[key] = [partition, vector, last, counter, value]
        receiver.live[key] = (partition, value)
        receiver.digests[key] = value
    if cut_after is not None and cut_after < len(outgoing):
        return
    receiver.seen = {k: dict(v) for k, v in seen_join(receiver.seen, sender_seen, PARTITIONS).items()}
    receiver.seen = {p: {r: n for r, n in v.items() if r != receiver.name} for p, v in receiver.seen.items()}


def sync(device: Replica, server: Replica, cut: tuple | None) -> None:
    """Pull, then push (as `eduvault device sync`), a cut in one direction."""
    transfer(server, device, cut_after=cut[1] if cut and cut[0] == "pull" else None)
    if cut and cut[0] == "pull":
        return
    transfer(device, server, cut_after=cut[1] if cut and cut[0] == "push" else None)


edits = st.tuples(
    st.sampled_from(["server", "d1", "d2"]),
    st.sampled_from(["attempt-1", "attempt-2", "attempt-3", "answer-1", "answer-2", "answer-3", "answer-4"]),
    st.sampled_from(PARTITIONS),
    st.sampled_from(["open", "submitted", "a", "b", "c"]),
)
syncs = st.tuples(
    st.sampled_from(["d1", "d2"]),
    st.none() | st.tuples(st.sampled_from(["pull", "push"]), st.integers(0, 5)),
)
steps = st.lists(st.one_of(st.tuples(st.just("edit"), edits), st.tuples(st.just("sync"), syncs)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_a_week_offline_converges_with_nothing_lost_or_doubled(plan):
    replicas = {name: Replica(name) for name in ("server", "d1", "d2")}
    made: dict[str, set] = {}
    for step, args in plan:
        if step == "edit":
            who, key, partition, value = args
            value = value if key.startswith("answer") else ("submitted" if value == "submitted" else "open")
            replica = replicas[who]
            # An object's partition is fixed once made somewhere (as a learner's attempt is).
            partition = next((r.live[key][0] for r in replicas.values() if key in r.live), partition)
            replica.edit(key, partition, value)
            made.setdefault(key, set()).add(who)
        else:
            device, cut = args
            sync(replicas[device], replicas["server"], cut)
    # Back online: each device syncs whole, twice round.
    for _ in range(2):
        for device in ("d1", "d2"):
            sync(replicas[device], replicas["server"], None)
    views = [{k: v for k, v in r.live.items()} for r in replicas.values()]
    assert views[0] == views[1] == views[2]
    # Nothing lost: every object made anywhere is everywhere, once (a dict key).
    assert set(views[0]) == set(made)
    # A submitted attempt stays submitted everywhere.
    for key, (_, value) in views[0].items():
        if key.startswith("attempt") and any(
            r.digests.get(key) == "submitted" or (key in r.live and r.live[key][1] == "submitted") for r in replicas.values()
        ):
            assert value == "submitted"
    # And a further sync changes nothing.
    before = [dict(r.entries) for r in replicas.values()]
    sync(replicas["d1"], replicas["server"], None)
    assert [dict(r.entries) for r in replicas.values()] == before
