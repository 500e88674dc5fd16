"""Merging changes into a learner record, field by field, under version vectors and a
source-of-truth policy. Pure Python over plain data.

Each field keeps its *frontier*: the writes to it that no other write has seen (the maximal
ones under the vectors' order). A change that an existing write has already seen is *stale*
and changes nothing (an older change never overwrites a newer one, whatever order they
arrive in); otherwise it joins the frontier and removes the writes it has seen. The field's
value is the frontier's winner: the write of the field's owner by policy, then the latest
source time, then the replica's name (so that every order of arrival picks the same one).
A frontier of more than one write is a conflict: the losers stay visible until an operator
(or a later change that has seen them all) settles it.

Because the frontier is the set of maximal writes among all those seen, and the winner a
function of it, a record that has received the same changes ends in the same state whatever
their order and however often each arrived.

>>> state = RecordState()
>>> canvas = Change(replica="canvas-school", platform="canvas", vector={"canvas-school": 5}, fields={"score": 7}, at=5.0)
>>> hub = Change(replica="eduvault", platform="eduvault", vector={"eduvault": 1}, fields={"score": 9}, at=6.0)
>>> owner = lambda field: frozenset({"eduvault"})
>>> merged = merge(merge(state, canvas, owner=owner).state, hub, owner=owner)
>>> merged.state.fields["score"], merged.outcomes[0].outcome, merged.outcomes[0].conflict
(9, 'applied', True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from eduvault.cores.records import vectors
from eduvault.cores.records.vectors import Vector

#: A field keeps at most this many concurrent writes; past it the oldest losers are dropped
#: from the frontier (they stay in the record's history).
MAX_FRONTIER = 16

Outcome = Literal["applied", "lost", "stale", "duplicate"]
#: The owners of a field by policy: platform or replica names (empty: nobody owns it).
Owners = frozenset[str]
Owner = Callable[[str], Owners]


@dataclass(frozen=True)
class Write:
    """One replica's statement of one field's value, with what it had seen."""

    value: Any
    replica: str
    platform: str
    vector: tuple[tuple[str, int], ...]
    #: The source's own time of the change (seconds since the epoch).
    at: float
    actor: str = ""

    @property
    def vv(self) -> dict[str, int]:
        return dict(self.vector)

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "replica": self.replica,
            "platform": self.platform,
            "vector": dict(self.vector),
            "at": self.at,
            "actor": self.actor,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Write:
        return cls(
            value=data.get("value"),
            replica=str(data["replica"]),
            platform=str(data.get("platform", "")),
            vector=tuple(vectors.check(data.get("vector") or {}).items()),
            at=float(data.get("at") or 0.0),
            actor=str(data.get("actor") or ""),
        )


@dataclass(frozen=True)
class Change:
    """What one replica says about a record: the fields it changed, what it had seen."""

    replica: str
    platform: str
    vector: Vector
    fields: Mapping[str, Any]
    at: float
    actor: str = ""

    def write(self, value: Any) -> Write:
        return Write(
            value=value,
            replica=self.replica,
            platform=self.platform,
            vector=tuple(sorted(self.vector.items())),
            at=self.at,
            actor=self.actor,
        )


@dataclass
class RecordState:
    """A record's fields (each resolved), their frontiers, and the join of every vector seen."""

    fields: dict[str, Any] = field(default_factory=dict)
    frontier: dict[str, list[Write]] = field(default_factory=dict)
    vector: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {name: [w.to_json() for w in writes] for name, writes in self.frontier.items()}

    @classmethod
    def from_json(cls, frontier: Mapping[str, Any], *, owner: Owner) -> RecordState:
        writes = {name: [Write.from_json(w) for w in items] for name, items in (frontier or {}).items()}
        state = cls(frontier=writes)
        for name, items in writes.items():
            state.fields[name] = pick(items, owner(name)).value if items else None
        state.vector = vectors.join_all(w.vv for items in writes.values() for w in items)
        return state

    def conflicts(self) -> dict[str, list[Write]]:
        """Fields with concurrent writes of different values: their frontier, the winner first."""
        return {name: writes for name, writes in self.frontier.items() if disagree(writes)}

    def copy(self) -> RecordState:
        return RecordState(
            fields=dict(self.fields),
            frontier={k: list(v) for k, v in self.frontier.items()},
            vector=dict(self.vector),
        )


@dataclass(frozen=True)
class FieldOutcome:
    """What a change did to one field."""

    field: str
    outcome: Outcome
    #: The field's value before and after the change (equal when it lost or was stale).
    before: Any
    after: Any
    #: The value the change stated.
    value: Any
    #: The field is left with concurrent writes (a conflict the policy settled).
    conflict: bool = False
    #: The writes that lost to the winner (when ``conflict``).
    losers: tuple[Write, ...] = ()


@dataclass(frozen=True)
class Merged:
    state: RecordState
    outcomes: list[FieldOutcome]

    @property
    def changed(self) -> dict[str, tuple[Any, Any]]:
        """Fields whose value changed: before and after."""
        return {o.field: (o.before, o.after) for o in self.outcomes if o.before != o.after}

    @property
    def conflicted(self) -> list[FieldOutcome]:
        return [o for o in self.outcomes if o.conflict and o.outcome in ("applied", "lost")]


