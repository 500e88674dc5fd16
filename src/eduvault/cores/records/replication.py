"""Replicas that exchange what the other has not seen: the device sync's bookkeeping.

Every replica (the server, each device) counts its own changes. It stamps each changed
entry with ``(last, counter)``, its own name and the counter of the pass that found the
change, and advances the entry's version vector. Entries live in *partitions* (a course's
content, one learner's work in a course, one account), and each replica keeps, per
partition, the highest counter of every replica whose changes it holds: what it has *seen*.

A sender sends an entry when the receiver has not seen its last change
(:func:`unseen`); the receiver takes it, skips it, or merges it with its own
(:func:`decide`); once a transfer has gone through whole, the receiver has seen what the
sender had (:func:`seen_join`). Partitions let a device ask only for what is its own.

>>> unseen(partition="c:1", last="hub", counter=3, seen={"c:1": {"hub": 2}})
True
>>> decide(local={"hub": 3}, incoming={"hub": 2})
'skip'
>>> decide(local={"hub": 3, "dev": 1}, incoming={"hub": 4})
'merge'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from eduvault.cores.records.vectors import Vector, compare, join

#: Per partition, per replica: the highest counter seen.
Seen = Mapping[str, Mapping[str, int]]
Decision = Literal["take", "skip", "merge"]

#: Partition names: a course's content, a learner's work in a course, an account.
MAX_PARTITION = 500


def course_partition(course_key: str) -> str:
    return f"c:{course_key}"


def learner_partition(course_key: str, username: str) -> str:
    return f"l:{course_key}:{username}"


def account_partition(username: str) -> str:
    return f"u:{username}"


def unseen(*, partition: str, last: str, counter: int, seen: Seen) -> bool:
    """Whether a receiver that has ``seen`` lacks the change ``(last, counter)``."""
    return counter > seen.get(partition, {}).get(last, 0)


def decide(*, local: Vector | None, incoming: Vector) -> Decision:
    """What a receiver does with an entry: ``take`` it (new, or newer than its own),
    ``skip`` it (it has that or later), or ``merge`` it with its own (concurrent changes)."""
    if local is None:
        return "take"
    order = compare(incoming, local)
    if order in ("before", "equal"):
        return "skip"
    if order == "after":
        return "take"
    return "merge"


def merged_vector(local: Vector, incoming: Vector, *, me: str, counter: int) -> dict[str, int]:
    """The vector of a merge made by ``me``: it has seen both, and is a change of its own."""
    out = join(local, incoming)
    out[me] = max(out.get(me, 0), counter)
    return dict(sorted(out.items()))


def seen_join(mine: Seen, theirs: Seen, partitions: Iterable[str]) -> dict[str, dict[str, int]]:
    """What a receiver has seen after a whole transfer of ``partitions`` from a sender that
    had seen ``theirs``."""
    out = {p: dict(v) for p, v in mine.items()}
    for partition in partitions:
        out[partition] = join(out.get(partition, {}), theirs.get(partition, {}))
    return out


def check_seen(value: object, *, limit: int = 100_000) -> dict[str, dict[str, int]]:
    """A ``seen`` read from the wire, validated (partition names, replica names, counters)."""
    from eduvault.cores.records.vectors import check

    if not isinstance(value, Mapping):
        raise ValueError("seen: an object of partition: {replica: counter}")
    if len(value) > limit:
        raise ValueError(f"seen: at most {limit} partitions")
    out: dict[str, dict[str, int]] = {}
    for partition, vector in value.items():
        if not isinstance(partition, str) or not partition or len(partition) > MAX_PARTITION:
            raise ValueError(f"seen: partition names are text of 1 to {MAX_PARTITION} characters")
        out[partition] = check(vector)
    return out