def disagree(writes: Sequence[Write]) -> bool:
    """Concurrent writes that say different things (agreeing ones are no conflict)."""
    return len({_tiebreak(w.value) for w in writes}) > 1


def _tiebreak(value: Any) -> str:
    return repr(value)


def rank(write: Write, owners: Owners) -> tuple[int, float, str, str]:
    """Sort key: the owner's writes first, then the latest, then by replica and value."""
    owned = write.platform in owners or write.replica in owners
    return (0 if owned else 1, -write.at, write.replica, _tiebreak(write.value))


def pick(writes: Sequence[Write], owners: Owners) -> Write:
    """The winning write of a frontier."""
    return min(writes, key=lambda w: rank(w, owners))


def merge(state: RecordState, change: Change, *, owner: Owner) -> Merged:
    """Merge one change into a record state (which is not modified); ``owner(field)`` names
    the platforms (or replicas) that own the field by policy."""
    out = state.copy()
    outcomes: list[FieldOutcome] = []
    for name, value in change.fields.items():
        write = change.write(value)
        frontier = out.frontier.get(name, [])
        before = out.fields.get(name)
        seen = _seen_by(frontier, write)
        if seen is not None:
            duplicate = seen.vector == write.vector and seen.replica == write.replica
            outcomes.append(FieldOutcome(name, "duplicate" if duplicate else "stale", before, before, value))
            continue
        kept = [w for w in frontier if not vectors.covers(write.vv, w.vv)]
        kept.append(write)
        field_owner = owner(name)
        kept.sort(key=lambda w: rank(w, field_owner))
        if len(kept) > MAX_FRONTIER:
            winner, *rest = kept
            rest.sort(key=lambda w: -w.at)
            kept = [winner, *rest[: MAX_FRONTIER - 1]]
        out.frontier[name] = kept
        winner = kept[0]
        out.fields[name] = winner.value
        outcomes.append(
            FieldOutcome(
                name,
                "applied" if winner is write else "lost",
                before,
                winner.value,
                value,
                conflict=disagree(kept),
                losers=tuple(kept[1:]),
            )
        )
    out.vector = vectors.join(out.vector, change.vector)
    return Merged(out, outcomes)


def _seen_by(frontier: Iterable[Write], write: Write) -> Write | None:
    """A write of the frontier that has seen ``write`` (so ``write`` changes nothing)."""
    for existing in frontier:
        if vectors.covers(existing.vv, write.vv):
            return existing
    return None


def combine(a: RecordState, b: RecordState, *, owner: Owner) -> RecordState:
    """Two states of the same record (two people found to be one): every write of both."""
    out = a.copy()
    for name, writes in b.frontier.items():
        for write in writes:
            change = Change(
                replica=write.replica,
                platform=write.platform,
                vector=write.vv,
                fields={name: write.value},
                at=write.at,
                actor=write.actor,
            )
            out = merge(out, change, owner=owner).state
    return out


def settle(state: RecordState, *, field_name: str, value: Any, replica: str, at: float, actor: str) -> Change:
    """The change by which ``replica`` (Edu Vault, an operator) settles a field: it has seen
    every write there is, so it supersedes them all."""
    return Change(
        replica=replica,
        platform=replica,
        vector=vectors.bump(state.vector, replica),
        fields={field_name: value},
        at=at,
        actor=actor,
    )


def local_change(
    state: RecordState, *, fields: Mapping[str, Any], replica: str, at: float, actor: str = ""
) -> Change:
    """A change made where the record lives (Edu Vault's own services): it has seen the
    record as it is."""
    return Change(
        replica=replica,
        platform=replica,
        vector=vectors.bump(state.vector, replica),
        fields=dict(fields),
        at=at,
        actor=actor,
    )


# -- what a platform replica had seen -----------------------------------------------------------

#: Acknowledgements kept per replica (the latest few suffice: events arrive minutes late, not days).
MAX_ACKS = 8


def acknowledge(acks: Sequence[Sequence[Any]], *, at: float, vector: Vector) -> list[list[Any]]:
    """Record that a replica holds the record as of ``vector`` since ``at`` (its own time of
    our write, when it reported one); the newest :data:`MAX_ACKS` are kept, oldest first."""
    kept = [[float(t), dict(v)] for t, v in acks]
    kept.append([float(at), dict(vector)])
    kept.sort(key=lambda item: item[0])
    return kept[-MAX_ACKS:]


def context_at(acks: Sequence[Sequence[Any]], at: float) -> dict[str, int]:
    """What a replica had seen of the record at its time ``at``: the latest state we wrote to
    it that it had acknowledged by then (nothing, if none)."""
    seen: dict[str, int] = {}
    for ack_at, vector in acks:
        if float(ack_at) <= at:
            seen = vectors.join(seen, vector)
    return seen


def platform_change(
    *,
    replica: str,
    platform: str,
    acks: Sequence[Sequence[Any]],
    fields: Mapping[str, Any],
    at: float,
    actor: str = "",
) -> Change:
    """A change reported by a platform that keeps no vectors: it had seen what we had written
    to it by then, and it counts with its own clock (milliseconds of its source time)."""
    context = {k: v for k, v in context_at(acks, at).items() if k != replica}
    counter = max(1, round(at * 1000))
    return Change(
        replica=replica,
        platform=platform,
        vector=vectors.join(context, {replica: counter}),
        fields=dict(fields),
        at=at,
        actor=actor,
    )
